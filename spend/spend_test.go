package spend

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

var at = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// TestReadAcceptsWhatSpreadsheetsWrite: a byte order mark, CRLF line ends,
// quoted fields, a blank line and a lower-case currency are read; amounts
// are exact.
func TestReadAcceptsWhatSpreadsheetsWrite(t *testing.T) {
	file := "\uFEFFday,platform,campaign,spend,currency\r\n" +
		"2026-11-01,meta,spring_2026,12.50,EUR\r\n" +
		"\r\n" +
		"\"2026-11-01\",google,\"spring_2026\",0.29,eur\r\n" +
		"2026-11-02,tiktok,Spring.Promo-B,1200,USD\r\n" +
		"2026-11-02,linkedin,spring_2026,0,GBP"
	rows, sum, err := Read(strings.NewReader(file))
	want := []store.SpendRow{
		{Day: "2026-11-01", Platform: "meta", Campaign: "spring_2026", Spend: 12_500_000, Currency: "EUR"},
		{Day: "2026-11-01", Platform: "google", Campaign: "spring_2026", Spend: 290_000, Currency: "EUR"},
		{Day: "2026-11-02", Platform: "tiktok", Campaign: "Spring.Promo-B", Spend: 1_200_000_000, Currency: "USD"},
		{Day: "2026-11-02", Platform: "linkedin", Campaign: "spring_2026", Spend: 0, Currency: "GBP"},
	}
	if err != nil || !reflect.DeepEqual(rows, want) {
		t.Fatalf("Read = %+v, %v\nwant %+v", rows, err, want)
	}
	if len(sum) != 64 {
		t.Errorf("sha256 = %q", sum)
	}
	if rows, _, err := Read(strings.NewReader(Header + "\n")); err != nil || len(rows) != 0 {
		t.Errorf("header only: %v, %v; want no rows and no error", rows, err)
	}
}

// TestReadRefusesBadLines: every bad line is refused with its line number
// and a reason, and a value with the shape of personal data is never
// repeated in the message.
func TestReadRefusesBadLines(t *testing.T) {
	const ok = "2026-11-01,meta,spring,12.50,EUR\n"
	for _, tc := range []struct {
		name, file string
		line       int // 0: not a line error
		why        string
	}{
		{"empty file", "", 0, "the file is empty"},
		{"only a byte order mark", "\uFEFF", 0, "the file is empty"},
		{"UTF-16", "\xff\xfed\x00a\x00y\x00", 0, "the file is UTF-16"},
		{"no header", ok, 1, "the header must be"},
		{"header in capitals", "Day,Platform,Campaign,Spend,Currency\n" + ok, 1, "the header must be"},
		{"header with an extra column", Header + ",clicks\n" + ok, 1, "the header must be"},
		{"semicolons", "day;platform;campaign;spend;currency\n2026-11-01;meta;spring;12,50;EUR\n", 1, "semicolons"},
		{"missing column", Header + "\n" + ok + "2026-11-01,meta,spring,12.50\n", 3, "4 fields, want 5"},
		{"extra column", Header + "\n2026-11-01,meta,spring,12.50,EUR,x\n", 2, "6 fields, want 5"},
		{"bare quote", Header + "\n2026-11-01,meta,spr\"ing,1,EUR\n", 2, "bare \""},
		{"day as spreadsheets write it", Header + "\n11/01/2026,meta,spring,1,EUR\n", 2, "want YYYY-MM-DD"},
		{"impossible day", Header + "\n2026-02-30,meta,spring,1,EUR\n", 2, "want YYYY-MM-DD"},
		{"platform none", Header + "\n2026-11-01,none,spring,1,EUR\n", 2, "platform \"none\": want meta, google, tiktok or linkedin"},
		{"platform by its brand name", Header + "\n2026-11-01,Facebook,spring,1,EUR\n", 2, "want meta, google, tiktok or linkedin"},
		{"empty campaign", Header + "\n2026-11-01,meta,,1,EUR\n", 2, "campaign (not shown) is empty"},
		{"email as campaign", Header + "\n2026-11-01,meta,jane.doe@example.org,1,EUR\n", 2, "looks like an email address"},
		{"phone as campaign", Header + "\n2026-11-01,meta,555-123-4567,1,EUR\n", 2, "looks like a phone"},
		{"date of birth as campaign", Header + "\n2026-11-01,meta,dob_1975-03-12,1,EUR\n", 2, "looks like a date"},
		{"campaign with a space", Header + "\n2026-11-01,meta,Jane Doe,1,EUR\n", 2, "whitespace"},
		{"formula as campaign", Header + "\n2026-11-01,meta,=HYPERLINK(1),1,EUR\n", 2, "spreadsheet formula"},
		{"long campaign", Header + "\n2026-11-01,meta," + strings.Repeat("a", MaxCampaign+1) + ",1,EUR\n", 2, "longer than 255 bytes"},
		{"negative spend", Header + "\n2026-11-01,meta,spring,-1,EUR\n", 2, "negative"},
		{"exponent", Header + "\n2026-11-01,meta,spring,1e9,EUR\n", 2, "spend \"1e9\": amount has an exponent"},
		{"comma decimal", Header + "\n2026-11-01,meta,spring,\"12,50\",EUR\n", 2, "spend \"12,50\": amount has a comma"},
		{"currency symbol", Header + "\n2026-11-01,meta,spring,€12.50,EUR\n", 2, "not a decimal"},
		{"empty spend", Header + "\n2026-11-01,meta,spring,,EUR\n", 2, "empty amount"},
		{"currency as a symbol", Header + "\n2026-11-01,meta,spring,1,€\n", 2, "three-letter ISO 4217"},
		{"unknown currency", Header + "\n2026-11-01,meta,spring,1,ABC\n", 2, "not an ISO 4217"},
		{"no currency", Header + "\n2026-11-01,meta,spring,1,XXX\n", 2, "not an ISO 4217"},
		{"same row twice", Header + "\n" + ok + "2026-11-02,meta,spring,1,EUR\n" + ok, 4, "same day, platform and campaign as line 2"},
		{"same key, other amount", Header + "\n" + ok + "2026-11-01,meta,spring,3,USD\n", 3, "as line 2"},
		{"bad line after good ones, CRLF", Header + "\r\n" + ok + ok[:len(ok)-1] + "\r\n", 3, "as line 2"},
		{"email in the platform column", Header + "\n2026-11-01,jane@example.org,spring,1,EUR\n", 2, "platform (not shown)"},
		{"email in the day column", Header + "\njane@example.org,meta,spring,1,EUR\n", 2, "day (not shown)"},
		{"email in the currency column", Header + "\n2026-11-01,meta,spring,1,jane@example.org\n", 2, "currency (not shown)"},
		{"email in the header", "day,platform,jane@example.org,spend,currency\n", 1, "got (not shown)"},
		{"phone in the spend column", Header + "\n2026-11-01,meta,spring,+1 555 123 4567,EUR\n", 2, "spend (not shown)"},
	} {
		_, _, err := Read(strings.NewReader(tc.file))
		var le *LineError
		switch {
		case err == nil:
			t.Errorf("%s: no error", tc.name)
		case !strings.Contains(err.Error(), tc.why):
			t.Errorf("%s: %v; want it to say %q", tc.name, err, tc.why)
		case tc.line != 0 && (!errors.As(err, &le) || le.Line != tc.line):
			t.Errorf("%s: %v; want line %d", tc.name, err, tc.line)
		}
		if err != nil {
			for _, secret := range []string{"jane", "Jane", "555", "1975"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("%s: the message repeats %q: %v", tc.name, secret, err)
				}
			}
		}
	}
}

// TestReadRefusesHugeFiles: a file over MaxBytes, or with more than
// MaxRows rows, is refused whole, with advice to split it (a line longer
// than the file limit included: reading stops at MaxBytes+1 bytes).
func TestReadRefusesHugeFiles(t *testing.T) {
	lim := limits{bytes: 1000, rows: 10}
	long := Header + "\n2026-11-01,meta," + strings.Repeat("a", 2000) + ",1,EUR\n"
	if _, _, err := read(strings.NewReader(long), lim); err == nil || !strings.Contains(err.Error(), "larger than 1000 bytes: split it") {
		t.Errorf("one long line: %v", err)
	}
	var b strings.Builder
	b.WriteString(Header + "\n")
	day := tally.Day("2026-01-01")
	for i := 0; i <= lim.rows; i++ {
		if i%4 == 0 {
			day = day.Add(1)
		}
		b.WriteString(string(day) + "," + string(tally.UploadPlatforms[i%4]) + ",spring,1,EUR\n")
	}
	if rows, _, err := read(strings.NewReader(b.String()), limits{bytes: 1000, rows: lim.rows + 1}); err != nil || len(rows) != lim.rows+1 {
		t.Errorf("at the row limit: %d rows, %v", len(rows), err)
	}
	_, _, err := read(strings.NewReader(b.String()), lim)
	var le *LineError
	if !errors.As(err, &le) || le.Line != lim.rows+2 || !strings.Contains(err.Error(), "more than 10 rows: split the file") {
		t.Errorf("too many rows: %v", err)
	}
	if _, _, err := read(strings.NewReader(b.String()), limits{bytes: int64(b.Len() - 1), rows: 100}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("one byte over: %v", err)
	}
	if _, _, err := read(strings.NewReader(b.String()), limits{bytes: int64(b.Len()), rows: 100}); err != nil {
		t.Errorf("at the byte limit: %v", err)
	}
}

// TestImportIsAllOrNothing: a file with a bad last line stores nothing
// and writes no audit entry; the good file then imports, and importing an
// edited version of it replaces rows, with one entry per import.
func TestImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	good := Header + "\n2026-11-01,meta,spring,12.50,EUR\n2026-11-01,google,spring,3,EUR\n"
	_, err := Import(ctx, db, strings.NewReader(good+"2026-11-02,meta,someone@example.org,1,EUR\n"), at)
	if err == nil || tally.KindOf(err) != tally.KindUsage || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("bad file: %v (kind %v), want a usage error naming line 4", err, tally.KindOf(err))
	}
	counts := func() (rows, entries int) {
		t.Helper()
		if err := sqlfile.Open(t, db.Path).QueryRow(`SELECT (SELECT count(*) FROM spend),
			(SELECT count(*) FROM audit_log WHERE kind = 'spend_import')`).Scan(&rows, &entries); err != nil {
			t.Fatal(err)
		}
		return rows, entries
	}
	if rows, entries := counts(); rows != 0 || entries != 0 {
		t.Fatalf("after the bad file: %d rows, %d entries; want none", rows, entries)
	}
	n, err := Import(ctx, db, strings.NewReader(good), at)
	if err != nil || n != (Imported{SpendImported: store.SpendImported{Inserted: 2}, From: "2026-11-01", To: "2026-11-01"}) {
		t.Fatalf("good file: %+v, %v", n, err)
	}
	n, err = Import(ctx, db, strings.NewReader(Header+"\n2026-11-01,meta,spring,13.00,EUR\n2026-11-03,meta,spring,1,EUR\n"), at)
	if err != nil || n.SpendImported != (store.SpendImported{Inserted: 1, Replaced: 1}) || n.From != "2026-11-01" || n.To != "2026-11-03" {
		t.Fatalf("edited file: %+v, %v", n, err)
	}
	if rows, entries := counts(); rows != 3 || entries != 2 {
		t.Errorf("after two imports: %d rows, %d entries; want 3 and 2", rows, entries)
	}
	got, err := db.Spend(ctx, "2026-11-01", "2026-11-01")
	if err != nil || len(got) != 2 || got[1].Spend != 13_000_000 {
		t.Errorf("spend after the re-import: %+v, %v", got, err)
	}
}

// FuzzRead: whatever the file, Read returns rows that each pass the
// checks, or an error; it never panics.
func FuzzRead(f *testing.F) {
	f.Add(Header + "\n2026-11-01,meta,spring,12.50,EUR\n")
	f.Add("\uFEFF" + Header + "\r\n2026-11-01,google,\"a,b\",0.000001,usd\r\n")
	f.Add(Header + "\n2026-11-01,meta,spring,1e9,EUR\n2026-11-01,meta,spring,1,EUR\n")
	f.Fuzz(func(t *testing.T, file string) {
		rows, _, err := Read(strings.NewReader(file))
		if err != nil {
			return
		}
		for _, r := range rows {
			if _, err := tally.ParseDay(string(r.Day)); err != nil || !r.Platform.Uploaded() || r.Spend < 0 ||
				r.Campaign == "" || len(r.Currency) != 3 {
				t.Fatalf("row %+v passed", r)
			}
			if err := checkCampaign(r.Campaign); err != nil {
				t.Fatalf("campaign %q passed: %v", r.Campaign, err)
			}
		}
	})
}

// TestReadDoesNotApplyTheIntakeConfig: the import checks the campaign
// rules of package campaign only, not intake.campaign_pattern (whose
// default allows 64 characters) or intake.campaigns: docs/SPEND.md warns
// that such a campaign has spend and no conversions.
func TestReadDoesNotApplyTheIntakeConfig(t *testing.T) {
	long := strings.Repeat("a", 100)
	rows, _, err := Read(strings.NewReader(Header + "\n2026-11-01,meta," + long + ",1,EUR\n"))
	if err != nil || len(rows) != 1 || rows[0].Campaign != long {
		t.Errorf("a 100-byte campaign: %+v, %v; want it imported", rows, err)
	}
}
