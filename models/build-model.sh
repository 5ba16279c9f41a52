#!/bin/sh
# build-model.sh THRESH OUTPUT INPUT.tsv... - the recipe of the default model.
#
# Trains a fresh, empty database on the labeled corpora (label<TAB>text per
# line) and exports it as the dump a new database starts from. Run by the
# build (models/meson.build); run it by hand to remake the model:
#   sh models/build-model.sh build/src/cli/thresh default.dump \
#      models/youtube/youtube-spam-collection.tsv models/sms/sms-spam-collection.tsv
set -eu
thresh=$1
out=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/thresh-model-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
"$thresh" --db "$work/db" init --empty >/dev/null
"$thresh" --db "$work/db" train --tsv "$@" >/dev/null
"$thresh" --db "$work/db" export "$out"
