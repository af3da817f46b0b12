-- 0002: rollup, release gate and retention. Times are RFC 3339 UTC text;
-- days are YYYY-MM-DD in rollup.timezone. Sealing a day writes its rows
-- here once; they are never updated or deleted afterwards.

-- One row per (day, platform, campaign, conversion) cell of a sealed day:
-- every cell that had events that day, plus every cell whose held count
-- was carried in from the previous day.
--   raw_count      events stored for the cell on that day at seal time
--                  (reproducible from events until they are purged)
--   carried_in     the held total carried in from the previous day (0 if none)
--   noise          noise drawn once at seal and added to raw_count (0 when
--                  gate_noise = 'none', and on rows with raw_count = 0)
--   total          carried_in + max(0, raw_count + noise): what the
--                  threshold is compared with
--   released_count total when status = 'released' (always >= 1), else 0
--   status         released | held (carried to the next day) | suppressed (final)
--   carry_age      0 when nothing was carried in; else how many days the
--                  oldest carried count has waited
--   gate_*         the release gate parameters in force when sealed
CREATE TABLE daily_counts (
    day               TEXT NOT NULL,
    platform          TEXT NOT NULL,
    campaign          TEXT NOT NULL DEFAULT '',
    conversion        TEXT NOT NULL,
    raw_count         INTEGER NOT NULL CHECK (raw_count >= 0),
    carried_in        INTEGER NOT NULL CHECK (carried_in >= 0),
    noise             INTEGER NOT NULL,
    total             INTEGER NOT NULL CHECK (total >= 0),
    released_count    INTEGER NOT NULL CHECK (released_count >= 0),
    status            TEXT NOT NULL CHECK (status IN ('released', 'held', 'suppressed')),
    carry_age         INTEGER NOT NULL CHECK (carry_age >= 0),
    gate_min_count    INTEGER NOT NULL,
    gate_small_counts TEXT NOT NULL,
    gate_carry_days   INTEGER NOT NULL,
    gate_noise        TEXT NOT NULL,
    gate_epsilon      REAL NOT NULL,
    sealed_at         TEXT NOT NULL,
    PRIMARY KEY (day, platform, campaign, conversion),
    CHECK ((status = 'released') = (released_count > 0))
);
-- Uploaders read released cells by status.
CREATE INDEX daily_counts_by_status ON daily_counts (status, day);
CREATE TRIGGER daily_counts_no_update BEFORE UPDATE ON daily_counts
BEGIN SELECT RAISE(ABORT, 'daily_counts is final once a day is sealed'); END;
CREATE TRIGGER daily_counts_no_delete BEFORE DELETE ON daily_counts
BEGIN SELECT RAISE(ABORT, 'daily_counts is final once a day is sealed'); END;

-- One row per day whose events were deleted past store.retention_days.
CREATE TABLE purges (
    id        INTEGER PRIMARY KEY,
    day       TEXT NOT NULL,
    events    INTEGER NOT NULL,
    purged_at TEXT NOT NULL
);
CREATE INDEX purges_by_day ON purges (day);
