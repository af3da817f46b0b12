#!/usr/bin/env bash
# Behaviour comparison of two builds of tally, for restructurings that
# promise "no behaviour change". Builds OLD_REV and NEW_REV (default HEAD)
# with -tags tallytest (as cmd/tally's tests do: platform windows follow
# --now), runs the same battery against each in its own fresh folder, and
# diffs exit codes, stdout, stderr, every table and the outbox, step by step.
# Needs go and git; curl for the serve step (skipped without it). No network.
# Usage: scripts/compare-builds.sh OLD_REV [NEW_REV]   (NEW_REV "." is the
# working tree with its uncommitted changes; KEEP=1 keeps the work dir).
set -uo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OLD_REV [NEW_REV]" >&2; exit 2; }
old=$1 new=${2:-HEAD}
root=$(git rev-parse --show-toplevel) || exit 2
cd "$root"
fixtures=$root/scripts/testdata/compare
work=$(mktemp -d -t compare-builds.XXXXXX)
fakepid=
cleanup() {
	[ -n "$fakepid" ] && kill "$fakepid" 2>/dev/null
	for src in "$work"/src-*; do [ -d "$src" ] && git -C "$root" worktree remove --force "$src"; done
	[ -n "${KEEP:-}" ] && { echo "work dir kept: $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

# build REV SIDE: a detached worktree of REV (or the working tree for "."),
# built into $work/SIDE/tally.
build() {
	local src=$work/src-$2
	if [ "$1" = . ]; then src=$root; else git worktree add --detach -q "$src" "$1" || exit 2; fi
	mkdir -p "$work/$2"
	(cd "$src" && go build -tags tallytest -o "$work/$2/tally" ./cmd/tally) || { echo "build $1 failed" >&2; exit 2; }
	[ "$1" = . ] || git worktree remove --force "$src"
}
echo "building $old and $new ..."
build "$old" old
build "$new" new
go build -o "$work/cb" ./scripts/comparebuilds || exit 2

# One fake platform for both runs, so stored URLs carry the same address.
"$work/cb" fake "$work/fake.addr" & fakepid=$!
for _ in $(seq 50); do [ -s "$work/fake.addr" ] && break; sleep 0.1; done
fake=$(cat "$work/fake.addr")

NOW0=2026-11-20T12:00:00Z  # 2026-11-19 is due (ended, past close_after)
NOW1=2026-11-21T12:00:00Z  # 2026-11-20 is due too
export TALLY_CONFIG= TALLY_SECRET=compare-builds-secret-0123456789 TALLY_META_TOKEN=compare-meta-token \
	TALLY_GA4_API_SECRET=compare-ga4-secret TALLY_TIKTOK_TOKEN=compare-tiktok-token TZ=UTC LC_ALL=C

# step NAME ARGS...: runs the binary under test in the current folder
# (stdin is the caller's); stepx NAME CMD... runs CMD instead.
step() { local name=$1; shift; stepx "$name" "$bin" "$@"; }
stepx() {
	local name=$1; shift
	n=$((n + 1))
	local f; f=$(printf '%s/steps/%02d-%s' "$out" "$n" "$name")
	"$@" >"$f.out" 2>"$f.err"
	echo $? >"$f.code"
}

# combos FILE: each line (an event that meets two drop reasons, so the
# order of checks decides) ingested alone, as a step of its own.
combos() {
	local line i=0
	while IFS= read -r line; do
		i=$((i + 1))
		step "${1%.ndjson}-$i" "${c[@]}" --now $NOW0 ingest - <<<"$line"
	done <"$1"
}

# battery SIDE: every scenario, in $work/SIDE/run; results in $work/SIDE/steps.
battery() {
	bin=$work/$1/tally out=$work/$1 n=0
	local run=$out/run
	mkdir -p "$out/steps" "$run"
	cp -r "$fixtures"/. "$run"/
	sed "s/@FAKE@/$fake/" "$fixtures/tally.toml.in" >"$run/tally.toml"
	cd "$run" || exit 2
	c=(--config tally.toml)

	step help --help
	for cmd in consent "consent import" ingest rollup upload run schedule serve export audit "audit log" \
		"audit verify" "audit head" "audit recount" scan demo version; do
		# shellcheck disable=SC2086
		step "help-${cmd// /-}" $cmd --help
	done
	step err-unknown-command nope
	step err-unknown-flag --bogus version
	step err-ingest-no-args "${c[@]}" ingest
	step err-bad-config --config bad.toml ingest x
	step err-unknown-key --config unknown.toml ingest x
	step err-absent-config --config absent.toml ingest x
	step err-now-tuesday "${c[@]}" --now tuesday ingest x
	step err-now-ahead "${c[@]}" --now 2099-01-01T00:00:00Z ingest x
	step err-ingest-format "${c[@]}" ingest --format xml x
	step err-rollup-date "${c[@]}" --now $NOW0 rollup --date 2026-13-01
	step err-rollup-date-and-from "${c[@]}" --now $NOW0 rollup --date 2026-11-19 --from 2026-11-19
	step err-export-format "${c[@]}" export --format xml
	step err-upload-platform "${c[@]}" --now $NOW0 upload --platform myspace
	step err-recount-no-date "${c[@]}" audit recount
	step err-scan-no-args "${c[@]}" scan
	step err-demo-args demo extra
	step err-bad-timezone --config bad-timezone.toml --now $NOW0 rollup
	stepx err-no-token env -u TALLY_TIKTOK_TOKEN "$bin" "${c[@]}" --now $NOW0 upload --platform tiktok

	step consent-import "${c[@]}" --now $NOW0 consent import consent.ndjson
	step ingest "${c[@]}" --now $NOW0 ingest events-1.ndjson events-2.csv
	step ingest-stdin "${c[@]}" --now $NOW0 ingest - <late.ndjson
	step ingest-csv-stdin "${c[@]}" --now $NOW0 ingest --format csv - <events-2.csv
	combos combos.ndjson
	step ingest-missing-file "${c[@]}" --now $NOW0 ingest missing.ndjson
	step consent-missing-file "${c[@]}" --now $NOW0 consent import missing.ndjson
	stepx missing-key env -u TALLY_SECRET "$bin" "${c[@]}" --now $NOW0 ingest late.ndjson
	stepx wrong-key env TALLY_SECRET=another-secret-0123456789abcdef "$bin" "${c[@]}" --now $NOW0 ingest late.ndjson
	step rollup-not-due "${c[@]}" --now $NOW0 rollup --date 2026-11-20
	step rollup-due "${c[@]}" --now $NOW0 rollup
	step rollup-again "${c[@]}" --now $NOW0 rollup --date 2026-11-19
	step rollup-nothing-due "${c[@]}" --now $NOW0 rollup
	step ingest-late "${c[@]}" --now $NOW0 ingest late.ndjson
	combos late-combos.ndjson
	step export-csv "${c[@]}" export
	step export-json "${c[@]}" export --format json
	step export-range "${c[@]}" export --from 2026-11-19 --to 2026-11-19
	step export-empty-range "${c[@]}" export --from 2026-11-01 --to 2026-11-02
	step export-reversed "${c[@]}" export --from 2026-11-21 --to 2026-11-19
	step export-file "${c[@]}" export --format json -o export.json
	step audit-recount "${c[@]}" audit recount --date 2026-11-19
	step audit-recount-unsealed "${c[@]}" audit recount --date 2026-11-20
	step upload-dry-run "${c[@]}" --now $NOW0 upload --dry-run
	# one platform at a time: platforms upload concurrently, so request ids
	# would be numbered in a random order
	step upload-tiktok "${c[@]}" --now $NOW0 upload --platform tiktok
	step upload-meta "${c[@]}" --now $NOW0 upload --platform meta
	step upload "${c[@]}" --now $NOW0 upload
	step upload-again "${c[@]}" --now $NOW0 upload --platform meta --date 2026-11-19
	local lock="INSERT OR REPLACE INTO locks VALUES ('run', '%s/00ff', '2026-11-20T11:00:00.000Z', '2099-01-01T00:00:00.000Z')"
	# shellcheck disable=SC2059
	"$work/cb" sql tally.db "$(printf "$lock" other-host/4242)" || exit 2
	step lock-held "${c[@]}" --now $NOW0 upload --platform meta
	step lock-wait "${c[@]}" --now $NOW0 rollup --lock-wait 1s
	# shellcheck disable=SC2059
	"$work/cb" sql tally.db "$(printf "$lock" "$(hostname)/2147483646")" || exit 2
	step lock-dead-owner "${c[@]}" --now $NOW0 upload --platform meta
	step run "${c[@]}" --now $NOW1 run
	step run-again "${c[@]}" --now $NOW1 run
	step audit-log "${c[@]}" audit log
	step audit-verify "${c[@]}" audit verify
	step audit-head "${c[@]}" audit head
	step audit-verify-bad-head "${c[@]}" audit verify --head 1:00ff
	step export-after-run "${c[@]}" export --format json
	step scan "${c[@]}" scan site
	step scan-missing "${c[@]}" scan no-such-dir
	mkdir -p site-clean site-big
	echo '<html><body>No trackers.</body></html>' >site-clean/index.html
	{ echo '<html><body>'; head -c 2200000 /dev/zero | tr '\0' a; } >site-big/index.html
	step scan-clean "${c[@]}" scan site-clean
	step scan-incomplete "${c[@]}" scan site-big
	step export-unwritable "${c[@]}" export -o no-such-dir/x.csv
	step audit-log-date "${c[@]}" audit log --date 2026-11-20
	step audit-log-bad-date "${c[@]}" audit log --date 20-11-2026
	mkdir -p demo demo-wall
	cd demo || exit 2
	step demo --now $NOW0 demo
	step demo-again --now $NOW0 demo
	step demo-export export
	cd ../demo-wall || exit 2
	step demo-wall-clock demo
	# tz/: days in America/New_York, debug logs as JSON, --db overriding
	cd ../tz || exit 2
	step tz-consent --config tally.toml --db tz.db --now $NOW0 consent import consent.ndjson
	step tz-ingest --config tally.toml --db tz.db --now $NOW0 ingest events.ndjson
	step tz-rollup --config tally.toml --db tz.db --now $NOW0 rollup
	step tz-export --config tally.toml --db tz.db export
	db=tz.db start_listening schedule
	stop_listening tz-schedule
	cd "$run" || exit 2
	start_listening schedule
	stop_listening schedule
	serve_steps
	step audit-verify-final "${c[@]}" audit verify
	# one day only: verify reports several days' mismatches in map order
	"$work/cb" sql tally.db "DROP TRIGGER daily_counts_no_update;
		UPDATE daily_counts SET raw_count = raw_count + 1 WHERE platform = 'none' AND day = '2026-11-19'" || exit 2
	step audit-verify-tampered "${c[@]}" audit verify

	"$work/cb" dump tally.db >"$out/steps/zz-db.dump" 2>&1
	"$work/cb" dump demo/tally.db >"$out/steps/zz-demo-db.dump" 2>&1
	"$work/cb" dump tz/tz.db >"$out/steps/zz-tz-db.dump" 2>&1
	for d in outbox demo/outbox; do
		find "$d" -type f 2>/dev/null | sort | while read -r f; do echo "== $f"; cat "$f"; echo; done
	done >"$out/steps/zz-outbox"
	cat export.json >"$out/steps/zz-export.json"
	cd "$root" || exit 2
}

# start_listening CMD: `tally CMD` on a free port until stop_listening.
start_listening() {
	"$bin" --config tally.toml --db "${db:-tally.db}" "$1" --listen 127.0.0.1:0 >"$out/listen.out" 2>"$out/listen.err" &
	lpid=$! addr=
	for _ in $(seq 100); do
		addr=$(grep -oE 'addr"?[=:]"?[0-9.:]+' "$out/listen.err" | head -1 | grep -oE '[0-9.]+:[0-9]+')
		[ -n "$addr" ] && break
		sleep 0.1
	done
}
# stop_listening NAME: SIGINT, then its exit code and output as a step.
stop_listening() {
	kill -INT "$lpid"; wait "$lpid"
	local rc=$? f; n=$((n + 1)); f=$(printf '%s/steps/%02d-%s' "$out" "$n" "$1")
	echo $rc >"$f.code"; cp "$out/listen.out" "$f.out"; cp "$out/listen.err" "$f.err"
}

# serve_steps: `tally serve`, a consent, events (a batch under Sec-GPC), bad
# JSON, health, the snippet, the metrics' counters, then SIGINT. Serve uses
# the wall clock: its events land on today.
serve_steps() {
	command -v curl >/dev/null || { echo "no curl: serve steps skipped" >&2; return; }
	start_listening serve
	local u=http://$addr p=(-s -w ' %{http_code}\n' -H 'Content-Type: application/json')
	n=$((n + 1)); curl "${p[@]}" -d '{"visitor_id":"s1","purposes":{"advertising":true},"source":"cmp"}' "$u/v1/consent" >"$out/steps/$n-serve-consent.out"
	n=$((n + 1)); curl "${p[@]}" -d '{"events":[{"event_id":"s1","event":"appointment_booked","visitor_id":"s1","source":"facebook","campaign":"c1"},{"event_id":"s2","event":"appointment_booked","visitor_id":"nobody"},{"event_id":"s1","event":"appointment_booked","visitor_id":"s1","source":"facebook","campaign":"c1"},{"event":"x"}]}' "$u/v1/events" >"$out/steps/$n-serve-events.out"
	n=$((n + 1)); curl "${p[@]}" -H 'Sec-GPC: 1' -d '{"events":[{"event_id":"s3","event":"appointment_booked","visitor_id":"s1"},{"event_id":"s4","event":"appointment_booked","visitor_id":"nobody"},{"event_id":"s5","event":"lab_result","visitor_id":"s1"},{"event_id":"s6","event":"appointment_booked"}]}' "$u/v1/events" >"$out/steps/$n-serve-gpc.out"
	n=$((n + 1)); curl "${p[@]}" -d '{"events":[' "$u/v1/events" >"$out/steps/$n-serve-malformed.out"
	n=$((n + 1)); curl -s -w ' %{http_code}\n' "$u/healthz" >"$out/steps/$n-serve-healthz.out"
	n=$((n + 1)); curl -s -o /dev/null -w '%{http_code} %{content_type}\n' "$u/v1/tally.js" >"$out/steps/$n-serve-snippet.out"
	n=$((n + 1)); curl -s "$u/metrics" | grep '^tally_' | grep -v '_seconds\|_bytes' >"$out/steps/$n-serve-metrics.out"
	stop_listening serve
}

# normalise SIDE: what differs between two runs of one binary. Wall-clock
# instants of yesterday, today or tomorrow (UTC) become <wall>; milliseconds
# of any instant <ms> (--now plus the time elapsed, as the test build judges
# windows); `took_ms=`, `in 12ms` durations <dur>; audit hashes (they cover
# the wall-clock `at`) <hash>; the work folder <dir>; 127.0.0.1 ports
# (serve, demo, the fake platform) <port>; a temporary file's random suffix
# <rand>; the lock holder's pid <pid>. Stderr of demo, upload and run is
# compared as sorted lines: platforms upload concurrently.
normalise() {
	local d1 d2 d3 side=$1; d1=$(date -u +%F); d2=$(date -u -d yesterday +%F); d3=$(date -u -d tomorrow +%F)
	mkdir -p "$work/norm-$side"
	for f in "$work/$side"/steps/*; do
		sed -E -e "s#$work/$side#<dir>#g" \
			-e "s/($d1|$d2|$d3)[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?/<wall>/g" \
			-e 's/(T[0-9]{2}:[0-9]{2}:[0-9]{2})\.[0-9]{3}Z/\1.<ms>Z/g' \
			-e 's/(took_ms[=":]+)[0-9]+/\1<dur>/g; s/ in [0-9]+(\.[0-9]+)?(ns|µs|ms|s)\b/ in <dur>/g' \
			-e 's/\b([0-9]+):[0-9a-f]{64}\b/\1:<hash>/g' \
			-e 's/^( *[0-9]+  <wall>  [a-z_]+ +)[0-9a-f]{12}  /\1<hash>  /' \
			-e 's/127\.0\.0\.1:[0-9]+/127.0.0.1:<port>/g; s/(\/\.[A-Za-z0-9_.-]+)\.[0-9]{6,}:/\1.<rand>:/g' \
			-e "s#$(hostname)([/:]| pid )[0-9]+#<host>/<pid>#g" "$f" >"$work/norm-$side/${f##*/}"
		case $f in *demo*.err | *upload*.err | *-run*.err) sort -o "$work/norm-$side/${f##*/}" "$work/norm-$side/${f##*/}" ;; esac
	done
}

echo "battery: old ($old) ..."; battery old
normalise old
echo "battery: new ($new) ..."; battery new
normalise new
same=0 differ=0
for f in "$work"/norm-old/*; do
	b=${f##*/}
	if cmp -s "$f" "$work/norm-new/$b"; then same=$((same + 1)); else
		differ=$((differ + 1)); echo "--- differs: $b"
		diff -u --label "old/$b" --label "new/$b" "$f" "$work/norm-new/$b" | head -40
	fi
done
for f in "$work"/norm-new/*; do [ -e "$work/norm-old/${f##*/}" ] || { differ=$((differ + 1)); echo "--- only in new: ${f##*/}"; }; done
echo "compared $((same + differ)) files ($n steps): $same identical, $differ differ  [old $old, new $new]"
[ "$differ" -eq 0 ]
