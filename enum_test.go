package tally_test

import (
	"database/sql/driver"
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"

	"github.com/tally-health/tally"
)

// TestLiteralIsNotAStatus: a string literal does not compile where one of
// the closed vocabularies is expected, and one vocabulary's value is not
// another's; the named values do compile.
func TestLiteralIsNotAStatus(t *testing.T) {
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "source", nil)
	check := func(body string) error {
		src := "package p\nimport \"github.com/tally-health/tally\"\nfunc f() {\n" + body + "\n}\n"
		f, err := parser.ParseFile(fset, "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = (&types.Config{Importer: imp}).Check("p", fset, []*ast.File{f}, nil)
		return err
	}
	for _, bad := range []string{
		`var s tally.Status = "released"; _ = s`,
		`var s tally.State = "sent"; _ = s`,
		`var o tally.Outcome = "accepted"; _ = o`,
		`var r tally.Reason = "gpc"; _ = r`,
		`var n tally.Noise = "geometric"; _ = n`,
		`var c tally.SmallCounts = "carry"; _ = c`,
		`var s tally.Status = tally.Sent; _ = s`,
		`_ = tally.GateParams{SmallCounts: "suppress"}`,
		`_ = tally.Released == "released"`,
	} {
		if err := check(bad); err == nil {
			t.Errorf("compiles: %s", bad)
		}
	}
	if err := check(`var s tally.Status = tally.Released; _ = s; _ = tally.Drop(tally.ReasonGPC)`); err != nil {
		t.Fatalf("the named values must compile: %v", err)
	}
}

// TestEnumTextRoundTrip: every vocabulary reads back what it writes, as
// text, JSON and a database value, and refuses a value outside it.
func TestEnumTextRoundTrip(t *testing.T) {
	var s tally.Status
	if err := s.Scan("held"); err != nil || s != tally.Held {
		t.Fatalf("Scan(held) = %v, %v", s, err)
	}
	if err := s.Scan([]byte("released")); err != nil || s != tally.Released {
		t.Fatalf("Scan([]byte) = %v, %v", s, err)
	}
	if err := s.Scan("Released"); err == nil || !strings.Contains(err.Error(), "release status") {
		t.Errorf("Scan of an edited value: %v", err)
	}
	if err := s.Scan(int64(1)); err == nil {
		t.Error("Scan of a number accepted")
	}
	if v, err := tally.Suppressed.Value(); err != nil || v != driver.Value("suppressed") {
		t.Errorf("Value = %v, %v", v, err)
	}
	if _, err := (tally.Status{}).Value(); err == nil {
		t.Error("an unset Status was stored")
	}
	if v, err := tally.ReasonNone.Value(); err != nil || v != driver.Value("") {
		t.Errorf("ReasonNone.Value = %v, %v", v, err)
	}
	js, err := json.Marshal(map[tally.Reason]int{tally.ReasonGPC: 2, tally.ReasonLate: 1})
	if err != nil || string(js) != `{"gpc":2,"late":1}` {
		t.Errorf("JSON = %s, %v", js, err)
	}
	var back map[tally.Reason]int
	if err := json.Unmarshal(js, &back); err != nil || back[tally.ReasonGPC] != 2 {
		t.Errorf("JSON back = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"typo":1}`), &back); err == nil {
		t.Error("unknown reason accepted from JSON")
	}
	for _, p := range []struct {
		parse func(string) error
		ok    string
	}{
		{func(s string) error { _, err := tally.ParseStatus(s); return err }, "held"},
		{func(s string) error { _, err := tally.ParseState(s); return err }, "uncertain"},
		{func(s string) error { _, err := tally.ParseOutcome(s); return err }, "invalid"},
		{func(s string) error { _, err := tally.ParseReason(s); return err }, "over_bound"},
		{func(s string) error { _, err := tally.ParseSmallCounts(s); return err }, "suppress"},
		{func(s string) error { _, err := tally.ParseNoise(s); return err }, "none"},
	} {
		if p.parse(p.ok) != nil || p.parse(p.ok+"x") == nil {
			t.Errorf("parse %q", p.ok)
		}
	}
}
