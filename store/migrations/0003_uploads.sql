-- 0003: the upload ledger. Times are RFC 3339 UTC text (store.TimeFormat);
-- days are YYYY-MM-DD in rollup.timezone.

-- One row per released cell and platform. A released count n becomes n
-- synthetic conversions numbered 0..n-1; conversions [0, next_index) are
-- resolved (acknowledged by the platform, or rejected for good), so a run
-- that was killed resumes at next_index and re-sends only what was never
-- acknowledged. state:
--   pending  nothing or part sent; the next run continues
--   sent     every conversion acknowledged
--   failed   a permanent error (last_error holds the platform's message),
--            or retries ran out; when next_index < count the next run tries
--            the rest again
--   expired  past the platform's time window; never sent
--   dry_run  request bodies written to the outbox instead of sent
CREATE TABLE uploads (
    day         TEXT NOT NULL,
    platform    TEXT NOT NULL,
    campaign    TEXT NOT NULL DEFAULT '',
    conversion  TEXT NOT NULL,
    count       INTEGER NOT NULL CHECK (count >= 0),
    next_index  INTEGER NOT NULL DEFAULT 0,
    acked       INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'failed', 'expired', 'dry_run')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (day, platform, campaign, conversion)
);
CREATE INDEX uploads_by_platform ON uploads (platform, state, day);

-- Every HTTP request sent to a platform, written before it is sent and
-- completed when the answer arrives: method, URL without credentials (they
-- travel in a header or are added to the query only at send time), the body
-- verbatim, and the response status and body verbatim. status is NULL when
-- no answer came (network error, timeout, or the process died); error then
-- says why.
CREATE TABLE upload_requests (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    method      TEXT NOT NULL,
    url         TEXT NOT NULL,
    body        TEXT NOT NULL,
    conversions INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    sent_at     TEXT NOT NULL,
    status      INTEGER,
    response    TEXT,
    error       TEXT,
    received_at TEXT
);
CREATE INDEX upload_requests_by_platform ON upload_requests (platform, sent_at);

-- Which conversions each request carried: conversions
-- [first_index, first_index + n) of one uploads row.
CREATE TABLE upload_request_cells (
    request_id  INTEGER NOT NULL REFERENCES upload_requests (id),
    day         TEXT NOT NULL,
    platform    TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    conversion  TEXT NOT NULL,
    first_index INTEGER NOT NULL,
    n           INTEGER NOT NULL
);
CREATE INDEX upload_request_cells_by_request ON upload_request_cells (request_id);
CREATE INDEX upload_request_cells_by_cell ON upload_request_cells (day, platform, campaign, conversion);
