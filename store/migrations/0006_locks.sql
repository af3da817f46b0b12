-- 0006: named locks held in the database (not pid files), so only one
-- `tally run` acts on a file at a time. A holder renews expires_at while it
-- works; a lock left by a killed process expires and can be taken over.
CREATE TABLE locks (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
