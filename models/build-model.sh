#!/bin/sh
# build-model.sh THRESH OUTPUT CORPUS[:WEIGHT]... - the recipe of the default model.
#
# Trains the prior layer of a fresh, empty database on the labeled corpora
# (label<TAB>text per line), each comment counting WEIGHT comments (default
# 1), and exports it as the dump a new database starts from: a new database
# takes the whole dump as its prior (thresh stats shows it apart from the
# site's own decisions). Within a corpus a repeated text counts once, under
# its last label. Run by the build (models/meson.build, which holds the
# weights); run it by hand to remake the model:
#   sh models/build-model.sh build/src/cli/thresh default.dump \
#      models/youtube/youtube-spam-collection.tsv:1 models/sms/sms-spam-collection.tsv:0.1
set -eu
thresh=$1
out=$2
shift 2
work=$(mktemp -d "${TMPDIR:-/tmp}/thresh-model-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
"$thresh" --db "$work/db" init --empty >/dev/null
for arg; do
  case $arg in
    *:*) file=${arg%:*} weight=${arg##*:} ;;
    *) file=$arg weight=1 ;;
  esac
  # one line per text, in the order first seen, with the last label given
  awk -F '\t' '{ t = substr($0, index($0, "\t") + 1)
                 if (!(t in lab)) order[++n] = t
                 lab[t] = $1 }
               END { for (i = 1; i <= n; i++) print lab[order[i]] "\t" order[i] }' "$file" >"$work/corpus.tsv"
  "$thresh" --db "$work/db" train --prior --weight "$weight" --tsv "$work/corpus.tsv" >/dev/null
done
"$thresh" --db "$work/db" export "$out"
