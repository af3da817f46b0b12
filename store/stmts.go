package store

import (
	"context"
	"database/sql"
	"fmt"
)

// hotStmts are prepared once per DB. Writer statements are bound to the
// single writer pool and used inside transactions with Tx.StmtContext,
// which reuses the connection's prepared statement.
type hotStmts struct {
	insertEvent, dedup, dayInsert, daySelect, outcome, cellCount *sql.Stmt
	consentAt, consentHist, dataVersion                          *sql.Stmt
}

func (s *hotStmts) prepare(ctx context.Context, w, r *sql.DB) error {
	for _, p := range []struct {
		db   *sql.DB
		dst  **sql.Stmt
		name string
		sql  string
	}{
		{w, &s.insertEvent, "insert event", `INSERT INTO events (day, platform, campaign, conversion, dedup_key)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`},
		{w, &s.dedup, "dedup", `SELECT EXISTS (SELECT 1 FROM events WHERE dedup_key = ?)`},
		{w, &s.dayInsert, "day insert", `INSERT INTO days (day, salt) VALUES (?, ?) ON CONFLICT DO NOTHING`},
		{w, &s.daySelect, "day select", `SELECT salt, sealed_at IS NOT NULL
			OR EXISTS (SELECT 1 FROM days AS later WHERE later.day > days.day AND later.sealed_at IS NOT NULL)
			FROM days WHERE day = ?`},
		{w, &s.outcome, "outcome", `INSERT INTO intake_outcomes (day, outcome, reason, count) VALUES (?, ?, ?, ?)
			ON CONFLICT (day, outcome, reason) DO UPDATE SET count = count + excluded.count`},
		{w, &s.cellCount, "cell count", `INSERT INTO cell_counts (day, platform, campaign, conversion, events) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (day, platform, campaign, conversion) DO UPDATE SET events = events + excluded.events`},
		{r, &s.consentAt, "consent lookup", consentAtSQL},
		{w, &s.consentHist, "consent history", `SELECT time, granted FROM consents
			WHERE visitor_key = ? AND purpose = ? ORDER BY time, granted DESC`},
		{w, &s.dataVersion, "data version", `PRAGMA data_version`},
	} {
		st, err := p.db.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("store: prepare %s: %w", p.name, err)
		}
		*p.dst = st
	}
	return nil
}

// consentAtSQL finds the latest record at or before an instant; a
// withdrawal wins a tie with a grant at the same instant.
const consentAtSQL = `SELECT granted, time FROM consents
	WHERE visitor_key = ? AND purpose = ? AND time <= ?
	ORDER BY time DESC, granted ASC LIMIT 1`

func (s *hotStmts) close() {
	for _, st := range []*sql.Stmt{s.insertEvent, s.dedup, s.dayInsert, s.daySelect, s.outcome, s.cellCount, s.consentAt, s.consentHist, s.dataVersion} {
		if st != nil {
			st.Close()
		}
	}
}
