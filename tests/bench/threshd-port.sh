# threshd-port.sh - sourced by the benches that start threshd: threshd_port
# waits until a threshd started with --port 0 says which port it got.
#
#   threshd ... --port 0 2>"$err" & pid=$!
#   port=$(threshd_port "$err" "$pid" 30) || exit 1
#
# It prints the port, or, when threshd exits or does not listen within the
# given seconds, says so with threshd's messages on stderr and fails.
threshd_port() {
	local err=$1 pid=$2 tries=$(($3 * 20)) port i=0
	while [ $i -lt $tries ]; do
		port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$err")
		if [ -n "$port" ]; then
			echo "$port"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$err" >&2
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	echo "threshd did not start" >&2
	cat "$err" >&2
	return 1
}
