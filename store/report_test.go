package store_test

import (
	"context"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// TestPeriodStartMatchesGroupStart: the SQL that puts a day in its period
// agrees with tally.Group.Start on every day of three years (leap day,
// year ends on every weekday).
func TestPeriodStartMatchesGroupStart(t *testing.T) {
	r := store.Readers(storetest.Open(t))
	ctx := context.Background()
	for _, g := range []tally.Group{tally.GroupDay, tally.GroupWeek, tally.GroupMonth} {
		stmt, err := r.PrepareContext(ctx, `SELECT `+store.PeriodStart(g)+` FROM (SELECT ? AS day)`)
		if err != nil {
			t.Fatal(err)
		}
		for d := tally.Day("2027-12-25"); d <= "2029-01-10"; d = d.Add(1) {
			var got string
			if err := stmt.QueryRowContext(ctx, d).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if want := g.Start(d); got != string(want) {
				t.Errorf("%s of %s: SQL says %s, Group.Start %s", g, d, got, want)
			}
		}
		stmt.Close()
	}
}
