package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestReportInBrowser opens the page `tally report` wrote and the live
// GET /report of `tally serve` in headless Chromium: no console error, no
// request beyond the page itself, every platform and campaign of the test
// data with its released total, and a screenshot of each in the test's
// temporary folder.
func TestReportInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	dir, cfg, env := reportFixture(t)
	page := filepath.Join(dir, "tally-report.html")
	if code, out, errs := runTally(t, "--config", cfg, "report", "-o", page); code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, errs)
	}
	enabled := write(t, filepath.Join(dir, "report.toml"), "[store]\npath = "+strconv.Quote(filepath.Join(dir, "tally.db"))+"\n[report]\nenabled = true\n")
	srv := startServe(t, dir, append(env, "TALLY_REPORT_TOKEN="+reportToken), "--config", enabled)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	browser := startChromium(t, ctx, chrome)
	shots := t.TempDir()
	for _, tc := range []struct {
		name, url string
		header    network.Headers
	}{
		{"file", (&url.URL{Scheme: "file", Path: filepath.ToSlash(page)}).String(), nil},
		{"live", "http://" + srv.Addr + "/report?from=2026-11-17&to=2026-11-19", network.Headers{"Authorization": "Bearer " + reportToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab, cancelTab := chromedp.NewContext(browser)
			defer cancelTab()
			var mu sync.Mutex
			var requests, problems []string
			// The listener only notes what it sees (see chromedp.Listen).
			if err := chromedp.Listen(tab, func(ev any) {
				mu.Lock()
				defer mu.Unlock()
				switch ev := ev.(type) {
				case *network.EventRequestWillBeSent:
					requests = append(requests, ev.Request.URL)
				case *runtime.EventConsoleAPICalled:
					if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
						problems = append(problems, fmt.Sprintf("console %s", ev.Type))
					}
				case *runtime.EventExceptionThrown:
					problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
				case *log.EventEntryAdded:
					if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
						problems = append(problems, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
					}
				}
			}); err != nil {
				t.Fatal(err)
			}
			if tc.header != nil {
				if _, err := chromedp.Call(tab, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: tc.header}); err != nil {
					t.Fatal(err)
				}
			}
			if err := chromedp.Do(tab, chromedp.Navigate(tc.url), chromedp.WaitVisible(chromedp.CSS("#campaigns"))); err != nil {
				t.Fatal(err)
			}
			got := eval[map[string]string](t, tab, `Object.fromEntries([...document.querySelectorAll("tr[data-line]")].map(r => {
				const c = r.querySelector("[data-total]");
				return [r.dataset.line, c.dataset.total + "|" + c.innerText];
			}))`)
			for line, want := range reportTotals {
				total, text, _ := strings.Cut(got[line], "|")
				if total != strconv.Itoa(want) || !strings.HasPrefix(text, strconv.Itoa(want)) {
					t.Errorf("%s: total %q shown as %q, want %d", line, total, text, want)
				}
			}
			if len(got) != len(reportTotals) {
				t.Errorf("lines on the page %v, want %v", got, reportTotals)
			}
			png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(shots, tc.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(problems) > 0 {
				t.Errorf("console problems: %q", problems)
			}
			// The page's own request, and nothing else: no stylesheet, font,
			// image, script or beacon from anywhere.
			if len(requests) != 1 || requests[0] != tc.url {
				t.Errorf("requests %q, want only the page %s", requests, tc.url)
			}
		})
	}
}
