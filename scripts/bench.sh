#!/usr/bin/env bash
# bench.sh — cdnsteer side by side with gdnsd, Knot DNS and PowerDNS
# (issue 7).
#
#   scripts/bench.sh [RESULTS_FILE]        (run from the repository root
#                                           or anywhere inside it)
#
# Every server serves the same zone on loopback: live.example.com with a
# steered name, stream, that is a CNAME to one of four CDNs by weight —
# cdnsteer's policy (scripts/bench/cdnsteer.toml, with a synthetic
# GeoLite2-Country-shaped database of ~500k networks loaded), gdnsd's
# `weighted` plugin (DYNC), a PowerDNS LUA record (pickwrandom, bind
# backend, default packet cache) and, as the ceiling, Knot DNS with a
# static CNAME. The server runs pinned to core 0, dnsperf to core 1. Each
# round starts every server afresh, in an order that rotates from round to
# round, and measures it with dnsperf -B on a query file written by
# scripts/benchquery (80 % steered A with a per-query ECS /24 from random
# subnets, 10 % steered AAAA, 5 % static A, 5 % NXDOMAIN, all with EDNS):
#
#   - a fixed offered rate of 20k and 50k qps (RATE_DURATION s each): p99
#     latency from dnsperf -v, counting a lost query as slower than any
#     (server and dnsperf SCHED_RR meanwhile, see LATENCY_PRIO);
#   - full speed (dnsperf -c 4 -q 500, DURATION s): qps, lost %, average
#     latency and the server's CPU time (utime+stime from /proc/PID/stat
#     over the dnsperf run) per completed query;
#   - full speed with the same mix without ECS: CPU time per query;
#   - cdnsteer only: full speed with the same mix with IPv6 client subnets
#     (/56s, half of them in the database's IPv6 networks) instead of IPv4
#     /24s: CPU time per query, for the target IPv6 ECS ≤ 1.05× IPv4 ECS;
#   - peak RSS (VmHWM) of the server at the end of its turn.
#
# It prints one table of medians over the rounds with each value's ratio
# to gdnsd's, then PASS/FAIL for cdnsteer's targets, and writes both to
# RESULTS_FILE (default $OUT, else ./bench-results.md) for the README.
#
# Environment:
#   ROUNDS=3          rounds (≥1; the issue asks for ≥3)
#   DURATION=10       seconds per full-speed run
#   RATE_DURATION=5   seconds per fixed-rate run
#   RATES="20000 50000"  offered rates (the first two are the table's)
#   SERVERS="cdnsteer gdnsd knot pdns"  which servers, in round-1 order
#   BASE_PORT=5301    cdnsteer gets BASE_PORT (DNS) and BASE_PORT+1000
#                     (HTTP); gdnsd, knot and pdns the next three ports
#   PEER_UDP_THREADS=1  UDP threads of gdnsd and Knot (one core each;
#                     gdnsd measured cheaper per query with 1 than with 2)
#   LATENCY_PRIO=rr   during the fixed-rate runs, server and dnsperf run
#                     SCHED_RR (priority 20), so that other work sharing
#                     the cores does not make the tail (on a busy machine,
#                     time slices of other processes put p99 at 3-5 ms for
#                     every server); "normal" leaves them SCHED_OTHER.
#                     Full-speed runs are always SCHED_OTHER.
#   CLIENTS=4 OUTSTANDING=500  dnsperf -c and -q at full speed
#   NQUERIES=200000   queries per query file (dnsperf loops over it)
#   SERVER_CPU=0 CLIENT_CPU=1  cores for taskset
#   NO_INSTALL=1      do not apt-get install missing packages
#   KEEP=1            keep the work directory (logs, configs, raw results)
#   WORK=DIR          use DIR as the work directory (kept); the geo database
#                     built there is reused by later runs
#   EXTRA="tcp steering"  then run scripts/bench-tcp.sh and
#                     scripts/bench-steering.sh, appending their tables
#                     (a failed one counts as a missed target); "" skips
#
# Exit status: 0 all of cdnsteer's targets met, 1 some target missed,
# 2 setup failed, a server answered wrongly or died (no table).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/procs.sh"
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
RATE_DURATION=${RATE_DURATION:-5}
RATES=${RATES:-"20000 50000"}
SERVERS=${SERVERS:-"cdnsteer gdnsd knot pdns"}
BASE_PORT=${BASE_PORT:-5301}
PEER_UDP_THREADS=${PEER_UDP_THREADS:-1}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-500}
NQUERIES=${NQUERIES:-200000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
LATENCY_PRIO=${LATENCY_PRIO:-rr}
DNSPERF_TIMEOUT=2 # seconds before dnsperf counts a query lost
# dnsperf's socket buffers (KiB): a client descheduled for a few ms by
# other work on the machine must not drop answers itself.
DNSPERF_BUF=4096

ZONE=live.example.com
STEERED=stream.$ZONE
TARGETS="live.akamaized.example.net. live.edgio.example.net. live.global.fastly.example.net. d111111abcdef8.cloudfront.example.net."

need_numbers ROUNDS DURATION RATE_DURATION BASE_PORT PEER_UDP_THREADS CLIENTS OUTSTANDING NQUERIES SERVER_CPU CLIENT_CPU
((ROUNDS >= 1 && DURATION >= 1 && RATE_DURATION >= 1)) || die "ROUNDS, DURATION and RATE_DURATION must be ≥ 1"
need_prio LATENCY_PRIO
read -ra RATE_LIST <<<"$RATES"
((${#RATE_LIST[@]} >= 1)) || die "RATES is empty"
read -ra SERVER_LIST <<<"$SERVERS"
for s in "${SERVER_LIST[@]}"; do
	case $s in cdnsteer | gdnsd | knot | pdns) ;; *) die "unknown server '$s' in SERVERS (cdnsteer gdnsd knot pdns)" ;; esac
done

repo=$(cd "$here/.." && pwd)
tmpl=$here/bench
RESULTS=${1:-${OUT:-bench-results.md}}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac
start_time=$(date +%s)

port_of() {
	case $1 in
	cdnsteer) echo "$BASE_PORT" ;;
	gdnsd) echo $((BASE_PORT + 1)) ;;
	knot) echo $((BASE_PORT + 2)) ;;
	pdns) echo $((BASE_PORT + 3)) ;;
	esac
}
HTTP_PORT=$((BASE_PORT + 1000))

# ---------------------------------------------------------------- packages

# install_packages installs what is missing from Debian, the packages'
# daemons kept from starting on port 53 (apt_install).
install_packages() {
	local need=() pkg
	command -v dnsperf >/dev/null || need+=(dnsperf)
	command -v dig >/dev/null || need+=(bind9-dnsutils)
	# Only the peers measured are needed (SERVERS=cdnsteer needs none).
	if wants gdnsd; then command -v gdnsd >/dev/null || need+=(gdnsd); fi
	if wants knot; then command -v knotd >/dev/null || need+=(knot); fi
	if wants pdns; then
		command -v pdns_server >/dev/null || need+=(pdns-server)
		[[ -e /usr/lib/x86_64-linux-gnu/pdns/libbindbackend.so ]] || ls /usr/lib/*/pdns/libbindbackend.so >/dev/null 2>&1 || need+=(pdns-backend-bind)
	fi
	command -v taskset >/dev/null || need+=(util-linux)
	command -v ss >/dev/null || need+=(iproute2)
	((${#need[@]})) || return 0
	apt_install "$WORK/apt.log" "${need[@]}"
	for pkg in dnsperf dig gdnsd:gdnsd knotd:knot pdns_server:pdns; do
		[[ $pkg != *:* ]] || wants "${pkg#*:}" || continue
		command -v "${pkg%%:*}" >/dev/null || die "${pkg%%:*} still missing after apt-get; see $WORK/apt.log"
	done
}
wants() { [[ " ${SERVER_LIST[*]} " == *" $1 "* ]]; }

# ------------------------------------------------------------ work and setup

make_work cdnsteer-bench

PIDS=() # servers this script started and has not stopped yet
cleanup() {
	stop_pids "${PIDS[@]}"
	PIDS=()
	restore_policy_rc
	drop_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

install_packages
for c in go getconf awk sort timeout taskset chrt ss; do command -v $c >/dev/null || die "$c not found"; done
# a private copy of dnsperf, so that someone else removing or upgrading the
# package on this shared machine does not break a run half-way
mkdir -p "$WORK/bin"
cp "$(command -v dnsperf)" "$WORK/bin/dnsperf"
DNSPERF=$WORK/bin/dnsperf
CLK_TCK=$(getconf CLK_TCK)
need_two_cores

for s in "${SERVER_LIST[@]}"; do
	p=$(port_of "$s")
	! port_busy "$p" || die "port $p (for $s) is in use on this machine; set BASE_PORT to a free range"
done
[[ -z $(ss -Hlnt "sport = :$HTTP_PORT") ]] || die "port $HTTP_PORT (cdnsteer http) is in use; set BASE_PORT"

log "work directory $WORK"
log "building cdnsteer"
(cd "$repo" && go build -o "$WORK/bin/cdnsteer" ./cmd/cdnsteer) || die "go build ./cmd/cdnsteer failed"
(cd "$repo" && go build -o "$WORK/bin/benchquery" ./scripts/benchquery) || die "go build ./scripts/benchquery failed"
if [[ ! -s $WORK/cdnsteer/geo.mmdb ]]; then
	mkdir -p "$WORK/cdnsteer"
	log "writing the synthetic country database (~500k networks)"
	"$WORK/bin/benchquery" -geodb "$WORK/cdnsteer/geo.mmdb" -geodb-only || die "benchquery -geodb failed"
fi
log "writing query files ($NQUERIES queries each)"
"$WORK/bin/benchquery" -o "$WORK/q-ecs.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=true || die "benchquery failed"
"$WORK/bin/benchquery" -o "$WORK/q-plain.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=false || die "benchquery failed"
# The ECS workload again with DO=1, for cdnsteer's signed zone: the same
# answers with their signatures (and NSEC proofs), prepared when signed.
"$WORK/bin/benchquery" -o "$WORK/q-do.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=true -do || die "benchquery failed"
# The ECS workload with IPv6 client subnets, for cdnsteer's IPv6 region map.
"$WORK/bin/benchquery" -o "$WORK/q-ecs6.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=true -ecs6 || die "benchquery failed"

# stream records per server, put into the shared zone file
stream_gdnsd='stream 20 DYNC weighted!stream'
stream_knot='stream 20 IN CNAME live.akamaized.example.net.'
stream_pdns="stream 20 IN LUA CNAME \"pickwrandom({{40,'live.akamaized.example.net.'},{20,'live.edgio.example.net.'},{25,'live.global.fastly.example.net.'},{15,'d111111abcdef8.cloudfront.example.net.'}})\""

zonefile() { # zonefile STREAM_RECORD OUT
	awk -v rec="$1" '$0 == "@STREAM@" { print rec; next } { print }' "$tmpl/zone.$ZONE" >"$2"
}

setup_configs() {
	local d
	d=$WORK/cdnsteer
	render "$tmpl/cdnsteer.toml" "$d/cdnsteer.toml" "DNS=127.0.0.1:$(port_of cdnsteer)" "HTTP=127.0.0.1:$HTTP_PORT" GEODB=geo.mmdb
	# cdnsteer's zone is signed (DO=0 answers are the same bytes as
	# unsigned); the DO=1 run measures what the signatures cost.
	if ! compgen -G "$d/keys/K*.key" >/dev/null; then
		"$WORK/bin/cdnsteer" keygen -zone "$ZONE." -dir "$d/keys" >"$d/keygen.log" 2>&1 || die "cdnsteer keygen failed: $(cat "$d/keygen.log")"
	fi
	printf '[zone.dnssec]\nkeys = "keys"\n' >>"$d/cdnsteer.toml"
	if wants gdnsd; then
		d=$WORK/gdnsd
		mkdir -p "$d/zones" "$d/run" "$d/state"
		render "$tmpl/gdnsd.config" "$d/config" "DIR=$d" "ADDR=127.0.0.1:$(port_of gdnsd)" "THREADS=$PEER_UDP_THREADS"
		zonefile "$stream_gdnsd" "$d/zones/$ZONE"
		gdnsd -c "$d" checkconf >"$d/checkconf.log" 2>&1 || die "gdnsd checkconf failed: $(tail -5 "$d/checkconf.log")"
	fi
	if wants knot; then
		d=$WORK/knot
		mkdir -p "$d/zones" "$d/run" "$d/db"
		render "$tmpl/knot.conf" "$d/knot.conf" "DIR=$d" "ADDR=127.0.0.1@$(port_of knot)" "THREADS=$PEER_UDP_THREADS"
		zonefile "$stream_knot" "$d/zones/$ZONE"
		knotc -c "$d/knot.conf" conf-check >"$d/checkconf.log" 2>&1 || die "knot conf-check failed: $(tail -5 "$d/checkconf.log")"
	fi
	wants pdns || return 0
	d=$WORK/pdns
	mkdir -p "$d/zones" "$d/run"
	render "$tmpl/pdns.conf" "$d/pdns.conf" "DIR=$d" "ADDR=127.0.0.1:$(port_of pdns)"
	render "$tmpl/named.conf" "$d/named.conf" "DIR=$d"
	zonefile "$stream_pdns" "$d/zones/$ZONE"
}
setup_configs

# ------------------------------------------------------------ servers

SPID= # pid of the server running now

start_server() { # start_server NAME ROUND
	local s=$1 d=$WORK/$1 port
	port=$(port_of "$s")
	local logf=$d/server-r$2.log
	case $s in
	cdnsteer) (cd "$d" && exec taskset -c "$SERVER_CPU" "$WORK/bin/cdnsteer" serve -config "$d/cdnsteer.toml") >"$logf" 2>&1 &
		;;
	gdnsd) taskset -c "$SERVER_CPU" gdnsd -c "$d" start >"$logf" 2>&1 & ;;
	knot) taskset -c "$SERVER_CPU" knotd -c "$d/knot.conf" >"$logf" 2>&1 & ;;
	pdns) taskset -c "$SERVER_CPU" pdns_server --config-dir="$d" >"$logf" 2>&1 & ;;
	esac
	SPID=$!
	PIDS+=("$SPID")
	local i
	for i in $(seq 100); do
		if ! kill -0 "$SPID" 2>/dev/null; then
			die "$s exited at start-up; log $logf: $(tail -5 "$logf")"
		fi
		if dig +norec +time=1 +tries=1 -p "$port" @127.0.0.1 "$ZONE." SOA 2>/dev/null | grep -q 'status: NOERROR'; then
			# the process answering must be ours
			[[ $(readlink "/proc/$SPID/exe") == *"$s"* || $s == knot ]] || die "$s: pid $SPID is not the server"
			return 0
		fi
		sleep 0.2
	done
	die "$s does not answer on 127.0.0.1:$port after 20 s; log $logf: $(tail -5 "$logf")"
}

stop_server() {
	stop_pids "$SPID"
	forget "$SPID"
	SPID=
}

# ------------------------------------------------------------ correctness

WARNINGS=()
# verify NAME checks the server's answers with dig before it is measured;
# anything wrong ends the run (exit 2), since its numbers would mean
# nothing.
verify() {
	local s=$1 port out
	port=$(port_of "$s")
	local dig=(dig +norec +time=2 +tries=1 -p "$port" @127.0.0.1)
	bad() { die "$s (127.0.0.1:$port) answers wrongly: $*"; }

	out=$("${dig[@]}" "www.$ZONE." A) || bad "no reply to www.$ZONE A"
	grep -q 'status: NOERROR' <<<"$out" || bad "www.$ZONE A: $(grep -o 'status: [A-Z]*' <<<"$out")"
	grep -q 'flags: qr aa' <<<"$out" || bad "www.$ZONE A: no aa flag"
	[[ $(awk '$1 == "www.'$ZONE'." && $4 == "A" { print $5 }' <<<"$out") == 192.0.2.80 ]] || bad "www.$ZONE A is not 192.0.2.80"

	out=$("${dig[@]}" "bench-nx.$ZONE." A) || bad "no reply to an NXDOMAIN query"
	grep -q 'status: NXDOMAIN' <<<"$out" || bad "bench-nx.$ZONE A: $(grep -o 'status: [A-Z]*' <<<"$out"), want NXDOMAIN"
	awk '$4 == "SOA"' <<<"$out" | grep -q . || bad "NXDOMAIN without SOA in authority"

	local t
	for t in A AAAA; do
		out=$("${dig[@]}" "$STEERED." $t +subnet=198.51.100.0/24) || bad "no reply to $STEERED $t"
		grep -q 'status: NOERROR' <<<"$out" || bad "$STEERED $t: $(grep -o 'status: [A-Z]*' <<<"$out")"
		grep -q 'flags: qr aa' <<<"$out" || bad "$STEERED $t: no aa flag"
		local cn
		cn=$(awk '$1 == "'$STEERED'." && $4 == "CNAME" { print $5 }' <<<"$out")
		[[ -n $cn && " $TARGETS " == *" $cn "* ]] || bad "$STEERED $t: want one CNAME to a CDN, got '$(awk '!/^;/ && NF' <<<"$out" | grep -v '^$' | tr '\n' ' ')'"
	done

	# spread: 80 queries, each from its own random /24
	local args=() i
	for i in $(seq 80); do args+=("$STEERED." A "+subnet=$((RANDOM % 223 + 1)).$((RANDOM % 256)).$((RANDOM % 256)).0/24"); done
	out=$("${dig[@]}" +noall +answer +comments "${args[@]}") || bad "no reply to the spread queries"
	local n dist
	n=$(awk '$4 == "CNAME"' <<<"$out" | wc -l)
	((n == 80)) || bad "spread: $n of 80 steered queries answered with a CNAME"
	dist=$(awk '$4 == "CNAME" { c[$5]++ } END { for (t in c) printf "%s=%d ", t, c[t] }' <<<"$out")
	for t in $(awk '$4 == "CNAME" { print $5 }' <<<"$out" | sort -u); do
		[[ " $TARGETS " == *" $t "* ]] || bad "spread: unknown target $t"
	done
	local distinct
	distinct=$(awk '$4 == "CNAME" { print $5 }' <<<"$out" | sort -u | wc -l)
	if [[ $s == knot ]]; then
		((distinct == 1)) || bad "static CNAME answered with $distinct targets"
	else
		((distinct >= 3)) || bad "80 client subnets got only $distinct CDN(s): $dist"
	fi
	log "$s answers correctly; 80 subnets -> $dist"

	if [[ $s == cdnsteer ]]; then
		# ECS: echoed, and with a scope no wider than the /24 the answer
		# was picked for (RFC 7871 §7.2.1; README: "so it says 24").
		local scopes
		scopes=$(grep -o 'CLIENT-SUBNET: [0-9./]*' <<<"$out" | awk -F/ '{ print $NF }' | sort -n | uniq -c | awk '{ printf "/%s×%s ", $2, $1 }')
		[[ -n $scopes ]] || bad "ECS not echoed on steered answers"
		local narrow
		narrow=$(grep -o 'CLIENT-SUBNET: [0-9./]*' <<<"$out" | awk -F/ '$NF < 24' | wc -l)
		if ((narrow > 0)); then
			WARNINGS+=("cdnsteer: $narrow of 80 steered ECS answers carry a SCOPE PREFIX-LENGTH shorter than /24 (scopes seen: ${scopes% }), although the CDN is picked per /24: a resolver may reuse one /24's CNAME for the whole wider network")
		fi
		if ! bash "$repo/scripts/smoke.sh" 127.0.0.1 "$port" "$ZONE." >"$WORK/smoke.log" 2>&1; then
			die "scripts/smoke.sh fails against cdnsteer: $(grep '^FAIL' "$WORK/smoke.log" | tr '\n' ' ')"
		fi
		log "cdnsteer passes scripts/smoke.sh"
	fi
}

# postcheck NAME ROUND: after the load, the server still answers right.
postcheck() {
	local s=$1 port out cn
	port=$(port_of "$s")
	out=$(dig +norec +time=2 +tries=1 -p "$port" @127.0.0.1 "$STEERED." A +subnet=203.0.113.0/24 "bench-nx2.$ZONE." A 2>&1) ||
		die "$s stopped answering after the load of round $2"
	cn=$(awk '$1 == "'$STEERED'." && $4 == "CNAME" { print $5 }' <<<"$out")
	[[ -n $cn && " $TARGETS " == *" $cn "* ]] || die "$s answers $STEERED wrongly after the load of round $2: $(grep -v '^;' <<<"$out" | grep . | tr '\n' ' ')"
	grep -q 'status: NXDOMAIN' <<<"$out" || die "$s no longer answers NXDOMAIN after the load of round $2"
}

# ------------------------------------------------------------ measuring

RAW=$WORK/raw.tsv # round server metric value
: >"$RAW"

stat_of() { # stat_of FILE 'Queries per second:' -> its first number
	awk -v k="$2" 'index($0, k) { sub(/.*:[ \t]*/, ""); print $1 + 0; exit }' "$1"
}

# check_rcodes NAME FILE: the mix should be ~95 % NOERROR, ~5 % NXDOMAIN;
# anything else (SERVFAIL, FORMERR, REFUSED ...) is worth a warning.
check_rcodes() {
	local line
	line=$(grep 'Response codes:' "$2" | sed 's/.*codes:[ \t]*//')
	[[ -z $line ]] && return 0
	local other
	other=$(tr ',' '\n' <<<"$line" | awk '$1 != "NOERROR" && $1 != "NXDOMAIN" && NF { printf "%s %s ", $1, $2 }')
	[[ -z $other ]] || WARNINGS+=("$1: unexpected response codes under load: $other($3)")
	local nx
	nx=$(tr ',' '\n' <<<"$line" | awk '$1 == "NXDOMAIN" { gsub(/[()%]/, "", $3); print $3 }')
	if [[ -n $nx ]] && awk -v x="$nx" 'BEGIN { exit !(x < 3 || x > 7) }'; then
		WARNINGS+=("$1: NXDOMAIN share $nx % under load, want ~5 % ($3)")
	fi
}

# full NAME ROUND FILE KIND: full-speed run; records qps, lost %, average
# latency and CPU µs per completed query.
full() {
	local s=$1 r=$2 file=$3 kind=$4 port out
	port=$(port_of "$s")
	out=$WORK/$s/full-$kind-r$r.txt
	local t0 t1 w0 w1
	w0=$(now)
	t0=$(proc_ticks "$SPID")
	timeout -k 5 $((DURATION + DNSPERF_TIMEOUT + 30)) taskset -c "$CLIENT_CPU" \
		"$DNSPERF" -B -b "$DNSPERF_BUF" -s 127.0.0.1 -p "$port" -d "$file" -c "$CLIENTS" -q "$OUTSTANDING" -l "$DURATION" -t "$DNSPERF_TIMEOUT" \
		>"$out.all" 2>&1 || true
	t1=$(proc_ticks "$SPID")
	w1=$(now)
	local ut st ticks
	read -r ut st <<<"$(awk -v a="$t0" -v b="$t1" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2] }')"
	ticks=$((ut + st))
	grep -v '^\[Timeout\]' "$out.all" >"$out" || true
	local timeouts
	timeouts=$(grep -c '^\[Timeout\]' "$out.all" || true)
	rm -f "$out.all"
	local ndone qps lost lat
	ndone=$(stat_of "$out" 'Queries completed:')
	qps=$(stat_of "$out" 'Queries per second:')
	lost=$(awk '/Queries lost:/ { gsub(/[()%]/, "", $4); print $4 + 0 }' "$out")
	lat=$(stat_of "$out" 'Average Latency (s):')
	[[ -n $ndone && -n $qps ]] || die "dnsperf failed against $s: $(tail -5 "$out")"
	((ndone > 0)) || die "$s answered no query at full speed ($kind)"
	local cpu
	cpu=$(awk -v d=$ticks -v hz="$CLK_TCK" -v n="$ndone" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')
	local busy
	busy=$(awk -v d=$ticks -v hz="$CLK_TCK" -v w0="$w0" -v w1="$w1" 'BEGIN { printf "%.1f", d / hz / (w1 - w0) * 100 }')
	record "$r" "$s" "cpu_$kind" "$cpu"
	record "$r" "$s" "busy_$kind" "$busy"
	record "$r" "$s" "cpu_user_$kind" "$(awk -v d="$ut" -v hz="$CLK_TCK" -v n="$ndone" 'BEGIN { printf "%.3f", d / hz * 1e6 / n }')"
	if [[ $kind == ecs ]]; then
		record "$r" "$s" qps "$qps"
		record "$r" "$s" lost "$lost"
		record "$r" "$s" avg_ms "$(awk -v l="$lat" 'BEGIN { printf "%.4f", l * 1000 }')"
	elif [[ $kind == plain ]]; then
		record "$r" "$s" qps_plain "$qps"
		record "$r" "$s" lost_plain "$lost"
	fi
	check_rcodes "$s" "$out" "full speed, $kind, round $r"
	log "  $s full speed $kind: $(printf '%.0f' "$qps") qps, lost $lost %, avg $(awk -v l="$lat" 'BEGIN { printf "%.3f", l * 1000 }') ms, CPU $cpu µs/query (user $ut + sys $st ticks, core $busy % busy, $ndone answers${timeouts:+, $timeouts timeouts})"
}

# rate NAME ROUND QPS: fixed offered rate with -v; records the p99 latency
# in ms over every query sent (a lost query counts as slower than any)
# and the lost %.
rate() {
	local s=$1 r=$2 q=$3 port out
	port=$(port_of "$s")
	out=$WORK/$s/rate$q-r$r.txt
	local prio=()
	if [[ $LATENCY_PRIO == rr ]]; then
		rt_prio rr "$SPID"
		prio=("${RR[@]}")
	fi
	timeout -k 5 $((RATE_DURATION + DNSPERF_TIMEOUT + 30)) "${prio[@]}" taskset -c "$CLIENT_CPU" \
		"$DNSPERF" -B -b "$DNSPERF_BUF" -s 127.0.0.1 -p "$port" -d "$WORK/q-ecs.bin" -c "$CLIENTS" -q "$OUTSTANDING" -Q "$q" -l "$RATE_DURATION" -t "$DNSPERF_TIMEOUT" -v \
		>"$out.v" 2>&1 || true
	if [[ $LATENCY_PRIO == rr ]]; then
		rt_prio normal "$SPID"
	fi
	grep -v -e '^> ' -e '^\[Timeout\]' "$out.v" >"$out" || true
	local sent lost achieved p99
	sent=$(stat_of "$out" 'Queries sent:')
	lost=$(awk '/Queries lost:/ { gsub(/[()%]/, "", $4); print $4 + 0 }' "$out")
	achieved=$(stat_of "$out" 'Queries per second:')
	[[ -n $sent ]] && ((sent > 0)) || die "dnsperf failed against $s at $q qps: $(tail -5 "$out")"
	# latencies are the last field of the "> RCODE binary input SECONDS"
	# lines; a lost query's line is "> T binary input"
	p99=$(awk '/^> / && $2 != "T" && NF == 5 { print $NF }' "$out.v" | sort -g | awk -v sent="$sent" '
		{ v[NR] = $1 }
		END {
			k = int(sent * 0.99); if (k < sent * 0.99) k++
			if (k > NR) print "lost"; else printf "%.4f\n", v[k] * 1000
		}')
	rm -f "$out.v"
	record "$r" "$s" "p99_$q" "$p99"
	record "$r" "$s" "lost_$q" "$lost"
	record "$r" "$s" "qps_$q" "$achieved"
	check_rcodes "$s" "$out" "$q qps, round $r"
	log "  $s at $q qps: p99 $p99 ms, lost $lost %, achieved $(printf '%.0f' "$achieved") qps"
}

rss_mib() {
	awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"
}

# ------------------------------------------------------------ the rounds

CDNSTEER_VERSION=$("$WORK/bin/cdnsteer" version 2>/dev/null | head -1 || true)
COMMIT=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "?")
if [[ -n $(git -C "$repo" status --porcelain 2>/dev/null | head -1) ]]; then COMMIT="$COMMIT+dirty"; fi

log "verifying every server's answers"
for s in "${SERVER_LIST[@]}"; do
	start_server "$s" 0
	verify "$s"
	if [[ $s == cdnsteer ]]; then
		grep -q 'GeoIP database loaded' "$WORK/cdnsteer/server-r0.log" || die "cdnsteer did not log loading the country database: $(tail -3 "$WORK/cdnsteer/server-r0.log")"
		NETWORKS=$(grep -o 'networks=[0-9]*' "$WORK/cdnsteer/server-r0.log" | head -1 | cut -d= -f2)
	fi
	stop_server
done

nsrv=${#SERVER_LIST[@]}
per_slot=$((DURATION * 2 + RATE_DURATION * ${#RATE_LIST[@]} + 4 * DNSPERF_TIMEOUT + 6))
log "measuring: $ROUNDS rounds × $nsrv servers, about $((ROUNDS * nsrv * per_slot / 60 + 1)) min"
for r in $(seq "$ROUNDS"); do
	order=()
	for i in $(seq 0 $((nsrv - 1))); do order+=("${SERVER_LIST[$(((i + r - 1) % nsrv))]}"); done
	log "round $r/$ROUNDS: ${order[*]}"
	for s in "${order[@]}"; do
		start_server "$s" "$r"
		sleep 1
		for q in "${RATE_LIST[@]}"; do
			rate "$s" "$r" "$q"
			sleep 1
		done
		full "$s" "$r" "$WORK/q-ecs.bin" ecs
		sleep 1
		full "$s" "$r" "$WORK/q-plain.bin" plain
		if [[ $s == cdnsteer ]]; then
			sleep 1
			full "$s" "$r" "$WORK/q-do.bin" do
			sleep 1
			full "$s" "$r" "$WORK/q-ecs6.bin" ecs6
		fi
		kill -0 "$SPID" 2>/dev/null || die "$s died under load; log $WORK/$s/server-r$r.log"
		postcheck "$s" "$r"
		record "$r" "$s" rss "$(rss_mib "$SPID")"
		log "  $s peak RSS $(rss_mib "$SPID") MiB"
		stop_server
	done
done

# ------------------------------------------------------------ the table

# median, rounds_of: lib/bench.sh.
ratio() { # ratio VALUE BASE
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "lost" || b == "lost" || b + 0 == 0) { print ""; exit }
		printf "%.2f×", a / b }'
}
has_gdnsd=0
[[ " ${SERVER_LIST[*]} " == *" gdnsd "* ]] && has_gdnsd=1

cell() { # cell NAME METRIC FORMAT [LOSTMETRIC]
	local s=$1 m=$2 fmt=$3 v b rt txt
	v=$(median "$s" "$m")
	if [[ -z $v ]]; then
		echo "—"
		return
	fi
	if [[ $v == lost ]]; then
		txt="> $DNSPERF_TIMEOUT s"
	else
		txt=$(awk -v v="$v" -v f="$fmt" 'BEGIN { printf f, v }')
	fi
	if [[ -n ${4:-} ]]; then # a fixed-rate p99: say what was lost and achieved
		local l a q=${m#p99_}
		l=$(median "$s" "$4")
		if [[ -n $l ]] && awk -v l="$l" 'BEGIN { exit !(l >= 0.1) }'; then
			txt="$txt, $(awk -v l="$l" 'BEGIN { printf (l >= 10 ? "%.0f" : "%.1f"), l }') % lost"
		fi
		a=$(median "$s" "qps_$q")
		if [[ -n $a ]] && awk -v a="$a" -v q="$q" 'BEGIN { exit !(a < 0.95 * q) }'; then
			txt="$txt, $(awk -v a="$a" 'BEGIN { printf "%.0f", a }') qps answered"
		fi
	fi
	if ((has_gdnsd)); then
		b=$(median gdnsd "$m")
		rt=$(ratio "$v" "$b")
		[[ -n $rt ]] && txt="$txt ($rt)"
	fi
	echo "$txt"
}

label() {
	case $1 in
	cdnsteer) echo "${CDNSTEER_VERSION:-cdnsteer} ($COMMIT), policy + country DB" ;;
	gdnsd) echo "gdnsd $(vers gdnsd), weighted plugin" ;;
	knot) echo "Knot DNS $(vers knot), static CNAME" ;;
	pdns) echo "PowerDNS $(vers pdns-server), LUA record, packet cache" ;;
	esac
}

r20=${RATE_LIST[0]}
r50=${RATE_LIST[1]:-}
k() { awk -v q="$1" 'BEGIN { printf (q % 1000 ? "%.1fk" : "%dk"), q / 1000 }'; }
table=$WORK/table.md
{
	printf '| server | qps | server core busy | lost %% | avg latency | p99 @%s qps | ' "$(k "$r20")"
	[[ -n $r50 ]] && printf 'p99 @%s qps | ' "$(k "$r50")"
	printf 'CPU µs/query plain | CPU µs/query ECS | peak RSS |\n'
	printf '|---|---|---|---|---|---|'
	[[ -n $r50 ]] && printf -- '---|'
	printf -- '---|---|---|\n'
	for s in "${SERVER_LIST[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | ' "$(label "$s")" \
			"$(cell "$s" qps '%.0f')" "$(median "$s" busy_ecs | awk '{ printf "%.0f %%", $1 }')" \
			"$(cell "$s" lost '%.2f')" "$(cell "$s" avg_ms '%.3f ms')" \
			"$(cell "$s" "p99_$r20" '%.3f ms' "lost_$r20")"
		[[ -n $r50 ]] && printf '%s | ' "$(cell "$s" "p99_$r50" '%.3f ms' "lost_$r50")"
		printf '%s | %s | %s |\n' "$(cell "$s" cpu_plain '%.2f')" "$(cell "$s" cpu_ecs '%.2f')" "$(cell "$s" rss '%.1f MiB')"
	done
} >"$table"

# ------------------------------------------------------------ the targets

verdicts=$WORK/verdicts.txt
: >"$verdicts"
fails=0
verdict() { # verdict OK TEXT
	if [[ $1 == 1 ]]; then
		echo "PASS $2" >>"$verdicts"
	else
		echo "FAIL $2" >>"$verdicts"
		fails=$((fails + 1))
	fi
}
if [[ " ${SERVER_LIST[*]} " == *" cdnsteer "* ]]; then
	c=$(median cdnsteer cpu_ecs)
	if ((has_gdnsd)); then
		g=$(median gdnsd cpu_ecs)
		ok=$(awk -v c="$c" -v g="$g" 'BEGIN { print (c <= g) ? 1 : 0 }')
		verdict "$ok" "cpu: cdnsteer $(printf '%.2f' "$c") µs/query with ECS = $(ratio "$c" "$g") gdnsd's $(printf '%.2f' "$g") (target ≤ 1.00×; rounds cdnsteer: $(rounds_of cdnsteer cpu_ecs); gdnsd: $(rounds_of gdnsd cpu_ecs))"
	else
		verdict 0 "cpu: gdnsd not measured (SERVERS), no ratio"
	fi
	l=$(median cdnsteer lost)
	ok=$(awk -v l="$l" 'BEGIN { print (l == 0) ? 1 : 0 }')
	verdict "$ok" "loss: cdnsteer lost $l % at full speed, $(printf '%.0f' "$(median cdnsteer qps)") qps offered by one dnsperf core (target 0; rounds: $(rounds_of cdnsteer lost) %)"
	if [[ -n $r50 ]]; then
		p=$(median cdnsteer "p99_$r50")
		ok=$(awk -v p="$p" 'BEGIN { print (p != "lost" && p <= 1.0) ? 1 : 0 }')
		verdict "$ok" "p99: cdnsteer p99 $p ms at $(k "$r50") qps (target ≤ 1 ms; rounds: $(rounds_of cdnsteer "p99_$r50") ms; lost $(rounds_of cdnsteer "lost_$r50") %)"
	fi
	c=$(median cdnsteer cpu_ecs)
	d=$(median cdnsteer cpu_do)
	ok=$(awk -v c="$c" -v d="$d" 'BEGIN { print (d <= 1.05 * c) ? 1 : 0 }')
	verdict "$ok" "dnssec: cdnsteer $(printf '%.2f' "$d") µs/query with DO=1 (signed answers, NSEC proofs) = $(ratio "$d" "$c") the same workload with DO=0 (target ≤ 1.05×; rounds DO=1: $(rounds_of cdnsteer cpu_do); DO=0: $(rounds_of cdnsteer cpu_ecs))"
	d=$(median cdnsteer cpu_ecs6)
	ok=$(awk -v c="$c" -v d="$d" 'BEGIN { print (d <= 1.05 * c) ? 1 : 0 }')
	verdict "$ok" "ecs6: cdnsteer $(printf '%.2f' "$d") µs/query with IPv6 client subnets = $(ratio "$d" "$c") the same workload with IPv4 ones (target ≤ 1.05×; rounds IPv6: $(rounds_of cdnsteer cpu_ecs6); IPv4: $(rounds_of cdnsteer cpu_ecs))"
	m=$(median cdnsteer rss)
	ok=$(awk -v m="$m" 'BEGIN { print (m <= 64) ? 1 : 0 }')
	verdict "$ok" "rss: cdnsteer peak RSS $m MiB with a ${NETWORKS:-?}-network country database loaded (target ≤ 64 MiB; rounds: $(rounds_of cdnsteer rss))"
fi

elapsed=$(($(date +%s) - start_time))
cmdline="ROUNDS=$ROUNDS DURATION=$DURATION"
for v in RATE_DURATION:5 RATES:"20000 50000" SERVERS:"cdnsteer gdnsd knot pdns" PEER_UDP_THREADS:1 CLIENTS:4 OUTSTANDING:500 NQUERIES:200000 LATENCY_PRIO:rr; do
	name=${v%%:*} def=${v#*:}
	def=${def//\"/}
	[[ ${!name} == "$def" ]] || cmdline="$cmdline $name=\"${!name}\""
done
cmdline="$cmdline scripts/bench.sh"
{
	echo "## Benchmark: cdnsteer and peers (scripts/bench.sh)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu 2>/dev/null | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }') ×$ncpu, Linux $(uname -r)."
	echo "Server pinned to core $SERVER_CPU, dnsperf $("$DNSPERF" -h 2>&1 | awk '/^Version/ { print $2; exit }') to core $CLIENT_CPU; loopback UDP."
	echo "Medians of $ROUNDS interleaved rounds; in brackets, the ratio to gdnsd."
	echo "Workload: $NQUERIES-query file from scripts/benchquery, 80 % steered A with an ECS /24 from random subnets, 10 % steered AAAA, 5 % static A, 5 % NXDOMAIN, all with EDNS."
	echo "qps, lost %, average latency and CPU µs/query ECS: full speed (dnsperf -B -c $CLIENTS -q $OUTSTANDING -l $DURATION -t $DNSPERF_TIMEOUT);"
	echo "CPU µs/query plain: the same at full speed without ECS; CPU = server utime+stime over the run ÷ answered queries."
	echo "p99: fixed offered rate (-Q, ${RATE_DURATION} s, ECS workload), over every query sent, a lost query counting as slower than any$([[ $LATENCY_PRIO == rr ]] && echo "; server and dnsperf SCHED_RR during these runs, so that other work on the machine does not make the tail")."
	echo "Peak RSS: VmHWM at the end of a server's turn (start-up, database load and all runs). gdnsd and Knot with $PEER_UDP_THREADS UDP thread(s); configs in scripts/bench/."
	echo
	cat "$table"
	echo
	echo "Targets (cdnsteer):"
	echo
	sed 's/^/    /' "$verdicts"
	if ((${#WARNINGS[@]})); then
		echo
		echo "Warnings:"
		echo
		printf '    %s\n' "${WARNINGS[@]}" | awk '!seen[$0]++'
	fi
	echo
	echo "Command: \`$cmdline\` ($((elapsed / 60)) min $((elapsed % 60)) s)"
} >"$WORK/results.md"

cp "$WORK/results.md" "$RESULTS"
echo
cat "$WORK/results.md"
echo
echo "Results written to $RESULTS; raw per-round values: $([[ ${KEEP:-} == 1 ]] && echo "$RAW" || echo "KEEP=1 keeps $RAW")"

# The other front-ends measure with their own load generators and peers,
# each printing its own table: DNS over TCP (dnsperf -m tcp, next to Knot
# and gdnsd) and content steering (wrk, next to nginx). EXTRA="" skips them.
for extra in ${EXTRA-tcp steering}; do
	echo
	echo "=== scripts/bench-$extra.sh"
	bash "$here/bench-$extra.sh" "$WORK/results-$extra.md" || { echo "bench-$extra.sh: exit $?"; fails=$((fails + 1)); }
	[[ -f $WORK/results-$extra.md ]] && cat "$WORK/results-$extra.md" >>"$RESULTS"
done
((fails == 0)) && exit 0
exit 1
