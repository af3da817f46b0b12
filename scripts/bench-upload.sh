#!/usr/bin/env bash
# Upload benchmark: 1,000,000 synthetic conversions for one platform to a
# local fake Meta endpoint. Target: <= 20 s wall, <= 100 MB peak RSS.
# Usage: scripts/bench-upload.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d)/tally"
go build -o "$bin" ./cmd/tally
go run ./scripts/benchupload -n "${1:-1000000}" "$bin"
