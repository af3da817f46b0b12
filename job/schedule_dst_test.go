package job

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestCronDSTClashes(t *testing.T) {
	y2026 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		zone, spec string
		from       time.Time
		want       string // "kind day from-to" per clash, space separated
	}{
		{"America/New_York", "30 2 * * *", y2026, "gap 2026-03-08 02:00-03:00"},
		{"America/New_York", "30 1 * * *", y2026, "repeat 2026-11-01 01:00-02:00"},
		{"America/New_York", "30 3 * * *", y2026, ""},
		{"America/New_York", "0 2 * * 1-5", y2026, ""}, // 2026-03-08 is a Sunday
		// Where daylight saving changes at midnight, midnight itself is
		// skipped (or, in Santiago, the hour before it repeats).
		{"America/Santiago", "30 0 * * *", y2026, "gap 2026-09-06 00:00-01:00"},
		{"America/Santiago", "30 23 * * *", y2026, "repeat 2026-04-04 23:00-00:00"},
		{"America/Havana", "30 0 * * *", y2026, "gap 2026-03-08 00:00-01:00 repeat 2026-11-01 00:00-01:00"},
		{"America/Havana", "30 3 * * *", y2026, ""},
		{"America/Asuncion", "15 0 * * *", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), "gap 2024-10-06 00:00-01:00"},
		{"UTC", "@daily", y2026, ""},
		{"America/New_York", "@every 1h", y2026, ""},
	}
	for _, tt := range tests {
		loc, err := time.LoadLocation(tt.zone)
		if err != nil {
			t.Fatal(err)
		}
		sched, err := parser.Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range dstClashes(sched, loc, tt.from, dstHorizon) {
			got = append(got, fmt.Sprintf("%s %s %s-%s", c.kind, c.day, c.from, c.to))
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("%s %q: clashes %q, want %q", tt.zone, tt.spec, g, tt.want)
		}
	}
}

// TestWarnDSTClashes: each clash in the coming year is one warning that
// names the day and the wall times skipped or repeated.
func TestWarnDSTClashes(t *testing.T) {
	loc, err := time.LoadLocation("America/Havana")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := parser.Parse("30 0 * * *")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	wall := time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)
	WarnDSTClashes(slog.New(slog.NewTextHandler(&logs, nil)), "30 0 * * *", sched, loc, wall)
	out := logs.String()
	for _, want := range []string{"level=WARN msg=\"schedule.cron names a time that daylight saving skips", "day=2026-03-08", "dst_gap=00:00-01:00",
		"daylight saving repeats", "day=2026-11-01"} {
		if !strings.Contains(out, want) {
			t.Errorf("warnings lack %q:\n%s", want, out)
		}
	}
}
