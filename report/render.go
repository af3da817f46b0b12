package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tally-health/tally"
)

//go:embed report.html
var pageText string

// page is the report's template. html/template escapes every value from
// the database (campaign and conversion names) for its context.
var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"platform": func(p tally.Platform) string {
		if p == tally.PlatformNone {
			return "none (no ad platform)"
		}
		return string(p)
	},
	"campaign": func(c string) string {
		if c == "" {
			return "(no campaign)"
		}
		return c
	},
	"state": func(s tally.State) string { return strings.ReplaceAll(s.String(), "_", " ") },
	"count": count,
}).Parse(pageText))

// HTML is the figure as a table cell's content: its text and, when
// carried counts are in it, where from. A figure holds only digits,
// dates and fixed words, escaped here all the same; built in Go because
// the page holds up to 75,000 of them (html/template would also write
// "+" as "&#43;").
func (f Figure) HTML() template.HTML {
	var b strings.Builder
	f.writeHTML(&b)
	return template.HTML(b.String())
}

func (f Figure) writeHTML(b *strings.Builder) {
	b.WriteString(html.EscapeString(f.Text()))
	if c := f.Carried(); c != "" {
		b.WriteString(`<small class="c">` + html.EscapeString(c) + `</small>`)
	}
}

// SeriesCells is the line's figures per period as table cells, built in
// one call: by day, a year of 200 campaigns is 73,000 of them.
func (l *Line) SeriesCells() template.HTML {
	var b strings.Builder
	for _, f := range l.Series {
		b.WriteString("<td>")
		f.writeHTML(&b)
	}
	return template.HTML(b.String())
}

// DeliveryColumns are the delivery table's states, for the template.
func (*Report) DeliveryColumns() []tally.State { return DeliveryColumns }

// Write renders the report as one HTML page.
func (r *Report) Write(w io.Writer) error {
	if err := page.Execute(w, r); err != nil {
		return fmt.Errorf("report: render: %w", err)
	}
	return nil
}

// WriteFile renders the report to path through a temporary file in its
// folder, so a failed run never leaves half a page behind. The page holds
// no more than the export does; like the export it is 0644.
func (r *Report) WriteFile(path string) error {
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", path, err)
	}
	return nil
}
