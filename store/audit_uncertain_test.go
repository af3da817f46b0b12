package store_test

import (
	"context"
	"testing"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// uncertainDB builds a file with one sealed day (google/a/booking released
// 6) and one request carrying the 6 conversions whose outcome was unknown
// (a 500 from a platform that does not deduplicate). With resend, a second
// request resent them and was answered 204.
func uncertainDB(t *testing.T, resend bool) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, cell, u, now := sealedUpload(t, "google")
	send := func(settles []int64, resp *store.UploadResponse) int64 {
		t.Helper()
		u.Attempts++
		id, err := db.BeginUploadRequest(ctx, &store.UploadRequest{Platform: "google", Method: "POST", URL: "https://ga.example/mp/collect",
			Body: []byte(`{"events":[1,2,3,4,5,6]}`), Attempt: 1, SentAt: now, Parts: []store.RequestPart{{Cell: cell, First: 0, N: 6}}},
			[]*store.Upload{u})
		if err != nil {
			t.Fatal(err)
		}
		resp.ReceivedAt, resp.Settles = now, settles
		if err := db.FinishUploadRequest(ctx, id, resp, []*store.Upload{u}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	u.Next, u.Uncertain, u.State = 6, 6, tally.Uncertain
	send(nil, &store.UploadResponse{Status: 500, Body: []byte(`oops`), Unknown: true})
	if resend {
		open, err := db.OpenUncertain(ctx, "google", "")
		if err != nil || len(open) != 1 {
			t.Fatalf("open uncertain %v %v", open, err)
		}
		u.Uncertain, u.Acked, u.State = 0, 6, tally.Sent
		send([]int64{open[0].ID}, &store.UploadResponse{Status: 204})
	}
	return db
}

func TestVerifyDataUncertainIntact(t *testing.T) {
	for _, resend := range []bool{false, true} {
		if c := verifyData(t, uncertainDB(t, resend)); len(c.Problems) != 0 || c.Uploads != 1 || c.Requests != 1+btoi(resend) {
			t.Errorf("resend %v: check = %+v, want everything matched", resend, c)
		}
	}
}

// TestVerifyDataCatchesUncertainEdits: edits to uploads.uncertain and to
// upload_uncertain that hide, invent or move an unknown outcome fail.
func TestVerifyDataCatchesUncertainEdits(t *testing.T) {
	tests := []struct {
		name   string
		resend bool
		sql    string
		want   string
	}{
		{"uncertain hidden as acked", false, `UPDATE uploads SET uncertain = 0, acked = 6, state = 'sent'`,
			"uploads 2026-11-20/google/a/booking: uncertain 0, but its open upload_uncertain rows hold 6"},
		{"uncertain zeroed", false, `UPDATE uploads SET uncertain = 0, state = 'pending'`,
			"acked 0 + rejected 0 + uncertain 0 differ from next_index 6"},
		{"uncertain inflated", false, `UPDATE uploads SET uncertain = 9, next_index = 9`, "uncertain 9 exceed the 6 conversions"},
		{"uncertain rows deleted", false, `DELETE FROM upload_uncertain`, "uncertain 6, but its open upload_uncertain rows hold 0"},
		{"uncertain row closed", false, `UPDATE upload_uncertain SET resent_by = 1`, "resent_by 1, but that request's answer does not resend it"},
		{"row points nowhere", false, `PRAGMA foreign_keys = OFF; UPDATE upload_uncertain SET request_id = 99`,
			"upload_uncertain id 1: points at request 99, which does not exist"},
		{"row points at a 2xx", true, `UPDATE upload_uncertain SET request_id = 2, resent_by = NULL; UPDATE uploads SET uncertain = 6, acked = 0, state = 'uncertain'`,
			"upload_uncertain id 1: request 2 was answered 204"},
		{"row invented", true, `UPDATE upload_requests SET status = 502 WHERE id = 2;
			INSERT INTO upload_uncertain (request_id, day, platform, campaign, conversion, first_index, n) VALUES (2, '2026-11-20', 'google', 'a', 'booking', 0, 6)`,
			"upload_uncertain id 2: the audit log does not record request 2's outcome as uncertain"},
		{"range moved", false, `UPDATE upload_uncertain SET first_index = 3, n = 6`, "upload_uncertain id 1: request 1 did not carry these conversions"},
		{"sent with uncertain", false, `UPDATE uploads SET state = 'sent'`, "state sent, but 0 of 6 delivered (0 rejected, 6 uncertain)"},
		{"next_index rewound", true, `UPDATE uploads SET next_index = 0, state = 'pending'`, "differ from next_index 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			editCaught(t, uncertainDB(t, tt.resend), tt.sql, tt.want)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestVerifyDataCatchesEventEdits: a sealed day takes no new events, so
// events deleted or added after its seal (before its purge) fail verify.
func TestVerifyDataCatchesEventEdits(t *testing.T) {
	for name, sql := range map[string]string{
		"deleted": `DELETE FROM events WHERE dedup_key IN (SELECT dedup_key FROM events LIMIT 2)`,
		"added":   `INSERT INTO events (day, platform, campaign, conversion, dedup_key) VALUES ('2026-11-20', 'google', 'a', 'booking', x'00ff')`,
	} {
		t.Run(name, func(t *testing.T) {
			editCaught(t, uncertainDB(t, false), sql, "events 2026-11-20: the seal recorded 6 events")
		})
	}
}
