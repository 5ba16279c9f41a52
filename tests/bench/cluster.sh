#!/bin/sh
# cluster.sh - the cluster's benchmark (cluster.py says what it measures).
#   tests/bench/cluster.sh BUILD_DIR [--quick] [--out FILE]
# Needs redis-server (scripts/deps.sh); wrk for the HTTP part (apt-get
# install wrk), which is skipped without it. A few minutes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--quick] [--out FILE]" >&2; exit 2; }
exec python3 "$here/cluster.py" "$@"
