package intake

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLine is the longest NDJSON line an import accepts.
const maxLine = 1 << 20

// Record is one line of an import file: its raw JSON object, or an error
// naming what is wrong with the line (never its content).
type Record struct {
	Line int
	Raw  json.RawMessage
	Err  error
}

// ReadNDJSON calls fn for each non-blank line of r.
func ReadNDJSON(r io.Reader, fn func(Record) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec := Record{Line: line, Raw: append(json.RawMessage(nil), b...)}
		if !json.Valid(b) || b[0] != '{' {
			rec = Record{Line: line, Err: errors.New("malformed JSON: want one object per line")}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", line+1, err)
	}
	return nil
}

// csvColumns are the only columns an event CSV import reads; every other
// column is skipped without keeping its name or value.
var csvColumns = []string{"event_id", "event", "visitor_id", "time", "source", "campaign"}

// ReadEventCSV calls fn for each data row of a CSV file with a header row.
// Each row becomes an event object holding only the known columns; an
// empty cell is a missing field. Line numbers count the header as line 1.
func ReadEventCSV(r io.Reader, fn func(Record) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for _, known := range csvColumns {
			if h == known {
				col[h] = i
			}
		}
	}
	for _, need := range []string{"event_id", "event", "visitor_id"} {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("CSV header: missing column %q", need)
		}
	}
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var rec Record
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			rec = Record{Line: pe.StartLine, Err: errors.New("malformed CSV row")}
		case err != nil:
			return fmt.Errorf("read CSV: %w", err)
		default:
			obj := map[string]string{}
			for name, i := range col {
				if i < len(row) && row[i] != "" {
					obj[name] = row[i]
				}
			}
			raw, _ := json.Marshal(obj)
			line, _ := cr.FieldPos(0)
			rec = Record{Line: line, Raw: raw}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}
