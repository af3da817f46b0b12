package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tally-health/tally/internal/sqlfile"
	"github.com/tally-health/tally/internal/storetest"
	"github.com/tally-health/tally/store"
)

func auditDB(t *testing.T, rows int) *store.DB {
	t.Helper()
	db := storetest.Open(t)
	for i := 0; i < rows; i++ {
		if err := db.AppendAudit(context.Background(), store.AuditRollup, map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestAuditChainIntact(t *testing.T) {
	db := auditDB(t, 5)
	n, head, err := db.VerifyAudit(context.Background())
	if err != nil || n != 5 || len(head) != 64 {
		t.Fatalf("verify = %d %q %v", n, head, err)
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`UPDATE audit_log SET detail = '{}' WHERE id = 2`); err == nil {
		t.Error("audit_log accepted an UPDATE")
	}
	if _, err := sqlfile.Open(t, db.Path).Exec(`DELETE FROM audit_log WHERE id = 2`); err == nil {
		t.Error("audit_log accepted a DELETE")
	}
}

func TestAuditChainTampering(t *testing.T) {
	tests := []struct {
		name   string
		sql    string
		wantID int64
		reason string
	}{
		{"edited detail", `UPDATE audit_log SET detail = '{"n":99}' WHERE id = 3`, 3, "edited"},
		{"edited time", `UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE id = 2`, 2, "edited"},
		{"deleted row", `DELETE FROM audit_log WHERE id = 3`, 4, "deleted or reordered"},
		{"reordered rows", `UPDATE audit_log SET id = id + 100 WHERE id IN (2, 3); UPDATE audit_log SET id = 3 WHERE id = 102; UPDATE audit_log SET id = 2 WHERE id = 103`, 2, ""},
		{"rehashed edit", `UPDATE audit_log SET detail = '{"n":7}', hash = 'f00' WHERE id = 4`, 4, "edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := auditDB(t, 5)
			if _, err := sqlfile.Open(t, db.Path).Exec(`DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ` + tt.sql); err != nil {
				t.Fatal(err)
			}
			_, _, err := db.VerifyAudit(context.Background())
			var ce *store.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("verify err = %v, want a ChainError", err)
			}
			if ce.ID != tt.wantID || !strings.Contains(ce.Reason, tt.reason) {
				t.Errorf("chain error = %v, want row %d (%s)", ce, tt.wantID, tt.reason)
			}
		})
	}
}
