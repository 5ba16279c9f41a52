#!/usr/bin/env bash
# sanitize.sh - build thresh with AddressSanitizer and UndefinedBehaviorSanitizer
# and run the whole test suite there.
#
#   tests/robust/sanitize.sh [BUILDDIR]      (default: build-asan)
#
# BUILDDIR is configured (or reconfigured) with
#   meson setup BUILDDIR -Db_sanitize=address,undefined -Db_lundef=false
# with the compiler CC names when it is first set up (.ci/run: CC=clang, so
# the same folder also holds the libFuzzer targets tests/fuzz/run.sh runs),
# built, and `meson test` runs with
#   ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
#   UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# so any memory error, leak or undefined behaviour aborts the test program,
# which fails its test. THRESH_SANITIZE tells tests that compile programs of
# their own (tests/integration/test_install.py) to link them with the same
# sanitizers; THRESH_ROBUST_SECONDS (default 20 here) shortens the time-boxed
# tests of tests/robust. A sanitizer report found in meson's log also counts
# as a failure, in case a test let its program's exit status go.
# Ends with "N passed, N failed" (single tests: Criterion's and unittest's
# counts, as scripts/test.sh counts them). About 4.5 minutes on 2 cores from a
# fresh folder (CI: 269 s, the build 70 s of it).
set -uo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build-asan}
start=$(date +%s)
opts=(-Db_sanitize=address,undefined -Db_lundef=false)
if [ -f "$builddir/build.ninja" ]; then
  meson configure "$builddir" "${opts[@]}" >/dev/null
else
  meson setup "$builddir" "${opts[@]}" >/dev/null
fi || { echo "sanitize.sh: meson setup $builddir failed"; echo "0 passed, 1 failed"; exit 1; }
ninja -C "$builddir" >/dev/null || { ninja -C "$builddir" | tail -20; echo "0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export THRESH_SANITIZE=address,undefined
export THRESH_ROBUST_SECONDS=${THRESH_ROBUST_SECONDS:-20}
# Tests that load the library into a host not built with the sanitizers
# (Apache httpd, php, python3, a program compiled by the install test) cannot
# run here: ASan must be the first library of a process. The normal run
# covers them; everything else runs instrumented.
# packaging builds the Debian packages from the source with a build of its
# own: the instrumented build is not in it, and the suite's run covers it
hosted='^(apache|plugin-php|plugin-python|install|wordpress|packaging)$'
# The bench suite's smoke tests check that the benchmark scripts run and
# report; the thresh they drive is the suite's, and the sanitizers add
# nothing there but 50 s.
mapfile -t tests < <(meson test -C "$builddir" --list 2>/dev/null | grep -v '^thresh:bench / ' |
                     sed -n 's/^thresh:[^ ]* \/ //p' | grep -Ev "$hosted")
echo "sanitize.sh: ${#tests[@]} test programs; not here (hosted by an uninstrumented process): apache, plugin-php, plugin-python, install, wordpress (Apache's mod_php); packaging (its own build); the bench suite's smoke tests"
meson test -C "$builddir" --print-errorlogs --num-processes "$(nproc 2>/dev/null || echo 2)" "${tests[@]}"
rc=$?

log="$builddir/meson-logs/testlog.txt"
read -r passed failed < <(awk '
  /Synthesis: Tested:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Passing:") p += $(i+1)
      if ($i == "Failing:" || $i == "Crashing:") f += $(i+1)
    }
  }
  /^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
  /^Ran [0-9]+ tests? in/ { ran = $2; pending = 1 }
  pending && /^(OK|FAILED)/ {
    bad = 0; sk = 0
    if (match($0, /failures=[0-9]+/)) bad += substr($0, RSTART+9, RLENGTH-9)
    if (match($0, /errors=[0-9]+/)) bad += substr($0, RSTART+7, RLENGTH-7)
    if (match($0, /skipped=[0-9]+/)) sk = substr($0, RSTART+8, RLENGTH-8)
    p += ran - bad - sk; f += bad; pending = 0
  }
  END { printf "%d %d\n", p, f }' "$log")
reports=$(grep -cE 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)' "$log")
if [ "$reports" -gt 0 ]; then
  echo "sanitize.sh: $reports sanitizer reports in $log:"
  grep -E 'runtime error:|ERROR: (AddressSanitizer|LeakSanitizer)' "$log" | head -20
  failed=$((failed + reports))
fi
# a test program that crashed before printing its totals still fails
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "sanitize.sh: $builddir, $(( $(date +%s) - start )) s"
echo "${passed} passed, ${failed} failed"
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]
