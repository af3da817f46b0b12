package intake_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/tally-health/tally/intake"
)

// endless serves head, then repeats line until limit bytes were served,
// counting what was read, so a test sees how far a reader got without
// holding the input.
type endless struct {
	head, line string
	limit      int
	served     int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.served >= e.limit {
		return 0, io.EOF
	}
	var n int
	for n < len(p) && e.served < e.limit {
		var src string
		if e.served < len(e.head) {
			src = e.head[e.served:]
		} else {
			off := (e.served - len(e.head)) % len(e.line)
			src = e.line[off:]
		}
		c := copy(p[n:], src)
		n += c
		e.served += c
	}
	return n, nil
}

// TestCSVRowIsBounded: a CSV row longer than an NDJSON line may be (one
// 64 MiB line, or a quote never closed that would make the rest of a file
// one field) ends the import with an error naming the line, after reading
// little more than the bound, never holding the row; its content is not in
// the error. Rows before it were delivered.
func TestCSVRowIsBounded(t *testing.T) {
	const total = 64 << 20
	for name, in := range map[string]*endless{
		"long line":      {head: "visitor_id,advertising\nv1,true\nv2,", line: "x", limit: total},
		"unclosed quote": {head: "visitor_id,advertising\nv1,true\nv2,\"", line: "secret-patient-name,true\n", limit: total},
	} {
		t.Run(name, func(t *testing.T) {
			var rows int
			err := intake.ReadConsentCSV(in, []string{"advertising"}, func(rec intake.Record) error {
				if rec.Err == nil {
					rows++
				}
				return nil
			})
			if err == nil || !strings.Contains(err.Error(), "a row after line 2") || !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("err = %v, want the row after line 2 refused as too long", err)
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "xxx") {
				t.Errorf("the error quotes the row: %v", err)
			}
			if rows != 1 {
				t.Errorf("rows before the long one: %d, want 1", rows)
			}
			if in.served > 2<<20 {
				t.Errorf("read %d bytes of a %d-byte input to refuse one row, want about 1 MiB", in.served, total)
			}
		})
	}
	// A row just under the bound is read.
	long := "visitor_id,advertising,note\nv1,true," + strings.Repeat("x", 1<<20-100) + "\n"
	var rows int
	if err := intake.ReadConsentCSV(bytes.NewReader([]byte(long)), []string{"advertising"}, func(rec intake.Record) error {
		if rec.Err == nil {
			rows++
		}
		return nil
	}); err != nil || rows != 1 {
		t.Errorf("a row under the bound: %d rows, %v", rows, err)
	}
}
