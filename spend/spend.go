// Package spend reads what the ad campaigns cost, a CSV made from each ad
// platform's ads manager (docs/SPEND.md), checks every line and imports
// the whole file or nothing. Spend is what the marketers' report divides
// by released conversions for a cost per conversion.
package spend

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/text/currency"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/campaign"
	"github.com/tally-health/tally/internal/termsafe"
	"github.com/tally-health/tally/store"
)

// Header is the file's first line, exactly.
const Header = "day,platform,campaign,spend,currency"

// The limits of one file. A year of daily spend for 200 campaigns on four
// platforms is under 300 000 lines and 15 MiB; a bigger file is split.
const (
	MaxBytes = 64 << 20
	MaxRows  = 500_000
	// MaxCampaign is the longest campaign accepted, in bytes.
	MaxCampaign = 255
)

// Store is where an import goes (*store.DB).
type Store interface {
	ImportSpend(ctx context.Context, rows []store.SpendRow, fileSHA256 string, at time.Time) (store.SpendImported, error)
}

// Imported is what Import stored.
type Imported struct {
	store.SpendImported
	// From and To are the first and last day of the file; empty when it
	// held no rows.
	From, To tally.Day
}

// Import reads a whole spend file from r and stores it in one
// transaction, stamped at. A bad line stores nothing: the error names the
// line and is a usage error (exit 2).
func Import(ctx context.Context, db Store, r io.Reader, at time.Time) (Imported, error) {
	rows, sum, err := Read(r)
	if err != nil {
		return Imported{}, tally.WithKind(tally.KindUsage, err)
	}
	n, err := db.ImportSpend(ctx, rows, sum, at)
	if err != nil {
		return Imported{}, err
	}
	out := Imported{SpendImported: n}
	for _, r := range rows {
		if out.From == "" || r.Day < out.From {
			out.From = r.Day
		}
		out.To = max(out.To, r.Day)
	}
	return out, nil
}

// LineError is a line of the file that cannot be imported.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Read reads and checks a whole spend file: the header, then one row per
// line. It returns the rows in file order and the hex SHA-256 of the
// file's bytes, or the first error (a *LineError for a bad line). A UTF-8
// byte order mark and CRLF line ends, as spreadsheets write them, are
// accepted; a blank line is skipped.
func Read(r io.Reader) ([]store.SpendRow, string, error) {
	return read(r, limits{bytes: MaxBytes, rows: MaxRows})
}

// limits are a file's limits: MaxBytes and MaxRows, smaller in tests.
type limits struct {
	bytes int64
	rows  int
}

func read(r io.Reader, lim limits) ([]store.SpendRow, string, error) {
	h := sha256.New()
	counted := &countingReader{r: io.LimitReader(r, lim.bytes+1)}
	br := bufio.NewReader(io.TeeReader(counted, h))
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte("\uFEFF")) {
		br.Discard(3)
	} else if len(bom) >= 2 && (bom[0] == 0xFF && bom[1] == 0xFE || bom[0] == 0xFE && bom[1] == 0xFF) {
		return nil, "", errors.New(`the file is UTF-16 (Excel's "Unicode text"): save it as "CSV UTF-8 (comma-delimited)"`)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counted below, with a message that names the columns
	cr.ReuseRecord = true

	var rows []store.SpendRow
	seen := map[[3]string]int{}
	// checked holds the campaigns already checked: a file names each
	// campaign on many lines, and the check is most of the reading time.
	checked := map[string]bool{}
	header := true
	for {
		rec, err := cr.Read()
		if counted.n > lim.bytes {
			return nil, "", fmt.Errorf("the file is larger than %d bytes: split it (by month, say) and import each part", lim.bytes)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, "", &LineError{Line: pe.Line, Err: pe.Err}
			}
			return nil, "", fmt.Errorf("read: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if header {
			if err := checkHeader(rec); err != nil {
				return nil, "", &LineError{Line: line, Err: err}
			}
			header = false
			continue
		}
		row, err := parseRow(rec, checked)
		if err != nil {
			return nil, "", &LineError{Line: line, Err: err}
		}
		key := [3]string{string(row.Day), string(row.Platform), row.Campaign}
		if first, ok := seen[key]; ok {
			return nil, "", &LineError{Line: line, Err: fmt.Errorf("the same day, platform and campaign as line %d: a file holds each once", first)}
		}
		seen[key] = line
		if len(rows) == lim.rows {
			return nil, "", &LineError{Line: line, Err: fmt.Errorf("more than %d rows: split the file (by month, say) and import each part", lim.rows)}
		}
		rows = append(rows, row)
	}
	if header {
		return nil, "", fmt.Errorf("the file is empty: want the header %s, then one line per day, platform and campaign", Header)
	}
	return rows, hex.EncodeToString(h.Sum(nil)), nil
}

// checkHeader checks the first line is Header.
func checkHeader(rec []string) error {
	got := strings.Join(rec, ",")
	switch {
	case got == Header:
		return nil
	case len(rec) == 1 && strings.Count(got, ";") == 4:
		return errors.New("the columns are separated by semicolons: save the file as comma-separated CSV")
	}
	return fmt.Errorf("the header must be %s, got %s", Header, shown(got))
}

// parseRow checks one line's fields.
func parseRow(rec []string, checked map[string]bool) (store.SpendRow, error) {
	if len(rec) != 5 {
		return store.SpendRow{}, fmt.Errorf("%d fields, want 5 (%s)", len(rec), Header)
	}
	day, platform, name, amount, code := rec[0], rec[1], rec[2], rec[3], rec[4]
	var row store.SpendRow
	var err error
	if row.Day, err = tally.ParseDay(day); err != nil {
		return row, fmt.Errorf("day %s: want YYYY-MM-DD", shown(day))
	}
	if p := tally.Platform(platform); p.Uploaded() {
		row.Platform = p
	} else {
		return row, fmt.Errorf("platform %s: want meta, google, tiktok or linkedin", shown(platform))
	}
	if !checked[name] {
		if err := checkCampaign(name); err != nil {
			// The value is not repeated: it may be the personal data
			// that made it fail.
			return row, fmt.Errorf("campaign (not shown) %w", err)
		}
		checked[name] = true
	}
	row.Campaign = name
	if row.Spend, err = tally.ParseMicros(amount); err != nil {
		return row, fmt.Errorf("spend %s: %w", shown(amount), err)
	}
	if row.Currency, err = parseCurrency(code); err != nil {
		return row, fmt.Errorf("currency %s: %w", shown(code), err)
	}
	return row, nil
}

// checkCampaign applies the intake's campaign rules (package campaign) and
// the bounds of a spend row: a spend is always some campaign's.
func checkCampaign(c string) error {
	switch {
	case c == "":
		return errors.New("is empty: spend is per campaign (the value that arrives as utm_campaign)")
	case len(c) > MaxCampaign:
		return fmt.Errorf("is longer than %d bytes", MaxCampaign)
	}
	return campaign.Check(c)
}

// parseCurrency reads an ISO 4217 code such as EUR (or eur) and returns
// it in upper case.
func parseCurrency(s string) (string, error) {
	if len(s) != 3 || strings.Trim(strings.ToUpper(s), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", errors.New("want a three-letter ISO 4217 code such as EUR or USD")
	}
	u, err := currency.ParseISO(s)
	if err != nil || u == currency.XXX || u == currency.XTS {
		return "", errors.New("not an ISO 4217 currency code")
	}
	return u.String(), nil
}

// shown quotes a value for an error message, or says it is not shown when
// it has the shape of personal data (campaign.Check's shapes: an email,
// a phone number, a URL...): a misplaced column must not copy one into a
// terminal or a log.
func shown(v string) string {
	const maxShown = 40
	if campaign.Check(v) != nil && v != "" || len(v) > maxShown {
		return "(not shown)"
	}
	return fmt.Sprintf("%q", termsafe.String(v))
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
