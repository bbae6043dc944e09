# bench.sh — sourced by the scripts that measure (bench.sh,
# bench-steering.sh, bench-tcp.sh, scale.sh): messages, checks of their
# settings, the work directory, Debian packages installed without starting
# their daemons, CPU pinning and real-time priority, CPU time from /proc,
# and the per-round results file (RAW) with its medians.

# die MESSAGE: the script's name and MESSAGE on stderr, exit 2 (setup
# failed, or a server answered wrongly).
die() {
	echo "$(basename "$0" .sh): $*" >&2
	exit 2
}
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
now() { date +%s.%N; }

# need_numbers VAR...: each is a whole number.
need_numbers() {
	local v
	for v in "$@"; do
		[[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, not '${!v}'"
	done
}

# need_prio VAR: VAR (a priority setting) is rr or normal, and rr is
# asked for by root, who alone may use SCHED_RR.
need_prio() {
	case ${!1} in rr | normal) ;; *) die "$1 must be rr or normal" ;; esac
	[[ ${!1} == normal ]] || ((EUID == 0)) || die "$1=rr needs root (SCHED_RR); run as root or set $1=normal"
}

# need_two_cores: SERVER_CPU and CLIENT_CPU are two distinct cores of this
# machine, for the server and the load generator (taskset -c); sets ncpu.
need_two_cores() {
	ncpu=$(nproc --all)
	((SERVER_CPU < ncpu && CLIENT_CPU < ncpu && SERVER_CPU != CLIENT_CPU)) ||
		die "need two distinct cores (SERVER_CPU=$SERVER_CPU CLIENT_CPU=$CLIENT_CPU, $ncpu CPUs)"
}

# port_busy PORT: something listens on PORT over UDP or TCP.
port_busy() {
	[[ -n $(ss -Hlnu "sport = :$1") || -n $(ss -Hlnt "sport = :$1") ]]
}

# RR is the prefix that runs a command SCHED_RR at priority 20; rt_prio
# rr|normal PID... puts every thread of each PID there, or back.
RR=(chrt -r 20)
rt_prio() {
	local p mode=$1
	shift
	for p in "$@"; do
		if [[ $mode == rr ]]; then
			chrt -r -a -p 20 "$p" >/dev/null || die "chrt -r on pid $p failed"
		else
			chrt -o -a -p 0 "$p" >/dev/null || die "chrt -o on pid $p failed"
		fi
	done
}

# proc_ticks PID: "utime stime" of the process, its threads included, in
# clock ticks (CLK_TCK a second).
proc_ticks() {
	local st
	st=$(<"/proc/$1/stat") || return 1
	st=${st##*) }
	awk '{ print $12, $13 }' <<<"$st"
}

# cpu_ticks PID...: utime+stime of the processes, summed.
cpu_ticks() {
	local p sum=0 ut st
	for p in "$@"; do
		read -r ut st <<<"$(proc_ticks "$p")" || return 1
		[[ -n $ut ]] || return 1
		sum=$((sum + ut + st))
	done
	echo $sum
}

# make_work PREFIX: WORK is a new directory under /tmp, removed at the
# end, unless WORK was given (then kept, as with KEEP=1).
make_work() {
	if [[ -n ${WORK:-} ]]; then
		mkdir -p "$WORK"
		KEEP=1
	else
		WORK=$(mktemp -d "/tmp/$1.XXXXXX")
	fi
	WORK=$(cd "$WORK" && pwd)
}

# drop_work: remove WORK, or say where it is kept.
drop_work() {
	if [[ ${KEEP:-} == 1 ]]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}

# apt_install LOG PKG...: apt-get install the packages (as root) with a
# policy-rc.d that keeps their daemons from starting (on port 53, 80 …);
# whatever policy-rc.d was there is put back, by restore_policy_rc, which
# the scripts' exit trap calls too. apt's output goes to LOG.
PRC_SAVED= # "" nothing to restore, "none" remove ours, else the saved copy
restore_policy_rc() {
	case $PRC_SAVED in
	"") ;;
	none) rm -f /usr/sbin/policy-rc.d ;;
	*) mv -f "$PRC_SAVED" /usr/sbin/policy-rc.d ;;
	esac
	PRC_SAVED=
}
apt_install() {
	local logf=$1 prc=/usr/sbin/policy-rc.d rc=0
	shift
	[[ ${NO_INSTALL:-} == 1 ]] && die "missing packages: $* (NO_INSTALL=1 set)"
	((EUID == 0)) || die "missing packages: $*; run as root or install them (apt-get install $*)"
	log "installing $*"
	PRC_SAVED=none
	if [[ -e $prc || -L $prc ]]; then
		PRC_SAVED=$(mktemp /usr/sbin/.policy-rc.d.bench.XXXXXX)
		cp -a "$prc" "$PRC_SAVED"
	fi
	printf '#!/bin/sh\n# %s: keep daemons from starting while installing\nexit 101\n' "$(basename "$0")" >"$prc"
	chmod 755 "$prc"
	{
		apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
	} >"$logf" 2>&1 || rc=$?
	restore_policy_rc
	((rc == 0)) || die "apt-get failed (exit $rc); see $logf: $(tail -3 "$logf" | tr '\n' ' ')"
}

# vers PKG: the upstream version of a Debian package.
vers() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null) || v="?"
	v=${v#*:}
	echo "${v%-*}"
}

# render TEMPLATE OUT KEY=VALUE...: TEMPLATE with each @KEY@ replaced by
# VALUE, written to OUT.
render() {
	local in=$1 out=$2 kv script=()
	shift 2
	for kv in "$@"; do script+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
	sed "${script[@]}" "$in" >"$out"
}

# The per-round results: RAW holds "round server metric value" lines.
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RAW"; }

# median SERVER METRIC: median over the rounds (the lower middle value
# for an even count); "lost" sorts above every number.
median() {
	awk -F'\t' -v s="$1" -v m="$2" '$2 == s && $3 == m { print ($4 == "lost" ? 1e300 : $4) }' "$RAW" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print ""; exit } x = v[int((NR + 1) / 2)]; print (x >= 1e299 ? "lost" : x) }'
}

# rounds_of SERVER METRIC: every round's value, in round order.
rounds_of() {
	awk -F'\t' -v s="$1" -v m="$2" '$2 == s && $3 == m { printf "%s%s", sep, $4; sep = ", " }' "$RAW"
}
