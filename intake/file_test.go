package intake_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
)

// A line over the reader's limit is one invalid record with its number;
// the lines after it are still read, the last one even without a newline.
func TestReadNDJSONGoesOnPastAnOverlongLine(t *testing.T) {
	huge := `{"event_id":"e2","pad":"` + strings.Repeat("x", 3<<20) + `"}`
	in := strings.Join([]string{`{"n":1}`, huge, `{"n":3}`, ``, `{"n":5}`}, "\n")
	var got []string
	err := intake.ReadNDJSON(strings.NewReader(in), func(r intake.Record) error {
		switch {
		case r.Err != nil:
			got = append(got, "error "+r.Err.Error())
		default:
			got = append(got, string(r.Raw))
		}
		if r.Line == 2 && r.Err == nil {
			t.Errorf("line 2 read as %d bytes", len(r.Raw))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadNDJSON: %v", err)
	}
	want := []string{`{"n":1}`, "error line longer than 1048576 bytes", `{"n":3}`, `{"n":5}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records = %q\nwant %q", got, want)
	}

	// An overlong last line without a newline, and the callback's error
	// still stops the read.
	var lines []int
	err = intake.ReadNDJSON(strings.NewReader(`{"n":1}`+"\n"+huge), func(r intake.Record) error {
		lines = append(lines, r.Line)
		if r.Err != nil {
			return errors.New("stop")
		}
		return nil
	})
	if err == nil || err.Error() != "stop" || len(lines) != 2 || lines[1] != 2 {
		t.Errorf("err = %v, lines %v", err, lines)
	}
}
