-- 0008 (audit): an audit trail an auditor can rely on.

-- as_of: the --now instant a command ran as of, NULL when not given. `at`
-- is always the wall-clock time of the write. as_of enters the hash only
-- when it is not NULL, so rows written before this migration still verify
-- and an as_of set, cleared or edited later breaks the chain:
--   hex(sha256(prev_hash || '|' || id || '|' || at || '|' ||
--              coalesce(as_of || '|', '') || kind || '|' || detail))
ALTER TABLE audit_log ADD COLUMN as_of TEXT;

-- pruned_at: when body and response were pruned past
-- store.ledger_retention_days (body '' and response NULL from then on; their
-- hashes stay in the audit log). NULL while they are kept.
ALTER TABLE upload_requests ADD COLUMN pruned_at TEXT;
-- A body or answer, once written, changes only by a prune.
CREATE TRIGGER upload_requests_body_fixed BEFORE UPDATE OF body, response, pruned_at ON upload_requests
WHEN (NEW.body IS NOT OLD.body OR (OLD.response IS NOT NULL AND NEW.response IS NOT OLD.response)
      OR NEW.pruned_at IS NOT OLD.pruned_at)
 AND NOT (OLD.pruned_at IS NULL AND NEW.pruned_at IS NOT NULL AND NEW.body = '' AND NEW.response IS NULL)
BEGIN SELECT RAISE(ABORT, 'upload_requests: a body or answer changes only by a recorded prune'); END;

-- The scans evidence is append-only (0004 refused UPDATE only).
CREATE TRIGGER scans_no_delete BEFORE DELETE ON scans
BEGIN SELECT RAISE(ABORT, 'scans is append-only'); END;
CREATE TRIGGER scan_findings_no_delete BEFORE DELETE ON scan_findings
BEGIN SELECT RAISE(ABORT, 'scan_findings is append-only'); END;

-- Consent history is deleted only by a recorded purge past
-- store.consent_retention_days: the purge marks each visitor here, deletes
-- their rows, writes its audit entry and removes the marks, all in one
-- transaction, so the table is empty outside it and an ordinary DELETE on
-- consents still fails.
CREATE TABLE consent_purge_marks (
    visitor_key BLOB PRIMARY KEY
) WITHOUT ROWID;
DROP TRIGGER consents_no_delete;
CREATE TRIGGER consents_no_delete BEFORE DELETE ON consents
WHEN NOT EXISTS (SELECT 1 FROM consent_purge_marks WHERE visitor_key = OLD.visitor_key)
BEGIN SELECT RAISE(ABORT, 'consents is append-only: only a recorded purge deletes'); END;
