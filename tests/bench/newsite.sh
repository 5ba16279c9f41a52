#!/bin/sh
# newsite.sh - new sites, from their first comment (README.md in this
# folder, "newsite").
#
#   tests/bench/newsite.sh [--build DIR] [newsite.py options...]
#
# Installs bogofilter (Debian package bogofilter) when it is missing and the
# run needs it, sets up and builds thresh in DIR (default: build) when
# needed, then runs newsite.py with that build's thresh over every set of the
# data folder (--data; default ../shared/data beside the project when it
# exists, else models/). The Markdown report goes to standard output and to
# tests/bench/out/newsite.md (JSON summary in tests/bench/out/newsite.json).
# Examples:
#   tests/bench/newsite.sh                               # the full run
#   tests/bench/newsite.sh --no-bogofilter --ks 0,50     # thresh only, faster
#   tests/bench/newsite.sh --sets Psy,sms-spam-collection --seeds 1
#   tests/bench/newsite.sh --set prior_comments=100 --conf 'hold_links = 0'
#   tests/bench/newsite.sh --build build-exp --scores-out /tmp/scores.jsonl
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=build
if [ "${1:-}" = "--build" ]; then
	[ $# -ge 2 ] || { echo "newsite.sh: --build needs a folder" >&2; exit 2; }
	build=$2
	shift 2
fi
case $build in
/*) ;;
*) build=$root/$build ;;
esac

need_bogo=yes
thresh_given=
for a in "$@"; do
	case $a in
	--no-bogofilter) need_bogo= ;;
	--thresh|--thresh=*) thresh_given=yes ;;
	esac
done

if [ -n "$need_bogo" ] && ! command -v bogofilter >/dev/null 2>&1; then
	echo "newsite.sh: installing bogofilter" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y bogofilter >&2 ||
		{ $sudo apt-get update >&2 && $sudo apt-get install -y bogofilter >&2; }
fi

THRESH_BENCH_CMD="tests/bench/newsite.sh${*:+ $*}"
[ "$build" = "$root/build" ] || THRESH_BENCH_CMD="tests/bench/newsite.sh --build ${build#"$root"/}${*:+ $*}"
export THRESH_BENCH_CMD

if [ -n "$thresh_given" ]; then
	exec python3 "$here/newsite.py" "$@"
fi
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" -j2 src/cli/thresh >&2
thresh=$build/src/cli/thresh
[ -x "$thresh" ] || { echo "newsite.sh: no $thresh after the build" >&2; exit 1; }
exec python3 "$here/newsite.py" --thresh "$thresh" "$@"
