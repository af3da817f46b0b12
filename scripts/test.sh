#!/usr/bin/env bash
# The project's test command: the whole suite with the race detector, then a
# few seconds of coverage-guided fuzzing per target. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

go test -race -count=1 ./...

# The noise sampler's chi-square test makes 10^6 draws per epsilon only
# without the race detector (10^5 under it, which is ten times slower).
go test -count=1 -run '^TestDiscreteLaplaceChiSquare$' ./batch

# tally builds on every OS Go targets, not only this one (Unix-only calls,
# like the lock holder's liveness check, sit behind build tags).
for target in windows/amd64 darwin/arm64; do
	echo "build $target"
	GOOS="${target%/*}" GOARCH="${target#*/}" CGO_ENABLED=0 go build ./...
done

# Each target runs for FUZZTIME, or for the budget its line names. The
# config parser runs by count: with a time budget its workers stall after
# a handful of inputs on this toolchain (seen with go1.26.8), and a count
# still gives thousands of fresh inputs in about two seconds.
fuzztime="${FUZZTIME:-5s}"
while read -r pkg target budget; do
	[ -z "$pkg" ] && continue
	budget="${budget:-$fuzztime}"
	echo "fuzz $pkg $target ($budget)"
	if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg" 2>&1); then
		echo "$out"
		exit 1
	fi
done <<'TARGETS'
./intake FuzzDecodeEvent
./intake FuzzDecodeConsent
./intake FuzzConsentStrings
./intake FuzzImportLines
./scan FuzzDetect
./scan FuzzRobots
./spend FuzzRead
./config FuzzParse 5000x
TARGETS
echo "fuzz: all targets passed"
