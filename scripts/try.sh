#!/usr/bin/env bash
# try.sh - set thresh up on this machine and score sample comments with the
# default model: installs missing Debian packages, builds in build/, creates a
# database in ./try-db from the default model, and checks two comments.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null
thresh() { ./build/src/cli/thresh --db ./try-db "$@"; }

echo '$ echo "Great song, I have loved it since 2012" | thresh check --explain'
echo "Great song, I have loved it since 2012" | thresh check --explain || true
echo
echo '$ echo "CHECK OUT my channel!! free iPhone giveaway at www.win-prizes.example" | thresh check --explain'
echo "CHECK OUT my channel!! free iPhone giveaway at www.win-prizes.example" | thresh check --explain || true
echo
echo "The database is ./try-db; try: ./build/src/cli/thresh --db ./try-db help"
