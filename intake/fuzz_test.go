package intake_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
)

// marker stands where the fuzzer wrote "ZZ": an error that echoes its
// input shows it.
const marker = "ZZMARKZZ"

func marked(body []byte) []byte { return bytes.ReplaceAll(body, []byte("ZZ"), []byte(marker)) }

// refused reports whether op failed, and fails the test if its error
// echoes the marked input.
func refused(t *testing.T, op string, err error) bool {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), marker) {
		t.Fatalf("%s error echoes input: %v", op, err)
	}
	return err != nil
}

// FuzzDecodeEvent checks that no body panics the decoder and that no error
// message ever echoes input (which could hold personal data).
func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"1","event":"appointment_booked","visitor_id":"v"}`,
		`{"events":[{"event_id":"1","event":"a","visitor_id":"v","time":1700000000}]}`,
		`{"event_id":"1","event":"a","visitor_id":"v","time":"2026-11-20T10:00:00+01:00","source":"google","campaign":"c"}`,
		`{"event_id":7}`, `{"events":null}`, `[]`, `{"a":{"b":[1,2,{"c":"d"}]}}`, `{"time":"1e300"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		raws, err := intake.SplitBody(marked(body))
		if refused(t, "SplitBody", err) {
			return
		}
		for _, raw := range raws {
			ev, err := intake.DecodeEvent(raw)
			if refused(t, "DecodeEvent", err) {
				continue
			}
			if ev.EventID == "" || ev.Name == "" || ev.VisitorID == "" {
				t.Fatalf("decoded event lacks a required field: %+v", ev)
			}
		}
	})
}

// FuzzDecodeConsent checks the consent decoder the same way.
func FuzzDecodeConsent(f *testing.F) {
	f.Add([]byte(`{"visitor_id":"v","purposes":{"advertising":true},"time":"2026-11-20T10:00:00Z","source":"cmp","version":"v3"}`))
	f.Add([]byte(`{"visitor_id":"v","purposes":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := intake.DecodeConsent(marked(body))
		if refused(t, "DecodeConsent", err) {
			return
		}
		if c.VisitorID == "" || c.Purposes == nil {
			t.Fatalf("decoded consent lacks a required field: %+v", c)
		}
	})
}

// FuzzImportLines feeds arbitrary files to the NDJSON and CSV readers.
func FuzzImportLines(f *testing.F) {
	f.Add([]byte("{\"event_id\":\"1\"}\n\nnot json\n"), true)
	f.Add([]byte("event_id,event,visitor_id,email\n1,a,v,x@y\n2,\"b,c\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, ndjson bool) {
		last := 0
		check := func(r intake.Record) error {
			if r.Line < last {
				t.Fatalf("line numbers went backwards: %d after %d", r.Line, last)
			}
			last = r.Line
			if r.Err == nil && len(r.Raw) == 0 {
				t.Fatal("record with neither data nor error")
			}
			return nil
		}
		if ndjson {
			_ = intake.ReadNDJSON(bytes.NewReader(data), check)
		} else {
			_ = intake.ReadEventCSV(bytes.NewReader(data), check)
		}
	})
}

// FuzzConsentStrings runs the GPP and TC string decoders (go-gpp, go-gdpr)
// behind a consent record on any input: no string panics them, none is
// both refused and recorded, and no error echoes the input.
func FuzzConsentStrings(f *testing.F) {
	f.Add("DBABLA~BVQqAAAAAgA.QA", "7", "")
	f.Add("DBABLA~CVQqAAAAAABA.QA", "7", "")    // US National version 2 (@iabgpp/cmpapi 3.2.0)
	f.Add("DBABLA~CVQqCAAAAABA.YA", "7", "")    // version 2, health consented, GPC
	f.Add("DBABLA~CVQqAAAAAABA.QA.QA", "7", "") // version 2, a third segment
	f.Add("DBACLMA~CVQqAAAAAABA~BaAAAAA", "7,8", "")
	f.Add("DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", "2", "")
	f.Add("DBACLMA~BAAAAAAAAAA.QA~BaAAAAA", "7,8", "")
	f.Add("DBABh4A~BlgWEYCY.QA~BSFgmiU", "8,9", "COyiILmOyiILmADACHENAPCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAAAAAA")
	f.Add("", "", "CP1R2oAP1R2oAEsACBENBkEAAIIAAAAAAAhoAAAAAAAA") // tcString([]int{1, 7}, 100, 2)
	f.Add("", "", "CONciguONcjGKADACHENAOCIAC0ta__AACiQABwAgABAAEA")
	p, err := intake.NewPipeline(intake.Options{Key: []byte("k"), CampaignPattern: ".*", ConsentPurpose: "advertising",
		RequireSensitive: true, TCFPurposes: []int{1, 7}, HonorGPC: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, gpp, sid, tcf string) {
		gpp, tcf = string(marked([]byte(gpp))), string(marked([]byte(tcf)))
		c := intake.ConsentInput{VisitorID: "v", Strings: intake.Strings{GPP: gpp, TCF: tcf}}
		for _, s := range strings.Split(sid, ",") {
			var id int
			if _, err := fmt.Sscan(s, &id); err == nil {
				c.Strings.GPPSID = append(c.Strings.GPPSID, id)
			}
		}
		recs, err := p.ConsentRecords(c, false)
		if refused(t, "ConsentRecords", err) && len(recs) > 0 {
			t.Fatalf("refused yet recorded %d records", len(recs))
		}
		for _, r := range recs {
			if r.Source != "gpp" && r.Source != "tcf" && r.Source != "gpp+tcf" {
				t.Fatalf("record from a string with source %q", r.Source)
			}
		}
	})
}
