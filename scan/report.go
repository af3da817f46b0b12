package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Run scans targets and writes the result to w, as JSON (what was not
// checked is also logged, as the text report shows it) or as text.
func Run(ctx context.Context, targets []string, opt Options, asJSON bool, w io.Writer) (Result, error) {
	s := New(opt)
	res, err := s.Scan(ctx, targets)
	if err != nil {
		return res, err
	}
	if asJSON {
		err = writeJSON(w, res)
		for _, sk := range res.Skipped {
			s.opt.Log.Warn("scan not checked", "url", sk.URL, "reason", sk.Reason)
		}
	} else {
		err = writeText(w, res, s.opt.MaxPages)
	}
	if err != nil {
		return res, fmt.Errorf("scan: write: %w", err)
	}
	return res, nil
}

// ErrIncomplete is the verdict on a scan that found no tracker but cut a
// page or script at the byte cap: "clean" cannot be claimed.
var ErrIncomplete = errors.New("scan: incomplete")

// Verdict turns a result into the scan's outcome: nil when clean; an error
// naming what was found when failOnFindings, and every target that could
// not be scanned whatever failOnFindings says, since such a target proves
// nothing; else ErrIncomplete when a page or script was cut at the byte
// cap and nothing was found, since a tracker may sit past the cut.
func (r Result) Verdict(failOnFindings bool) error {
	var msgs []string
	if n := len(r.Findings); n > 0 && failOnFindings {
		msgs = append(msgs, fmt.Sprintf("found %d trackers on %d pages", n, pagesWithFindings(r.Findings)))
	}
	for _, f := range r.Failed {
		msgs = append(msgs, fmt.Sprintf("could not scan %s: %s", f.URL, f.Reason))
	}
	if len(msgs) > 0 {
		return fmt.Errorf("scan: %s", strings.Join(msgs, "; "))
	}
	if n := len(r.Truncated); n > 0 && len(r.Findings) == 0 {
		return fmt.Errorf("%w: %d pages or scripts truncated at the byte cap; no tracker found in what was read", ErrIncomplete, n)
	}
	return nil
}

// report is the JSON output: the findings, and everything that makes a
// scan less than complete, so a machine reading it can tell "clean" from
// "not fully checked". Lists are [] when empty, never null.
type report struct {
	Findings   []Finding    `json:"findings"`
	Truncated  []string     `json:"truncated"`
	NotChecked []reportSkip `json:"not_checked"`
	Failed     []reportSkip `json:"failed"`
	Pages      int          `json:"pages_read"`
	Scripts    int          `json:"scripts_read"`
	Unvisited  int          `json:"unvisited"`
}

type reportSkip struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
}

func reportSkips(sks []Skip) []reportSkip {
	out := []reportSkip{}
	for _, sk := range sks {
		out = append(out, reportSkip{URL: sk.URL, Reason: sk.Reason})
	}
	return out
}

// writeJSON writes the result as one JSON object.
func writeJSON(w io.Writer, res Result) error {
	rep := report{
		Findings:   append([]Finding{}, res.Findings...),
		Truncated:  append([]string{}, res.Truncated...),
		NotChecked: reportSkips(res.Skipped),
		Failed:     reportSkips(res.Failed),
		Pages:      len(res.Pages),
		Scripts:    res.Scripts,
		Unvisited:  res.Unvisited,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeText writes findings grouped by page, then what was not checked,
// then a one-line summary. maxPages is the bound the scan ran with, named
// when pages were left unvisited.
func writeText(w io.Writer, res Result, maxPages int) error {
	var b strings.Builder
	page := ""
	for _, f := range res.Findings {
		if f.Page != page {
			if page != "" {
				b.WriteByte('\n')
			}
			page = f.Page
			fmt.Fprintln(&b, page)
		}
		id := f.ID
		if id == "" {
			id = "(no id visible)"
		}
		where := f.Source
		if f.Source == f.Page {
			where = "this page"
		}
		fmt.Fprintf(&b, "  %-19s %s\n      %s  (%s)\n", f.Tracker, id, f.Evidence, where)
	}
	if len(res.Findings) > 0 {
		b.WriteByte('\n')
	}
	if len(res.Skipped) > 0 || res.Unvisited > 0 {
		fmt.Fprintln(&b, "not checked:")
		for _, sk := range res.Skipped {
			fmt.Fprintf(&b, "  %s: %s\n", sk.URL, sk.Reason)
		}
		if res.Unvisited > 0 {
			fmt.Fprintf(&b, "  %d more pages beyond --max-pages %d\n", res.Unvisited, maxPages)
		}
	}
	if len(res.Truncated) > 0 {
		fmt.Fprintf(&b, "truncated at the %d-byte cap (a tracker past the cut is not seen):\n", DefaultMaxBytes)
		for _, u := range res.Truncated {
			fmt.Fprintf(&b, "  %s\n", u)
		}
	}
	for _, f := range res.Failed {
		fmt.Fprintf(&b, "could not scan %s: %s\n", f.URL, f.Reason)
	}
	if n := len(res.Findings); n > 0 {
		fmt.Fprintf(&b, "found %d trackers (%d kinds) on %d of %d pages read; %d scripts read\n",
			n, trackerKinds(res.Findings), pagesWithFindings(res.Findings), len(res.Pages), res.Scripts)
	} else {
		fmt.Fprintf(&b, "no trackers found on %d pages read; %d scripts read\n", len(res.Pages), res.Scripts)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pagesWithFindings(fs []Finding) int {
	pages := map[string]bool{}
	for _, f := range fs {
		pages[f.Page] = true
	}
	return len(pages)
}

func trackerKinds(fs []Finding) int {
	kinds := map[string]bool{}
	for _, f := range fs {
		kinds[f.Tracker] = true
	}
	return len(kinds)
}
