#!/bin/sh
# sites.sh - what serving many sites costs threshd --sites: the first
# answer of a new site, memory and disk per site, and checks a second over
# one site against the same load spread over all of them.
#
#   tests/bench/sites.sh [OPTIONS] [BUILD_DIR]
#
#   BUILD_DIR          the build to measure (default: build): its
#                      src/daemon/threshd, which finds BUILD_DIR's model
#   --threshd PATH     measure this threshd instead (an installed one uses
#                      the installed model, or $THRESH_MODEL)
#   --sites N          sites in the key file (default 200)
#   --probe K          new sites whose first and second checks are shown
#                      one by one (default 5)
#   --duration S       seconds of each wrk run (default 5)
#   --rounds R         runs of each mode, taking turns (default 3)
#   --churn M          [threshd] open_sites for the churn runs (default N/4;
#                      0 skips them)
#   --threads T, --connections C
#                      wrk's -t and -c (default 2 and 64)
#   --conf FILE        the library's lines of the thresh.conf every site
#                      reads, instead of "rate_limit = 0" (an empty file:
#                      the library's defaults); the script adds [threshd]
#
# It builds nothing. It makes a temporary folder, writes a key file of N
# sites ("KEY SITE"), starts threshd --sites on a free port of 127.0.0.1
# with --config pointing at its own thresh.conf, and prints:
#
#   1. the time of the first POST /v1/check of a new site (its database is
#      made from the default model) and of its second (the site is open);
#   2. threshd's VmRSS, RssAnon and RssFile after start, after one site is
#      made and warm, after all N are made (one check each), after the
#      throughput runs; growth per site, (RSS_N - RSS_1) / (N - 1); the
#      disk each site takes (du);
#   3. wrk against one site and spread at random over all N, taking turns
#      R times (the first mode alternates round by round), with the median
#      of the per-round ratios spread/one; then, after open_sites is set
#      to M below N by SIGHUP, the same against the spread that now opens
#      and closes sites (LRU churn), with threshd_site_events_total.
#
# The comments are about 200 spread over models/youtube's TSV, each sent
# with its own author and address (250 of them). Rate limiting is off by
# default: at wrk's rates every author of a site is soon over its rate, so
# "one" would measure refusals (no write) while "spread", at 1/N of the rate
# a site, scores and writes each site's rate store; --conf /dev/null gives
# the library's defaults, rate limits included. Medians and ratios of one run
# are the figures to quote: the machine is shared. The issue's targets are
# marked met or not, for the reader; the exit status says nothing of them.
# THRESHD_SITES_ARGS adds options to threshd (say "--threads 4").
#
# Needs wrk (Debian package wrk) and curl. Everything talks to 127.0.0.1.
# threshd is stopped and the folder removed on exit, also on Ctrl-C.
set -eu

usage() {
	awk 'NR >= 6 && /^# It builds/ { exit } NR >= 6 { sub(/^# ?/, ""); print }' "$0" >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=threshd-port.sh
. "$here/threshd-port.sh"
root=$(cd "$here/../.." && pwd)
build=
threshd=
nsites=200
probe=5
duration=5
rounds=3
churn=
wthreads=2
conns=64
userconf=
while [ $# -gt 0 ]; do
	case "$1" in
	--threshd) threshd=${2:?}; shift 2 ;;
	--sites) nsites=${2:?}; shift 2 ;;
	--probe) probe=${2:?}; shift 2 ;;
	--duration) duration=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--churn) churn=${2:?}; shift 2 ;;
	--threads) wthreads=${2:?}; shift 2 ;;
	--connections) conns=${2:?}; shift 2 ;;
	--conf) userconf=${2:?}; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "$0: unknown option $1" >&2; usage ;;
	*) [ -z "$build" ] || usage; build=$1; shift ;;
	esac
done
for v in "$nsites" "$probe" "$duration" "$rounds" "$wthreads" "$conns" ${churn:+"$churn"}; do
	case "$v" in
	'' | *[!0-9]*) echo "$0: '$v' is not a whole number" >&2; exit 2 ;;
	esac
done
[ "$nsites" -ge 2 ] || { echo "$0: --sites must be 2 or more" >&2; exit 2; }
if [ "$rounds" -lt 1 ] || [ "$duration" -lt 1 ]; then
	echo "$0: --rounds and --duration must be 1 or more" >&2
	exit 2
fi
[ "$probe" -le $((nsites - 1)) ] || probe=$((nsites - 1))
[ -n "$churn" ] || churn=$((nsites / 4))
if [ -n "$threshd" ] && [ -n "$build" ]; then
	echo "$0: give BUILD_DIR or --threshd, not both" >&2
	exit 2
fi
if [ -z "$threshd" ]; then
	build=$(cd "${build:-$root/build}" 2>/dev/null && pwd) || { echo "$0: no build folder ${build:-$root/build}" >&2; exit 2; }
	threshd="$build/src/daemon/threshd"
else
	# a build folder's threshd: BUILD/src/daemon/threshd
	d=$(cd "$(dirname "$threshd")/../.." 2>/dev/null && pwd) || d=
	[ -n "$d" ] && [ -f "$d/build.ninja" ] && build=$d
fi
corpus="$root/models/youtube/youtube-spam-collection.tsv"
for f in "$threshd" "$corpus" "$here/sites.lua"; do
	if [ ! -e "$f" ]; then
		echo "$0: $f is missing${build:+ (build first: ninja -C $build)}" >&2
		exit 2
	fi
done
[ -z "$userconf" ] || [ -r "$userconf" ] || { echo "$0: cannot read $userconf" >&2; exit 2; }
for c in wrk curl awk; do
	command -v "$c" >/dev/null 2>&1 || { echo "$0: $c is not installed${c:+ (Debian: apt-get install $c)}" >&2; exit 2; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/thresh-sites.XXXXXX")
pid=
cleanup() {
	trap - EXIT INT TERM HUP PIPE
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 150 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "$0: interrupted" >&2; exit 130' INT HUP
trap 'exit 143' TERM
trap 'exit 141' PIPE # the reader went away (| head): stop, and clean up

t_start=$(date +%s)
now() { date +%s.%N; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
# median of the numbers on standard input
median() {
	sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# status_kb FIELD - a field of /proc/PID/status, in KiB
status_kb() { awk -v f="$1:" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$pid/status"; }
rss_row() {
	printf '| %s | %s | %s | %s | %s |\n' "$1" "$(mib "$(status_kb VmRSS)")" \
		"$(mib "$(status_kb RssAnon)")" "$(mib "$(status_kb RssFile)")" "$(mib "$(status_kb RssShmem)")"
}
metric() { curl -s --max-time 10 "$url/metrics" | awk -v m="$1" 'index($0, m) == 1 { print $NF }'; }

# ---- the build, the machine ----
echo "# threshd --sites: $nsites sites"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- threshd: $threshd"
echo "- version: $("$threshd" --version 2>&1 | head -n 1)"
if [ -n "$build" ] && [ -f "$build/meson-info/intro-buildoptions.json" ]; then
	bt=$(tr '{' '\n' <"$build/meson-info/intro-buildoptions.json" |
		sed -n 's/.*"name": *"buildtype".*"value": *"\([a-z]*\)".*/\1/p' | head -n 1)
	src=$(sed -n 's/.*"source": *"\([^"]*\)".*/\1/p' "$build/meson-info/meson-info.json" 2>/dev/null | head -n 1)
	rev=
	[ -n "$src" ] && rev=$(git -C "$src" log -1 --format='%h %s' 2>/dev/null | cut -c1-72) &&
		{ git -C "$src" diff --quiet HEAD 2>/dev/null || rev="$rev (with changes)"; }
	echo "- build: $build (buildtype ${bt:-?}; source ${src:-?}${rev:+ at $rev})"
fi
if [ -n "${THRESH_MODEL:-}" ]; then
	echo "- model: $THRESH_MODEL (THRESH_MODEL)"
elif [ -n "$build" ] && [ -f "$build/models/default.dump" ]; then
	echo "- model: $build/models/default.dump (the build's)"
else
	echo "- model: the installed one"
fi
echo "- machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)), $(uname -sr)"
echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- wrk: -t$wthreads -c$conns -d${duration}s, $rounds rounds; churn: open_sites = $churn"
echo "- threshd options: --sites DIR --keys FILE --config FILE --port 0 ${THRESHD_SITES_ARGS:-}"
if [ -n "$userconf" ]; then
	echo "- thresh.conf: the lines of $userconf: $(grep -v '^[[:space:]]*\(#\|$\)' "$userconf" | tr '\n' ';' | sed 's/;$//')"
else
	echo "- thresh.conf: rate_limit = 0 (--conf FILE to change)"
fi

# ---- keys, thresh.conf, comments ----
i=1
: >"$tmp/keys"
chmod 600 "$tmp/keys"
rnd=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
while [ $i -le "$nsites" ]; do
	printf 'bench-%s-%06d site%06d\n' "$rnd" "$i" "$i"
	i=$((i + 1))
done >>"$tmp/keys"
key_of() { sed -n "$1p" "$tmp/keys" | cut -d' ' -f1; }
site_of() { printf 'site%06d' "$1"; }
openmax=256 # threshd's default open_sites
[ "$nsites" -le "$openmax" ] || openmax=$nsites
write_conf() { # open_sites
	{
		if [ -n "$userconf" ]; then cat "$userconf"; else echo "rate_limit = 0"; fi
		printf '\n[threshd]\nopen_sites = %s\n' "$1"
	} >"$tmp/thresh.conf"
}
write_conf "$openmax"
lines=$(wc -l <"$corpus")
step=$((lines / 200))
[ "$step" -ge 1 ] || step=1
awk -v step="$step" 'NR % step == 1' "$corpus" | head -n 200 >"$tmp/comments.tsv"

# ---- threshd ----
# shellcheck disable=SC2086
"$threshd" --sites "$tmp/sites" --keys "$tmp/keys" --config "$tmp/thresh.conf" --port 0 \
	${THRESHD_SITES_ARGS:-} 2>"$tmp/threshd.err" &
pid=$!
t0=$(now)
port=$(threshd_port "$tmp/threshd.err" "$pid" 30) || exit 1
url="http://127.0.0.1:$port"
t_listen=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
echo "- threshd started in about $t_listen s: $(sed -n 's/^threshd: \(listening on .*\)/\1/p' "$tmp/threshd.err")"
echo

# timed I NB - the seconds of one POST /v1/check of site I (a new
# connection), which must answer 200; NB numbers its author and address
timed() {
	r=$(curl -s -o "$tmp/answer" --max-time 60 -w '%{http_code} %{time_total}\n' \
		-H "Authorization: Bearer $(key_of "$1")" -H 'Content-Type: application/json' \
		--data-binary "{\"content\":\"Great post, thanks for sharing this (request $2)\",\"author\":\"reader$2\",\"ip\":\"192.0.2.$(($2 % 250 + 1))\"}" \
		"$url/v1/check") || r="000 0"
	case "$r" in
	"200 "*) echo "${r#200 }" ;;
	"000 "*)
		echo "$0: site $(site_of "$1"): POST /v1/check: no answer" >&2
		exit 1
		;;
	*)
		echo "$0: site $(site_of "$1"): POST /v1/check answered ${r% *}: $(cat "$tmp/answer")" >&2
		exit 1
		;;
	esac
}
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }

# ---- 1. a new site's first answer; 2. memory ----
rss_rows=$(rss_row "after start (DIR/.prior open)")
s1_first=$(timed 1 1)
j=0
while [ $j -lt 20 ]; do
	j=$((j + 1))
	timed 1 $((j + 1)) >/dev/null
done
rss1=$(status_kb VmRSS) anon1=$(status_kb RssAnon) file1=$(status_kb RssFile)
rss_rows="$rss_rows
$(rss_row "1 site made and warm (21 checks)")"

: >"$tmp/first" # the first check's seconds of sites 2..N
: >"$tmp/second"
: >"$tmp/pfirst"
probe_rows=
i=2
t0=$(now)
while [ "$i" -le "$nsites" ]; do
	f=$(timed "$i" "$i")
	echo "$f" >>"$tmp/first"
	if [ "$i" -le $((probe + 1)) ]; then
		s=$(timed "$i" $((i + 1000)))
		echo "$f" >>"$tmp/pfirst"
		echo "$s" >>"$tmp/second"
		probe_rows="$probe_rows
| $(site_of "$i") | $(ms "$f") | $(ms "$s") |"
	fi
	i=$((i + 1))
done
t_make=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
rssN=$(status_kb VmRSS) anonN=$(status_kb RssAnon) fileN=$(status_kb RssFile)
rss_rows="$rss_rows
$(rss_row "all $nsites sites made (one check each)")"
created=$(metric 'threshd_site_events_total{event="created"}')
open_now=$(metric 'threshd_sites{state="open"}')

echo "## 1. A new site's first answer (POST /v1/check, curl, a new connection each)"
echo
echo "| site | first check, ms (site made) | second check, ms (open) |"
echo "|---|---:|---:|$probe_rows"
fmed=$(median <"$tmp/first") fmax=$(sort -g "$tmp/first" | tail -n 1)
echo "| **median** | $(ms "$(median <"$tmp/pfirst")") | $(ms "$(median <"$tmp/second")") |"
echo "| **max** | $(ms "$(sort -g "$tmp/pfirst" | tail -n 1)") | $(ms "$(sort -g "$tmp/second" | tail -n 1)") |"
echo
echo "The first check of every site but the first, $((nsites - 1)) of them one after another:"
echo "median $(ms "$fmed") ms, max $(ms "$fmax") ms, $t_make s in all (with the $probe second checks)."
echo "The very first site's first check: $(ms "$s1_first") ms. Sites created (threshd_site_events_total): $created; open: $open_now."
echo

echo "## 2. Memory and disk"
echo
echo "| threshd, MiB | VmRSS | RssAnon | RssFile | RssShmem |"
echo "|---|---:|---:|---:|---:|"
echo "$rss_rows"
echo
per_rss=$(awk -v a="$rss1" -v b="$rssN" -v n="$nsites" 'BEGIN { printf "%.3f", (b - a) / 1024 / (n - 1) }')
per_anon=$(awk -v a="$anon1" -v b="$anonN" -v n="$nsites" 'BEGIN { printf "%.3f", (b - a) / 1024 / (n - 1) }')
per_file=$(awk -v a="$file1" -v b="$fileN" -v n="$nsites" 'BEGIN { printf "%.3f", (b - a) / 1024 / (n - 1) }')
echo "Growth per site, (RSS_$nsites - RSS_1) / $((nsites - 1)): **VmRSS $per_rss MiB** (RssAnon $per_anon, RssFile $per_file)."
echo "Issue target: at most 1 MiB a site: $(awk -v p="$per_rss" 'BEGIN { print (p <= 1 ? "met" : "not met") }')."
disk_all=$(du -sk "$tmp/sites" | cut -f1)
disk_prior=$(du -sk "$tmp/sites/.prior" | cut -f1)
disk_one=$(du -sk "$tmp/sites/$(site_of 2)" | cut -f1)
app_one=$(du -sk --apparent-size "$tmp/sites/$(site_of 2)" 2>/dev/null | cut -f1) || app_one=
files=$(cd "$tmp/sites/$(site_of 2)" && du -k -- * | awk '{ printf "%s%s %s KiB", (NR > 1) ? ", " : "", $2, $1 }')
echo "Disk (du): $(mib "$disk_one") MiB a site ($(site_of 2)${app_one:+; apparent size $(mib "$app_one") MiB}: $files),"
echo "$(mib "$(( (disk_all - disk_prior) / nsites ))") MiB a site on average, DIR/.prior $(mib "$disk_prior") MiB, all of DIR $(mib "$disk_all") MiB."
echo

# ---- 3. throughput ----
# verdicts - threshd_verdicts_total: "ACCEPT HOLD REJECT"
verdicts() {
	curl -s --max-time 10 "$url/metrics" | awk '/^threshd_verdicts_total[{]/ { split($1, a, "\""); c[a[2]] = $2 }
		END { print c["accept"] + 0, c["hold"] + 0, c["reject"] + 0 }'
}
# checks - POST /v1/check answered since threshd started
checks() {
	curl -s --max-time 10 "$url/metrics" |
		awk '/^threshd_requests_total[{]endpoint="v1-check"/ { n += $2 } END { print n + 0 }'
}
# drain - wait until threshd has finished the requests wrk left in flight
# (at most 60 s), so that they do not slow the next run
drain() {
	i=0
	while [ "$(metric threshd_requests_in_flight)" -gt 1 ] && [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# run MODE [SECONDS] - one wrk run; prints its SITES line, with the shares
# of the verdicts threshd gave meanwhile (verdicts=ACCEPT%/HOLD%/REJECT%)
# and the checks threshd answered, those left in flight included (served=)
run() {
	v0=$(verdicts) c0=$(checks)
	wrk -t"$wthreads" -c"$conns" -d"${2:-$duration}s" --timeout 10s -s "$here/sites.lua" "$url" -- \
		"$tmp/keys" "$tmp/comments.tsv" "$1" >"$tmp/wrk.out" 2>&1 || true
	line=$(grep '^SITES ' "$tmp/wrk.out" || true)
	if [ -z "$line" ]; then
		echo "$0: wrk failed:" >&2
		cat "$tmp/wrk.out" >&2
		exit 1
	fi
	drain
	c1=$(checks)
	v=$(echo "$v0 $(verdicts)" | awk '{ a = $4 - $1; h = $5 - $2; r = $6 - $3; n = a + h + r; if (!n) n = 1
		printf "%.0f/%.0f/%.0f", 100 * a / n, 100 * h / n, 100 * r / n }')
	echo "$line verdicts=$v served=$((c1 - c0))"
}
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# turns A B LABEL_A LABEL_B - R rounds of A and B, the order alternating;
# prints the table rows and leaves the medians in med_a, med_b, med_ratio
turns() {
	: >"$tmp/ra"
	: >"$tmp/rb"
	: >"$tmp/ratio"
	: >"$tmp/nb" # the requests of B's runs
	r=1
	while [ $r -le "$rounds" ]; do
		if [ $((r % 2)) -eq 1 ]; then order="$1 $2"; else order="$2 $1"; fi
		for m in $order; do
			if [ "$m" = "$1" ]; then label=$3; else label=$4; fi
			[ "$m" != churn ] || m=spread
			line=$(run "$m")
			rps=$(field rps "$line")
			printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$label" "$rps" \
				"$(field p50 "$line")" "$(field p99 "$line")" "$(field max "$line")" \
				"$(field verdicts "$line")" "$(field non2xx "$line")" "$(field errors "$line")"
			if [ "$label" = "$3" ]; then
				echo "$rps" >>"$tmp/ra"
			else
				echo "$rps" >>"$tmp/rb"
				field served "$line" >>"$tmp/nb"
			fi
		done
		a=$(sed -n "${r}p" "$tmp/ra") b=$(sed -n "${r}p" "$tmp/rb")
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f\n", (a > 0) ? b / a : 0 }' >>"$tmp/ratio"
		r=$((r + 1))
	done
}
table_head() {
	echo "| round | mode | checks/s | p50 ms | p99 ms | max ms | accept/hold/reject % | non-2xx | socket errors |"
	echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
}
ratio_line() { # LABEL_B LABEL_A TARGET
	printf 'Median checks/s: %s %s, %s %s. Ratio %s/%s by round: %s; **median %s%%**' \
		"$2" "$(median <"$tmp/ra")" "$1" "$(median <"$tmp/rb")" "$1" "$2" \
		"$(awk '{ printf "%s%.1f%%", (NR > 1) ? ", " : "", $1 * 100 }' "$tmp/ratio")" \
		"$(median <"$tmp/ratio" | awk '{ printf "%.1f", $1 * 100 }')"
	if [ -n "${3:-}" ]; then
		printf ' (target >= %s%%: %s)' "$3" "$(median <"$tmp/ratio" | awk -v t="$3" '{ print ($1 * 100 >= t ? "met" : "not met") }')"
	fi
	echo "."
}

echo "## 3. Throughput: POST /v1/check with wrk, one site against all $nsites"
echo
echo "\"one\": every request has the key of $(site_of 1); \"spread\": each request a key drawn at random"
echo "from all $nsites (each site about 1/$nsites of the load). All sites open (open_sites = $openmax)."
echo "Warm-up, not counted: 2 s of each mode. Load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
run spread 2 >/dev/null
run one 2 >/dev/null
table_head
turns one spread one spread
echo
ratio_line spread one 50
echo
rss_rows="$rss_rows
$(rss_row "after the throughput runs")"
echo "| threshd, MiB | VmRSS | RssAnon | RssFile | RssShmem |"
echo "|---|---:|---:|---:|---:|"
echo "$rss_rows" | tail -n 1
echo

if [ "$churn" -gt 0 ] && [ "$churn" -lt "$nsites" ]; then
	echo "## 3b. LRU churn: open_sites = $churn of $nsites sites"
	echo
	before=$(grep -c 'reloaded thresh.conf' "$tmp/threshd.err" || true)
	write_conf "$churn"
	kill -HUP "$pid"
	i=0
	while [ "$(grep -c 'reloaded thresh.conf' "$tmp/threshd.err" || true)" -le "$before" ] && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	limit=$(metric threshd_sites_open_limit)
	if [ "$limit" != "$churn" ]; then
		echo "$0: after SIGHUP threshd_sites_open_limit is '$limit', not $churn" >&2
		exit 1
	fi
	timed 1 2000 >/dev/null # its release closes the sites past the limit
	echo "After SIGHUP with open_sites = $churn: threshd_sites_open_limit $limit, open $(metric 'threshd_sites{state="open"}')."
	echo "\"churn\" is the spread mode again: a request's site is open with a chance of about $churn/$nsites"
	echo "(least recently used closed first). Warm-up, not counted: 2 s of churn."
	echo
	run spread 2 >/dev/null
	curl -s --max-time 10 "$url/metrics" | grep '^threshd_site_events_total' >"$tmp/ev0"
	table_head
	turns one churn one churn
	echo
	ratio_line churn one
	curl -s --max-time 10 "$url/metrics" | grep '^threshd_site_events_total' >"$tmp/ev1"
	echo
	echo "threshd_site_events_total, over the timed runs (and since start):"
	echo
	echo '```'
	awk 'NR == FNR { a[$1] = $2; next } { printf "%-50s %10d  (%s)\n", $1, $2 - a[$1], $2 }' "$tmp/ev0" "$tmp/ev1"
	echo '```'
	echo
	awk -v q="$(awk '{ n += $1 } END { print n + 0 }' "$tmp/nb")" '
		NR == FNR { a[$1] = $2; next } /opened/ { o = $2 - a[$1] }
		END { printf "Sites opened per churn check threshd answered (those wrk left in flight included): %d / %d = %.2f.\n", o, q, q ? o / q : 0 }' "$tmp/ev0" "$tmp/ev1"
	echo
	rss_rows="$rss_rows
$(rss_row "after the churn runs ($(metric 'threshd_sites{state="open"}') open)")"
	echo "| threshd, MiB | VmRSS | RssAnon | RssFile | RssShmem |"
	echo "|---|---:|---:|---:|---:|"
	echo "$rss_rows" | tail -n 1
	echo
fi

# ---- what threshd said beside the expected lines ----
odd=$(grep -v -e '^threshd: site site[0-9]*: created ' -e '^threshd: listening on ' \
	-e '^threshd: reloaded thresh.conf' -e '^threshd: reloaded [0-9]* API key' "$tmp/threshd.err" || true)
if [ -n "$odd" ]; then
	echo "threshd's standard error, beside the lines of sites created and reloads:"
	echo
	echo '```'
	echo "$odd" | head -n 30
	echo '```'
	echo
fi
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Run time: $(($(date +%s) - t_start)) s."
