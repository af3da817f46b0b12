-- 0007: the key fingerprint. One row, written the first time a command uses
-- the hashing key with this database: hex(HMAC-SHA256(key, 'tally key
-- fingerprint v1')). It names the key without revealing it; a command whose
-- key gives another fingerprint exits 2 instead of hashing with a new key
-- (which would drop every event as no_consent and re-send every conversion
-- under new ids). Write-once: replacing the key is a new database.
CREATE TABLE key_fingerprint (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TRIGGER key_fingerprint_no_update BEFORE UPDATE ON key_fingerprint
BEGIN SELECT RAISE(ABORT, 'key_fingerprint is write-once'); END;
CREATE TRIGGER key_fingerprint_no_delete BEFORE DELETE ON key_fingerprint
BEGIN SELECT RAISE(ABORT, 'key_fingerprint is write-once'); END;
