#!/bin/sh
# Benchmark: seal one day of 1,000,000 events over 500 campaigns with
# `tally rollup`, next to the stock sqlite3 shell's GROUP BY over the same
# rows of the same file. Usage: scripts/bench-rollup.sh [RUNS] (default 3).
set -eu
runs=${1:-3}
cd "$(dirname "$0")/.."

if ! command -v sqlite3 >/dev/null 2>&1; then
	(apt-get install -y sqlite3 || { apt-get update && apt-get install -y sqlite3; }) >/dev/null
fi

work=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT; echo "work: $work"
go build -o "$work/tally" ./cmd/tally
db="$work/bench.db"
day=2026-11-20
now=2026-11-22T00:00:00Z

# Let tally create and migrate the file, then fill it with the shell.
# Campaign i%500; platform fixed per campaign; two conversions: 1,000 cells.
"$work/tally" --db "$db" --now "$now" rollup >/dev/null # export is read-only: it never creates a file
sqlite3 "$db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
INSERT INTO days (day, salt) VALUES ('$day', randomblob(32));
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 999999)
INSERT INTO events (day, platform, campaign, conversion, dedup_key)
SELECT '$day',
       CASE (i % 500) % 5 WHEN 0 THEN 'meta' WHEN 1 THEN 'google' WHEN 2 THEN 'tiktok' WHEN 3 THEN 'linkedin' ELSE 'none' END,
       'campaign_' || (i % 500),
       CASE (i / 500) % 2 WHEN 0 THEN 'booking' ELSE 'lead' END,
       randomblob(16)
FROM n;
CREATE TABLE contrib_$(echo "$day" | tr -d -) (key BLOB PRIMARY KEY) WITHOUT ROWID;
INSERT INTO contrib_$(echo "$day" | tr -d -) SELECT randomblob(16) FROM events;
-- What intake keeps beside the events it accepts.
INSERT INTO cell_counts SELECT day, platform, campaign, conversion, count(*) FROM events GROUP BY 1, 2, 3, 4;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
echo "events: $(sqlite3 "$db" "SELECT count(*) FROM events WHERE day = '$day'")  file: $(du -h "$db" | cut -f1)"

query="SELECT platform, campaign, conversion, count(*) FROM events WHERE day = '$day' GROUP BY platform, campaign, conversion;"
secs() { /usr/bin/time -f '%e s  max_rss %M KB' "$@" 2>&1 >/dev/null | tail -1; }

i=1
while [ "$i" -le "$runs" ]; do
	echo "run $i: sqlite3 GROUP BY:  $(secs sqlite3 "$db" "$query")"
	cp "$db" "$work/run.db"
	echo "run $i: tally rollup --date: $(secs "$work/tally" --db "$work/run.db" --now "$now" rollup --date "$day")"
	i=$((i + 1))
done
"$work/tally" --db "$work/run.db" --now "$now" export --from "$day" --to "$day" | head -3
