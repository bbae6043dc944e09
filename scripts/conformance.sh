#!/usr/bin/env bash
# conformance.sh — proves cdnsteer a correct, robust authoritative DNS
# server with tools its team did not write. It builds the binary, serves a
# policy based on zones/examples/live.toml on loopback port 53, and runs:
#
#   1. validators  Zonemaster (undelegated test) and DNSViz (probe + grok),
#                  resolving through a local root (NSD) instead of the
#                  Internet: no ERROR or CRITICAL finding may remain.
#      dnssec      the zone is signed (a cdnsteer keygen CSK made at run
#                  time) and the local hierarchy too (dnssec-signzone),
#                  with cdnsteer's DS in example.com.: delv reports
#                  "fully validated" from a root trust anchor made at run
#                  time; a validating Unbound sets AD and SERVFAILs the
#                  zone served with a key the DS does not name; dnssec-cds
#                  accepts the CDS set. (DNSViz and Zonemaster, in 1,
#                  judge the signed zone with the same anchor and DS.)
#   2. resolver    Unbound with the subnetcache module in front of
#                  cdnsteer: clients in a KR and a DE subnet get their
#                  region's CDN, and Unbound caches each answer for the
#                  ECS scope cdnsteer returns.
#   3. wire        EDNS and wire behaviour, DNS Flag Day / ednscomp style,
#                  with dig, kdig, tcpdump and scripts/conformance/dnswire.py.
#   4. load        dnsperf while the policy is replaced ten times, and
#                  while it is broken: nothing lost; a second server on the
#                  same address must not start.
#   5. gotests     the restart and decision-log fault tests.
#
#   scripts/conformance.sh [SECTION...]   (default: all, in that order)
#
# Each check prints one line, "PASS name: detail" or "FAIL name: detail";
# findings of the validators are listed under their check. The script ends
# with "conformance: N passed, M failed" and exits 1 if anything failed.
# It installs the Debian packages it needs when they are missing; a tool
# that cannot be installed is a failure, never a skip.
#
# Everything binds to loopback and sends only there:
#   127.0.0.2:53, 127.0.0.3:53, [::1]:53  cdnsteer (ns1, ns2), HTTP 127.0.0.2:8053
#   127.0.0.10:53                          NSD: local ".", com., example.com., net.,
#                                          example.net., 127.in-addr.arpa.
#   127.0.0.4:53                           Unbound
#   127.0.0.5:53                           cdnsteer for the load section, HTTP :8053
#   127.0.0.6:53                           cdnsteer with rate limiting (wire), HTTP :8053
#   127.0.0.8:53                           validating Unbound (dnssec)
#   127.0.0.9:53                           cdnsteer with a key the DS does not name, HTTP :8053
#   127.0.0.11:53                          validating Unbound whose stub for the zone is 127.0.0.9
# These must be free; the script stops if anything else listens there.
#
# Environment:
#   CONFORMANCE_CHAOS_EXPECT  rcode expected for version.bind, id.server and
#                             hostname.bind TXT CH (default REFUSED: the
#                             CHAOS answers are planned, off by default)
#   CONFORMANCE_TCP_IDLE      the server's TCP idle timeout, s (default 10)
#   CONFORMANCE_KEEP          1: keep the scratch folder (its path is printed)
#   CONFORMANCE_BIN           test this cdnsteer binary instead of building
#                             ./cmd/cdnsteer (a release, a candidate fix)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib/procs.sh
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

started_at=$(date +%s)
here=scripts/conformance

NS1=127.0.0.2
NS2=127.0.0.3
V6=::1
ROOT_ADDR=127.0.0.10
UNBOUND_ADDR=127.0.0.4
LOAD_ADDR=127.0.0.5
HTTP=$NS1:8053
LOAD_HTTP=$LOAD_ADDR:8053
RRL_ADDR=127.0.0.6
RRL_HTTP=$RRL_ADDR:8053
VALIDATOR_ADDR=127.0.0.8
BOGUS_ADDR=127.0.0.9
BOGUS_HTTP=$BOGUS_ADDR:8053
BOGUS_UB_ADDR=127.0.0.11
ZONE=live.example.com.
# A second zone for wire cases the validated zone should not carry.
WIRE_ZONE=wire.test.
STEER=stream.$ZONE
TTL=20
CHAOS_EXPECT=${CONFORMANCE_CHAOS_EXPECT:-REFUSED}
TCP_IDLE=${CONFORMANCE_TCP_IDLE:-10}
# The regions of policy.toml.in, by client subnet, and the CDN each gets.
KR_NET=10.10 KR_TARGET=live.akamaized.example.net.
DE_NET=10.20 DE_TARGET=live.global.fastly.example.net.

all_sections=(validators dnssec resolver wire load gotests)
if (($#)); then
	sections=("$@")
	for s in "${sections[@]}"; do
		[[ " ${all_sections[*]} " == *" $s "* ]] || {
			echo "usage: $0 [${all_sections[*]}]" >&2
			exit 64
		}
	done
else
	sections=("${all_sections[@]}")
fi

# ---------------------------------------------------------------------------
# Results, processes, cleanup.

passed=0
failed=0
failures=()
pass() {
	echo "PASS $1: $2"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
	failures+=("$1")
}
# note prints a finding or a measurement under the check it belongs to.
note() { echo "     $*"; }
section() {
	echo
	echo "=== $* ($(($(date +%s) - started_at))s)"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cdnsteer-conformance.XXXXXX")
pids=()
names=()
logs=()

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM HUP
	stop_pids "${pids[@]}"
	if ((rc != 0 || failed > 0)); then
		for i in "${!logs[@]}"; do
			[[ -f ${logs[$i]} ]] || continue
			echo "----- log of ${names[$i]} (${logs[$i]}, last 150 lines) -----" >&2
			tail -n 150 "${logs[$i]}" >&2 || true
			echo "----- end of log of ${names[$i]} -----" >&2
		done
	fi
	if [[ ${CONFORMANCE_KEEP:-0} == 1 ]]; then
		echo "scratch folder kept: $tmp" >&2
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# spawn NAME LOG CMD...: run CMD in the background, remembered for cleanup.
spawn() {
	local name=$1 log=$2
	shift 2
	"$@" >"$log" 2>&1 &
	pids+=("$!")
	names+=("$name")
	logs+=("$log")
}
# stop PID: end one process started here and forget it.
stop() {
	local pid=$1 i
	stop_pids "$pid"
	for i in "${!pids[@]}"; do
		if [[ ${pids[$i]} == "$pid" ]]; then
			unset 'pids[i]' 'names[i]' 'logs[i]'
		fi
	done
	pids=("${pids[@]}") names=("${names[@]}") logs=("${logs[@]}")
}
# relay: count the "PASS name: detail" / "FAIL name: detail" lines of a
# helper script, read from standard input, as checks of this script.
relay() {
	local line body
	while IFS= read -r line; do
		case $line in
		"PASS "* | "FAIL "*)
			body=${line#* }
			if [[ $line == PASS* ]]; then
				pass "${body%%: *}" "${body#*: }"
			else
				fail "${body%%: *}" "${body#*: }"
			fi
			;;
		*) note "$line" ;;
		esac
	done
}
# abort MESSAGE: a failure that makes the rest meaningless.
abort() {
	fail "${1%%:*}" "${1#*: }"
	echo "conformance: $passed passed, $failed failed"
	exit 1
}

# ---------------------------------------------------------------------------
# Tools.

section "tools"
declare -A pkg_of=([zonemaster-cli]=zonemaster-cli [dnsviz]=dnsviz [unbound]=unbound [dnsperf]=dnsperf
	[dig]=bind9-dnsutils [kdig]=knot-dnsutils [nsd]=nsd [curl]=curl [python3]=python3 [ss]=iproute2
	[tcpdump]=tcpdump [delv]=bind9-dnsutils [dnssec-signzone]=bind9-utils [dnssec-keygen]=bind9-utils
	[dnssec-cds]=bind9-utils)
need=()
for t in "${!pkg_of[@]}"; do
	command -v "$t" >/dev/null 2>&1 || need+=("${pkg_of[$t]}")
done
# dnsviz grok -t (the trust anchor) draws on pygraphviz, a module of the
# Python dnsviz runs on (Debian's, not the first python3 on PATH).
dnsviz_py() {
	local py=/usr/bin/python3
	command -v dnsviz >/dev/null 2>&1 && py=$(head -n1 "$(command -v dnsviz)" | sed 's/^#! *//; s/ .*//')
	echo "$py"
}
has_pygraphviz() { "$(dnsviz_py)" -c 'import pygraphviz' 2>/dev/null; }
has_pygraphviz || need+=(python3-pygraphviz)
if ((${#need[@]})); then
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || abort "tools: need Debian packages ${need[*]}; install them as root"
		sudo=(sudo)
	fi
	echo "installing missing Debian packages: ${need[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		abort "tools: apt-get update failed"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >"$tmp/apt.log" 2>&1 ||
		{ tail -n 30 "$tmp/apt.log"; abort "tools: apt-get install ${need[*]} failed"; }
fi
missing=()
for t in "${!pkg_of[@]}"; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
has_pygraphviz || missing+=("python3 module pygraphviz")
((${#missing[@]} == 0)) || abort "tools: still missing after installing: ${missing[*]}"
command -v go >/dev/null 2>&1 || abort "tools: go not found on PATH (nor /usr/local/go/bin/go)"
pass tools "$(zonemaster-cli --version 2>/dev/null | sed -n 's/^CLI version: *//p') zonemaster-cli, dnsviz $(dpkg-query -W -f='${Version}' dnsviz 2>/dev/null), $(unbound -V 2>/dev/null | sed -n 's/^Version /unbound /p'), $(dnsperf -h 2>&1 | sed -n 's/^Version /dnsperf /p'), $(dig -v 2>&1 | head -n1), $(kdig -V 2>&1 | head -n1), $(nsd -v 2>&1 | head -n1), $(go version | awk '{print $3}')"

# Nothing else may listen where this script serves: cdnsteer binds with
# SO_REUSEPORT, so a stranger on the same address would silently share
# its queries instead of making the start fail.
busy=()
while read -r local; do
	case $local in
	"$NS1:53" | "$NS2:53" | "[$V6]:53" | "$ROOT_ADDR:53" | "$UNBOUND_ADDR:53" | "$LOAD_ADDR:53" | "$VALIDATOR_ADDR:53" | "$BOGUS_ADDR:53" | "$BOGUS_UB_ADDR:53" | "$BOGUS_HTTP" | "0.0.0.0:53" | "*:53" | "[::]:53" | "$HTTP" | "$LOAD_HTTP")
		busy+=("$local")
		;;
	esac
done < <(ss -Hlntu 2>/dev/null | awk '{print $5}' | sort -u)
((${#busy[@]} == 0)) || abort "ports: already in use on this machine: ${busy[*]} (ss -lntup shows by whom); stop that and rerun"
pass ports "nothing listens on $NS1:53 $NS2:53 [$V6]:53 $ROOT_ADDR:53 $UNBOUND_ADDR:53 $LOAD_ADDR:53 $VALIDATOR_ADDR:53 $BOGUS_ADDR:53 $BOGUS_UB_ADDR:53 $HTTP $LOAD_HTTP $BOGUS_HTTP"

# ---------------------------------------------------------------------------
# Build and serve.

section "build and serve"
bin=$tmp/cdnsteer
if [[ -n ${CONFORMANCE_BIN:-} ]]; then
	[[ -x $CONFORMANCE_BIN ]] || abort "build: CONFORMANCE_BIN=$CONFORMANCE_BIN is not an executable"
	cp "$CONFORMANCE_BIN" "$bin"
	pass build "using CONFORMANCE_BIN=$CONFORMANCE_BIN ($("$bin" version | head -n1))"
elif go build -o "$bin" ./cmd/cdnsteer >"$tmp/build.log" 2>&1; then
	pass build "go build ./cmd/cdnsteer ($("$bin" version | head -n1))"
else
	cat "$tmp/build.log"
	abort "build: go build ./cmd/cdnsteer failed"
fi

mid_txt=$(printf 'm%.0s' $(seq 700))
big_txt=$(printf 'b%.0s' $(seq 3000))
# The zone is signed with a CSK made here and now, never a committed one;
# every server of the policy uses it unless given another folder.
live_keys=$tmp/keys/live
"$bin" keygen -zone "$ZONE" -dir "$live_keys" >"$tmp/keygen.log" 2>&1 || { cat "$tmp/keygen.log"; abort "keygen: cdnsteer keygen -zone $ZONE failed"; }
pass keygen "cdnsteer keygen: $(grep -m1 ' DS ' "$tmp/keygen.log")"
# render_policy OUT DNS HTTP TTL [KEYS]: policy.toml.in for these
# listeners, the zone signed with the keys in KEYS (default live_keys),
# and the wire zone (unsigned: unsigned zones stay as they were).
render_policy() {
	sed -e "s|@DNS@|$2|; s|@HTTP@|$3|; s|@TTL@|$4|; s|@NS1_ADDR@|$NS1|; s|@NS2_ADDR@|$NS2|" \
		-e "s|@MID_TXT@|$mid_txt|; s|@BIG_TXT@|$big_txt|" "$here/policy.toml.in" >"$1"
	printf '\n[zone.dnssec]\nkeys = "%s"\n' "${5:-$live_keys}" >>"$1"
	wire_zone >>"$1"
}
# wire_zone: the zone WIRE_ZONE in TOML. Its apex has ten name servers
# with an A and an AAAA each: the NS answer fits in 512 bytes, their
# addresses do not. So has the delegation sub, with its name servers below
# the cut. dangling is a CNAME chain to a name that does not exist; www a
# CNAME to a name with an A only. Addresses are documentation ones that
# nothing queries.
wire_zone() {
	local i sep=''
	printf '\n[[zone]]\norigin = "%s"\nhostmaster = "hostmaster@example.com"\nns = [' "$WIRE_ZONE"
	for i in {0..9}; do
		printf '%s"ns%d.%s"' "$sep" "$i" "$WIRE_ZONE"
		sep=', '
	done
	printf ']\n'
	record() { printf '\n[[zone.record]]\nname = "%s"\ntype = "%s"\nvalue = "%s"\n' "$@"; }
	for i in {0..9}; do
		record "ns$i" A "192.0.2.$((10 + i))"
		record "ns$i" AAAA "2001:db8::$((10 + i))"
		record sub NS "ns$i.sub"
		record "ns$i.sub" A "192.0.2.$((30 + i))"
		record "ns$i.sub" AAAA "2001:db8::$((30 + i))"
	done
	record dangling CNAME hop
	record hop CNAME missing
	record www CNAME host
	record host A 192.0.2.80
}

# metric HTTP SERIES: one series' value ("" if absent).
metric() {
	curl -fsS --max-time 2 "http://$1/metrics" 2>/dev/null | awk -v m="$2" '$1 == m && !done { print $2 + 0; done = 1 }' || true
}
# queries_at HTTP: all queries cdnsteer answered for the zone.
queries_at() {
	curl -fsS --max-time 2 "http://$1/metrics" 2>/dev/null |
		awk -v z="zone=\"$ZONE\"" '/^cdnsteer_dns_queries_total\{/ && index($1, z) { s += $2 } END { printf "%d\n", s }' || true
}
# serve NAME CONFIG HTTP: start cdnsteer, wait (bounded) for /readyz.
serve() {
	local name=$1 config=$2 http=$3 i
	spawn "cdnsteer $name" "$tmp/cdnsteer-$name.log" "$bin" serve -config "$config"
	local pid=${pids[-1]}
	for ((i = 0; i < 100; i++)); do
		if curl -fs -o /dev/null --max-time 1 "http://$http/readyz"; then
			pass "serve $name" "cdnsteer (pid $pid) ready on $http after ~$((i / 10)).$((i % 10))s"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || abort "serve $name: cdnsteer (pid $pid) exited before it was ready (log below)"
		sleep 0.1
	done
	abort "serve $name: cdnsteer (pid $pid) not ready on http://$http/readyz after 10s (log below)"
}

main_dir=$tmp/main
mkdir -p "$main_dir"
render_policy "$main_dir/policy.toml" "[\"$NS1:53\", \"$NS2:53\", \"[$V6]:53\"]" "$HTTP" "$TTL"
"$bin" check -config "$main_dir/policy.toml" >"$tmp/check.log" 2>&1 || { cat "$tmp/check.log"; abort "policy: the test policy does not check"; }
# check prints the DS the parent (the local example.com.) must publish.
live_ds=$(sed -n "s/^ *DS \($ZONE IN DS .*\)/\1/p" "$tmp/check.log" | head -n1)
[[ -n $live_ds ]] || abort "check DS: cdnsteer check printed no DS for $ZONE: $(oneline "$(cat "$tmp/check.log")")"
pass "check DS" "cdnsteer check: $live_ds"
serve main "$main_dir/policy.toml" "$HTTP"
main_pid=${pids[-1]}
nsd_pid=''

# ---------------------------------------------------------------------------
# dig helpers. ask SERVER ARGS... runs one query and leaves its parts in
# out, status, opcode, flags, an, au, ad (sections), edns (the OPT line or
# ""), ecs (CLIENT-SUBNET value or ""), size (bytes received), proto.

out='' status='' opcode='' flags='' an='' au='' ad='' edns='' ecs='' size='' proto=''
ask() {
	local server=$1
	shift
	out=$(dig +norec +time=2 +tries=1 -p 53 "@$server" "$@" 2>&1) || true
	status=$(sed -n 's/^;; ->>HEADER<<- opcode: \([A-Z0-9]*\), status: \([A-Z0-9]*\),.*/\2/p' <<<"$out" | head -n1)
	opcode=$(sed -n 's/^;; ->>HEADER<<- opcode: \([A-Z0-9]*\),.*/\1/p' <<<"$out" | head -n1)
	flags=$(sed -n 's/^;; flags:\([a-z ]*\);.*/\1/p' <<<"$out" | head -n1)
	edns=$(sed -n 's/^; EDNS: //p' <<<"$out" | head -n1)
	ecs=$(sed -n 's/^; CLIENT-SUBNET: //p' <<<"$out" | head -n1)
	size=$(sed -n 's/^;; MSG SIZE  rcvd: //p' <<<"$out" | head -n1)
	proto=$(sed -n 's/^;; SERVER: .*(\([A-Z]*\))$/\1/p' <<<"$out" | head -n1)
	an=$(sect ANSWER)
	au=$(sect AUTHORITY)
	ad=$(sect ADDITIONAL)
}
sect() {
	awk -v s=";; $1 SECTION:" '$0 == s { on = 1; next } on && /^$/ { on = 0 } on && !/^;/ { print }' <<<"$out"
}
has_flag() { [[ " $flags " == *" $1 "* ]]; }
# opt_extra: the lines of the reply's OPT pseudo-section other than the
# EDNS line itself (options such as CLIENT-SUBNET, COOKIE, OPT=NNN).
opt_extra() {
	awk '/^;; OPT PSEUDOSECTION:/ { on = 1; next } on && /^;; / { on = 0 } on && NF && !/^; EDNS:/ { print }' <<<"$out"
}
# count TYPE RECORDS: records of TYPE.
count() { awk -v t="$1" '$4 == t { n++ } END { print n + 0 }' <<<"$2"; }
nrr() { awk 'NF { n++ } END { print n + 0 }' <<<"$1"; }
oneline() { tr -s ' \t\n' ' ' <<<"$1" | sed 's/^ //; s/ $//' | cut -c1-200; }
target() { awk '$4 == "CNAME" { print tolower($5); exit }' <<<"$an"; }
ttl_of() { awk -v t="$1" '$4 == t { print $2; exit }' <<<"$an"; }
scope_of() { [[ -n $ecs ]] && echo "${ecs##*/}" || echo ""; }
said() { printf 'status %s, flags [%s], %s answer(s)%s' "${status:-none}" "$(oneline "$flags")" "$(nrr "$an")" "${edns:+, EDNS \"$edns\"}"; }

# ---------------------------------------------------------------------------
# 1. Validators.

# ensure_root: start the local root (NSD) unless it runs; non-zero if it
# cannot serve the delegation of the zone.
ensure_root() {
	[[ -n $nsd_pid ]] && kill -0 "$nsd_pid" 2>/dev/null && return 0
	local root=$tmp/root f i
	mkdir -p "$root"
	for f in "$here"/root/*.in; do
		sed -e "s|@DIR@|$root|g; s|@ROOT_ADDR@|$ROOT_ADDR|g; s|@NS1_ADDR@|$NS1|g; s|@NS2_ADDR@|$NS2|g" \
			-e "s|@NS1_PTR@|$(ptr_rel "$NS1")|g; s|@NS2_PTR@|$(ptr_rel "$NS2")|g; s|@ROOT_PTR@|$(ptr_rel "$ROOT_ADDR")|g" \
			"$f" >"$root/$(basename "${f%.in}")"
	done
	sign_chain "$root" || {
		fail "signed chain" "dnssec-keygen/dnssec-signzone failed: $(oneline "$(tail -n 5 "$root/sign.log")")"
		return 1
	}
	pass "signed chain" "dnssec-signzone: $(oneline "$(cat "$root/signed.txt")"); root trust anchor $(oneline "$(grep -v '^;' "$root/anchor.key" | cut -c1-60)")..."
	if ! nsd-checkconf "$root/nsd.conf" >"$root/checkconf.log" 2>&1; then
		fail "local root" "nsd-checkconf: $(oneline "$(cat "$root/checkconf.log")")"
		return 1
	fi
	spawn nsd "$root/nsd.out" nsd -d -c "$root/nsd.conf"
	nsd_pid=${pids[-1]}
	for ((i = 0; i < 50; i++)); do
		ask "$ROOT_ADDR" . SOA
		[[ $status == NOERROR ]] && break
		sleep 0.1
	done
	ask "$ROOT_ADDR" "$STEER" A
	if [[ $status == NOERROR ]] && ! has_flag aa && [[ $(count NS "$au") == 2 ]] && [[ $(count A "$ad") == 2 ]]; then
		pass "local root" "NSD on $ROOT_ADDR: $STEER A -> referral to $(awk '$4 == "NS" { printf "%s ", $5 }' <<<"$au")with glue"
	else
		fail "local root" "NSD on $ROOT_ADDR does not delegate $ZONE: $(said); log: $(oneline "$(tail -n 3 "$root/nsd.log" 2>/dev/null)")"
		return 1
	fi
}

# sign_chain DIR: sign the local hierarchy in DIR with keys made now (a
# CSK per zone), children before parents, so that each parent carries its
# children's DS and example.com. carries cdnsteer's (live_ds, from check).
# Leaves the root's key as trust anchor in DIR/anchor.key (zone-file
# format: Unbound, DNSViz) and DIR/anchor.conf (trust-anchors: delv).
sign_chain() {
	local dir=$1 keys=$1/keys z f parent key root_key=''
	mkdir -p "$keys"
	: >"$dir/signed.txt"
	echo "$live_ds" >>"$dir/example.com.zone"
	for z in example.com. com. example.net. net. 127.in-addr.arpa. .; do
		f=$dir/${z%.}.zone
		[[ $z == . ]] && f=$dir/root.zone
		key=$(dnssec-keygen -q -K "$keys" -a ECDSAP256SHA256 -f KSK -n ZONE "$z" 2>>"$dir/sign.log") || return 1
		dnssec-signzone -q -S -z -K "$keys" -d "$keys" -o "$z" -f "$f.signed" "$f" >>"$dir/sign.log" 2>&1 || return 1
		mv -f "$f.signed" "$f"
		printf '%s (%s) ' "$z" "$key" >>"$dir/signed.txt"
		case $z in
		.) root_key=$key ;;
		example.com.) parent=com.zone ;;
		example.net.) parent=net.zone ;;
		*) parent=root.zone ;;
		esac
		[[ $z == . ]] || cat "$keys/dsset-$z" >>"$dir/$parent"
	done
	grep -v '^;' "$keys/$root_key.key" >"$dir/anchor.key"
	awk '{ for (i = 1; i <= NF; i++) if ($i == "DNSKEY") { k = ""; for (j = i + 4; j <= NF; j++) k = k $j
		printf "trust-anchors {\n\t. static-key %s %s %s \"%s\";\n};\n", $(i + 1), $(i + 2), $(i + 3), k } }' \
		"$dir/anchor.key" >"$dir/anchor.conf"
	grep -q static-key "$dir/anchor.conf"
}

run_validators() {
	section "1. validators: Zonemaster and DNSViz"
	ensure_root || return 0
	local root=$tmp/root

	# Zonemaster, undelegated (--ns) against ns1/ns2 on loopback port 53,
	# with root hints pointing at the local root so that its recursive
	# look-ups (parent, PTR, ASN, MX) never leave the machine.
	local zm=$tmp/zonemaster
	mkdir -p "$zm"
	zonemaster-cli --dump-profile >"$zm/default-profile.json" 2>"$zm/dump.err" || true
	if ! python3 "$here/validators.py" zm-profile "$zm/default-profile.json" "$zm/profile.json"; then
		fail zonemaster "could not derive the test profile from zonemaster-cli --dump-profile"
	else
		local zrc=0
		timeout 300 zonemaster-cli --no-progress --profile "$zm/profile.json" --hints "$root/hints" --no-ipv6 \
			--ns "ns1.live.example.com/$NS1" --ns "ns2.live.example.com/$NS2" \
			--ds "$(awk '{ print $4 "," $5 "," $6 "," $7 }' <<<"$live_ds")" \
			--level INFO --show-testcase live.example.com >"$zm/output.txt" 2>&1 || zrc=$?
		local ran
		ran=$(awk '$2 ~ /^(INFO|NOTICE|WARNING|ERROR|CRITICAL)$/ { print $3 }' "$zm/output.txt" | sort -u | tr '\n' ' ')
		local nran
		nran=$(wc -w <<<"$ran")
		if ((zrc != 0)) || ((nran < 25)) || [[ " $ran " != *" DELEGATION01 "* || " $ran " != *" NAMESERVER02 "* || " $ran " != *" CONSISTENCY05 "* ]]; then
			fail "zonemaster ran" "exit $zrc, findings from $nran test cases ($ran); output: $(oneline "$(tail -n 5 "$zm/output.txt")")"
		else
			pass "zonemaster ran" "$(grep -c ' INFO ' "$zm/output.txt" || true) INFO results from $nran test cases (undelegated, ns1 $NS1, ns2 $NS2, hints: local root)"
		fi
		local findings frc=0
		findings=$(python3 "$here/validators.py" zm-findings "$zm/output.txt") || frc=$?
		local nerr nwarn nnote
		nerr=$(grep -cE '^(ERROR|CRITICAL) ' <<<"$findings" || true)
		nwarn=$(grep -cE '^WARNING ' <<<"$findings" || true)
		nnote=$(grep -cE '^NOTICE ' <<<"$findings" || true)
		if ((frc == 0)); then
			pass "zonemaster findings" "no ERROR or CRITICAL; $nwarn WARNING, $nnote NOTICE"
		else
			fail "zonemaster findings" "$nerr ERROR/CRITICAL, $nwarn WARNING, $nnote NOTICE"
		fi
		[[ -z $findings ]] || while read -r line; do note "$line"; done <<<"$findings"
		# The zone is signed: the DNSSEC module must have judged signatures,
		# algorithms and the NSEC chain, and nothing of it may be a NOTICE or
		# worse (no "not signed" accepted any more).
		local dnssec_cases dnssec_bad
		dnssec_cases=$(awk '$3 ~ /^DNSSEC[0-9]+$/ { print $3 }' "$zm/output.txt" | sort -u | tr '\n' ' ')
		dnssec_bad=$(grep -E '^(CRITICAL|ERROR|WARNING|NOTICE) DNSSEC' <<<"$findings" || true)
		if [[ -z $dnssec_bad && " $dnssec_cases " == *" DNSSEC04 "* && " $dnssec_cases " == *" DNSSEC05 "* ]] &&
			grep -qE ' DNSSEC10 .*has NSEC records' "$zm/output.txt" && ! grep -qiE ' DNSSEC[0-9]+ .*(not signed|unsigned|no DNSKEY)' "$zm/output.txt"; then
			pass "zonemaster DNSSEC" "signed zone judged by ${dnssec_cases% } (DS given with --ds from check): RRSIG expiry, algorithm 13, NSEC chain, CDS/CDNSKEY; no NOTICE or worse"
		else
			fail "zonemaster DNSSEC" "DNSSEC test cases seen: ${dnssec_cases:-none}; findings: $(oneline "${dnssec_bad:-none}"); $(oneline "$(grep -m3 -iE ' DNSSEC[0-9]+ .*(not signed|unsigned|no DNSKEY)' "$zm/output.txt")")"
		fi
	fi

	# DNSViz as an authoritative analysis (-A) with the EDNS compatibility
	# probes (-E): over IPv4 from the local root down (-x . points the
	# root at it, so no query goes to the Internet's root servers), and
	# over IPv6 against [::1] alone (-x ZONE+: no ancestor is queried).
	local dv=$tmp/dnsviz
	mkdir -p "$dv"
	# The IPv4 analysis starts at the root: grok judges the chain from the
	# local root's trust anchor (-t), down to cdnsteer's signatures.
	grok_args=(-t "$root/anchor.key")
	dnsviz_run "IPv4" "$dv/probe4" -4 -A -E -x ".:ns.nic.test=$ROOT_ADDR" -a . \
		live.example.com stream.live.example.com www.live.example.com big.live.example.com
	grok_args=()
	dnsviz_run "IPv6" "$dv/probe6" -6 -A -E -x "live.example.com+:ns1.live.example.com=[$V6]" live.example.com
}

# ptr_rel A.B.C.D: the owner of its PTR relative to 127.in-addr.arpa.
ptr_rel() {
	local IFS=.
	# shellcheck disable=SC2086
	set -- $1
	echo "$4.$3.$2"
}

# grok_args: extra arguments of dnsviz grok (the trust anchor).
grok_args=()
# dnsviz_run LABEL PREFIX PROBE-ARGS...: probe, grok with -P (loopback
# name servers are what this test bed has; DNSViz flags private addresses
# as errors unless told it runs in such an environment), list findings.
dnsviz_run() {
	local label=$1 p=$2 rc=0
	shift 2
	timeout 180 dnsviz probe "$@" -o "$p.json" >"$p.log" 2>&1 || rc=$?
	if ((rc != 0)) || [[ ! -s $p.json ]]; then
		fail "dnsviz probe $label" "dnsviz probe $* exited $rc with $(wc -c <"$p.json" 2>/dev/null || echo 0) bytes of output: $(oneline "$(tail -n 3 "$p.log")")"
		return
	fi
	rc=0
	# validators.py dnsviz: dnsviz itself, with the pygraphviz version
	# check that grok -t needs repaired for Debian 12 (see validators.py).
	"$(dnsviz_py)" "$here/validators.py" dnsviz grok -P "${grok_args[@]}" -l info -r "$p.json" -o "$p.grok-info.json" >"$p.grok.log" 2>&1 || rc=$?
	"$(dnsviz_py)" "$here/validators.py" dnsviz grok -P "${grok_args[@]}" -l warning -r "$p.json" -o "$p.grok.json" >>"$p.grok.log" 2>&1 || rc=$?
	if ((rc != 0)) || ! grep -q '"live.example.com."' "$p.grok-info.json" || ! grep -q '"NOERROR"' "$p.grok-info.json"; then
		fail "dnsviz probe $label" "dnsviz grok exited $rc or its analysis lacks live.example.com. NOERROR: $(oneline "$(tail -n 3 "$p.grok.log")")"
		return
	fi
	pass "dnsviz probe $label" "analysed: $(grep -o '^Analyzing .*' "$p.log" | sed 's/^Analyzing //' | tr '\n' ' ')"
	if ((${#grok_args[@]})); then
		local chain crc=0
		chain=$(python3 "$here/validators.py" grok-secure "$p.grok-info.json" "$ZONE" "$ZONE" "$STEER") || crc=$?
		if ((crc == 0)); then
			pass "dnsviz chain $label" "from the root's trust anchor (grok -t): $(oneline "$chain" | sed 's/ SECURE/: SECURE;/g; s/;$//')"
		else
			fail "dnsviz chain $label" "want every status SECURE: $(oneline "$chain")"
		fi
	fi
	local findings frc=0
	findings=$(python3 "$here/validators.py" grok-findings "$p.grok.json" "$ZONE") || frc=$?
	local nerr nwarn ntb
	nerr=$(grep -c '^error ' <<<"$findings" || true)
	nwarn=$(grep -c '^warning ' <<<"$findings" || true)
	ntb=$(grep -c '^testbed-' <<<"$findings" || true)
	if ((frc == 0)); then
		pass "dnsviz grok $label" "no error about $ZONE; $nwarn warning(s); $ntb finding(s) about the test bed's own zones (not counted)"
	else
		fail "dnsviz grok $label" "$nerr error(s) and $nwarn warning(s) about $ZONE"
	fi
	[[ -z $findings ]] || while read -r line; do note "$line"; done <<<"$findings"
}

# ---------------------------------------------------------------------------
# DNSSEC: the signed zone, judged by validators the project did not write.

# validator NAME ADDR [STUB]: start a validating Unbound on ADDR with the
# local root's trust anchor; STUB, if given, is the address its stub zone
# for the zone sends queries to. Non-zero if it does not answer.
validator() {
	local name=$1 addr=$2 stub=${3:-} dir=$tmp/${1//[^a-z0-9]/-} i stanza=''
	mkdir -p "$dir"
	cp "$tmp/root/hints" "$tmp/root/anchor.key" "$dir/"
	[[ -z $stub ]] || stanza=$(printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: %s\n' "$ZONE" "$stub")
	awk -v dir="$dir" -v addr="$addr" -v stub="$stanza" '/^[^#]/ { gsub(/@DIR@/, dir); gsub(/@ADDR@/, addr); sub(/^@STUB@$/, stub) } { print }' \
		"$here/unbound-validator.conf.in" >"$dir/unbound.conf"
	if ! unbound-checkconf "$dir/unbound.conf" >"$dir/checkconf.log" 2>&1; then
		fail "$name" "unbound-checkconf: $(oneline "$(cat "$dir/checkconf.log")")"
		return 1
	fi
	spawn "unbound $name" "$dir/unbound.log" unbound -d -c "$dir/unbound.conf"
	for ((i = 0; i < 50; i++)); do
		ask "$addr" +rec . SOA
		[[ -n $status ]] && break
		sleep 0.1
	done
	ask "$addr" +rec +dnssec . SOA
	if [[ $status == NOERROR ]] && has_flag ad; then
		pass "$name" "validating Unbound on $addr${stub:+ (stub $ZONE -> $stub)}: the local root's SOA is secure (AD) from the trust anchor"
	else
		fail "$name" "validating Unbound on $addr: the local root's SOA should validate: $(said)"
		return 1
	fi
}

# delv_check NAME TYPE WANT: delv, with the local root's trust anchor and
# the validating Unbound as its resolver, must report the answer fully
# validated; WANT is NOERROR, NXDOMAIN or NODATA.
delv_check() {
	local name=$1 type=$2 want=$3 d ok=''
	d=$(timeout 20 delv @"$VALIDATOR_ADDR" -a "$tmp/root/anchor.conf" +root "$name" "$type" 2>&1) || true
	case $want in
	NOERROR) grep -q '^; fully validated' <<<"$d" && grep -qE "^$name[[:space:]].*[[:space:]]($type|CNAME)[[:space:]]" <<<"$d" && grep -qE '[[:space:]]RRSIG[[:space:]]' <<<"$d" && ok=1 ;;
	NXDOMAIN) grep -q '^; negative response, fully validated' <<<"$d" && grep -q NXDOMAIN <<<"$d" && ok=1 ;;
	NODATA) grep -q '^; negative response, fully validated' <<<"$d" && grep -q NXRRSET <<<"$d" && ok=1 ;;
	esac
	if [[ -n $ok ]]; then
		pass "delv $name $type" "$want: $(oneline "$(grep -m1 'validated' <<<"$d")"); $(grep -cE '[[:space:]](RRSIG|NSEC)[[:space:]]' <<<"$d") RRSIG/NSEC records shown"
	else
		fail "delv $name $type" "want $want fully validated: $(oneline "$(grep -v '^$' <<<"$d" | head -n 6)")"
	fi
}

run_dnssec() {
	section "dnssec: the signed chain, judged by delv, validating Unbound and dnssec-cds"
	ensure_root || return 0
	validator validator "$VALIDATOR_ADDR" || return 0
	local validator_pid=${pids[-1]}

	# delv: the steered name, an NXDOMAIN, a NODATA (player has an A
	# only), the apex SOA and DNSKEY, from the root's trust anchor down.
	delv_check "$STEER" A NOERROR
	delv_check "nx.$ZONE" A NXDOMAIN
	delv_check "player.$ZONE" AAAA NODATA
	delv_check "$ZONE" SOA NOERROR
	delv_check "$ZONE" DNSKEY NOERROR

	# A validating resolver sets AD on what cdnsteer signs.
	local q name type want
	for q in "$STEER A NOERROR" "nx.$ZONE A NXDOMAIN" "player.$ZONE AAAA NOERROR" "$ZONE DNSKEY NOERROR"; do
		read -r name type want <<<"$q"
		ask "$VALIDATOR_ADDR" +rec +dnssec "$name" "$type"
		if [[ $status == "$want" ]] && has_flag ad; then
			pass "unbound AD $name $type" "$status with AD, $(nrr "$an") answer record(s)"
		else
			fail "unbound AD $name $type" "want $want with AD; $(said)"
		fi
	done

	# Tampering: the same zone served by another cdnsteer with a key the
	# DS at example.com. does not name. A validator sent there (a stub
	# zone) must refuse it; with CD it gets the data, so the SERVFAIL is
	# validation's, not a broken server's.
	local other=$tmp/keys/other dir=$tmp/bogus
	mkdir -p "$dir"
	"$bin" keygen -zone "$ZONE" -dir "$other" >"$dir/keygen.log" 2>&1 || { fail "tampered zone" "cdnsteer keygen: $(oneline "$(cat "$dir/keygen.log")")"; return 0; }
	render_policy "$dir/policy.toml" "[\"$BOGUS_ADDR:53\"]" "$BOGUS_HTTP" "$TTL" "$other"
	serve bogus "$dir/policy.toml" "$BOGUS_HTTP"
	local bogus_pid=${pids[-1]}
	if validator "validator (tampered)" "$BOGUS_UB_ADDR" "$BOGUS_ADDR"; then
		ask "$BOGUS_UB_ADDR" +rec +dnssec "$STEER" A
		local st=$status fl=$flags
		ask "$BOGUS_UB_ADDR" +rec +dnssec +cd "$STEER" A
		if [[ $st == SERVFAIL && $status == NOERROR && $(count CNAME "$an") == 1 ]]; then
			pass "unbound SERVFAILs tampered" "$STEER signed with key $(awk '$3 == "DS" { print $4; exit }' "$dir/keygen.log"), not the DS's ${live_ds#* IN DS }: SERVFAIL; with CD: NOERROR and the CNAME"
		else
			fail "unbound SERVFAILs tampered" "want SERVFAIL (and NOERROR with CD); got $st [$(oneline "$fl")], with CD: $(said)"
		fi
	fi
	stop "$bogus_pid"

	# dnssec-cds (BIND): the CDS/CDNSKEY cdnsteer publishes, validated by
	# the DNSKEY the current DS names, agree with that DS. The other key's
	# DS must be refused, or the acceptance proves nothing.
	local cds=$tmp/cds t crc=0 cout
	mkdir -p "$cds"
	: >"$cds/child"
	for t in DNSKEY CDS CDNSKEY; do
		dig +norec +time=2 +tries=1 +dnssec +noall +answer -p 53 "@$NS1" "$ZONE" "$t" >>"$cds/child" 2>&1 || true
	done
	echo "$ZONE 3600 IN DS ${live_ds#* IN DS }" >"$cds/dsset"
	# -s: signatures made since two weeks ago are acceptable (cdnsteer's
	# inception is the start of a period, up to a quarter of the validity
	# before now).
	cout=$(dnssec-cds -s -1209600 -f "$cds/child" -d "$cds/dsset" "$ZONE" 2>&1) || crc=$?
	if ((crc == 0)) && [[ $(grep -c '[[:space:]]CDS[[:space:]]' "$cds/child") -ge 1 ]]; then
		pass "dnssec-cds" "accepts the CDS/CDNSKEY set against the current DS ($(grep -c '[[:space:]]CDS[[:space:]]' "$cds/child") CDS, $(grep -c '[[:space:]]CDNSKEY[[:space:]]' "$cds/child") CDNSKEY, signed)${cout:+; new DS set: $(oneline "$cout")}"
	else
		fail "dnssec-cds" "exit $crc: $(oneline "$cout")"
	fi
	echo "$ZONE 3600 IN DS $(sed -n 's/.* IN DS //p' "$dir/keygen.log" | head -n1)" >"$cds/dsset-other"
	crc=0
	cout=$(dnssec-cds -s -1209600 -f "$cds/child" -d "$cds/dsset-other" "$ZONE" 2>&1) || crc=$?
	if ((crc != 0)); then
		pass "dnssec-cds refuses" "a DS naming another key: exit $crc, $(oneline "$cout")"
	else
		fail "dnssec-cds refuses" "accepted a DS naming a key the zone does not use: $(oneline "$cout")"
	fi

	# One rollover step with BIND's tools alone: a ZSK pre-published
	# (dnssec-keygen -P now -A +1d) into the key folder, SIGHUP. The
	# DNSKEY set grows, the CSK still signs, and a validator with an empty
	# cache (the one on 127.0.0.8, restarted) still validates everything.
	# The key is removed afterwards so later sections see one key again.
	local zsk n i
	zsk=$(dnssec-keygen -q -K "$live_keys" -a ECDSAP256SHA256 -P now -A +1d "$ZONE" 2>"$cds/keygen.err") || {
		fail "rollover: ZSK pre-published" "dnssec-keygen: $(oneline "$(cat "$cds/keygen.err")")"
		return 0
	}
	dnskeys() {
		dig +norec +time=2 +tries=1 +noall +answer -p 53 "@$NS1" "$ZONE" DNSKEY 2>/dev/null | awk '$4 == "DNSKEY"' | wc -l
	}
	kill -HUP "$main_pid"
	for ((i = 0; i < 50; i++)); do
		n=$(dnskeys)
		((n == 2)) && break
		sleep 0.1
	done
	if ((n == 2)); then
		pass "rollover: ZSK pre-published" "$zsk (-P now -A +1d) after SIGHUP: 2 DNSKEYs served"
		stop "$validator_pid"
		if validator "validator (fresh cache)" "$VALIDATOR_ADDR"; then
			validator_pid=${pids[-1]}
			delv_check "$ZONE" DNSKEY NOERROR
			delv_check "$STEER" A NOERROR
			delv_check "nx.$ZONE" A NXDOMAIN
		fi
	else
		fail "rollover: ZSK pre-published" "$zsk: $n DNSKEYs served 5 s after SIGHUP (want 2)"
	fi
	rm -f "$live_keys/$zsk.key" "$live_keys/$zsk.private"
	kill -HUP "$main_pid"
	for ((i = 0; i < 50; i++)); do
		n=$(dnskeys)
		((n == 1)) && break
		sleep 0.1
	done
	((n == 1)) || fail "rollover: key removed" "$n DNSKEYs served 5 s after the ZSK was removed and SIGHUP (want 1)"
}

# ---------------------------------------------------------------------------
# 2. A real resolver: Unbound with subnetcache.

run_resolver() {
	section "2. resolver: Unbound with ECS (subnetcache) in front of cdnsteer"
	local ub=$tmp/unbound i
	mkdir -p "$ub"
	ensure_root || return 0
	cp "$tmp/root/hints" "$ub/hints"
	sed -e "s|@DIR@|$ub|g; s|@UNBOUND_ADDR@|$UNBOUND_ADDR|g; s|@NS1_ADDR@|$NS1|g; s|@NS2_ADDR@|$NS2|g" \
		"$here/unbound.conf.in" >"$ub/unbound.conf"
	if ! unbound-checkconf "$ub/unbound.conf" >"$ub/checkconf.log" 2>&1; then
		fail "unbound" "unbound-checkconf: $(oneline "$(cat "$ub/checkconf.log")")"
		return
	fi
	spawn unbound "$ub/unbound.log" unbound -d -c "$ub/unbound.conf"
	for ((i = 0; i < 50; i++)); do
		ask "$UNBOUND_ADDR" +rec . SOA
		[[ -n $status ]] && break
		sleep 0.1
	done
	if [[ $status != NOERROR ]]; then
		fail "unbound" "no answer from Unbound on $UNBOUND_ADDR: $(said)"
		return
	fi
	pass "unbound" "Unbound on $UNBOUND_ADDR (subnetcache iterator, stub $ZONE -> $NS1 $NS2, root hints: local root)"

	# via CLIENT: ask Unbound for the steered name for an ECS client
	# subnet; sets the ask variables, plus before/after query counts at
	# cdnsteer.
	local q0 q1
	via() {
		q0=$(queries_at "$HTTP")
		ask "$UNBOUND_ADDR" +rec "$STEER" A "+subnet=$1"
		q1=$(queries_at "$HTTP")
	}

	# A KR client: its region's CDN, resolved to the end, asked at cdnsteer.
	local kr_a=$KR_NET.1.0/24 de_a=$DE_NET.1.0/24 kr_scope kr_first_ttl
	via "$kr_a"
	kr_first_ttl=$(ttl_of CNAME)
	kr_scope=$(scope_of)
	if [[ $status == NOERROR && $(target) == "$KR_TARGET" && $(count A "$an") -ge 1 ]] && ((q1 > q0)); then
		pass "resolver KR client" "$kr_a -> $(target) (TTL $kr_first_ttl, ECS $ecs), A $(awk '$4 == "A" { print $5; exit }' <<<"$an"); cdnsteer asked ($((q1 - q0)) queries)"
	else
		fail "resolver KR client" "$kr_a: want CNAME $KR_TARGET and its A, asked at cdnsteer; got $(said), target $(target), cdnsteer queries +$((q1 - q0))"
	fi

	# The scope Unbound passes on is the one cdnsteer gave it.
	ask "$NS1" "$STEER" A "+subnet=$kr_a"
	local direct_scope
	direct_scope=$(scope_of)
	if [[ -n $kr_scope && $kr_scope == "$direct_scope" ]]; then
		pass "resolver scope" "Unbound returns ECS scope /$kr_scope for $kr_a, as cdnsteer does"
	else
		fail "resolver scope" "Unbound returned scope '/$kr_scope' for $kr_a, cdnsteer '/$direct_scope'"
	fi

	# Caching by scope. A second client in the same /24 is inside any
	# scope cdnsteer may give: served from Unbound's cache (TTL lower, no
	# query at cdnsteer).
	sleep 1.2
	via "$KR_NET.1.77/32"
	local ttl2
	ttl2=$(ttl_of CNAME)
	if [[ $status == NOERROR && $(target) == "$KR_TARGET" ]] && ((q1 == q0)) && [[ -n $ttl2 && -n $kr_first_ttl ]] && ((ttl2 < kr_first_ttl)); then
		pass "resolver cache hit" "$KR_NET.1.77 (same scope as $kr_a) answered from Unbound's cache: TTL $ttl2 < $kr_first_ttl, no new query at cdnsteer"
	else
		fail "resolver cache hit" "$KR_NET.1.77 after $kr_a: want a cached answer (TTL below $kr_first_ttl, 0 queries at cdnsteer); got target $(target), TTL $ttl2, cdnsteer queries +$((q1 - q0))"
	fi

	# A DE client is outside that scope: Unbound asks cdnsteer, and the
	# answer is the DE region's CDN.
	via "$de_a"
	if [[ $status == NOERROR && $(target) == "$DE_TARGET" && $(count A "$an") -ge 1 ]] && ((q1 > q0)) && [[ $(ttl_of CNAME) == "$TTL" ]]; then
		pass "resolver DE client (cache miss)" "$de_a (outside $KR_NET.0.0/$kr_scope) -> $(target), TTL $(ttl_of CNAME) (fresh), ECS $ecs; cdnsteer asked ($((q1 - q0)) queries)"
	else
		fail "resolver DE client (cache miss)" "$de_a: want CNAME $DE_TARGET with a fresh TTL $TTL, asked at cdnsteer; got $(said), target $(target), TTL $(ttl_of CNAME), cdnsteer queries +$((q1 - q0))"
	fi
	# A KR client in another /24: inside the returned scope iff it is /16
	# or wider; Unbound must behave accordingly.
	via "$KR_NET.200.0/24"
	if [[ -n $kr_scope ]] && ((kr_scope <= 16)); then
		if ((q1 == q0)) && [[ $(target) == "$KR_TARGET" ]]; then
			pass "resolver scope honoured" "scope /$kr_scope: $KR_NET.200.0/24 is inside $KR_NET.0.0/$kr_scope: answered from cache, TTL $(ttl_of CNAME)"
		else
			fail "resolver scope honoured" "scope /$kr_scope: $KR_NET.200.0/24 is inside $KR_NET.0.0/$kr_scope but cdnsteer was asked again (+$((q1 - q0))) or the target is $(target)"
		fi
	else
		if ((q1 > q0)) && [[ $(target) == "$KR_TARGET" ]]; then
			pass "resolver scope honoured" "scope /$kr_scope: $KR_NET.200.0/24 is outside the /$kr_scope of $kr_a: cdnsteer asked again"
		else
			fail "resolver scope honoured" "scope /$kr_scope: $KR_NET.200.0/24 is outside the /$kr_scope of $kr_a but was answered from cache or wrongly ($(target), +$((q1 - q0)))"
		fi
	fi

	# End to end: clients of the default region, whose split is per /24
	# (IPv4) and /56 (IPv6), must get through the resolver the CDN that
	# cdnsteer gives their subnet. A scope wider than the pick lets the
	# resolver hand one subnet's CDN to its neighbours.
	local subnets=() s direct via_t mismatch=0 distinct n=0 detail=''
	for i in 1 2 3 4 5 6 7 8; do subnets+=("10.30.$i.0/24"); done
	for i in 1 2 3 4 5 6; do subnets+=("2001:db8:30:${i}00::/56"); done
	declare -A seen_direct=()
	for s in "${subnets[@]}"; do
		ask "$NS1" "$STEER" A "+subnet=$s"
		direct=$(target)
		seen_direct[$direct]=1
		ask "$UNBOUND_ADDR" +rec "$STEER" A "+subnet=$s"
		via_t=$(target)
		n=$((n + 1))
		if [[ $direct != "$via_t" ]]; then
			mismatch=$((mismatch + 1))
			detail+=" $s: cdnsteer $direct, via Unbound $via_t (ECS $ecs);"
		fi
	done
	distinct=${#seen_direct[@]}
	if ((mismatch == 0 && distinct >= 2)); then
		pass "resolver keeps the split" "$n default-region subnets (8 IPv4 /24, 6 IPv6 /56, $distinct CDNs directly): each got its own CDN through Unbound"
	elif ((distinct < 2)); then
		fail "resolver keeps the split" "the $n subnets all got one CDN directly; pick others"
	else
		fail "resolver keeps the split" "$mismatch of $n default-region subnets got another subnet's CDN through Unbound (cdnsteer's ECS scope is wider than its per-/24 and per-/56 pick):$detail"
	fi
}

# ---------------------------------------------------------------------------
# 3. EDNS and wire.

run_wire() {
	section "3. wire: EDNS (DNS Flag Day / ednscomp style), TCP, opcodes, malformed packets"
	local idle_log=$tmp/idle.log
	# The idle-timeout check waits about TCP_IDLE seconds: run it meanwhile.
	spawn "tcp idle check" "$idle_log" python3 "$here/dnswire.py" idle "$NS1" 53 "$TCP_IDLE"
	local idle_pid=${pids[-1]}

	# --- EDNS (ednscomp: dns, edns, edns1, ednsopt, edns1opt, do, ednsflags, zflag)
	ask "$NS1" +noedns "$ZONE" SOA
	if [[ $status == NOERROR ]] && has_flag aa && ! has_flag ra && [[ -z $edns && $(count SOA "$an") == 1 ]]; then
		pass "plain DNS" "SOA without EDNS: NOERROR aa, one SOA, no OPT"
	else
		fail "plain DNS" "SOA without EDNS: want NOERROR aa, one SOA, no OPT; $(said)"
	fi
	ask "$NS1" +edns=0 +nocookie "$ZONE" SOA
	if [[ $status == NOERROR && $edns == "version: 0, flags:; udp: 1232" && $(count SOA "$an") == 1 ]]; then
		pass "EDNS 0" "OPT \"$edns\""
	else
		fail "EDNS 0" "want NOERROR and OPT \"version: 0, flags:; udp: 1232\"; $(said)"
	fi
	ask "$NS1" +edns=1 +noednsneg +nocookie "$ZONE" SOA
	if [[ $status == BADVERS && $edns == "version: 0,"* && $(nrr "$an") == 0 ]]; then
		pass "EDNS 1" "BADVERS with OPT \"$edns\", no answer (RFC 6891 6.1.3)"
	else
		fail "EDNS 1" "want BADVERS, OPT version 0, no answer; $(said)"
	fi
	ask "$NS1" +edns=1 +noednsneg +nocookie +ednsopt=100:deadbeef "$ZONE" SOA
	if [[ $status == BADVERS && $edns == "version: 0,"* && -z $(opt_extra) ]]; then
		pass "EDNS 1 + unknown option" "BADVERS, option 100 not echoed (no option in the reply OPT)"
	else
		fail "EDNS 1 + unknown option" "want BADVERS and no option in the reply OPT; $(said); options: $(oneline "$(opt_extra)")"
	fi
	ask "$NS1" +nocookie +ednsopt=100:deadbeef "$ZONE" SOA
	if [[ $status == NOERROR && $edns == "version: 0, flags:; udp: 1232" && -z $(opt_extra) ]]; then
		pass "unknown EDNS option" "option 100 ignored and not echoed: no option in the reply OPT (RFC 6891 6.1.2)"
	else
		fail "unknown EDNS option" "want NOERROR and no option in the reply OPT; $(said); options: $(oneline "$(opt_extra)")"
	fi
	ask "$NS1" +nocookie +ednsflags=0x40 "$ZONE" SOA
	if [[ $status == NOERROR && $edns == "version: 0, flags:; udp: 1232" ]]; then
		pass "unknown EDNS flag" "flag 0x40 ignored, not echoed (reply flags empty)"
	else
		fail "unknown EDNS flag" "want NOERROR, no flags and no MBZ in the reply OPT; $(said)"
	fi
	ask "$NS1" +nocookie +dnssec "$ZONE" SOA
	if [[ $status == NOERROR && $edns == "version: 0, flags: do; udp: 1232" ]]; then
		pass "DO bit" "echoed: OPT \"$edns\" (RFC 3225)"
	else
		fail "DO bit" "want the DO flag echoed; $(said)"
	fi
	ask "$NS1" +nocookie +zflag "$ZONE" SOA
	if [[ $status == NOERROR ]] && ! grep -q 'MBZ' <<<"$(grep '^;; flags' <<<"$out")"; then
		pass "header Z bit" "query with Z set: NOERROR, Z clear in the reply"
	else
		fail "header Z bit" "want NOERROR with Z clear; $(said); $(oneline "$(grep '^;; flags' <<<"$out")")"
	fi
	ask "$NS1" +cookie "$ZONE" SOA
	if [[ $status == NOERROR && -z $(opt_extra) ]]; then
		pass "DNS cookie" "client cookie ignored (no COOKIE in the reply; RFC 7873 allows servers without cookies)"
	else
		fail "DNS cookie" "want NOERROR without a COOKIE option; $(said)"
	fi
	# The same, through another implementation.
	local k
	k=$(kdig +norec +time=2 +retry=0 -p 53 "@$NS1" +edns=1 +ednsopt=65001:abcd "$ZONE" SOA 2>&1 || true)
	if grep -q 'status: BADVERS' <<<"$k" && grep -q 'Version: 0;' <<<"$k" && ! grep -q '65001' <<<"$(sed -n '/EDNS PSEUDOSECTION/,/QUESTION/p' <<<"$k")"; then
		pass "kdig EDNS 1" "BADVERS, OPT version 0, option 65001 not echoed"
	else
		fail "kdig EDNS 1" "$(oneline "$(grep -E 'status|Version|65001' <<<"$k")")"
	fi
	k=$(kdig +norec +time=2 +retry=0 -p 53 "@$NS1" +dnssec +bufsize=512 +padding=64 "$ZONE" SOA 2>&1 || true)
	if grep -q 'status: NOERROR' <<<"$k" && grep -q 'flags: do;' <<<"$k" && grep -q 'UDP size: 1232' <<<"$k"; then
		pass "kdig EDNS 0" "DO, 512-byte buffer and padding option: NOERROR, DO echoed, UDP size 1232"
	else
		fail "kdig EDNS 0" "$(oneline "$(grep -E 'status|flags|UDP size' <<<"$k")")"
	fi

	# --- sizes and truncation
	ask "$NS1" +nocookie +bufsize=512 "$ZONE" SOA
	if [[ $status == NOERROR ]] && ! has_flag tc && [[ $(count SOA "$an") == 1 ]]; then
		pass "512-byte buffer" "SOA fits: complete, no TC ($size bytes)"
	else
		fail "512-byte buffer" "$(said)"
	fi
	ask "$NS1" +nocookie +ignore +bufsize=4096 "mid.$ZONE" TXT
	if [[ $status == NOERROR ]] && ! has_flag tc && [[ $(count TXT "$an") == 1 && $size -gt 512 && $edns == *"udp: 1232" ]]; then
		pass "4096-byte buffer" "mid TXT over UDP: complete, $size bytes (> 512), server offers udp 1232"
	else
		fail "4096-byte buffer" "mid TXT with +bufsize=4096: want a complete UDP answer over 512 bytes; $(said), $size bytes"
	fi
	ask "$NS1" +nocookie +ignore +bufsize=512 "mid.$ZONE" TXT
	if [[ $status == NOERROR ]] && has_flag tc && [[ -n $edns && $size -le 512 ]]; then
		pass "truncation at 512 (EDNS)" "mid TXT with +bufsize=512: TC, $size bytes, OPT kept"
	else
		fail "truncation at 512 (EDNS)" "want TC within 512 bytes with an OPT; $(said), $size bytes"
	fi
	ask "$NS1" +noedns +ignore "mid.$ZONE" TXT
	if [[ $status == NOERROR ]] && has_flag tc && [[ $size -le 512 ]]; then
		pass "truncation at 512 (no EDNS)" "mid TXT without EDNS: TC, $size bytes"
	else
		fail "truncation at 512 (no EDNS)" "$(said), $size bytes"
	fi
	ask "$NS1" +nocookie +ignore +bufsize=4096 "big.$ZONE" TXT
	if [[ $status == NOERROR ]] && has_flag tc && [[ $size -le 1232 ]]; then
		pass "truncation over 1232" "big TXT with +bufsize=4096 over UDP: TC, $size bytes (UDP replies stop at 1232)"
	else
		fail "truncation over 1232" "want TC within 1232 bytes; $(said), $size bytes"
	fi
	ask "$NS1" +nocookie +bufsize=4096 "big.$ZONE" TXT
	local txtlen
	txtlen=$(awk '$4 == "TXT" { for (i = 5; i <= NF; i++) { s = $i; gsub(/"/, "", s); n += length(s) } } END { print n + 0 }' <<<"$an")
	if [[ $status == NOERROR && $proto == TCP ]] && ! has_flag tc && ((txtlen == 3000)); then
		pass "TCP after TC" "dig retried big TXT over TCP: complete, $size bytes, 3000 characters of TXT"
	else
		fail "TCP after TC" "want the complete TXT over TCP; $(said), over $proto, $txtlen characters"
	fi
	ask "$NS1" +nocookie +bufsize=100 "$ZONE" SOA
	if [[ $status == NOERROR ]] && ! has_flag tc && [[ $(count SOA "$an") == 1 ]]; then
		pass "buffer below 512" "+bufsize=100 taken as 512 (RFC 6891 6.2.5): SOA complete"
	else
		fail "buffer below 512" "$(said)"
	fi

	# --- TCP
	relay < <(
		python3 "$here/dnswire.py" pipeline "$NS1" 53 "$ZONE" 12 || true
		python3 "$here/dnswire.py" pipeline "$V6" 53 "$ZONE" 12 | sed 's/^\(PASS\|FAIL\) tcp pipelining/\1 tcp pipelining (IPv6)/' || true
		python3 "$here/dnswire.py" split "$NS1" 53 "$ZONE" || true
		python3 "$here/dnswire.py" stall "$NS1" 53 || true
		python3 "$here/dnswire.py" perclient "$NS1" 53 "$ZONE" 16 || true
	)
	k=$(kdig +norec +time=2 +retry=0 -p 53 "@$NS1" +tcp +keepopen "$ZONE" SOA "www.$ZONE" A "$STEER" AAAA 2>&1 || true)
	if (($(grep -c 'status: NOERROR' <<<"$k") == 3)) && (($(grep -c '(TCP)' <<<"$k") == 3)); then
		pass "kdig TCP keepopen" "three queries in sequence on one kept-open TCP connection: 3 NOERROR"
	else
		fail "kdig TCP keepopen" "$(oneline "$(grep -E 'status|From' <<<"$k")")"
	fi

	# --- IP: replies are never fragmented by the server (RFC 9715)
	local dfcap=$tmp/df.txt dfpid i
	timeout 10 tcpdump -n -v -i lo -c 1 "udp and src host $NS1 and src port 53" >"$dfcap" 2>&1 &
	dfpid=$!
	for i in $(seq 100); do
		grep -q 'listening on' "$dfcap" && break
		sleep 0.05
	done
	ask "$NS1" +nocookie "$STEER" A
	wait "$dfpid" || true
	# Linux sets DF on UDP by default too, but then may still fragment
	# on a (forged) path MTU report and draws an IP ID per packet; in
	# probe mode a reply is an atomic datagram (RFC 6864): DF, ID 0.
	if grep -q 'id 0, offset 0, flags \[DF\]' "$dfcap" && grep -q "$NS1.53 >" "$dfcap"; then
		pass "atomic UDP replies" "tcpdump: the reply to a steered query left with id 0, flags [DF] (IP_PMTUDISC_PROBE)"
	else
		fail "atomic UDP replies" "want id 0, flags [DF] on the reply; tcpdump saw: $(oneline "$(grep -m1 'proto UDP' "$dfcap" || tail -n 3 "$dfcap")")"
	fi

	# --- names, case, sections
	ask "$NS1" +nocookie sTrEaM.LiVe.ExAmPlE.cOm. A
	local qline
	qline=$(sed -n 's/^;\([^ ;][^ \t]*\)\t.*/\1/p' <<<"$(sed -n '/QUESTION SECTION/,/^$/p' <<<"$out")" | head -n1)
	if [[ $status == NOERROR && $qline == "sTrEaM.LiVe.ExAmPlE.cOm." && $(awk '$4 == "CNAME" { print $1 }' <<<"$an") == "sTrEaM.LiVe.ExAmPlE.cOm." ]]; then
		pass "0x20 case" "question and CNAME owner keep sTrEaM.LiVe.ExAmPlE.cOm."
	else
		fail "0x20 case" "want the mixed case kept; question '$qline', answer $(oneline "$an")"
	fi
	ask "$NS1" +nocookie pLaYeR.live.example.com. A
	if [[ $status == NOERROR && $(awk '$4 == "A" { print $1 }' <<<"$an") == "pLaYeR.live.example.com." ]]; then
		pass "0x20 case (static)" "A owner keeps pLaYeR.live.example.com."
	else
		fail "0x20 case (static)" "$(oneline "$an")"
	fi
	local t
	for t in A AAAA HTTPS ANY TXT; do
		ask "$NS1" +nocookie "$STEER" "$t"
		if [[ $status == NOERROR ]] && has_flag aa && ! has_flag ra && [[ $(nrr "$an") == 1 && $(count CNAME "$an") == 1 && $(ttl_of CNAME) == "$TTL" ]]; then
			pass "steered $t" "one CNAME to $(target), TTL $TTL, aa, no ra"
		else
			fail "steered $t" "want one CNAME with TTL $TTL, aa; $(said): $(oneline "$an")"
		fi
	done
	ask "$NS1" +nocookie "$ZONE" ANY
	if [[ $status == NOERROR ]] && (($(awk '$4 != "RRSIG" { print $4 }' <<<"$an" | sort -u | wc -l) == 1)); then
		pass "ANY (RFC 8482)" "apex ANY: one RRset ($(awk '{print $4; exit}' <<<"$an"), $(nrr "$an") record(s))"
	else
		fail "ANY (RFC 8482)" "want exactly one RRset; $(said): $(oneline "$an")"
	fi
	ask "$NS1" +nocookie "nx-$RANDOM.$ZONE" A
	if [[ $status == NXDOMAIN ]] && has_flag aa && [[ $(count SOA "$au") == 1 && $(awk '$4 == "SOA" { print $2 }' <<<"$au") == 300 && $(nrr "$an") == 0 ]]; then
		pass "NXDOMAIN" "aa, SOA in authority with TTL 300 (= minimum)"
	else
		fail "NXDOMAIN" "$(said); authority $(oneline "$au")"
	fi
	ask "$NS1" +nocookie "player.$ZONE" AAAA
	if [[ $status == NOERROR ]] && has_flag aa && [[ $(nrr "$an") == 0 && $(count SOA "$au") == 1 ]]; then
		pass "NODATA" "player AAAA: NOERROR aa, empty answer, SOA in authority"
	else
		fail "NODATA" "$(said); authority $(oneline "$au")"
	fi
	ask "$NS1" +nocookie "ent.$ZONE" A
	if [[ $status == NOERROR ]] && has_flag aa && [[ $(nrr "$an") == 0 && $(count SOA "$au") == 1 ]]; then
		pass "empty non-terminal" "ent (above x.ent): NOERROR aa, NODATA"
	else
		fail "empty non-terminal" "want NOERROR NODATA; $(said)"
	fi
	ask "$NS1" +nocookie "alias.$ZONE" A
	if [[ $status == NOERROR ]] && has_flag aa && [[ $(count CNAME "$an") == 1 && $(count A "$an") == 1 ]]; then
		pass "in-zone CNAME" "alias -> player followed: $(oneline "$an")"
	else
		fail "in-zone CNAME" "want the CNAME and player's A; $(said): $(oneline "$an")"
	fi
	ask "$NS1" +nocookie "host.sub.$ZONE" A
	if [[ $status == NOERROR ]] && ! has_flag aa && [[ $(nrr "$an") == 0 && $(count NS "$au") == 1 && $(count A "$ad") == 1 ]]; then
		pass "referral" "below sub: no aa, NS in authority, glue $(awk '$4 == "A" { print $5 }' <<<"$ad")"
	else
		fail "referral" "want a referral (no aa, NS, glue); $(said); authority $(oneline "$au"); additional $(oneline "$ad")"
	fi
	ask "$NS1" +nocookie "sub.$ZONE" DS
	if [[ $status == NOERROR ]] && has_flag aa && [[ $(nrr "$an") == 0 && $(count SOA "$au") == 1 ]]; then
		pass "DS at a cut" "sub DS answered by the parent side: NOERROR aa NODATA"
	else
		fail "DS at a cut" "$(said); authority $(oneline "$au")"
	fi
	ask "$NS1" +nocookie +rec "$ZONE" SOA
	if [[ $status == NOERROR ]] && has_flag rd && ! has_flag ra; then
		pass "RD/RA" "RD echoed, RA clear"
	else
		fail "RD/RA" "$(said)"
	fi
	ask "$NS1" +nocookie example.invalid. SOA
	if [[ $status == REFUSED ]] && ! has_flag aa; then
		pass "outside the zones" "example.invalid. SOA: REFUSED, no aa"
	else
		fail "outside the zones" "$(said)"
	fi
	ask "$V6" +nocookie "$STEER" A "+subnet=$KR_NET.9.0/24"
	if [[ $status == NOERROR && $(target) == "$KR_TARGET" ]]; then
		pass "IPv6 transport" "[$V6]:53 UDP: $STEER -> $(target) for $KR_NET.9.0/24"
	else
		fail "IPv6 transport" "$(said)"
	fi
	ask "$V6" +nocookie +tcp "$ZONE" SOA
	if [[ $status == NOERROR && $proto == TCP ]] && has_flag aa; then
		pass "IPv6 TCP" "[$V6]:53 TCP: SOA NOERROR aa"
	else
		fail "IPv6 TCP" "$(said) over $proto"
	fi

	# --- EDNS Client Subnet (RFC 7871)
	ask "$NS1" +nocookie "$STEER" A "+subnet=$KR_NET.1.0/24"
	if [[ ${ecs%/*} == "$KR_NET.1.0/24" ]]; then
		pass "ECS echo" "$KR_NET.1.0/24 echoed as $ecs"
	else
		fail "ECS echo" "want $KR_NET.1.0/24/SCOPE; got '$ecs'"
	fi
	# README: a steered answer is picked per /24 (IPv4) or /56 (IPv6) of the
	# client subnet, so its scope says 24 or 56; RFC 7871 7.2.1: the scope
	# must not cover clients that would get another answer.
	local net want why
	while IFS='|' read -r net want why; do
		ask "$NS1" +nocookie "$STEER" A "+subnet=$net"
		if [[ $(scope_of) == "$want" ]]; then
			pass "ECS scope $net" "steered answer ($why): scope /$want"
		else
			fail "ECS scope $net" "steered answer ($why): scope /$(scope_of), want /$want (README: picked per /24 or /56; RFC 7871 7.2.1)"
		fi
	done <<SCOPES
$KR_NET.1.0/24|24|region kr, one CDN
10.30.1.0/24|24|default region, four CDNs
198.51.100.0/24|24|default region, no network nearby
10.30.0.0/16|24|default region, source shorter than the pick
2001:db8:30:100::/56|56|default region, IPv6
::ffff:10.82.7.0/120|120|IPv4-mapped in family 2: the /24 counted as 96+24
SCOPES
	ask "$NS1" +nocookie "$STEER" A "+subnet=0.0.0.0/0"
	if [[ $(scope_of) == 0 && $status == NOERROR ]]; then
		pass "ECS source /0" "scope /0 (RFC 7871 7.1.2)"
	else
		fail "ECS source /0" "want scope 0; got '$ecs', $(said)"
	fi
	ask "$NS1" +nocookie "player.$ZONE" A "+subnet=$KR_NET.1.0/24"
	local s1
	s1=$(scope_of)
	ask "$NS1" +nocookie "nx.$ZONE" A "+subnet=$KR_NET.1.0/24"
	if [[ $s1 == 0 && $(scope_of) == 0 ]]; then
		pass "ECS scope static/negative" "static A and NXDOMAIN: scope /0 (the answer does not depend on the client)"
	else
		fail "ECS scope static/negative" "static A scope /$s1, NXDOMAIN scope /$(scope_of); want /0"
	fi

	# --- classes, opcodes, transfers
	ask "$NS1" +nocookie -c CLASS42 "$ZONE" SOA
	if [[ $status == REFUSED ]]; then
		pass "unknown class" "CLASS42: REFUSED"
	else
		fail "unknown class" "CLASS42: $(said)"
	fi
	ask "$NS1" +nocookie -c HS "$ZONE" SOA
	if [[ $status == REFUSED ]]; then
		pass "class HS" "REFUSED"
	else
		fail "class HS" "$(said)"
	fi
	local name
	for name in version.bind. id.server. hostname.bind.; do
		ask "$NS1" +nocookie -c CH "$name" TXT
		if [[ $status == "$CHAOS_EXPECT" ]]; then
			pass "CHAOS $name" "TXT CH: $status (expected $CHAOS_EXPECT: CONFORMANCE_CHAOS_EXPECT)"
		else
			fail "CHAOS $name" "TXT CH: $(said); expected $CHAOS_EXPECT (CONFORMANCE_CHAOS_EXPECT)"
		fi
	done
	local op
	for op in notify update 2 3 15; do
		ask "$NS1" +nocookie "+opcode=$op" "$ZONE" SOA
		if [[ $status == NOTIMP ]]; then
			pass "opcode $op" "NOTIMP (opcode echoed: $opcode)"
		else
			fail "opcode $op" "want NOTIMP; $(said), opcode $opcode"
		fi
	done
	k=$(kdig +time=2 +retry=0 -p 53 "@$NS1" "$ZONE" AXFR 2>&1 || true)
	if grep -q "replied with error 'REFUSED'" <<<"$k"; then
		pass "AXFR" "kdig AXFR over TCP: REFUSED"
	else
		fail "AXFR" "want REFUSED: $(oneline "$k")"
	fi
	relay < <(
		python3 "$here/dnswire.py" paths "$NS1" 53 "$ZONE" || true
		python3 "$here/dnswire.py" opcodes "$NS1" 53 "$ZONE" || true
		python3 "$here/dnswire.py" malformed "$NS1" 53 "$ZONE" || true
	)
	wire_errors
	wire_rrl

	local panics
	panics=$(metric "$HTTP" 'cdnsteer_dns_dropped_total{reason="panic"}')
	if [[ $panics == 0 ]] && kill -0 "$main_pid" 2>/dev/null; then
		pass "no panic" "cdnsteer_dns_dropped_total{reason=\"panic\"} 0 after every malformed packet; process alive"
	else
		fail "no panic" "panics '$panics', process $(kill -0 "$main_pid" 2>/dev/null && echo alive || echo DEAD)"
	fi

	# --- the idle check started at the top of this section
	wait "$idle_pid" 2>/dev/null || true
	relay <"$idle_log"
	grep -qE '^(PASS|FAIL) ' "$idle_log" || fail "tcp idle timeout" "the check printed nothing: $(oneline "$(cat "$idle_log")")"
}

# wire_errors: EDNS on error paths (RFC 6891 7: a query with an OPT gets a
# reply with an OPT), escaped dots, glue and TC, CNAME chains that end
# negative, the longest names.
wire_errors() {
	ask "$NS1" +nocookie +ednsopt=8:0003080a "$STEER" A
	if [[ $status == FORMERR && $edns == "version: 0, flags:; udp: 1232" && -z $(opt_extra) ]] && grep -q "^;$STEER" <<<"$out"; then
		pass "FORMERR keeps EDNS" "ECS of family 3: FORMERR with OPT \"$edns\", question echoed, nothing else in the OPT"
	else
		fail "FORMERR keeps EDNS" "ECS of family 3: want FORMERR with an OPT and the question; $(said)"
	fi
	ask "$NS1" +nocookie "+subnet=$KR_NET.1.0/24" +ednsopt=8:000118000a0a02 "$STEER" A
	if [[ $status == FORMERR && -n $edns ]]; then
		pass "two ECS options" "FORMERR with OPT \"$edns\""
	else
		fail "two ECS options" "want FORMERR with an OPT; $(said)"
	fi
	ask "$NS1" +nocookie +edns=1 +noednsneg +ednsopt=8:0003080a "$STEER" A
	if [[ $status == BADVERS && $edns == "version: 0,"* ]]; then
		pass "EDNS 1 + malformed ECS" "BADVERS with OPT \"$edns\": the options of version 1 are not ours to judge (RFC 6891 6.1.3)"
	else
		fail "EDNS 1 + malformed ECS" "want BADVERS with an OPT of version 0; $(said)"
	fi
	local k
	k=$(kdig +norec +time=2 +retry=0 -p 53 "@$NS1" +ednsopt=8:0003080a "$STEER" A 2>&1 || true)
	if grep -q 'status: FORMERR' <<<"$k" && grep -q 'EDNS PSEUDOSECTION' <<<"$k" && ! grep -q WARNING <<<"$k"; then
		pass "kdig FORMERR keeps EDNS" "ECS of family 3: FORMERR with an EDNS pseudosection, no warning"
	else
		fail "kdig FORMERR keeps EDNS" "$(oneline "$(grep -E 'WARNING|status|EDNS|Version' <<<"$k")")"
	fi

	# An escaped dot is part of its label (RFC 4343 2.1): x\.live is one
	# label, and the name is in no zone served here.
	ask "$NS1" +nocookie 'x\.live.example.com.' A
	if [[ $status == REFUSED ]] && ! has_flag aa && [[ -z $au ]]; then
		pass "escaped dot" "x\\.live.example.com.: REFUSED, no aa (the label is \"x.live\")"
	else
		fail "escaped dot" "x\\.live.example.com.: want REFUSED without aa; $(said); authority $(oneline "$au")"
	fi
	ask "$NS1" +nocookie "a\\.b.$ZONE" A
	if [[ $status == NXDOMAIN ]] && has_flag aa && [[ $(count SOA "$au") == 1 ]]; then
		pass "escaped dot in a zone" "a\\.b.$ZONE: NXDOMAIN aa with the SOA"
	else
		fail "escaped dot in a zone" "want NXDOMAIN aa; $(said)"
	fi

	# RFC 2181 9: TC only when data the client needs did not fit.
	ask "$NS1" +noedns +ignore "$WIRE_ZONE" NS
	if [[ $status == NOERROR ]] && ! has_flag tc && [[ $(count NS "$an") == 10 && $(nrr "$ad") -gt 0 && $(nrr "$ad") -lt 20 && $size -le 512 ]]; then
		pass "optional glue without TC" "$WIRE_ZONE NS in 512 bytes: 10 NS, $(nrr "$ad") of 20 addresses, no TC ($size bytes)"
	else
		fail "optional glue without TC" "$WIRE_ZONE NS without EDNS: want 10 NS, some addresses, no TC; $(said), $(nrr "$ad") additional, $size bytes"
	fi
	ask "$NS1" +noedns +ignore "www.sub.$WIRE_ZONE" A
	if [[ $status == NOERROR ]] && has_flag tc && ! has_flag aa; then
		pass "required glue sets TC" "referral to sub.$WIRE_ZONE in 512 bytes: TC (its glue is in-bailiwick, RFC 9471)"
	else
		fail "required glue sets TC" "want a referral with TC; $(said)"
	fi
	ask "$NS1" +nocookie "www.sub.$WIRE_ZONE" A
	if [[ $status == NOERROR ]] && ! has_flag tc && [[ $(count NS "$au") == 10 && $(count A "$ad") == 10 && $(count AAAA "$ad") == 10 ]]; then
		pass "referral in 1232 bytes" "10 NS, 20 glue addresses, no TC ($size bytes)"
	else
		fail "referral in 1232 bytes" "want 10 NS and 20 glue; $(said), authority $(nrr "$au"), additional $(nrr "$ad")"
	fi

	# RFC 6604 3 and RFC 2308 2.2: a chain ends as its last name does.
	ask "$NS1" +nocookie "dangling.$WIRE_ZONE" A
	if [[ $status == NXDOMAIN ]] && has_flag aa && [[ $(count CNAME "$an") == 2 && $(count SOA "$au") == 1 ]]; then
		pass "CNAME chain to nothing" "dangling -> hop -> missing: NXDOMAIN aa, 2 CNAMEs, SOA in authority"
	else
		fail "CNAME chain to nothing" "want NXDOMAIN with 2 CNAMEs and the SOA; $(said); authority $(oneline "$au")"
	fi
	ask "$NS1" +nocookie "www.$WIRE_ZONE" AAAA
	if [[ $status == NOERROR ]] && has_flag aa && [[ $(nrr "$an") == 1 && $(count CNAME "$an") == 1 && $(count SOA "$au") == 1 ]]; then
		pass "CNAME chain to NODATA" "www -> host AAAA: NOERROR aa, the CNAME, SOA in authority"
	else
		fail "CNAME chain to NODATA" "want the CNAME and the SOA; $(said); authority $(oneline "$au")"
	fi

	# RFC 1035 2.3.4: 255 octets is the longest name. A query for one is
	# answered in a reply both clients read; a policy name one octet
	# longer (the record below lands in WIRE_ZONE, the last zone: 3 x 64 +
	# 53 + 11 = 256) is refused by check, so it never reaches a reply.
	local l63 long
	l63=$(printf 'a%.0s' {1..63})
	long=$l63.$l63.$l63.$(printf 'b%.0s' {1..44}).$ZONE
	ask "$NS1" +nocookie "$long" A
	k=$(kdig +norec +time=2 +retry=0 -p 53 "@$NS1" "$long" A 2>&1 || true)
	if [[ $status == NXDOMAIN ]] && grep -q 'status: NXDOMAIN' <<<"$k"; then
		pass "255-octet name" "a query for a name of 255 octets: NXDOMAIN, read by dig and kdig"
	else
		fail "255-octet name" "dig: $(said); kdig: $(oneline "$(grep -E 'status|WARNING|error' <<<"$k")")"
	fi
	local bad=$tmp/long-name.toml
	render_policy "$bad" "[\"$NS1:53\"]" "$HTTP" "$TTL"
	printf '\n[[zone.record]]\nname = "%s"\ntype = "A"\nvalue = "192.0.2.1"\n' "$l63.$l63.$l63.$(printf 'c%.0s' {1..52})" >>"$bad"
	if "$bin" check -config "$bad" >"$tmp/long-name.log" 2>&1; then
		fail "256-octet policy name" "check accepted a record whose name is 256 octets on the wire"
	else
		pass "256-octet policy name" "check refuses it: $(oneline "$(sed -E 's/"[a-c.]{60,}"/"(the name)"/' "$tmp/long-name.log" | grep -m1 -i octet || head -n1 "$tmp/long-name.log")")"
	fi
}

# wire_rrl: a server with rate limiting that slips every limited reply:
# the slip (TC) to an EDNS query keeps the OPT, DO bit included, on the
# fast path (steered) and the general path (NODATA).
wire_rrl() {
	local dir=$tmp/rrl name i seen
	mkdir -p "$dir"
	render_policy "$dir/policy.toml" "[\"$RRL_ADDR:53\"]" "$RRL_HTTP" "$TTL"
	printf '\n[rrl]\nenabled = true\nresponses_per_second = 1\nslip = 1\n' >>"$dir/policy.toml"
	serve rrl "$dir/policy.toml" "$RRL_HTTP"
	local rrl_pid=${pids[-1]}
	for name in "$STEER A" "player.$ZONE AAAA"; do
		seen=''
		for ((i = 0; i < 20; i++)); do
			# shellcheck disable=SC2086 # name and type
			ask "$RRL_ADDR" +nocookie +dnssec +ignore $name
			if has_flag tc; then
				seen=1
				break
			fi
		done
		if [[ -n $seen && $edns == "version: 0, flags: do; udp: 1232" && $(nrr "$an") == 0 ]]; then
			pass "slip keeps EDNS ($name)" "rate-limited reply $((i + 1)): TC, no records, OPT \"$edns\" ($size bytes)"
		else
			fail "slip keeps EDNS ($name)" "want a TC reply with the OPT and DO within 20 queries at 1/s; last: $(said)"
		fi
	done
	stop "$rrl_pid"
}

# ---------------------------------------------------------------------------
# 4. Faults under load.

# perf NAME SECONDS: dnsperf against the load server, bounded in time and
# rate; output in $tmp/NAME.dnsperf.
perf() {
	spawn "dnsperf $1" "$tmp/$1.dnsperf" dnsperf -s "$LOAD_ADDR" -p 53 -d "$tmp/queries.txt" -l "$2" -Q 2000 -c 4 -q 50 -t 2 \
		-E 8:000118000a0a01
}
# perf_result NAME: check a finished dnsperf run; sets lost.
perf_result() {
	local f=$tmp/$1.dnsperf sent completed codes
	sent=$(sed -n 's/^ *Queries sent: *\([0-9]*\).*/\1/p' "$f")
	completed=$(sed -n 's/^ *Queries completed: *\([0-9]*\).*/\1/p' "$f")
	lost=$(sed -n 's/^ *Queries lost: *\([0-9]*\).*/\1/p' "$f")
	codes=$(sed -n 's/^ *Response codes: *//p' "$f")
	if [[ -n $sent && $sent -gt 0 && $lost == 0 && $completed == "$sent" ]] && ! grep -qE 'SERVFAIL|REFUSED|FORMERR|NOTIMP' <<<"$codes"; then
		pass "$1: nothing lost" "Queries sent: $sent, completed: $completed, Queries lost: $lost; response codes: $codes; $(sed -n 's/^ *Queries per second: *//p' "$f") qps"
	else
		fail "$1: nothing lost" "Queries sent: ${sent:-?}, completed: ${completed:-?}, Queries lost: ${lost:-?}; response codes: ${codes:-?} ($(oneline "$(tail -n 5 "$f")"))"
	fi
}

run_load() {
	section "4. load: dnsperf while the policy is replaced and broken"
	local dir=$tmp/load i
	mkdir -p "$dir"
	local dns="[\"$LOAD_ADDR:53\"]"
	render_policy "$dir/policy.toml" "$dns" "$LOAD_HTTP" 20
	serve load "$dir/policy.toml" "$LOAD_HTTP"
	local load_pid=${pids[-1]} load_log=${logs[-1]}
	printf '%s\n' "$STEER A" "$STEER AAAA" "$ZONE SOA" "$ZONE NS" "www.$ZONE A" "player.$ZONE A" "nx.$ZONE A" "alias.$ZONE A" >"$tmp/queries.txt"
	local ok0 err0
	ok0=$(metric "$LOAD_HTTP" 'cdnsteer_config_reload_total{result="success"}')
	err0=$(metric "$LOAD_HTTP" 'cdnsteer_config_reload_total{result="error"}')

	# Ten good policies, renamed over the file the way editors save, while
	# dnsperf runs; each has another TTL, so each is a real change.
	perf reload 10
	local perf_pid=${pids[-1]}
	sleep 1
	for ((i = 1; i <= 10; i++)); do
		render_policy "$dir/policy.toml.new" "$dns" "$LOAD_HTTP" $((20 + i))
		mv -f "$dir/policy.toml.new" "$dir/policy.toml"
		sleep 0.7
	done
	wait "$perf_pid" 2>/dev/null || true
	perf_result reload
	local reloads ok1
	reloads=$(grep -c 'msg="policy reloaded"' "$load_log" || true)
	ok1=$(metric "$LOAD_HTTP" 'cdnsteer_config_reload_total{result="success"}')
	ask "$LOAD_ADDR" "$STEER" A
	if [[ $reloads == 10 && $((ok1 - ok0)) == 10 && $(ttl_of CNAME) == 30 ]]; then
		pass "reload: 10 reloads" "server log shows 10 \"policy reloaded\", cdnsteer_config_reload_total{result=\"success\"} +10, last policy (TTL 30) in force"
	else
		fail "reload: 10 reloads" "log shows $reloads \"policy reloaded\", success counter +$((ok1 - ok0)), steered TTL $(ttl_of CNAME) (want 10, +10, 30)"
	fi

	# A broken policy during load changes nothing and loses nothing.
	perf broken 5
	perf_pid=${pids[-1]}
	sleep 1.5
	printf '%s\n' '# broken on purpose by scripts/conformance.sh' '[server' 'dns = = ' >"$dir/policy.toml.new"
	mv -f "$dir/policy.toml.new" "$dir/policy.toml"
	sleep 1.5
	local err1 last ttl_broken
	err1=$(metric "$LOAD_HTTP" 'cdnsteer_config_reload_total{result="error"}')
	last=$(metric "$LOAD_HTTP" cdnsteer_config_last_reload_successful)
	ask "$LOAD_ADDR" "$STEER" A
	ttl_broken=$(ttl_of CNAME)
	wait "$perf_pid" 2>/dev/null || true
	perf_result broken
	if [[ $((err1 - err0)) == 1 && $last == 0 && $ttl_broken == 30 ]] && grep -q 'policy reload failed' "$load_log" && kill -0 "$load_pid" 2>/dev/null; then
		pass "broken policy" "error counter +1, last_reload_successful 0, still answering with the previous policy (TTL 30), error logged: $(grep -m1 -o 'err="[^"]*' "$load_log" | cut -c1-120)"
	else
		fail "broken policy" "error counter +$((err1 - err0)) (want 1), last_reload_successful '$last' (want 0), steered TTL '$ttl_broken' (want 30)"
	fi
	render_policy "$dir/policy.toml.new" "$dns" "$LOAD_HTTP" 31
	mv -f "$dir/policy.toml.new" "$dir/policy.toml"
	for ((i = 0; i < 30; i++)); do
		[[ $(metric "$LOAD_HTTP" cdnsteer_config_last_reload_successful) == 1 ]] && break
		sleep 0.1
	done
	ask "$LOAD_ADDR" "$STEER" A
	if [[ $(metric "$LOAD_HTTP" cdnsteer_config_last_reload_successful) == 1 && $(ttl_of CNAME) == 31 ]]; then
		pass "repaired policy" "last_reload_successful 1, TTL 31 in force"
	else
		fail "repaired policy" "last_reload_successful '$(metric "$LOAD_HTTP" cdnsteer_config_last_reload_successful)', TTL $(ttl_of CNAME)"
	fi

	# A second server (a forgotten old instance, a typo in a unit file) on
	# the same DNS address must fail to start, not share the address and
	# answer half the queries from another policy.
	local dir2=$tmp/second
	mkdir -p "$dir2"
	render_policy "$dir2/policy.toml" "$dns" "$LOAD_ADDR:8054" 77
	spawn "cdnsteer second" "$tmp/cdnsteer-second.log" "$bin" serve -config "$dir2/policy.toml"
	local second=${pids[-1]} state=running
	for ((i = 0; i < 30; i++)); do
		kill -0 "$second" 2>/dev/null || {
			state=exited
			break
		}
		curl -fs -o /dev/null --max-time 1 "http://$LOAD_ADDR:8054/readyz" && {
			state=ready
			break
		}
		sleep 0.1
	done
	if [[ $state == exited ]]; then
		pass "second instance" "a second cdnsteer on $LOAD_ADDR:53 exited: $(oneline "$(grep -iE 'address|bind|use' "$tmp/cdnsteer-second.log" | head -n2)")"
	else
		local n77=0 n31=0
		for ((i = 0; i < 40; i++)); do
			ask "$LOAD_ADDR" "$STEER" A
			case $(ttl_of CNAME) in 77) n77=$((n77 + 1)) ;; 31) n31=$((n31 + 1)) ;; esac
		done
		fail "second instance" "a second cdnsteer with another policy started on the same $LOAD_ADDR:53 ($state) instead of failing (SO_REUSEPORT): of 40 queries $n31 were answered by the first (TTL 31), $n77 by the second (TTL 77)"
	fi
	stop "$second"
}

# ---------------------------------------------------------------------------
# 5. Go tests of this suite.

run_gotests() {
	section "5. gotests: warm restart and decision-log faults"
	local pkg rx f
	for pkg in "./cmd/cdnsteer:^TestRestart" "./health:^TestJournal"; do
		rx=${pkg#*:}
		f=$tmp/gotest-$(basename "${pkg%%:*}").log
		if go test -count=1 -run "$rx" -v "${pkg%%:*}" >"$f" 2>&1; then
			pass "go test ${pkg%%:*} -run $rx" "$(grep -E '^--- PASS' "$f" | sed 's/^--- PASS: //' | tr '\n' ' ' | sed 's/ $//')"
		else
			fail "go test ${pkg%%:*} -run $rx" "$(oneline "$(grep -E '^(--- FAIL|\s+\S+_test.go)' "$f" | head -n 5)")"
			tail -n 40 "$f"
		fi
	done
}

for s in "${sections[@]}"; do
	"run_$s"
done

echo
echo "=== done in $(($(date +%s) - started_at))s"
if ((failed > 0)); then
	echo "failed checks:"
	printf '  %s\n' "${failures[@]}"
fi
echo "conformance: $passed passed, $failed failed"
((failed == 0))
