#!/usr/bin/env bash
# Build tally's release binaries from the committed tree: static
# (CGO_ENABLED=0), -trimpath, stamped with the version given, the commit and
# the commit's time (so the same commit always gives the same bytes), and a
# SHA256SUMS file beside them (check with `sha256sum -c SHA256SUMS`).
#
# Usage: scripts/release.sh VERSION [OUTDIR]     (OUTDIR default dist/VERSION)
#   TARGETS="linux/amd64" scripts/release.sh v1.2.0   only those targets
#
# Needs go and git. Refuses uncommitted changes to tracked files (the binary
# would claim a commit it was not built from) and an OUTDIR that exists and
# is not empty (a release is never overwritten). A cold build of one target
# takes a few minutes on two cores; later ones reuse Go's build cache.
set -euo pipefail

usage() { echo "usage: $0 VERSION [OUTDIR]   (VERSION like v1.2.0)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
version=$1
# The version goes into -ldflags: letters, digits and . _ + - only.
[[ $version =~ ^v?[0-9][0-9A-Za-z._+-]*$ ]] || { echo "release: version $version: want something like v1.2.0" >&2; exit 2; }

root=$(git rev-parse --show-toplevel 2>/dev/null) || { echo "release: not in a git checkout" >&2; exit 2; }
cd "$root"
out=${2:-dist/$version}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/arm64 windows/amd64}

if ! git diff --quiet HEAD --; then
	echo "release: uncommitted changes to tracked files; commit them or build from a clean checkout" >&2
	exit 2
fi
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
	echo "release: $out exists and is not empty; a release is never overwritten" >&2
	exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)

revision=$(git rev-parse HEAD)
# The commit's time in UTC, as the Go toolchain stamps vcs.time.
built=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ HEAD)
ldflags="-s -w -X main.version=$version -X main.revision=$revision -X main.buildTime=$built"

names=()
for target in $targets; do
	goos=${target%/*} goarch=${target#*/}
	name=tally-$version-$goos-$goarch
	[ "$goos" = windows ] && name=$name.exe
	echo "build $target -> $out/$name" >&2
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags "$ldflags" -o "$out/$name" ./cmd/tally
	names+=("$name")
done

cd "$out"
if command -v sha256sum >/dev/null; then
	sha256sum "${names[@]}" >SHA256SUMS
else
	shasum -a 256 "${names[@]}" >SHA256SUMS
fi
echo "release $version ($revision): ${#names[@]} binaries and SHA256SUMS in $out" >&2
