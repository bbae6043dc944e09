#!/usr/bin/env bash
# bench-tcp.sh — DNS over TCP: cdnsteer next to Knot DNS and gdnsd (issue
# 22), with the same zone and configs as scripts/bench.sh (scripts/bench/).
#
#   scripts/bench-tcp.sh [RESULTS_FILE]
#
# Each server serves live.example.com on loopback, pinned to core
# SERVER_CPU; dnsperf -m tcp -B on core CLIENT_CPU keeps CONNS connections
# open with OUTSTANDING queries in flight over them, for DURATION s, with
# the query files of scripts/benchquery (80 % steered A with an ECS /24,
# 10 % steered AAAA, 5 % static A, 5 % NXDOMAIN; EDNS on all):
#
#   - plain: DO=0;
#   - DO=1: the same with the DO bit. cdnsteer's zone is signed (a
#     `cdnsteer keygen` key, as in bench.sh), so its answers carry RRSIGs
#     and NSEC proofs; Knot's and gdnsd's zones are not, so theirs are the
#     DO=0 answers with DO echoed (a ceiling, not a like-for-like cost).
#
# Per run: answers per second, lost %, average latency, and the server's
# CPU (utime+stime from /proc) per answer. Servers run one after another,
# ROUNDS times in rotating order; the table holds medians.
#
# CONNS is 16 by default: every dnsperf connection comes from 127.0.0.1,
# and cdnsteer keeps at most 16 TCP connections per client address (RFC
# 7766 §6.2.2; dnsserver/tcplimit.go), refusing the rest — with 100, 84 %
# of the queries were lost.
#
# Environment: ROUNDS=3 DURATION=10 CONNS=16 OUTSTANDING=1000
# SERVERS="cdnsteer knot gdnsd" BASE_PORT=5501 (HTTP BASE_PORT+1000)
# SERVER_CPU=0 CLIENT_CPU=1 NQUERIES=200000 WORK=DIR (kept) KEEP=1.
# Loopback only; stops only the processes it started.
# Exit status: 0 measured, 2 setup failed or a server answered wrongly.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/procs.sh"
. "$here/lib/bench.sh"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-16}
OUTSTANDING=${OUTSTANDING:-1000}
SERVERS=${SERVERS:-"cdnsteer knot gdnsd"}
BASE_PORT=${BASE_PORT:-5501}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
NQUERIES=${NQUERIES:-200000}
ZONE=live.example.com

need_numbers ROUNDS DURATION CONNS OUTSTANDING BASE_PORT SERVER_CPU CLIENT_CPU NQUERIES
read -ra SERVER_LIST <<<"$SERVERS"
for s in "${SERVER_LIST[@]}"; do
	case $s in cdnsteer | knot | gdnsd) ;; *) die "unknown server '$s' (cdnsteer knot gdnsd)" ;; esac
done
wants() { [[ " ${SERVER_LIST[*]} " == *" $1 "* ]]; }

repo=$(cd "$here/.." && pwd)
tmpl=$here/bench
RESULTS=${1:-bench-tcp-results.md}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac

need_two_cores

port_of() {
	case $1 in
	cdnsteer) echo "$BASE_PORT" ;;
	knot) echo $((BASE_PORT + 1)) ;;
	gdnsd) echo $((BASE_PORT + 2)) ;;
	esac
}
HTTP_PORT=$((BASE_PORT + 1000))
make_work cdnsteer-bench-tcp
PIDS=()
cleanup() {
	stop_pids "${PIDS[@]}"
	restore_policy_rc
	drop_work
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Debian packages missing, their daemons kept from starting on port 53
# (apt_install).
need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v dig >/dev/null || need+=(bind9-dnsutils)
if wants knot; then command -v knotd >/dev/null || need+=(knot); fi
if wants gdnsd; then command -v gdnsd >/dev/null || need+=(gdnsd); fi
((${#need[@]} == 0)) || apt_install "$WORK/apt.log" "${need[@]}"
for c in go taskset timeout ss dig dnsperf awk getconf; do command -v $c >/dev/null || die "$c not found"; done
for p in $BASE_PORT $((BASE_PORT + 1)) $((BASE_PORT + 2)) $HTTP_PORT; do
	! port_busy "$p" || die "port $p is in use; set BASE_PORT"
done

log "building; work directory $WORK"
mkdir -p "$WORK/bin"
(cd "$repo" && go build -o "$WORK/bin/cdnsteer" ./cmd/cdnsteer && go build -o "$WORK/bin/benchquery" ./scripts/benchquery) || die "go build failed"
cp "$(command -v dnsperf)" "$WORK/bin/dnsperf"
DNSPERF=$WORK/bin/dnsperf
CLK_TCK=$(getconf CLK_TCK)
mkdir -p "$WORK/cdnsteer"
[[ -s $WORK/cdnsteer/geo.mmdb ]] || "$WORK/bin/benchquery" -geodb "$WORK/cdnsteer/geo.mmdb" -geodb-only || die "benchquery -geodb failed"
"$WORK/bin/benchquery" -o "$WORK/q-plain.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=true || die "benchquery failed"
"$WORK/bin/benchquery" -o "$WORK/q-do.bin" -n "$NQUERIES" -zone "$ZONE." -ecs=true -do || die "benchquery failed"

zonefile() { awk -v rec="$1" '$0 == "@STREAM@" { print rec; next } { print }' "$tmpl/zone.$ZONE" >"$2"; }

d=$WORK/cdnsteer
render "$tmpl/cdnsteer.toml" "$d/cdnsteer.toml" "DNS=127.0.0.1:$(port_of cdnsteer)" "HTTP=127.0.0.1:$HTTP_PORT" GEODB=geo.mmdb
compgen -G "$d/keys/K*.key" >/dev/null || "$WORK/bin/cdnsteer" keygen -zone "$ZONE." -dir "$d/keys" >"$d/keygen.log" 2>&1 || die "keygen failed"
printf '[zone.dnssec]\nkeys = "keys"\n' >>"$d/cdnsteer.toml"
if wants knot; then
	d=$WORK/knot
	mkdir -p "$d/zones" "$d/run" "$d/db"
	render "$tmpl/knot.conf" "$d/knot.conf" "DIR=$d" "ADDR=127.0.0.1@$(port_of knot)" THREADS=1
	zonefile 'stream 20 IN CNAME live.akamaized.example.net.' "$d/zones/$ZONE"
fi
if wants gdnsd; then
	d=$WORK/gdnsd
	mkdir -p "$d/zones" "$d/run" "$d/state"
	render "$tmpl/gdnsd.config" "$d/config" "DIR=$d" "ADDR=127.0.0.1:$(port_of gdnsd)" THREADS=1
	zonefile 'stream 20 DYNC weighted!stream' "$d/zones/$ZONE"
fi

SPID=
start_server() {
	local s=$1 d=$WORK/$1 port i
	port=$(port_of "$s")
	case $s in
	cdnsteer) (cd "$d" && exec taskset -c "$SERVER_CPU" "$WORK/bin/cdnsteer" serve -config "$d/cdnsteer.toml") >"$d/server.log" 2>&1 & ;;
	knot) taskset -c "$SERVER_CPU" knotd -c "$d/knot.conf" >"$d/server.log" 2>&1 & ;;
	gdnsd) taskset -c "$SERVER_CPU" gdnsd -c "$d" start >"$d/server.log" 2>&1 & ;;
	esac
	SPID=$!
	PIDS+=("$SPID")
	for ((i = 0; i < 100; i++)); do
		kill -0 "$SPID" 2>/dev/null || die "$s exited at start-up: $(tail -3 "$d/server.log")"
		if dig +tcp +norec +time=1 +tries=1 -p "$port" @127.0.0.1 "stream.$ZONE." A +subnet=198.51.100.0/24 2>/dev/null | grep -q 'IN[[:space:]]*CNAME'; then
			return 0
		fi
		sleep 0.2
	done
	die "$s does not answer over TCP on 127.0.0.1:$port"
}
stop_server() {
	stop_pids "$SPID"
	forget "$SPID"
	SPID=
}

RAW=$WORK/raw.tsv
: >"$RAW"
run() { # run SERVER ROUND KIND
	local s=$1 r=$2 kind=$3 out c0 c1 n
	out=$WORK/$s/tcp-$kind-r$r.txt
	c0=$(cpu_ticks "$SPID")
	timeout -k 5 $((DURATION + 40)) taskset -c "$CLIENT_CPU" "$DNSPERF" -m tcp -B -s 127.0.0.1 -p "$(port_of "$s")" \
		-d "$WORK/q-$kind.bin" -c "$CONNS" -q "$OUTSTANDING" -l "$DURATION" -t 5 >"$out" 2>&1 || true
	c1=$(cpu_ticks "$SPID")
	n=$(awk '/Queries completed:/ { print $3; exit }' "$out")
	[[ -n $n ]] && ((n > 0)) || die "$s answered nothing over TCP ($kind): $(tail -3 "$out")"
	record "$r" "$s" "qps_$kind" "$(awk '/Queries per second:/ { print $4; exit }' "$out")"
	record "$r" "$s" "lost_$kind" "$(awk '/Queries lost:/ { gsub(/[()%]/, "", $4); print $4; exit }' "$out")"
	record "$r" "$s" "lat_$kind" "$(awk '/Average Latency/ { printf "%.3f", $4 * 1000; exit }' "$out")"
	record "$r" "$s" "cpu_$kind" "$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / hz * 1e6 / n }')"
	log "  $s $kind: $(awk '/Queries per second:/ { printf "%.0f", $4; exit }' "$out") qps, lost $(awk '/Queries lost:/ { print $4; exit }' "$out")"
}

nsrv=${#SERVER_LIST[@]}
for r in $(seq "$ROUNDS"); do
	for i in $(seq 0 $((nsrv - 1))); do
		s=${SERVER_LIST[$(((i + r - 1) % nsrv))]}
		log "round $r: $s"
		start_server "$s"
		sleep 1
		run "$s" "$r" plain
		run "$s" "$r" do
		kill -0 "$SPID" 2>/dev/null || die "$s died under load"
		stop_server
	done
done

# median, vers: lib/bench.sh.
label() {
	case $1 in
	cdnsteer) echo "cdnsteer ($(git -C "$repo" rev-parse --short HEAD 2>/dev/null)), policy + country DB, signed zone" ;;
	knot) echo "Knot DNS $(vers knot), static CNAME, 1 TCP worker" ;;
	gdnsd) echo "gdnsd $(vers gdnsd), weighted plugin, 1 TCP thread" ;;
	esac
}
{
	echo "## DNS over TCP (scripts/bench-tcp.sh)"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; server on core $SERVER_CPU, dnsperf -m tcp -B -c $CONNS -q $OUTSTANDING -l $DURATION on core $CLIENT_CPU; medians of $ROUNDS rounds."
	echo "DO=1 row: cdnsteer signs (RRSIG, NSEC); Knot's and gdnsd's zones are unsigned."
	echo
	echo "| server | qps plain | qps DO=1 | lost % plain / DO=1 | avg latency plain | CPU µs/query plain | CPU µs/query DO=1 |"
	echo "|---|---|---|---|---|---|---|"
	for s in "${SERVER_LIST[@]}"; do
		printf '| %s | %.0f | %.0f | %s / %s | %s ms | %s | %s |\n' "$(label "$s")" "$(median "$s" qps_plain)" "$(median "$s" qps_do)" \
			"$(median "$s" lost_plain)" "$(median "$s" lost_do)" "$(median "$s" lat_plain)" "$(median "$s" cpu_plain)" "$(median "$s" cpu_do)"
	done
	echo
	echo "Command: \`ROUNDS=$ROUNDS DURATION=$DURATION CONNS=$CONNS scripts/bench-tcp.sh\`"
} >"$WORK/results.md"
cp "$WORK/results.md" "$RESULTS"
cat "$WORK/results.md"
