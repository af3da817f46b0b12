package export

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// Format is an export's file format.
type Format string

// The formats.
const (
	CSV  Format = "csv"
	JSON Format = "json"
)

// ParseFormat reads a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case CSV, JSON:
		return f, nil
	}
	return "", fmt.Errorf("want csv or json, got %q", s)
}

// header is the CSV header of DESIGN.md, with uncertain (issue 11), then
// carried_in and delivery (issue 13) appended, so that readers of the
// columns before them are not broken; the JSON keys are the same.
var header = []string{"day", "platform", "campaign", "conversion", "count", "status", "uncertain", "carried_in", "delivery"}

func write(w io.Writer, format Format, rows []Row) error {
	if format == JSON {
		if rows == nil {
			rows = []Row{} // [] rather than null
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, x := range rows {
		count := ""
		if x.Count != nil {
			count = strconv.FormatInt(*x.Count, 10)
		}
		if err := cw.Write([]string{x.Day, x.Platform, x.Campaign, x.Conversion, count, x.Status, strconv.Itoa(x.Uncertain), x.CarriedIn, x.Delivery}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeFileAtomic writes path through a temporary file in the same folder,
// so a failed export never leaves a half-written file behind. The file is
// 0644 whatever the umask, as it always was (renameio would apply the
// umask, and fsync, which an export did not).
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
