-- 0005: the audit log. Append-only and hash-chained: each row stores the
-- previous row's hash and the SHA-256 of its own canonical content
--   hex(sha256(prev_hash || '|' || id || '|' || at || '|' || kind || '|' || detail))
-- so editing, deleting or reordering rows breaks the chain at that row.
-- detail is JSON with sorted keys; it never holds secrets or identifiers.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_by_kind ON audit_log (kind, at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
