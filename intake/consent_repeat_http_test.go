package intake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
)

// TestConsentRepeatAnswersRecordedZero holds README's promise for
// POST /v1/consent: a record repeating the visitor's latest state (same
// grant, source and version) adds no row and says so ("recorded":0), and a
// change of mind is recorded. A page that reports the same choice on every
// load does not grow the consent history.
func TestConsentRepeatAnswersRecordedZero(t *testing.T) {
	f := newFixture(t, nil)
	srv := newHTTP(t, f)
	send := func(granted string, at time.Time) string {
		t.Helper()
		body := `{"visitor_id":"v-repeat","purposes":{"advertising":` + granted + `},"time":"` + at.UTC().Format(time.RFC3339Nano) + `","source":"cmp"}`
		resp, got := post(t, srv.URL+"/v1/consent", "application/json", body)
		if resp.StatusCode != 200 {
			t.Fatalf("consent %s at %s: %d %s", granted, at, resp.StatusCode, got)
		}
		return got
	}
	t0 := testNow.Add(-time.Hour)
	for i, s := range []struct {
		granted string
		at      time.Time
		want    string
	}{
		{"true", t0, `"recorded":1`},
		{"true", t0.Add(time.Minute), `"recorded":0`},
		{"true", t0.Add(2 * time.Minute), `"recorded":0`},
		{"false", t0.Add(3 * time.Minute), `"recorded":1`},
		{"false", t0.Add(4 * time.Minute), `"recorded":0`},
	} {
		if got := send(s.granted, s.at); !strings.Contains(got, s.want) {
			t.Errorf("step %d (%s): %s, want %s", i, s.granted, got, s.want)
		}
	}
	var rows int
	if err := sqlfile.Open(t, f.db.Path).QueryRow(`SELECT count(*) FROM consents`).Scan(&rows); err != nil || rows != 2 {
		t.Errorf("consents rows = %d (%v), want 2", rows, err)
	}
}
