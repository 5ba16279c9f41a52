#!/bin/sh
# share-prior.sh - what an open site costs a process of many sites, with and
# without THRESH_DB_SHARE_PRIOR, and what the flag costs a check
# (shareprior.c says what is measured and how).
#
#   tests/bench/share-prior.sh [--build DIR] [--keep] [thresh-shareprior options...]
#
# Sets up and builds DIR (default: build) when needed, makes the sites (200
# by default, about 0.14 s each) from that build's default model in a
# temporary folder (removed after, unless --keep), and checks the comments
# of models/youtube. Prints figures; asserts nothing. Examples:
#   tests/bench/share-prior.sh
#   tests/bench/share-prior.sh --sites 50 --seconds 2
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=build
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--build)
		[ $# -ge 2 ] || { echo "share-prior.sh: --build needs a folder" >&2; exit 2; }
		build=$2
		shift 2 ;;
	--keep) keep=yes; shift ;;
	*) break ;;
	esac
done
case $build in
/*) ;;
*) build=$root/$build ;;
esac

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" -j2 tests/bench/thresh-shareprior models/default.dump >&2
bench=$build/tests/bench/thresh-shareprior
THRESH_MODEL=$build/models/default.dump
[ -x "$bench" ] && [ -f "$THRESH_MODEL" ] ||
	{ echo "share-prior.sh: no $bench or $THRESH_MODEL after the build" >&2; exit 1; }
export THRESH_MODEL

work=$(mktemp -d "${TMPDIR:-/tmp}/thresh-share-prior-XXXXXX")
if [ -z "$keep" ]; then
	trap 'rm -rf "$work"' EXIT INT TERM
else
	echo "share-prior.sh: the sites stay in $work" >&2
fi
"$bench" "$@" "$work/sites" "$root/models/youtube/youtube-spam-collection.tsv"
