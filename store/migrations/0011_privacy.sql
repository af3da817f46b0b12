-- 0011 (issue 16): the privacy statement of every sealed day, and what it
-- needs to know about the day's intake.
--
-- days.visitor_bound is the privacy.max_cells_per_visitor_day intake
-- applied on the day: the highest it used; 0 when some of the day's events
-- were taken without one (open days when this migration ran); NULL when
-- none was recorded.
ALTER TABLE days ADD COLUMN visitor_bound INTEGER;
UPDATE days SET visitor_bound = 0 WHERE sealed_at IS NULL;

-- One row per day sealed since this migration, written by the seal in the
-- same transaction as its daily_counts rows, and carried by the seal's
-- audit entry (detail.privacy), which `tally audit verify` compares.
--   min_count        k, privacy.min_count
--   noise            none | geometric
--   epsilon          ε per cell, an exact decimal; '' when noise = 'none'
--   visitor_bound    L, as in days.visitor_bound (0: none recorded)
--   visitor_epsilon  the per-visitor ε of the day, L·ε, exact; '0' for a
--                    day without events; '' when none can be stated (no
--                    noise, or no bound recorded)
--   visitor_delta    the chance, at most, that a cell holding one visitor's
--                    conversions alone is released, times L (rounded,
--                    "≈…"); '' when visitor_epsilon is ''
--   statement        the same in one sentence
CREATE TABLE privacy_receipts (
    day             TEXT PRIMARY KEY,
    min_count       INTEGER NOT NULL,
    noise           TEXT NOT NULL CHECK (noise IN ('none', 'geometric')),
    epsilon         TEXT NOT NULL,
    visitor_bound   INTEGER NOT NULL CHECK (visitor_bound >= 0),
    visitor_epsilon TEXT NOT NULL,
    visitor_delta   TEXT NOT NULL,
    statement       TEXT NOT NULL,
    sealed_at       TEXT NOT NULL
);
CREATE TRIGGER privacy_receipts_no_update BEFORE UPDATE ON privacy_receipts
BEGIN SELECT RAISE(ABORT, 'privacy_receipts is final once a day is sealed'); END;
CREATE TRIGGER privacy_receipts_no_delete BEFORE DELETE ON privacy_receipts
BEGIN SELECT RAISE(ABORT, 'privacy_receipts is final once a day is sealed'); END;
