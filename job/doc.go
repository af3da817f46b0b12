// Package job runs tally's batch work: the run job (the database lock and
// its renewal, rollup, upload, purge, the audit row of the effective
// configuration, and a result that names every failed step), the rollup
// and upload commands' work under the same lock, and the scheduler that
// runs the job on a cron schedule (robfig/cron, a grace period on stop,
// warnings for daylight-saving clashes), backups (Backup: VACUUM INTO a
// temporary file, checked, then linked to a name that never existed;
// Rotation keeps the newest N after each successful run), and the batch
// job's Prometheus metrics (Metrics, read from the database).
//
// The lock is taken with an optional wait (--lock-wait); a lock left by a
// process on this host that no longer exists is taken over at once
// (lockowner_*.go).
//
// The package takes plain values (a database, a roller, upload targets,
// durations, a logger, clocks); turning the configuration into them is
// cmd/tally's work.
package job
