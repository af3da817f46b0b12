package report

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/batch"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

var update = flag.Bool("update", false, "rewrite testdata/report.golden.html")

// evilCampaign is a campaign value no intake accepts today, stored as if
// an older version had: the page must show it as text.
const evilCampaign = `x"><script>alert('c')</script><img src=x onerror=alert(1)>`

var now = time.Date(2026, 11, 10, 9, 30, 0, 0, time.UTC)

// cellSpec is n events from n visitors in one cell.
type cellSpec struct {
	day        tally.Day
	platform   tally.Platform
	campaign   string
	conversion string
	n          int
}

// writeCells stores the events of cells in db.
func writeCells(t *testing.T, db *store.DB, cells ...cellSpec) {
	t.Helper()
	var evs []storetest.Event
	for _, c := range cells {
		for i := range c.n {
			id := fmt.Sprintf("%s/%s/%s/%s/%d", c.day, c.platform, c.campaign, c.conversion, i)
			evs = append(evs, storetest.Event{Cell: tally.Cell{Day: c.day, Platform: c.platform, Campaign: c.campaign, Conversion: c.conversion},
				EventKey: []byte("e" + id), VisitorKey: []byte("v" + id)})
		}
	}
	storetest.WriteEvents(t, db, evs...)
}

// sealWith seals days in order through the real release gate g.
func sealWith(t *testing.T, db *store.DB, g batch.Gate, days ...tally.Day) {
	t.Helper()
	for _, d := range days {
		if _, err := db.SealDay(context.Background(), d, now, nil, func(_ context.Context, in store.SealInput) ([]store.DailyCount, error) {
			return g.Apply(in)
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// sampleDB holds three sealed days under min_count 11, carry 2 days:
//
//	meta/spring_24/booking  14 released; 4 held; 9 + 4 = 13 released, carried from 11-03
//	meta/evil/lead          12 released on 11-02
//	google/fall/lead        3 held; 2 + 3 held; suppressed on 11-04 (carried too long)
//	none/(no campaign)/booking 12 released on 11-02
//
// and meta's cells of 11-02 queued for upload.
func sampleDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	writeCells(t, db,
		cellSpec{"2026-11-02", "meta", "spring_24", "booking", 14},
		cellSpec{"2026-11-03", "meta", "spring_24", "booking", 4},
		cellSpec{"2026-11-04", "meta", "spring_24", "booking", 9},
		cellSpec{"2026-11-02", "meta", evilCampaign, "lead", 12},
		cellSpec{"2026-11-02", "google", "fall", "lead", 3},
		cellSpec{"2026-11-03", "google", "fall", "lead", 2},
		cellSpec{"2026-11-02", "none", "", "booking", 12})
	g := batch.Gate{GateParams: tally.GateParams{MinCount: 11, SmallCounts: tally.Carry, CarryDays: 2, Noise: tally.NoNoise, Epsilon: tally.Epsilon{Num: 1, Den: 1}}}
	sealWith(t, db, g, "2026-11-02", "2026-11-03", "2026-11-04")
	if _, err := db.QueueUploads(context.Background(), "meta", "2026-11-02", now); err != nil {
		t.Fatal(err)
	}
	return db
}

func render(t *testing.T, db *store.DB, opts Options) (*Report, string) {
	t.Helper()
	opts.Now, opts.Version, opts.Timezone = now, "test", "Europe/Berlin"
	r, err := Build(context.Background(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	return r, b.String()
}

// TestReportGolden pins the page's structure: the sample database by day,
// as testdata/report.golden.html (go test ./report -run Golden -update
// rewrites it after a deliberate change).
func TestReportGolden(t *testing.T) {
	_, got := render(t, sampleDB(t), Options{})
	golden := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the page differs from %s (run with -update after a deliberate change):\n%s", golden, firstDiff(string(want), got))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\nwant %s\ngot  %s", i+1, x, y)
		}
	}
	return ""
}

// TestReportTotalsAndMarks checks the figures the sample must give: totals
// are sums of released counts, withheld cells read "< k", the carried
// count names its day.
func TestReportTotalsAndMarks(t *testing.T) {
	r, html := render(t, sampleDB(t), Options{})
	if r.From != "2026-11-02" || r.To != "2026-11-04" || r.SealedDays != 3 {
		t.Fatalf("period %s..%s, %d sealed days; want 2026-11-02..2026-11-04, 3", r.From, r.To, r.SealedDays)
	}
	totals := map[string]string{}
	for _, l := range r.Platforms {
		totals[string(l.Platform)] = l.Total.Text()
	}
	for _, l := range r.Campaigns {
		totals[string(l.Platform)+"/"+l.Campaign] = l.Total.Text()
	}
	want := map[string]string{
		"meta": "39 + < 11", "google": "3 × < 11", "none": "12",
		"meta/spring_24": "27 + < 11", "meta/" + evilCampaign: "12", "google/fall": "3 × < 11", "none/": "12",
	}
	for k, w := range want {
		if totals[k] != w {
			t.Errorf("total %q = %q, want %q", k, totals[k], w)
		}
	}
	if len(totals) != len(want) {
		t.Errorf("lines %v, want %v", totals, want)
	}
	var spring *Line
	for _, l := range r.Campaigns {
		if l.Campaign == "spring_24" {
			spring = l
		}
	}
	if got := spring.Series[2]; got.Text() != "13" || got.Carried() != "carried from 2026-11-03" {
		t.Errorf("spring_24 on 11-04: %q %q, want 13 carried from 2026-11-03", got.Text(), got.Carried())
	}
	for _, s := range []string{"13<small class=\"c\">carried from 2026-11-03</small>", "&lt; 11"} {
		if !strings.Contains(html, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	d := r.Delivery[0]
	if d.Platform != "meta" || d.Released != 39 || d.States[tally.Pending] != 26 || d.NotQueued != 13 {
		t.Errorf("meta delivery %+v: want 39 released, 26 pending (11-02), 13 not queued (11-04)", d)
	}
}

// TestReportEscapesCampaigns: a campaign value holding markup is text on
// the page, never markup (html/template escapes it in every context).
func TestReportEscapesCampaigns(t *testing.T) {
	_, html := render(t, sampleDB(t), Options{})
	for _, bad := range []string{"<script", "<img", `x">`} {
		if strings.Contains(html, bad) {
			t.Errorf("page holds %q: a campaign value was not escaped", bad)
		}
	}
	if !strings.Contains(html, "x&#34;&gt;&lt;script&gt;alert(&#39;c&#39;)&lt;/script&gt;") {
		t.Error("the campaign value is not on the page as escaped text")
	}
}

// TestReportShowsNoWithheldCount builds cells the gate held, carried and
// suppressed, with noise, and checks that no raw, held, carried or
// suppressed count, no noise and no unreleased total appears anywhere in
// the page: only released counts and their sums leave the database.
func TestReportShowsNoWithheldCount(t *testing.T) {
	db := storetest.Open(t)
	// Noise makes every total a distinctive number, so that finding it
	// on the page means it was shown.
	writeCells(t, db,
		cellSpec{"2026-11-02", "meta", "alpha", "booking", 3},
		cellSpec{"2026-11-02", "meta", "beta", "booking", 2},
		cellSpec{"2026-11-02", "google", "gamma", "lead", 1},
		cellSpec{"2026-11-03", "meta", "alpha", "booking", 2},
		cellSpec{"2026-11-03", "google", "gamma", "lead", 1},
		cellSpec{"2026-11-04", "meta", "beta", "booking", 1},
		cellSpec{"2026-11-05", "meta", "delta", "booking", 4})
	noise := []int64{4318, 5998, 3716, 679, 1110, 2466, 1703}
	g := batch.Gate{GateParams: tally.GateParams{MinCount: 5000, SmallCounts: tally.Carry, CarryDays: 2, Noise: tally.Geometric, Epsilon: tally.Epsilon{Num: 1, Den: 1}},
		Draw: func(tally.Epsilon) (int64, error) {
			n := noise[0]
			noise = noise[1:]
			return n, nil
		}}
	sealWith(t, db, g, "2026-11-02", "2026-11-03", "2026-11-04")
	g.SmallCounts = tally.Suppress // a later day under another gate
	sealWith(t, db, g, "2026-11-05")

	rows, err := sqlfile.Open(t, db.Path).Query(`SELECT status, raw_count, carried_in, noise, total, released_count FROM daily_counts`)
	if err != nil {
		t.Fatal(err)
	}
	secret := map[int64]bool{}
	released := map[int64]bool{}
	statuses := map[string]int{}
	for rows.Next() {
		var status string
		var raw, carried, noise, total, rel int64
		if err := rows.Scan(&status, &raw, &carried, &noise, &total, &rel); err != nil {
			t.Fatal(err)
		}
		statuses[status]++
		released[rel] = true
		for _, n := range []int64{raw, carried, noise, raw + noise} {
			secret[n] = true
		}
		if status != "released" {
			secret[total] = true
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if statuses["held"] == 0 || statuses["suppressed"] == 0 || statuses["released"] == 0 {
		t.Fatalf("statuses %v: the test needs released, held and suppressed cells", statuses)
	}
	checked := 0
	for _, group := range []tally.Group{tally.GroupDay, tally.GroupWeek, tally.GroupMonth} {
		_, html := render(t, db, Options{Group: group})
		for n := range secret {
			// Small numbers are in every page (dates, chart coordinates);
			// the noise makes the totals that matter large.
			if n < 100 || released[n] {
				continue
			}
			checked++
			for _, s := range []string{fmt.Sprint(n), count(n)} {
				if regexp.MustCompile(`(^|[^0-9])` + regexp.QuoteMeta(s) + `([^0-9]|$)`).MatchString(html) {
					t.Errorf("PRIVACY: withheld number %s (a raw, carried, noise or unreleased total) is on the %s page", s, group)
				}
			}
		}
		// Released: alpha 6,001 on 11-02; beta 6,185 on 11-04, carried
		// from 11-02 and 11-03; the meta total 12,186.
		for _, s := range []string{"6,001", "6,185", "12,186", "carried from 2026-11-02 to 2026-11-03"} {
			if !strings.Contains(html, s) {
				t.Errorf("the %s page lacks the released figure %s", group, s)
			}
		}
	}
	if checked < 15 {
		t.Fatalf("only %d withheld numbers checked: the test data no longer proves anything", checked)
	}
}

// TestReportEmptyAndBadPeriods: an empty database and a period with no
// sealed day give a page that says so; from after to, or more than three
// years, is a usage error.
func TestReportEmptyAndBadPeriods(t *testing.T) {
	r, html := render(t, storetest.Open(t), Options{})
	if r.From != "" || !strings.Contains(html, `id="empty"`) {
		t.Errorf("empty database: period %q, page without the empty notice", r.From)
	}
	r, html = render(t, sampleDB(t), Options{From: "2025-01-01", To: "2025-01-31", Group: tally.GroupWeek})
	if len(r.Platforms) != 0 || r.SealedDays != 0 || !strings.Contains(html, `id="empty"`) || len(r.Periods) != 5 {
		t.Errorf("unsealed period: %d platforms, %d sealed days, %d periods; want none, 0, 5 weeks and the empty notice",
			len(r.Platforms), r.SealedDays, len(r.Periods))
	}
	db := sampleDB(t)
	for _, o := range []Options{{From: "2026-11-04", To: "2026-11-02"}, {From: "0001-01-01", To: "9999-12-31"}, {From: "2024-01-01", To: "2027-01-01"}, {From: "2020-01-01"}} {
		if _, err := Build(context.Background(), db, o); err == nil || tally.KindOf(err) != tally.KindUsage {
			t.Errorf("%s to %s: %v (kind %v), want a usage error", o.From, o.To, err, tally.KindOf(err))
		}
	}
	if _, err := Build(context.Background(), db, Options{From: "2024-01-01", To: "2026-12-31"}); err != nil {
		t.Errorf("three years: %v", err)
	}
}

// TestReportCostOnlyWhereSpendIsKnown: cost per conversion where a line
// has spend in one currency and released conversions; none elsewhere.
func TestReportCostOnlyWhereSpendIsKnown(t *testing.T) {
	db := sampleDB(t)
	if _, html := render(t, db, Options{}); strings.Contains(html, "Cost per conversion") {
		t.Error("without spend the page has a cost column")
	}
	spend := []store.SpendRow{
		{Day: "2026-11-02", Platform: "meta", Campaign: "spring_24", Spend: 135_000_000, Currency: "EUR"},
		{Day: "2026-11-04", Platform: "meta", Campaign: "spring_24", Spend: 5_005_000, Currency: "EUR"},
		{Day: "2026-11-02", Platform: "google", Campaign: "fall", Spend: 40_000_000, Currency: "EUR"},
		{Day: "2026-11-05", Platform: "meta", Campaign: "spring_24", Spend: 1, Currency: "EUR"}, // after the period
	}
	if _, err := db.ImportSpend(context.Background(), spend, "test", now); err != nil {
		t.Fatal(err)
	}
	r, html := render(t, db, Options{To: "2026-11-04"})
	got := map[string][2]string{}
	for _, l := range append(r.Platforms, r.Campaigns...) {
		got[string(l.Platform)+"/"+l.Campaign] = [2]string{l.Spend.Text(), l.Spend.CostPer(l.Total)}
	}
	want := map[string][2]string{
		"meta/":          {"140.01 EUR", "3.59 EUR"}, // 140.005 / 39
		"meta/spring_24": {"140.01 EUR", "5.19 EUR"}, // 140.005 / 27
		"google/fall":    {"40.00 EUR", ""},          // nothing released: no cost
		"none/":          {"", ""},
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: spend, cost %q, want %q", k, got[k], w)
		}
	}
	if !strings.Contains(html, "Cost per conversion") {
		t.Error("the page has no cost column")
	}
}

// TestSparkDrawsAtMost60Points: a year by day is summed into 60 runs of
// consecutive periods, the highest run at the top of the box; a short
// series keeps one point per period.
func TestSparkDrawsAtMost60Points(t *testing.T) {
	for _, tc := range []struct{ periods, points int }{{1, 1}, {31, 31}, {60, 60}, {61, 60}, {365, 60}} {
		l := &Line{Series: make([]Figure, tc.periods)}
		l.Series[tc.periods-1].Released = 7 // the last run is the highest
		pts := strings.Fields(l.Spark())
		if len(pts) != tc.points {
			t.Errorf("%d periods: %d points, want %d", tc.periods, len(pts), tc.points)
			continue
		}
		if _, y, _ := strings.Cut(pts[len(pts)-1], ","); tc.periods > 1 && y != "2" {
			t.Errorf("%d periods: the highest point is at y=%s, want 2 (the top)", tc.periods, y)
		}
	}
}
