-- 0009: the ledger says what it does not know, and what was only partly
-- delivered (issue 11, items 4 and 5).
--
-- uploads gains two states and one count. SQLite cannot change a CHECK
-- constraint, so the table is rebuilt (rows copied, index recreated).
--   partial    every conversion resolved: some acknowledged, some refused
--              for good (last_error holds the refusal)
--   uncertain  some conversions went out in a request whose outcome is
--              unknown (a timeout after the body was written, a lost
--              connection, a 5xx) to a platform that does not deduplicate
--              (GA4); they are not resent until an operator runs
--              `tally upload --resend-uncertain`
-- uncertain counts those conversions; acked + rejected + uncertain =
-- next_index.
CREATE TABLE uploads_new (
    day         TEXT NOT NULL,
    platform    TEXT NOT NULL,
    campaign    TEXT NOT NULL DEFAULT '',
    conversion  TEXT NOT NULL,
    count       INTEGER NOT NULL CHECK (count >= 0),
    next_index  INTEGER NOT NULL DEFAULT 0,
    acked       INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'partial', 'failed', 'uncertain', 'expired', 'dry_run')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    uncertain   INTEGER NOT NULL DEFAULT 0 CHECK (uncertain >= 0),
    PRIMARY KEY (day, platform, campaign, conversion)
);
INSERT INTO uploads_new (day, platform, campaign, conversion, count, next_index, acked, rejected, state,
                         attempts, last_error, created_at, updated_at)
SELECT day, platform, campaign, conversion, count, next_index, acked, rejected,
       -- a finished row with both acknowledged and refused conversions was
       -- called failed before partial existed
       CASE WHEN state = 'failed' AND next_index = count AND acked > 0 AND rejected > 0 THEN 'partial' ELSE state END,
       attempts, last_error, created_at, updated_at
FROM uploads;
DROP TABLE uploads;
ALTER TABLE uploads_new RENAME TO uploads;
CREATE INDEX uploads_by_platform ON uploads (platform, state, day);

-- One row per run of conversions whose delivery is unknown: conversions
-- [first_index, first_index + n) of one uploads row, carried by request
-- request_id. resent_by is NULL while the outcome is still unknown; it
-- names the request of `tally upload --resend-uncertain` that settled it
-- (that request's own answer is in upload_requests; if it was unknown
-- again, it has an open row of its own).
CREATE TABLE upload_uncertain (
    id          INTEGER PRIMARY KEY,
    request_id  INTEGER NOT NULL REFERENCES upload_requests (id),
    day         TEXT NOT NULL,
    platform    TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    conversion  TEXT NOT NULL,
    first_index INTEGER NOT NULL,
    n           INTEGER NOT NULL CHECK (n > 0),
    resent_by   INTEGER REFERENCES upload_requests (id)
);
CREATE INDEX upload_uncertain_by_cell ON upload_uncertain (day, platform, campaign, conversion);
