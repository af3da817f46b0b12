package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestImportSpendReplacesAndAudits: a second import of a day, platform and
// campaign replaces the row; each import writes one spend_import entry with
// its counts; the amounts come back to the micro; the chain stays intact.
func TestImportSpendReplacesAndAudits(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	first := []store.SpendRow{
		{Day: "2026-11-01", Platform: "meta", Campaign: "spring", Spend: 12_500_000, Currency: "EUR"},
		{Day: "2026-11-01", Platform: "google", Campaign: "spring", Spend: 290_000, Currency: "EUR"},
		{Day: "2026-11-02", Platform: "meta", Campaign: "spring", Spend: 1, Currency: "EUR"},
	}
	if n, err := db.ImportSpend(ctx, first, "aaaa", at); err != nil || n != (store.SpendImported{Inserted: 3}) {
		t.Fatalf("first import: %+v, %v", n, err)
	}
	second := []store.SpendRow{
		{Day: "2026-11-02", Platform: "meta", Campaign: "spring", Spend: 7_000_000, Currency: "USD"},
		{Day: "2026-11-03", Platform: "tiktok", Campaign: "spring", Spend: 0, Currency: "EUR"},
	}
	if n, err := db.ImportSpend(ctx, second, "bbbb", at.Add(time.Hour)); err != nil || n != (store.SpendImported{Inserted: 1, Replaced: 1}) {
		t.Fatalf("second import: %+v, %v", n, err)
	}
	got, err := db.Spend(ctx, "2026-11-02", "2026-11-30")
	want := []store.SpendRow{second[0], second[1]}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("spend 11-02..11-30 = %+v, %v; want %+v", got, err, want)
	}
	if got, err := db.Spend(ctx, "2026-11-01", "2026-11-01"); err != nil || !reflect.DeepEqual(got, []store.SpendRow{first[1], first[0]}) {
		t.Errorf("spend 11-01 = %+v, %v", got, err)
	}

	var details []map[string]any
	err = db.AuditEntries(ctx, "", func(e store.AuditEntry) error {
		if e.Kind == store.AuditSpendImport {
			var d map[string]any
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil {
				return err
			}
			details = append(details, d)
		}
		return nil
	})
	for _, d := range details {
		if sum, _ := d["spend_sha256"].(string); len(sum) != 64 {
			t.Errorf("spend_sha256 = %v", d["spend_sha256"])
		}
		delete(d, "spend_sha256")
	}
	wantDetails := []map[string]any{
		{"inserted": 3.0, "replaced": 0.0, "first_day": "2026-11-01", "last_day": "2026-11-02", "file_sha256": "aaaa", "spend_rows": 3.0},
		{"inserted": 1.0, "replaced": 1.0, "first_day": "2026-11-02", "last_day": "2026-11-03", "file_sha256": "bbbb", "spend_rows": 4.0},
	}
	if err != nil || !reflect.DeepEqual(details, wantDetails) {
		t.Errorf("audit entries %v, %v; want %v", details, err, wantDetails)
	}
	if _, _, err := db.VerifyAudit(ctx); err != nil {
		t.Errorf("chain: %v", err)
	}
	if c, err := db.VerifyData(ctx); err != nil || len(c.Problems) != 0 || c.SpendRows != 4 {
		t.Errorf("verify data: %+v, %v", c, err)
	}
	var importedAt string
	sqlfile.Open(t, db.Path).QueryRow(`SELECT imported_at FROM spend WHERE day = '2026-11-02'`).Scan(&importedAt)
	if importedAt != "2026-11-29T10:00:00.000Z" {
		t.Errorf("imported_at = %q", importedAt)
	}
}

// TestImportSpendIsAllOrNothing: a row the table refuses (here a platform
// outside the upload platforms, which the caller should have caught) rolls
// the whole import back, the rows before it and the audit entry included.
func TestImportSpendIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t)
	rows := []store.SpendRow{
		{Day: "2026-11-01", Platform: "meta", Campaign: "spring", Spend: 1_000_000, Currency: "EUR"},
		{Day: "2026-11-01", Platform: "none", Campaign: "spring", Spend: 1_000_000, Currency: "EUR"},
	}
	if _, err := db.ImportSpend(ctx, rows, "cccc", time.Now()); err == nil || !strings.Contains(err.Error(), "CHECK") {
		t.Fatalf("err = %v, want the CHECK constraint", err)
	}
	var spend, audit int
	q := sqlfile.Open(t, db.Path)
	if err := q.QueryRow(`SELECT (SELECT count(*) FROM spend), (SELECT count(*) FROM audit_log WHERE kind = 'spend_import')`).Scan(&spend, &audit); err != nil || spend != 0 || audit != 0 {
		t.Errorf("after a failed import: %d spend rows, %d entries (%v); want none", spend, audit, err)
	}
}

// TestVerifyDataFindsAnEditedSpendRow: a spend row edited, added or
// deleted after its import no longer matches the hash the last import
// recorded; rows without any import are reported too.
func TestVerifyDataFindsAnEditedSpendRow(t *testing.T) {
	ctx := context.Background()
	for _, edit := range []string{
		`UPDATE spend SET spend_micros = 1 WHERE campaign = 'spring'`,
		`INSERT INTO spend VALUES ('2026-11-09', 'meta', 'extra', 5, 'EUR', '2026-11-29T09:00:00.000Z')`,
		`DELETE FROM spend WHERE platform = 'google'`,
	} {
		db := storetest.Open(t)
		rows := []store.SpendRow{
			{Day: "2026-11-01", Platform: "meta", Campaign: "spring", Spend: 12_500_000, Currency: "EUR"},
			{Day: "2026-11-01", Platform: "google", Campaign: "autumn", Spend: 3_000_000, Currency: "EUR"},
		}
		if _, err := db.ImportSpend(ctx, rows, "aaaa", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := sqlfile.Open(t, db.Path).Exec(edit); err != nil {
			t.Fatal(err)
		}
		c, err := db.VerifyData(ctx)
		if err != nil || len(c.Problems) != 1 || c.Problems[0].Table != "spend" || !strings.Contains(c.Problems[0].Reason, "a row was edited, added or deleted") {
			t.Errorf("%s: %+v, %v; want one spend problem", edit, c.Problems, err)
		}
	}
	db := storetest.Open(t)
	if _, err := sqlfile.Open(t, db.Path).Exec(`INSERT INTO spend VALUES ('2026-11-09', 'meta', 'extra', 5, 'EUR', '2026-11-29T09:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	if c, err := db.VerifyData(ctx); err != nil || len(c.Problems) != 1 || !strings.Contains(c.Problems[0].Reason, "no spend_import in the audit log wrote any") {
		t.Errorf("rows without an import: %+v, %v", c.Problems, err)
	}
}
