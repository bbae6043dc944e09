#!/usr/bin/env bash
# restart-test.sh — restarts and upgrades lose no query, measured with
# dnsperf at 2,000 queries/s:
#
#   restart  cdnsteer socket-activated as cdnsteer.socket does it: the
#            sockets are opened by systemd-socket-activate (Debian package
#            systemd) and kept by a loop that plays systemd's part for the
#            service (ExecStartPre check, then serve with LISTEN_PID), so
#            that they stay open while the process is restarted (SIGTERM,
#            exit, start again) twice under load.
#   upgrade  SIGUSR2 twice under load: the binary is replaced by another
#            build (version restart-test-2, then -3), and each time the
#            running process starts it with its sockets, the new one
#            serves, the old one stops reading and exits.
#
# Each passes when dnsperf reports 0 queries lost (a query unanswered
# within 5 s), the new process answers, and each SIGTERM'd or upgraded
# process exited within 1 s (it used to take until the load paused, and
# then 100 ms more). Prints the measured exit times.
#
# Installs dnsperf, systemd (systemd-socket-activate, systemd-analyze) and
# bind9-dnsutils (dig) when missing (as root). Ports on 127.0.0.1: 1453 and
# 8453 (restart), 1463 and 8463 (upgrade). Run it from anywhere:
#   scripts/restart-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/procs.sh
repo=$PWD

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

failures=0
tmp=''
pids=()
pass() { echo "PASS $*"; }
fail() {
	echo "FAIL $*"
	failures=$((failures + 1))
}
die() {
	echo "FAIL $*" >&2
	exit 1
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[[ -n $tmp ]] && touch "$tmp/stop" 2>/dev/null
	# Upgraded servers are no children of this shell: their PIDs are in
	# $tmp/upgraded, written as they took over.
	if [[ -n $tmp && -s $tmp/upgraded ]]; then
		while read -r p; do kill "$p" 2>/dev/null || true; done <"$tmp/upgraded"
	fi
	if [[ -n $tmp && -s $tmp/restart/pid ]]; then
		kill "$(cat "$tmp/restart/pid")" 2>/dev/null || true
	fi
	stop_pids "${pids[@]}"
	if ((rc != 0 || failures != 0)) && [[ -n $tmp ]]; then
		for f in "$tmp"/restart/server.log "$tmp"/upgrade/server.log; do
			[[ -s $f ]] && { echo "----- $f"; tail -40 "$f"; }
		done
	fi
	[[ -n $tmp ]] && rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ---------------------------------------------------------------------------
need=()
command -v dnsperf >/dev/null 2>&1 || need+=(dnsperf)
command -v systemd-socket-activate >/dev/null 2>&1 || need+=(systemd)
command -v dig >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v curl >/dev/null 2>&1 || need+=(curl)
if ((${#need[@]})); then
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	echo "installing missing Debian packages: ${need[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
for t in dnsperf systemd-socket-activate dig curl go; do
	command -v "$t" >/dev/null 2>&1 || die "$t missing"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdnsteer-restart.XXXXXX")
mkdir "$tmp/restart" "$tmp/upgrade" "$tmp/bin"
# build VERSION OUT: a cdnsteer binary that says VERSION in cdnsteer_build_info.
build() { go build -ldflags "-X main.Version=$1" -o "$2" ./cmd/cdnsteer; }
build restart-test-1 "$tmp/bin/cdnsteer-1"
build restart-test-2 "$tmp/bin/cdnsteer-2"
build restart-test-3 "$tmp/bin/cdnsteer-3"

# policy DNSPORT HTTPPORT: zones/examples/live.toml moved to the ports.
policy() {
	sed -e "s|^dns = .*|dns = [\"127.0.0.1:$1\"]|" -e "s|^http = .*|http = \"127.0.0.1:$2\"|" zones/examples/live.toml
}
printf 'stream.live.example.com A\nlive.example.com SOA\nstream.live.example.com AAAA\n' >"$tmp/queries"

# dnsperf_start PORT OUT: 2,000 queries/s for 12 s in the background; no
# cap on queries in flight, so the rate holds while nothing answers.
dnsperf_start() {
	dnsperf -s 127.0.0.1 -p "$1" -d "$tmp/queries" -Q 2000 -l 12 -t 5 -q 50000 -b 16384 -c 4 >"$2" 2>&1 &
	perf_pid=$!
	pids+=("$perf_pid")
}
# dnsperf_result NAME OUT: PASS when nothing was lost.
dnsperf_result() {
	local name=$1 out=$2 sent lost
	wait "$perf_pid" || true
	sent=$(awk '/Queries sent:/ { print $3 }' "$out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$out")
	grep -E 'Queries (sent|completed|lost)|Latency' "$out" | sed 's/^ */    /'
	if [[ -z $sent || -z $lost ]]; then
		fail "$name: no dnsperf statistics"
		cat "$out"
	elif ((sent < 20000)); then
		fail "$name: dnsperf sent $sent queries, want 24,000 at 2,000/s (it could not keep the rate)"
	elif ((lost != 0)); then
		fail "$name: $lost of $sent queries lost"
	else
		pass "$name: $sent queries at 2,000/s, 0 lost"
	fi
}
# ms FROM TO: the milliseconds between two $EPOCHREALTIME values.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
# within_1s NAME MS
within_1s() {
	if awk -v m="$2" 'BEGIN { exit !(m < 1000) }'; then
		pass "$1: exited ${2} ms after the signal"
	else
		fail "$1: exited ${2} ms after the signal, want under 1 s"
	fi
}
# answers PORT: a steered answer over UDP and TCP.
answers() {
	[[ -n $(dig +short +time=2 +tries=1 @127.0.0.1 -p "$1" stream.live.example.com A) ]] &&
		[[ -n $(dig +short +tcp +time=2 +tries=1 @127.0.0.1 -p "$1" stream.live.example.com A) ]]
}
# await SECONDS WHAT CMD...
await() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	die "$what: not within ${secs}s"
}

# ---------------------------------------------------------------------------
echo "=== systemd units: cdnsteer.socket with cdnsteer.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir "$tmp/unit"
	for f in cdnsteer.socket cdnsteer.service; do
		sed -e "s|/usr/local/bin/cdnsteer|$tmp/bin/cdnsteer-1|g" "scripts/deploy/$f" >"$tmp/unit/$f"
	done
	rc=0
	out=$(cd "$tmp/unit" && systemd-analyze verify cdnsteer.socket cdnsteer.service 2>&1) || rc=$?
	# FILE:LINE: messages are about the units' text; anything else is
	# this environment (no systemd as PID 1).
	if grep -E '\.(socket|service):[0-9]+:' <<<"$out"; then
		fail "systemd-analyze verify cdnsteer.socket cdnsteer.service: syntax errors"
	else
		pass "systemd-analyze verify cdnsteer.socket cdnsteer.service: no syntax error (exit $rc)"
	fi
	grep -q '^FileDescriptorName=dns$' scripts/deploy/cdnsteer.socket || fail "cdnsteer.socket does not name its sockets dns"
	grep -q '^Sockets=cdnsteer.socket$' scripts/deploy/cdnsteer.service || fail "cdnsteer.service does not take cdnsteer.socket"
fi

# ---------------------------------------------------------------------------
echo "=== restart with the sockets kept (socket activation)"
rdir=$tmp/restart
policy 1453 8453 >"$rdir/policy.toml"
# The loop systemd runs for the service: check (ExecStartPre), serve with
# LISTEN_PID set to the server's own PID, start again when it exits (at
# most 10 starts, like a StartLimitBurst).
cat >"$rdir/service.sh" <<'EOF'
#!/usr/bin/env bash
bin=$1 policy=$2 dir=$3 starts=0
while [[ ! -e $dir/../stop ]] && ((starts++ < 10)); do
	"$bin" check -config "$policy" >/dev/null 2>>"$dir/server.log" || exit 1
	/bin/sh -c 'LISTEN_PID=$$ exec "$0" "$@"' "$bin" serve -config "$policy" 2>>"$dir/server.log" &
	echo $! >"$dir/pid"
	wait $!
	echo "$EPOCHREALTIME" >>"$dir/exits"
done
EOF
chmod +x "$rdir/service.sh"
# TCP first, then UDP: each waits for traffic on its sockets before it
# runs the next; the second passes the first's socket through.
systemd-socket-activate -l 127.0.0.1:1453 --fdname=dns -- \
	systemd-socket-activate -d -l 127.0.0.1:1453 --fdname=dns -- \
	"$rdir/service.sh" "$tmp/bin/cdnsteer-1" "$rdir/policy.toml" "$rdir" 2>"$rdir/activate.log" &
pids+=($!)
# The first queries start the service, as they would with systemd.
await 5 "systemd-socket-activate listening" grep -q 'Listening on 127.0.0.1:1453' "$rdir/activate.log"
first=$(dig +short +tcp +time=10 +tries=1 @127.0.0.1 -p 1453 stream.live.example.com A)
[[ -n $first ]] && pass "activation: the first query (TCP) answered: $first" || fail "activation: no answer to the first query"
await 10 "the server on the activated sockets" answers 1453
grep -q 'msg="dns sockets" from="handed in' "$rdir/server.log" && pass "activation: the server says its sockets were handed in" ||
	fail "activation: the server did not take the handed-in sockets"

# exits: how many times a server has exited under the loop.
exits() { if [[ -e $rdir/exits ]]; then wc -l <"$rdir/exits"; else echo 0; fi; }
exited_since() { (($(exits) > $1)); }
new_pid() { [[ $(cat "$rdir/pid") != "$1" ]]; }
dnsperf_start 1453 "$rdir/dnsperf.out"
for round in 1 2; do
	sleep 3
	old=$(cat "$rdir/pid")
	before=$(exits)
	t0=$EPOCHREALTIME
	kill -TERM "$old"
	await 10 "restart $round: the exit of $old" exited_since "$before"
	t1=$(tail -1 "$rdir/exits")
	within_1s "restart $round (pid $old, its own log: $(grep -o 'msg=stopped after=[^ ]*' "$rdir/server.log" | tail -1 | cut -d= -f3))" "$(ms "$t0" "$t1")"
	await 10 "restart $round: a new server" new_pid "$old"
done
dnsperf_result "restart twice under load, sockets kept" "$rdir/dnsperf.out"
answers 1453 && pass "restart: the new server answers UDP and TCP" || fail "restart: the new server does not answer"
touch "$tmp/stop"
kill "$(cat "$rdir/pid")"

# ---------------------------------------------------------------------------
echo "=== upgrade: SIGUSR2 hands the sockets to the new binary"
udir=$tmp/upgrade
policy 1463 8463 >"$udir/policy.toml"
cp "$tmp/bin/cdnsteer-1" "$udir/cdnsteer"
"$udir/cdnsteer" serve -config "$udir/policy.toml" 2>"$udir/server.log" &
server=$!
pids+=("$server")
await 20 "the server" answers 1463
version() { curl -fsS --max-time 2 http://127.0.0.1:8463/metrics 2>/dev/null | sed -n 's/^cdnsteer_build_info{.*version="\([^"]*\)".*/\1/p'; }
version_is() { [[ $(version) == "$1" ]]; }
handovers() { grep -c 'this one stops' "$udir/server.log" || true; }
handed_over_since() { (($(handovers) > $1)); }
gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
[[ $(version) == restart-test-1 ]] || fail "build_info version '$(version)', want restart-test-1"

dnsperf_start 1463 "$udir/dnsperf.out"
for round in 2 3; do
	sleep 3
	# What a package upgrade does: the new binary renamed over the old.
	cp "$tmp/bin/cdnsteer-$round" "$udir/cdnsteer.new" && mv -f "$udir/cdnsteer.new" "$udir/cdnsteer"
	n=$(handovers)
	t0=$EPOCHREALTIME
	kill -USR2 "$server"
	await 60 "upgrade $round: the new process serving" handed_over_since "$n"
	new=$(grep -o 'this one stops" pid=[0-9]*' "$udir/server.log" | tail -1 | cut -d= -f2)
	echo "$new" >>"$tmp/upgraded"
	# The old process's exit: reaped here for the first (our child); the
	# next is the first one's child, gone from /proc once reaped by init.
	if ((round == 2)); then
		wait "$server" || true
	else
		await 10 "upgrade $round: the exit of $server" gone "$server"
	fi
	t1=$EPOCHREALTIME
	within_1s "upgrade $round: old pid $server, signal to exit including the new process's start (its own stop: $(grep -o 'msg=stopped after=[^ ]*' "$udir/server.log" | tail -1 | cut -d= -f3))" "$(ms "$t0" "$t1")"
	server=$new
	await 10 "upgrade $round: HTTP of the new process" version_is "restart-test-$round"
	pass "upgrade $round: pid $server runs restart-test-$round (cdnsteer_build_info)"
done
dnsperf_result "upgrade twice under load (SIGUSR2)" "$udir/dnsperf.out"
answers 1463 && pass "upgrade: the new process answers UDP and TCP" || fail "upgrade: the new process does not answer"

echo
if ((failures)); then
	echo "restart-test.sh: $failures check(s) failed"
	exit 1
fi
echo "restart-test.sh: all checks passed"
