#!/bin/sh
# compare.sh - run the thresh/bogofilter comparison (README.md in this folder).
#
#   tests/bench/compare.sh [--build DIR] [compare.py options...]
#
# Installs bogofilter (Debian package bogofilter) when it is missing, sets up
# and builds thresh in DIR (default: build) when needed, then runs
# compare.py with that build's thresh and thresh-libscore. The Markdown
# report goes to standard output and to tests/bench/out/report.md.
# Examples:
#   tests/bench/compare.sh                 # the full run, about 2-4 minutes
#   tests/bench/compare.sh --quick         # smoke test: YouTube, 2 folds
#   tests/bench/compare.sh --build build-bench --folds 10 --seed 7
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=build
if [ "${1:-}" = "--build" ]; then
	[ $# -ge 2 ] || { echo "compare.sh: --build needs a folder" >&2; exit 2; }
	build=$2
	shift 2
fi
case $build in
/*) ;;
*) build=$root/$build ;;
esac

if ! command -v bogofilter >/dev/null 2>&1; then
	echo "compare.sh: installing bogofilter" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get install -y bogofilter >&2 ||
		{ $sudo apt-get update >&2 && $sudo apt-get install -y bogofilter >&2; }
fi

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" src/cli/thresh tests/bench/thresh-libscore >&2

thresh=$build/src/cli/thresh
libscore=$build/tests/bench/thresh-libscore
[ -x "$thresh" ] || { echo "compare.sh: no $thresh after the build" >&2; exit 1; }
if [ ! -x "$libscore" ]; then
	echo "compare.sh: no $libscore: is subdir('tests/bench') in meson.build?" >&2
	exit 1
fi

THRESH_BENCH_CMD="tests/bench/compare.sh${*:+ $*}"
[ "$build" = "$root/build" ] || THRESH_BENCH_CMD="tests/bench/compare.sh --build ${build#"$root"/}${*:+ $*}"
export THRESH_BENCH_CMD
exec python3 "$here/compare.py" --thresh "$thresh" --libscore "$libscore" "$@"
