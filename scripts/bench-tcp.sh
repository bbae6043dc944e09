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

die() {
	echo "bench-tcp: $*" >&2
	exit 2
}
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

for v in ROUNDS DURATION CONNS OUTSTANDING BASE_PORT SERVER_CPU CLIENT_CPU NQUERIES; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}'"
done
read -ra SERVER_LIST <<<"$SERVERS"
for s in "${SERVER_LIST[@]}"; do
	case $s in cdnsteer | knot | gdnsd) ;; *) die "unknown server '$s' (cdnsteer knot gdnsd)" ;; esac
done
wants() { [[ " ${SERVER_LIST[*]} " == *" $1 "* ]]; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/lib/procs.sh"
repo=$(cd "$here/.." && pwd)
tmpl=$here/bench
RESULTS=${1:-bench-tcp-results.md}
case $RESULTS in /*) ;; *) RESULTS=$PWD/$RESULTS ;; esac

need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v dig >/dev/null || need+=(bind9-dnsutils)
if wants knot; then command -v knotd >/dev/null || need+=(knot); fi
if wants gdnsd; then command -v gdnsd >/dev/null || need+=(gdnsd); fi
if ((${#need[@]})); then
	((EUID == 0)) || die "missing packages: ${need[*]}; run as root or install them"
	log "installing ${need[*]} (daemons kept from starting)"
	# A policy-rc.d that refuses every start (Docker's) is used as it is;
	# without one, ours is put in place for the install and removed.
	prc=/usr/sbin/policy-rc.d ours=0
	if [[ ! -e $prc ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$prc" && chmod 755 "$prc" && ours=1
	elif ! grep -qx 'exit 101' "$prc"; then
		die "$prc may let the packages' daemons start on port 53; install ${need[*]} by hand"
	fi
	rc=0
	{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; } >/dev/null 2>&1 || rc=$?
	((ours)) && rm -f "$prc"
	((rc == 0)) || die "apt-get install ${need[*]} failed"
fi
for c in go taskset timeout ss dig dnsperf awk getconf; do command -v $c >/dev/null || die "$c not found"; done

port_of() {
	case $1 in
	cdnsteer) echo "$BASE_PORT" ;;
	knot) echo $((BASE_PORT + 1)) ;;
	gdnsd) echo $((BASE_PORT + 2)) ;;
	esac
}
HTTP_PORT=$((BASE_PORT + 1000))
for p in $BASE_PORT $((BASE_PORT + 1)) $((BASE_PORT + 2)) $HTTP_PORT; do
	[[ -z $(ss -Hlnu "sport = :$p") && -z $(ss -Hlnt "sport = :$p") ]] || die "port $p is in use; set BASE_PORT"
done

if [[ -n ${WORK:-} ]]; then
	mkdir -p "$WORK"
	KEEP=1
else
	WORK=$(mktemp -d /tmp/cdnsteer-bench-tcp.XXXXXX)
fi
WORK=$(cd "$WORK" && pwd)
PIDS=()
cleanup() {
	stop_pids "${PIDS[@]}"
	if [[ ${KEEP:-} == 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

render() { # render TEMPLATE OUT KEY=VALUE...
	local in=$1 out=$2 kv script=()
	shift 2
	for kv in "$@"; do script+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${script[@]}" "$in" >"$out"
}
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
	local keep=() q
	for q in "${PIDS[@]}"; do [[ $q == "$SPID" ]] || keep+=("$q"); done
	PIDS=("${keep[@]}")
}
ticks() { local st; st=$(<"/proc/$1/stat"); st=${st##*) }; awk '{ print $12 + $13 }' <<<"$st"; }

RAW=$WORK/raw.tsv
: >"$RAW"
run() { # run SERVER ROUND KIND
	local s=$1 r=$2 kind=$3 out c0 c1 n
	out=$WORK/$s/tcp-$kind-r$r.txt
	c0=$(ticks "$SPID")
	timeout -k 5 $((DURATION + 40)) taskset -c "$CLIENT_CPU" "$DNSPERF" -m tcp -B -s 127.0.0.1 -p "$(port_of "$s")" \
		-d "$WORK/q-$kind.bin" -c "$CONNS" -q "$OUTSTANDING" -l "$DURATION" -t 5 >"$out" 2>&1 || true
	c1=$(ticks "$SPID")
	n=$(awk '/Queries completed:/ { print $3; exit }' "$out")
	[[ -n $n ]] && ((n > 0)) || die "$s answered nothing over TCP ($kind): $(tail -3 "$out")"
	printf '%s\t%s\t%s\t%s\n' "$r" "$s" "qps_$kind" "$(awk '/Queries per second:/ { print $4; exit }' "$out")" >>"$RAW"
	printf '%s\t%s\t%s\t%s\n' "$r" "$s" "lost_$kind" "$(awk '/Queries lost:/ { gsub(/[()%]/, "", $4); print $4; exit }' "$out")" >>"$RAW"
	printf '%s\t%s\t%s\t%s\n' "$r" "$s" "lat_$kind" "$(awk '/Average Latency/ { printf "%.3f", $4 * 1000; exit }' "$out")" >>"$RAW"
	printf '%s\t%s\t%s\t%s\n' "$r" "$s" "cpu_$kind" "$(awk -v a="$c0" -v b="$c1" -v hz="$CLK_TCK" -v n="$n" 'BEGIN { printf "%.3f", (b - a) / hz * 1e6 / n }')" >>"$RAW"
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

median() { awk -F'\t' -v s="$1" -v m="$2" '$2 == s && $3 == m { print $4 }' "$RAW" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
vers() { # upstream version of a Debian package
	local v
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) || v="?"
	v=${v#*:}
	echo "${v%-*}"
}
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
