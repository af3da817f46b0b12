-- 0001: intake. Times are RFC 3339 UTC text; days are YYYY-MM-DD in rollup.timezone.

-- One row per day that has seen an event. The salt keys that day's
-- contribution hashes; sealing the day deletes it (sets it NULL).
CREATE TABLE days (
    day       TEXT PRIMARY KEY,
    salt      BLOB,
    sealed_at TEXT
);

-- One row per accepted event. Nothing here identifies a person: no event
-- time, no raw event name, no visitor id. dedup_key is a keyed hash of the
-- client's event_id.
--
-- The contribution bound (one visitor counts once per cell) lives in one
-- table per open day, contrib_YYYYMMDD (key BLOB PRIMARY KEY): each key is a
-- keyed hash of (visitor, cell) under the day's salt. Intake creates the
-- table with the day; sealing the day drops it and deletes the salt, so a
-- sealed day keeps nothing that links an event to a visitor.
--
-- No arrival order either: the table has no row id and is ordered by cell,
-- then by dedup_key (a keyed hash, so random within the cell). An
-- increasing id could be lined up with the times of consents to tie events
-- back to visitor keys.
CREATE TABLE events (
    day        TEXT NOT NULL,
    platform   TEXT NOT NULL,
    campaign   TEXT NOT NULL DEFAULT '',
    conversion TEXT NOT NULL,
    dedup_key  BLOB NOT NULL UNIQUE,
    PRIMARY KEY (day, platform, campaign, conversion, dedup_key)
) WITHOUT ROWID;

-- Running count of accepted events per cell of each open day, kept by
-- intake in the same transaction as the events themselves, so sealing a day
-- reads its cells instead of scanning its events. Deleted when the day is
-- sealed (daily_counts.raw_count keeps the number); `tally audit recount`
-- checks sealed counts against events.
CREATE TABLE cell_counts (
    day        TEXT NOT NULL,
    platform   TEXT NOT NULL,
    campaign   TEXT NOT NULL,
    conversion TEXT NOT NULL,
    events     INTEGER NOT NULL,
    PRIMARY KEY (day, platform, campaign, conversion)
) WITHOUT ROWID;

-- Append-only consent history. visitor_key is a keyed hash of the visitor id.
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    visitor_key BLOB NOT NULL,
    purpose     TEXT NOT NULL,
    granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
    time        TEXT NOT NULL,
    source      TEXT,
    version     TEXT,
    recorded_at TEXT NOT NULL
);
-- Covers the consent lookup, ordered as it reads: latest time first and, at
-- the same instant, a withdrawal (granted = 0) before a grant.
CREATE INDEX consents_by_visitor ON consents (visitor_key, purpose, time, granted DESC);
CREATE TRIGGER consents_no_update BEFORE UPDATE ON consents
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
BEGIN SELECT RAISE(ABORT, 'consents is append-only'); END;

-- Every intake outcome counted per day. reason is '' unless outcome = 'dropped'.
CREATE TABLE intake_outcomes (
    day     TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason  TEXT NOT NULL DEFAULT '',
    count   INTEGER NOT NULL,
    PRIMARY KEY (day, outcome, reason)
);
