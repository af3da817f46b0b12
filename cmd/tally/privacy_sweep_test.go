package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBatchPathLeavesNoMarkers runs the whole batch path in process:
// consent import with labels, ingest, rollup, upload (dry run to the
// outbox, then to fake platforms), export and every audit report. Every
// identifying value and every label, field name or campaign that must not
// be kept carries a unique marker; afterwards no marker may appear in any
// file under the folder (database, WAL, outbox), in any command's output
// or JSON log, or in any request the platforms received.
func TestBatchPathLeavesNoMarkers(t *testing.T) {
	setSecrets(t)
	t.Setenv("TALLY_SECRET", "")
	t.Setenv("TALLY_CONFIG", "")
	f := newFakePlatforms(t)
	var mu sync.Mutex
	var sent []string
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		sent = append(sent, r.URL.String()+"\n"+fmt.Sprint(r.Header)+"\n"+string(b))
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		f.serve(w, r)
	}))
	defer rec.Close()

	dir := t.TempDir()
	cfgPath := write(t, filepath.Join(dir, "tally.toml"), fmt.Sprintf("[store]\npath = %q\nkey_file = %q\n",
		filepath.Join(dir, "sweep.db"), filepath.Join(dir, "sweep.key"))+`[intake]
campaign_pattern = '^(?s:.+)$'
[rollup]
close_after = "1m"
[privacy]
min_count = 1
[log]
level = "debug"
format = "json"
`+fakeUploaders(rec.URL))

	markers := map[string]string{}
	mark := func(name string) string {
		m := fmt.Sprintf("MK%02dZ%s", len(markers), strings.ToUpper(name))
		markers[name] = m
		return m
	}
	now := time.Now().UTC()
	day := now.AddDate(0, 0, -1).Truncate(24 * time.Hour)
	var consents, events bytes.Buffer
	line := func(b *bytes.Buffer, v any) {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(j, '\n'))
	}
	platforms := []string{"facebook", "google", "tiktok", "linkedin"}
	for i := 0; i < 8; i++ {
		// Visitor and event ids shaped like record numbers.
		visitor := "MRN-" + mark(fmt.Sprintf("visitor%d", i))
		line(&consents, map[string]any{"visitor_id": visitor, "purposes": map[string]bool{"advertising": true},
			"time": day.Add(-24 * time.Hour).Format(time.RFC3339), "source": mark(fmt.Sprintf("source%d", i)),
			"version": "DOB-" + mark(fmt.Sprintf("version%d", i))})
		line(&events, map[string]any{
			"event_id": "BOOKING-" + mark(fmt.Sprintf("eventid%d", i)), "event": "appointment_booked",
			"visitor_id": visitor, "time": day.Add(10 * time.Hour).Format(time.RFC3339),
			"source": platforms[i%4], "campaign": "spring_24",
			"email": mark(fmt.Sprintf("email%d", i)) + "@example.org", "phone": "+1555" + mark(fmt.Sprintf("phone%d", i)),
			"name": "Jane " + mark(fmt.Sprintf("name%d", i)), "ip": "198.51.100.7-" + mark(fmt.Sprintf("ip%d", i)),
			"url":    "https://clinic.example/book?gclid=" + mark(fmt.Sprintf("gclid%d", i)),
			"fbclid": mark(fmt.Sprintf("fbclid%d", i)), "patient_name_John_Doe_" + mark(fmt.Sprintf("fieldname%d", i)): "x",
		})
	}
	// Refused campaigns, an unmapped event name and invalid lines, each
	// with a marker in what is refused.
	for i, c := range []string{"７７７７７７７", "555_123_4567", "＠example.org", "%40", "\u2800"} {
		line(&events, map[string]any{"event_id": mark(fmt.Sprintf("badcampid%d", i)), "event": "appointment_booked",
			"visitor_id": "MRN-" + markers["visitor0"], "time": day.Add(11 * time.Hour).Format(time.RFC3339),
			"source": "facebook", "campaign": mark(fmt.Sprintf("campaign%d", i)) + c})
	}
	line(&events, map[string]any{"event_id": mark("unmappedid"), "event": mark("eventname"), "visitor_id": "v"})
	line(&events, map[string]any{"event_id": mark("badtimeid"), "event": "appointment_booked", "visitor_id": "v", "time": mark("badtime")})
	events.WriteString(`{"event_id":"` + mark("brokenjson") + "\n")
	consents.WriteString(`{"visitor_id":"` + mark("brokenconsent") + `","purposes":{"advertising":"` + mark("badpurpose") + `"}}` + "\n")

	var outputs []string
	runStep := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runTally(t, append([]string{"--config", cfgPath}, args...)...)
		outputs = append(outputs, stdout, stderr)
		if code != want {
			t.Fatalf("tally %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, stdout, stderr)
		}
		return stdout
	}
	runStep(0, "consent", "import", write(t, filepath.Join(dir, "consents.ndjson"), consents.String()))
	if out := runStep(0, "ingest", write(t, filepath.Join(dir, "events.ndjson"), events.String())); !strings.Contains(out, "accepted 8") {
		t.Errorf("ingest: %s, want 8 accepted", out)
	}
	// The input files are the markers' source: remove them before the sweep.
	os.Remove(filepath.Join(dir, "consents.ndjson"))
	os.Remove(filepath.Join(dir, "events.ndjson"))
	runStep(0, "rollup")
	runStep(0, "upload", "--dry-run")
	runStep(0, "upload")
	if f.total() == 0 {
		t.Fatal("no conversion reached the fake platforms; the sweep would not read any request")
	}
	runStep(0, "export")
	runStep(0, "export", "--format", "json")
	runStep(0, "audit", "verify")
	runStep(0, "audit", "log")
	runStep(0, "audit", "head")
	runStep(0, "audit", "recount", "--date", day.Format("2006-01-02"))

	sources := map[string][]byte{}
	for i, o := range outputs {
		sources[fmt.Sprintf("output %d", i)] = []byte(o)
	}
	mu.Lock()
	for i, s := range sent {
		sources[fmt.Sprintf("platform request %d", i)] = []byte(s)
	}
	mu.Unlock()
	files := filesUnder(t, dir)
	for path, b := range files {
		sources[path] = b
	}
	if _, ok := sources[filepath.Join(dir, "sweep.db")]; !ok || len(files) < 3 {
		t.Fatalf("swept %d files; want the database and the outbox", len(files))
	}
	for src, b := range sources {
		for field, m := range markers {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("marker of %s found in %s", field, src)
			}
		}
	}
}

// filesUnder reads every file under dir, by path.
func filesUnder(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
