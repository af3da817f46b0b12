-- 0005: tracker scans (tally scan). Append-only evidence for auditors: when
-- the organisation's own pages were checked, how much was read, and every
-- tracking pixel found. A clean scan is a row with findings = 0.
CREATE TABLE scans (
    id         INTEGER PRIMARY KEY,
    scanned_at TEXT NOT NULL,             -- RFC 3339 UTC, when the scan started
    targets    TEXT NOT NULL,             -- JSON array of the URLs and paths given
    pages      INTEGER NOT NULL,          -- pages read
    scripts    INTEGER NOT NULL,          -- same-host script files read
    skipped    INTEGER NOT NULL,          -- pages and scripts not read (errors, robots.txt, caps)
    failed     INTEGER NOT NULL,          -- targets of which not one page was read
    findings   INTEGER NOT NULL
);
CREATE INDEX scans_by_time ON scans (scanned_at);

-- One row per tracker per page. tracker_id is the account or pixel id when
-- the page shows it, else ''.
CREATE TABLE scan_findings (
    id         INTEGER PRIMARY KEY,
    scan_id    INTEGER NOT NULL REFERENCES scans (id),
    page       TEXT NOT NULL,
    tracker    TEXT NOT NULL,
    tracker_id TEXT NOT NULL DEFAULT '',
    evidence   TEXT NOT NULL,
    source     TEXT NOT NULL
);
CREATE INDEX scan_findings_by_scan ON scan_findings (scan_id);

CREATE TRIGGER scans_no_update BEFORE UPDATE ON scans
BEGIN SELECT RAISE(ABORT, 'scans is append-only'); END;
CREATE TRIGGER scan_findings_no_update BEFORE UPDATE ON scan_findings
BEGIN SELECT RAISE(ABORT, 'scan_findings is append-only'); END;
