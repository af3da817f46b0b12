package audit

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

// sealedDB holds 2026-11-20 sealed with meta/a/booking 3.
func sealedDB(t *testing.T) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	var evs []storetest.Event
	for i := range 3 {
		evs = append(evs, storetest.Event{
			Cell:     tally.Cell{Day: "2026-11-20", Platform: "meta", Campaign: "a", Conversion: "booking"},
			EventKey: []byte(fmt.Sprintf("e%d", i)), VisitorKey: []byte(fmt.Sprintf("v%d", i))})
	}
	storetest.WriteEvents(t, db, evs...)
	if _, err := db.SealDay(context.Background(), "2026-11-20", time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC), nil, storetest.ReleaseAll); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestVerifyAndHead(t *testing.T) {
	ctx := context.Background()
	db := sealedDB(t)
	var head bytes.Buffer
	if err := Head(ctx, db, &head); err != nil {
		t.Fatal(err)
	}
	anchor, err := store.ParseAnchor(head.String())
	if err != nil {
		t.Fatalf("head %q: %v", head.String(), err)
	}

	var out bytes.Buffer
	if err := Verify(ctx, db, &anchor, &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	want := fmt.Sprintf("audit log intact: %d rows, head %s\nanchor %s: in the chain\n"+
		"data agrees with the audit log: 1 sealed days, 0 upload requests (0 pruned), 0 uploads rows, 0 purges\n", anchor.ID, anchor, anchor)
	if out.String() != want {
		t.Errorf("verify wrote\n%s\nwant\n%s", out.String(), want)
	}

	// An anchor the chain does not hold fails after the chain's own line.
	out.Reset()
	forged := store.Anchor{ID: anchor.ID, Hash: strings.Repeat("0", 64)}
	err = Verify(ctx, db, &forged, &out)
	if err == nil || !strings.HasPrefix(err.Error(), "audit verify: anchor "+forged.String()+": ") || !strings.HasPrefix(out.String(), "audit log intact:") {
		t.Errorf("forged anchor: %v\n%s", err, out.String())
	}
}

func TestHeadOfAnEmptyLog(t *testing.T) {
	var out bytes.Buffer
	if err := Head(context.Background(), storetest.Open(t), &out); err == nil || err.Error() != "audit head: the audit log is empty" || out.Len() != 0 {
		t.Errorf("empty log: %v, %q", err, out.String())
	}
}

func TestRecount(t *testing.T) {
	ctx := context.Background()
	db := sealedDB(t)
	var out bytes.Buffer
	if err := Recount(ctx, db, "2026-11-20", &out); err != nil {
		t.Fatal(err)
	}
	want := "day,platform,campaign,conversion,stored,counted,result\n2026-11-20,meta,a,booking,3,3,ok\n2026-11-20: all 1 cells agree with their events\n"
	if out.String() != want {
		t.Errorf("recount wrote\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := Recount(ctx, db, "2026-11-21", &out); err == nil || err.Error() != "audit recount: 2026-11-21 is not sealed" || out.Len() != 0 {
		t.Errorf("unsealed day: %v, %q", err, out.String())
	}
}

func TestPrintOneDay(t *testing.T) {
	ctx := context.Background()
	db := sealedDB(t)
	var all, day, none bytes.Buffer
	if err := Print(ctx, db, "", &all); err != nil || !strings.Contains(all.String(), "  rollup  ") {
		t.Fatalf("whole log: %v\n%s", err, all.String())
	}
	written := strings.Fields(all.String())[1][:len("2006-01-02")] // the day the seal was written
	if err := Print(ctx, db, written, &day); err != nil || day.String() != all.String() {
		t.Errorf("the day it was written: %v\n%s", err, day.String())
	}
	if err := Print(ctx, db, "1999-01-01", &none); err != nil || none.Len() != 0 {
		t.Errorf("a day without rows: %v\n%s", err, none.String())
	}
}
