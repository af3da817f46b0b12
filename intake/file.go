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

// ReadNDJSON calls fn for each non-blank line of r. A line longer than
// maxLine is one Record with an error, its bytes skipped rather than held,
// and reading goes on with the next line: one bad line never ends an
// import.
func ReadNDJSON(r io.Reader, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	line := 0
	for {
		b, tooLong, err := readLine(br, buf[:0])
		buf = b
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", line+1, err)
		}
		if errors.Is(err, io.EOF) && len(b) == 0 && !tooLong {
			return nil
		}
		line++
		if rec, ok := record(line, b, tooLong); ok {
			if err := fn(rec); err != nil {
				return err
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// errLineTooLong names a line over maxLine, never its content.
var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLine)

// record turns one line into a Record; ok is false for a blank line.
func record(line int, b []byte, tooLong bool) (Record, bool) {
	if tooLong {
		return Record{Line: line, Err: errLineTooLong}, true
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return Record{}, false
	}
	if !json.Valid(b) || b[0] != '{' {
		return Record{Line: line, Err: errors.New("malformed JSON: want one object per line")}, true
	}
	return Record{Line: line, Raw: append(json.RawMessage(nil), b...)}, true
}

// readLine reads one line into buf, newline included, keeping at most
// maxLine bytes of content: tooLong reports a longer line, whose bytes are
// read and dropped so the next call starts on the next line. err is
// io.EOF for the last line when it has no newline (and for no line at
// all, with nothing read).
func readLine(br *bufio.Reader, buf []byte) (b []byte, tooLong bool, err error) {
	n := 0
	for {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		content := n
		if bytes.HasSuffix(frag, []byte("\n")) {
			content--
		}
		switch {
		case tooLong:
		case content > maxLine:
			tooLong, buf = true, buf[:0]
		default:
			buf = append(buf, frag...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return buf, tooLong, err
		}
	}
}

// csvColumns are the only columns an event CSV import reads; every other
// column is skipped without keeping its name or value.
var csvColumns = []string{"event_id", "event", "visitor_id", "time", "source", "campaign", "gpp", "gpp_sid", "tcf", "health_data"}

// ReadEventCSV calls fn for each data row of a CSV file with a header row.
// Each row becomes an event object holding only the known columns; an
// empty cell is a missing field. Line numbers count the header as line 1.
func ReadEventCSV(r io.Reader, fn func(Record) error) error {
	return readCSV(r, csvColumns, []string{"event_id", "event", "visitor_id"}, func(cells map[string]string) (any, error) {
		obj := map[string]any{}
		for name, v := range cells {
			obj[name] = v
		}
		if v, ok := cells["health_data"]; ok {
			b, err := csvBool("health_data", v)
			if err != nil {
				return nil, err
			}
			obj["health_data"] = b
		}
		return obj, nil
	}, fn)
}

// consentCSVColumns are the columns a consent CSV import reads besides
// the purposes (the column named like consent.purpose, and health_data).
var consentCSVColumns = []string{"visitor_id", "time", "source", "version", "gpp", "gpp_sid", "tcf"}

// ReadConsentCSV calls fn for each data row of a consent CSV file with a
// header row (visitor_id, a column named like each purpose, e.g.
// advertising and health_data, holding true or false, and optional time,
// source, version, gpp, gpp_sid, tcf). Each row becomes a consent object
// holding only those columns; an empty cell is a missing field.
func ReadConsentCSV(r io.Reader, purposes []string, fn func(Record) error) error {
	known := append(append([]string(nil), consentCSVColumns...), purposes...)
	return readCSV(r, known, []string{"visitor_id"}, func(cells map[string]string) (any, error) {
		obj, ps := map[string]any{}, map[string]bool{}
		for name, v := range cells {
			obj[name] = v
		}
		for _, p := range purposes {
			v, ok := cells[p]
			if !ok {
				continue
			}
			delete(obj, p)
			b, err := csvBool(p, v)
			if err != nil {
				return nil, err
			}
			ps[p] = b
		}
		if len(ps) > 0 {
			obj["purposes"] = ps
		}
		return obj, nil
	}, fn)
}

// csvBool reads a consent cell: true/false, yes/no or 1/0.
func csvBool(column, v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%s: want true or false", column)
}

// readCSV calls fn for each data row of a CSV file with a header row: obj
// turns the row's non-empty known cells into the object the row stands
// for, or an error naming the column. required columns must be in the
// header. Line numbers count the header as line 1.
func readCSV(r io.Reader, known, required []string, obj func(map[string]string) (any, error), fn func(Record) error) error {
	br := &rowBound{r: r}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for _, k := range known {
			if h == k {
				col[h] = i
			}
		}
	}
	for _, need := range required {
		if _, ok := col[need]; !ok {
			return fmt.Errorf("CSV header: missing column %q", need)
		}
	}
	lastLine := 1 // where the last row read starts; the header's is 1
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var rec Record
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			rec, lastLine = Record{Line: pe.StartLine, Err: errors.New("malformed CSV row")}, pe.StartLine
		case errors.Is(err, errRowTooLong):
			// The row cannot be skipped: inside an unclosed quote there is
			// no telling where the next one starts.
			return fmt.Errorf("read CSV: a row after line %d: %w", lastLine, err)
		case err != nil:
			return fmt.Errorf("read CSV: %w", err)
		default:
			cells := map[string]string{}
			for name, i := range col {
				if i < len(row) && row[i] != "" {
					cells[name] = row[i]
				}
			}
			line, _ := cr.FieldPos(0)
			rec, lastLine = Record{Line: line}, line
			if o, err := obj(cells); err != nil {
				rec.Err = err
			} else {
				rec.Raw, _ = json.Marshal(o)
			}
		}
		if err := fn(rec); err != nil {
			return err
		}
		br.rowStart = cr.InputOffset()
	}
}

// errRowTooLong names a CSV row over maxLine, never its content.
var errRowTooLong = fmt.Errorf("row longer than %d bytes", maxLine)

// rowBound feeds a csv.Reader and fails once it has been asked for more
// than maxLine bytes (plus the csv.Reader's read-ahead) past the end of
// the last row read: csv.Reader holds a whole row, and a quote never
// closed makes the rest of the file one row.
type rowBound struct {
	r        io.Reader
	read     int64 // bytes handed to the csv.Reader
	rowStart int64 // the csv.Reader's offset after the last row
}

// csvReadAhead is more than csv.Reader's buffer reads past a row.
const csvReadAhead = 64 << 10

func (b *rowBound) Read(p []byte) (int, error) {
	if b.read-b.rowStart > maxLine+csvReadAhead {
		return 0, errRowTooLong
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}
