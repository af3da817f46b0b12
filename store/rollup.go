package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tally-health/tally"
)

// CellCount is the number of events stored for one cell of a day.
type CellCount struct {
	Platform             tally.Platform
	Campaign, Conversion string
	Raw                  int64
}

// DailyCount is one daily_counts row (see migrations/0002_rollup.sql).
type DailyCount struct {
	tally.Cell
	RawCount, CarriedIn, Noise, Total, ReleasedCount int64
	Status                                           tally.Status
	CarryAge                                         int
	Gate                                             tally.GateParams
	SealedAt                                         string
}

// SealInput is what the release gate sees when a day is sealed: the day's
// raw counts, the cells held on the previous day, and whether the next day
// is already sealed (a count cannot be carried into a sealed day).
type SealInput struct {
	Day        tally.Day
	Raw        []CellCount
	Held       []DailyCount
	NextSealed bool
	// VisitorBound is days.visitor_bound: the per-visitor daily bound
	// intake applied on the day (0: none recorded).
	VisitorBound int
}

// GateFunc turns a SealInput into the day's daily_counts rows. Day and
// SealedAt are filled in by SealDay.
type GateFunc func(ctx context.Context, in SealInput) ([]DailyCount, error)

// SealResult says what SealDay did.
type SealResult struct {
	Day           tally.Day
	AlreadySealed bool
	SealedAt      string
	Events        int64 // events stored for the day at seal time
	Rows          []DailyCount
	KeysDeleted   int64 // the day's stored events, whose contribution keys (per cell, per visitor) went with its table
}

// SealDay seals day in one transaction: it rolls up the day's events, asks
// gate for the rows, writes them to daily_counts, deletes the day's salt,
// nulls its contribution hashes and marks it sealed. A day that is already
// sealed is left untouched (AlreadySealed). A day without events is sealed
// too, so later events for it are dropped as late.
//
// The seal is recorded in the audit log in the same transaction: the day,
// its totals and what note returns for it (the gate parameters); the
// receipt note returns is written to privacy_receipts and carried by the
// entry as detail.privacy. A nil note records neither.
func (db *DB) SealDay(ctx context.Context, day tally.Day, now time.Time, note SealNote, gate GateFunc) (SealResult, error) {
	res := SealResult{Day: day}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("store: seal %s: begin: %w", day, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO days (day) VALUES (?) ON CONFLICT DO NOTHING`, day); err != nil {
		return res, fmt.Errorf("store: seal %s: create day: %w", day, err)
	}
	var sealedAt sql.NullString
	in := SealInput{Day: day}
	if err := tx.QueryRowContext(ctx, `SELECT sealed_at, coalesce(visitor_bound, 0) FROM days WHERE day = ?`, day).Scan(&sealedAt, &in.VisitorBound); err != nil {
		return res, fmt.Errorf("store: seal %s: read day: %w", day, err)
	}
	if sealedAt.Valid {
		res.AlreadySealed, res.SealedAt = true, sealedAt.String
		return res, nil
	}
	if in.Raw, err = runningCounts(ctx, tx, day); err != nil {
		return res, fmt.Errorf("store: seal %s: %w", day, err)
	}
	for _, c := range in.Raw {
		res.Events += c.Raw
	}
	prev, next, err := adjacentDays(day)
	if err != nil {
		return res, fmt.Errorf("store: seal %s: %w", day, err)
	}
	if in.Held, err = queryDailyCounts(ctx, tx, `WHERE day = ? AND status = 'held'`, prev); err != nil {
		return res, fmt.Errorf("store: seal %s: held cells: %w", day, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM days WHERE day = ? AND sealed_at IS NOT NULL)`, next).Scan(&in.NextSealed); err != nil {
		return res, fmt.Errorf("store: seal %s: next day: %w", day, err)
	}
	rows, err := gate(ctx, in)
	if err != nil {
		return res, fmt.Errorf("store: seal %s: gate: %w", day, err)
	}
	res.SealedAt = FormatTime(now)
	for i := range rows {
		rows[i].Day, rows[i].SealedAt = day, res.SealedAt
	}
	if err := insertDailyCounts(ctx, tx, rows); err != nil {
		return res, fmt.Errorf("store: seal %s: %w", day, err)
	}
	if err := dropContributions(ctx, tx, day); err != nil {
		return res, fmt.Errorf("store: seal %s: delete contribution keys: %w", day, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cell_counts WHERE day = ?`, day); err != nil {
		return res, fmt.Errorf("store: seal %s: delete running counts: %w", day, err)
	}
	res.KeysDeleted = res.Events
	if _, err := tx.ExecContext(ctx, `UPDATE days SET salt = NULL, sealed_at = ? WHERE day = ?`, res.SealedAt, day); err != nil {
		return res, fmt.Errorf("store: seal %s: mark sealed: %w", day, err)
	}
	var detail map[string]any
	var receipt *Receipt
	if note != nil {
		detail, receipt = note(in)
	}
	if receipt != nil {
		receipt.Day, receipt.SealedAt = day, res.SealedAt
		if err := insertReceipt(ctx, tx, *receipt); err != nil {
			return res, fmt.Errorf("store: seal %s: %w", day, err)
		}
	}
	entry, err := sealEntry(ctx, tx, res, rows, detail, receipt)
	if err != nil {
		return res, fmt.Errorf("store: seal %s: %w", day, err)
	}
	if err := db.appendAudit(ctx, tx, AuditRollup, entry); err != nil {
		return res, fmt.Errorf("store: seal %s: %w", day, err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("store: seal %s: commit: %w", day, err)
	}
	res.Rows = rows
	return res, nil
}

// CellCounts rolls up the events stored for day, one entry per cell in
// cell order. While a sealed day's events are kept, this reproduces the
// raw_count of its daily_counts rows.
func (db *DB) CellCounts(ctx context.Context, day tally.Day) ([]CellCount, error) {
	out, err := cellCounts(ctx, db.r, day)
	if err != nil {
		return nil, fmt.Errorf("store: cell counts %s: %w", day, err)
	}
	return out, nil
}

// runningCounts reads the day's cells from cell_counts, which intake keeps
// in step with events: sealing reads a row per cell, not per event.
func runningCounts(ctx context.Context, q querier, day tally.Day) ([]CellCount, error) {
	out, err := queryAll(ctx, q, scanCellCount, `SELECT platform, campaign, conversion, events FROM cell_counts
		WHERE day = ? ORDER BY platform, campaign, conversion`, day)
	if err != nil {
		return nil, fmt.Errorf("read running counts: %w", err)
	}
	return out, nil
}

// cellCounts reads only the day's part of events (clustered by cell).
func cellCounts(ctx context.Context, q querier, day tally.Day) ([]CellCount, error) {
	out, err := queryAll(ctx, q, scanCellCount, `SELECT platform, campaign, conversion, count(*) FROM events
		WHERE day = ? GROUP BY platform, campaign, conversion ORDER BY platform, campaign, conversion`, day)
	if err != nil {
		return nil, fmt.Errorf("roll up events: %w", err)
	}
	return out, nil
}

// dropContributions drops the day's contribution table. Dropping frees
// its pages in one step; deleting a million keys one by one took seconds.
// It holds one key per stored event, so their number is the day's events.
func dropContributions(ctx context.Context, tx *sql.Tx, day tally.Day) error {
	table, err := ContribTable(day)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+table)
	return err
}

// adjacentDays returns the calendar days before and after day.
func adjacentDays(day tally.Day) (prev, next tally.Day, err error) {
	d, err := tally.ParseDay(string(day))
	if err != nil {
		return "", "", err
	}
	return d.Add(-1), d.Add(1), nil
}

// sealAudit is the audit entry of one sealed day: its totals by status
// plus the caller's detail (the gate parameters).
func sealAudit(res SealResult, rows []DailyCount, detail map[string]any, receipt *Receipt) map[string]any {
	out := map[string]any{"day": res.Day, "events": res.Events, "cells": len(rows)}
	var released, releasedTotal, held, suppressed int64
	for _, r := range rows {
		switch r.Status {
		case tally.Released:
			released++
			releasedTotal += r.ReleasedCount
		case tally.Held:
			held++
		case tally.Suppressed:
			suppressed++
		}
	}
	out["released_cells"], out["released_conversions"], out["held_cells"], out["suppressed_cells"] = released, releasedTotal, held, suppressed
	for k, v := range detail {
		out[k] = v
	}
	if receipt != nil {
		out["privacy"] = receipt
	}
	return out
}
