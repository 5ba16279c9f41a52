#!/bin/sh
# threshd-wrk.sh - how many comment-checks a second threshd answers, and how
# fast: wrk against POST /1.1/comment-check with real comments, keep-alive.
#
#   tests/bench/threshd-wrk.sh BUILD_DIR [wrk options...]
#
# It builds nothing: BUILD_DIR must hold src/daemon/threshd and
# src/cli/thresh. It makes a temporary database from the default model
# ($THRESH_MODEL, else BUILD_DIR/models/default.dump), starts threshd on a
# free loopback port with one API key, takes about 200 comments spread over
# models/youtube/youtube-spam-collection.tsv (spam and ham), and runs
#   wrk -t2 -c64 -d20s --latency -s threshd-wrk.lua
# (extra arguments are passed to wrk and override these) after a 3-second
# warm-up that is not counted. It prints wrk's report, a SUMMARY line, and
# the verdicts threshd gave (from /metrics).
#
# The library's default moderation rules apply (thresh.conf absent): with
# about 250 client addresses rotating at thousands of comments a second,
# most authors are over the rate limit, which is the library's work too.
# THRESHD_WRK_CONF=FILE copies FILE in as the database's thresh.conf (for
# example "rate_limit = 0" to measure the classifier alone);
# THRESHD_WRK_ARGS adds options to threshd (say "--threads 4").
#
# Needs wrk (Debian package wrk: apt-get install wrk) and curl. Everything
# talks to 127.0.0.1 only.
set -eu

if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR [wrk options...]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=threshd-port.sh
. "$here/threshd-port.sh"
root=$(cd "$here/../.." && pwd)
threshd="$build/src/daemon/threshd"
thresh="$build/src/cli/thresh"
model="${THRESH_MODEL:-$build/models/default.dump}"
corpus="$root/models/youtube/youtube-spam-collection.tsv"

for f in "$threshd" "$thresh" "$model" "$corpus"; do
	if [ ! -e "$f" ]; then
		echo "$0: $f is missing (build first: ninja -C $build)" >&2
		exit 2
	fi
done
if ! command -v wrk >/dev/null 2>&1; then
	echo "$0: wrk is not installed (Debian: apt-get install wrk)" >&2
	exit 2
fi
if ! command -v curl >/dev/null 2>&1; then
	echo "$0: curl is not installed" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/threshd-wrk.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

THRESH_MODEL="$model" "$thresh" --db "$tmp/db" init >/dev/null
if [ -n "${THRESHD_WRK_CONF:-}" ]; then
	cp "$THRESHD_WRK_CONF" "$tmp/db/thresh.conf"
fi
key="bench-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s\n' "$key" >"$tmp/keys"
chmod 600 "$tmp/keys"

# About 200 comments spread over the whole file (it is grouped by video).
lines=$(wc -l <"$corpus")
step=$((lines / 200))
[ "$step" -ge 1 ] || step=1
awk -v step="$step" 'NR % step == 1' "$corpus" | head -n 200 >"$tmp/comments.tsv"

# shellcheck disable=SC2086
"$threshd" --db "$tmp/db" --keys "$tmp/keys" --port 0 ${THRESHD_WRK_ARGS:-} \
	2>"$tmp/threshd.err" &
pid=$!
port=$(threshd_port "$tmp/threshd.err" "$pid" 10) || exit 1
url="http://127.0.0.1:$port"
sed 's/^threshd: //' "$tmp/threshd.err"
echo "comments: $(wc -l <"$tmp/comments.tsv") from $corpus"
echo "machine: $(nproc) CPUs, $(uname -sr)"

# One request first: the answer must be Akismet's.
first=$(curl -s --max-time 10 "$url/1.1/comment-check" \
	--data-urlencode "api_key=$key" --data-urlencode "blog=https://blog.example/" \
	--data-urlencode "user_ip=198.51.100.1" --data-urlencode "comment_content=Nice song")
case "$first" in
true | false) ;;
*)
	echo "$0: comment-check answered '$first'" >&2
	exit 1
	;;
esac

# Warm up first (3 s, not counted): the library fills its in-memory token
# cache once the model has stayed the same for a while, inside a request.
wrk -t2 -c64 -d3s -s "$here/threshd-wrk.lua" "$url" -- "$tmp/comments.tsv" "$key" >/dev/null
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t2 -c64 -d20s --latency "$@" -s "$here/threshd-wrk.lua" "$url" -- "$tmp/comments.tsv" "$key"

echo "threshd's counts:"
curl -s --max-time 10 "$url/metrics" |
	grep -E '^threshd_(verdicts_total|requests_total\{endpoint="comment-check")' | sed 's/^/  /'
