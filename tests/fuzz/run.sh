#!/usr/bin/env bash
# run.sh - run the libFuzzer targets for a bounded time.
#
#   tests/fuzz/run.sh [TARGET|all] [SECONDS]      (default: all 60)
#
# TARGET is tokenize, config, dump, json, form (threshd's form decoder) or
# html (the tokenizer's HTML stripper). The first run configures a clang
# build folder (FUZZ_BUILDDIR, default build-fuzz) with
#   CC=clang meson setup build-fuzz -Db_sanitize=address,undefined -Db_lundef=false
# and builds tests/fuzz/fuzz_TARGET there. Each target then runs for SECONDS
# (-max_total_time) over a working corpus kept in BUILDDIR/fuzz/corpus-TARGET
# (it grows from run to run) seeded by tests/fuzz/corpus/TARGET, with the
# dictionary tests/fuzz/dict/TARGET.dict. Targets run FUZZ_JOBS at a time
# (default: the number of processors, at most 4).
#
# For each target one line: executions, executions per second, corpus size,
# and "no crash" or the crash file (BUILDDIR/fuzz/artifacts-TARGET/crash-...)
# followed by the end of libFuzzer's report. Exits 1 when a target crashed.
# A crash input belongs in tests/fuzz/corpus/TARGET/ (named after the bug),
# where fuzz-replay-TARGET runs it in every build from then on; an input too
# slow to be a good seed (see tests/fuzz/meson.build) in tests/fuzz/replay/TARGET/.
#
# A longer run, e.g. an hour per target: tests/fuzz/run.sh all 3600
set -uo pipefail
cd "$(dirname "$0")/../.."
all=(tokenize config dump json form html)
what=${1:-all}
seconds=${2:-60}
builddir=${FUZZ_BUILDDIR:-build-fuzz}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
[ "$jobs" -gt 4 ] && jobs=4
if [ "$what" = all ]; then
  targets=("${all[@]}")
else
  case " ${all[*]} " in
    *" $what "*) targets=("$what") ;;
    *) echo "run.sh: unknown target '$what' (one of: ${all[*]} all)" >&2; exit 2 ;;
  esac
fi
case $seconds in ''|*[!0-9]*) echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac

command -v clang >/dev/null || { echo "run.sh: clang is not installed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang meson setup "$builddir" -Db_sanitize=address,undefined -Db_lundef=false >"$builddir.setup.log" 2>&1 ||
    { cat "$builddir.setup.log"; exit 1; }
  rm -f "$builddir.setup.log"
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
ninja -C "$builddir" "${exes[@]}" >/dev/null ||
  { echo "run.sh: building the fuzz targets failed (clang with libFuzzer: libclang-rt-14-dev)" >&2
    ninja -C "$builddir" "${exes[@]}" | tail -20; exit 1; }

run_one() {
  local t=$1 dir=$builddir/fuzz
  local work=$dir/corpus-$t art=$dir/artifacts-$t log=$dir/$t.log
  mkdir -p "$work" "$art"
  local t0=$SECONDS dict=()
  [ -f "tests/fuzz/dict/$t.dict" ] && dict=(-dict="tests/fuzz/dict/$t.dict")
  # one crash stops the run; its input is saved in $art
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$builddir/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art/" "${dict[@]}" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1
  echo $? >"$dir/$t.rc"
  echo $((SECONDS - t0)) >"$dir/$t.time"
}

mkdir -p "$builddir/fuzz"
running=0
for t in "${targets[@]}"; do
  rm -f "$builddir/fuzz/$t.rc"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0
for t in "${targets[@]}"; do
  dir=$builddir/fuzz log=$builddir/fuzz/$t.log
  rc=$(cat "$dir/$t.rc" 2>/dev/null || echo 1)
  took=$(cat "$dir/$t.time" 2>/dev/null || echo "$seconds")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # after a crash there are no final stats: take the last status line "#N ..."
  [ -z "$execs" ] && execs=$(sed -n 's/^#\([0-9][0-9]*\)[^0-9].*/\1/p' "$log" | tail -1)
  rate=$(( ${execs:-0} / (took > 0 ? took : 1) ))
  size=$(find "$dir/corpus-$t" -type f | wc -l)
  line="fuzz_$t: ${execs:-?} executions in $took s ($rate/s), corpus $size files"
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
  if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
    status=1
    echo "$line, CRASH${crash:+: $crash}"
    # the reason, and the first frames in thresh's own code
    grep -E 'check failed|ERROR:|runtime error|SUMMARY' "$log" | head -5 | sed 's/^/    /'
    grep -E '^ *#[0-9]+ .* (/[^ ]*)?(src|tests)/' "$log" | head -8 | sed 's/^/    /'
  else
    echo "$line, no crash"
  fi
done
exit $status
