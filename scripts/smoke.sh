#!/usr/bin/env bash
# smoke.sh — dig-based smoke test for a running cdnsteer instance.
#
#   scripts/smoke.sh [-single] HOST PORT ZONE [STEERED_NAME]
#
#   HOST          address of the nameserver (127.0.0.1, ::1, 192.0.2.53, ...)
#   PORT          its DNS port (53 in production, 1053 for the example)
#   ZONE          a zone it is authoritative for (live.example.com.)
#   STEERED_NAME  a steered name in that zone; default stream.ZONE. A name
#                 without a trailing dot is taken relative to ZONE.
#   -single       accept a steered name that answers with a single CDN
#                 target across client subnets (an instance with one CDN)
#
# It assumes nothing about the zone beyond an SOA and NS at the apex and the
# steered name, so it can be pointed at any instance. Every check prints one
# line, "PASS <check>: <detail>" or "FAIL <check>: <detail>", then a summary.
# The exit status is the number of failed checks (0 = all passed); 64 for a
# usage error. Every query is "dig +norec +time=2 +tries=1", so a dead
# server fails each check within about two seconds.
set -uo pipefail

usage() {
	echo "usage: $0 [-single] HOST PORT ZONE [STEERED_NAME]" >&2
	exit 64
}

single=0
args=()
while (($#)); do
	case $1 in
	-single | --single) single=1 ;;
	-h | -help | --help) usage ;;
	--)
		shift
		args+=("$@")
		break
		;;
	-?*)
		echo "$0: unknown option $1" >&2
		usage
		;;
	*) args+=("$1") ;;
	esac
	shift
done
((${#args[@]} >= 3 && ${#args[@]} <= 4)) || usage

host=${args[0]}
host=${host#[}
host=${host%]}
port=${args[1]}
if ! [[ $port =~ ^[0-9]+$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
	echo "$0: bad port '$port'" >&2
	usage
fi
lc() { printf '%s' "${1,,}"; }
zone=$(lc "${args[2]}")
[[ $zone == *. ]] || zone="$zone."
if ((${#args[@]} == 4)); then
	steered=$(lc "${args[3]}")
	if [[ $steered != *. ]]; then
		case $steered in
		*"${zone%.}") steered="$steered." ;;
		*) steered="$steered.$zone" ;;
		esac
	fi
else
	steered="stream.$zone"
	[[ $zone == . ]] && steered="stream."
fi

passed=0
failed=0
pass() {
	echo "PASS $1: $2"
	passed=$((passed + 1))
}
fail() {
	echo "FAIL $1: $2"
	failed=$((failed + 1))
}

if ! command -v dig >/dev/null 2>&1; then
	fail dig "dig not found; install it with 'apt-get install bind9-dnsutils' (Debian/Ubuntu)"
	exit 1
fi

# q runs one query; it leaves dig's output in out and sets status, flags,
# an_rrs (answer section records), ns_rrs (authority section records).
out='' status='' flags='' an_rrs='' ns_rrs=''
replies=0
ra_seen=''
q() {
	out=$(dig +norec +time=2 +tries=1 -p "$port" "@$host" "$@" 2>&1)
	status=$(sed -n 's/^;; ->>HEADER<<- .*status: \([A-Z0-9]*\),.*/\1/p' <<<"$out" | head -n1)
	flags=$(sed -n 's/^;; flags:\([a-z ]*\);.*/\1/p' <<<"$out" | head -n1)
	an_rrs=$(section ANSWER)
	ns_rrs=$(section AUTHORITY)
	if [[ -n $status ]]; then
		replies=$((replies + 1))
		has_flag ra && ra_seen+=" [$*]"
	fi
	return 0
}
# section NAME prints the records of one section of the last reply.
section() {
	awk -v s=";; $1 SECTION:" '$0 == s { on = 1; next } on && /^$/ { on = 0 } on && !/^;/ { print }' <<<"$out"
}
has_flag() { [[ " $flags " == *" $1 "* ]]; }
# count TYPE [RECORDS]: how many records of TYPE (default: the answer's).
count() {
	local rrs=${2-$an_rrs}
	awk -v t="$1" '$4 == t { n++ } END { print n + 0 }' <<<"$rrs"
}
# total: how many records the answer holds.
total() { awk 'NF { n++ } END { print n + 0 }' <<<"$an_rrs"; }
# noreply explains a query that got no reply, for a FAIL line.
noreply() {
	local why
	why=$(grep -E '^;; (communications error|connection timed out|no servers could be reached)|refused|unreachable' <<<"$out" | head -n1)
	[[ -n $why ]] || why=$(grep -v '^$' <<<"$out" | tail -n1)
	printf 'no reply from %s port %s (%s)' "$host" "$port" "${why#;; }"
}
# soa_owner_ok RECORDS: exactly one SOA, owned by the zone apex.
soa_owner_ok() {
	[[ $(count SOA "$1") == 1 ]] && [[ $(awk '$4 == "SOA" { print tolower($1) }' <<<"$1") == "$zone" ]]
}
flagstr() { printf 'flags [%s]' "$(oneline "$flags")"; }
# oneline squeezes records (or flags) onto one line for a detail.
oneline() { tr -s ' \t\n' ' ' <<<"$1" | sed 's/^ //; s/ $//'; }

# 1. SOA at the apex.
q "$zone" SOA
if [[ -z $status ]]; then
	fail soa "$(noreply)"
elif [[ $status != NOERROR ]]; then
	fail soa "$zone SOA: status $status, want NOERROR"
elif ! has_flag aa; then
	fail soa "$zone SOA: aa flag missing ($(flagstr))"
elif ! soa_owner_ok "$an_rrs" || [[ $(total) != 1 ]]; then
	fail soa "$zone SOA: want exactly one SOA owned by $zone in the answer, got $(total) record(s): $(oneline "$an_rrs")"
else
	pass soa "$zone NOERROR aa, serial $(awk '$4 == "SOA" { print $7 }' <<<"$an_rrs"), primary $(awk '$4 == "SOA" { print $5 }' <<<"$an_rrs")"
fi

# 2. NS at the apex.
q "$zone" NS
if [[ -z $status ]]; then
	fail ns "$(noreply)"
elif [[ $status != NOERROR ]]; then
	fail ns "$zone NS: status $status, want NOERROR"
elif ! has_flag aa; then
	fail ns "$zone NS: aa flag missing ($(flagstr))"
elif (($(count NS) < 1)); then
	fail ns "$zone NS: no NS record in the answer"
else
	pass ns "$zone has $(count NS) NS: $(awk '$4 == "NS" { print $5 }' <<<"$an_rrs" | sort | tr '\n' ' ' | sed 's/ $//')"
fi

# 3. The steered name answers A with exactly one CNAME.
q "$steered" A
cname_of() { awk '$4 == "CNAME" { print tolower($5) }' <<<"$an_rrs"; }
if [[ -z $status ]]; then
	fail steer "$(noreply)"
elif [[ $status != NOERROR ]]; then
	fail steer "$steered A: status $status, want NOERROR"
elif ! has_flag aa; then
	fail steer "$steered A: aa flag missing ($(flagstr))"
elif [[ $(count CNAME) != 1 || $(total) != 1 ]]; then
	fail steer "$steered A: want exactly one CNAME in the answer, got $(total) record(s): $(oneline "$an_rrs")"
else
	pass steer "$steered A -> CNAME $(cname_of), TTL $(awk '$4 == "CNAME" { print $2 }' <<<"$an_rrs"), aa"
fi

# 4. Over many client subnets (EDNS Client Subnet), the steered name spreads
# over at least two CDN targets. Subnets differ in the second and third
# octets so that any sensible per-subnet keying tells them apart.
declare -A seen=()
asked=0 bad=0 baddetail=''
for n in $(seq 1 24); do
	subnet="10.$((n * 7 % 256)).$((n * 37 % 256)).0/24"
	q "$steered" A "+subnet=$subnet"
	if [[ -z $status ]]; then
		bad=$((bad + 1))
		baddetail="$subnet: $(noreply)"
		break # the server is not answering: do not wait out every query
	fi
	asked=$((asked + 1))
	if [[ $status != NOERROR || $(count CNAME) != 1 || $(total) != 1 ]]; then
		bad=$((bad + 1))
		baddetail="$subnet: status $status, want one CNAME, got $(total) answer record(s)"
		continue
	fi
	t=$(cname_of)
	seen[$t]=$((${seen[$t]:-0} + 1))
done
spread=''
for t in "${!seen[@]}"; do spread+="$t(${seen[$t]}) "; done
spread=$(tr ' ' '\n' <<<"$spread" | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//')
ntargets=${#seen[@]}
if ((bad > 0)); then
	fail spread "$bad bad answer(s) for $steered over client subnets; last: $baddetail"
elif ((ntargets >= 2)); then
	pass spread "$asked client subnets -> $ntargets targets: $spread"
elif ((ntargets == 1 && single)); then
	pass spread "$asked client subnets -> 1 target (accepted by -single): $spread"
else
	fail spread "$asked client subnets all got the same target ($spread); the policy has a single CDN or the server ignores EDNS Client Subnet; rerun with -single if one CDN is intended"
fi

# 5. NXDOMAIN for a name that cannot exist, with the SOA in authority.
label="smoke-nx-$RANDOM$RANDOM-$$"
q "$label.$zone" A
if [[ -z $status ]]; then
	fail nxdomain "$(noreply)"
elif [[ $status != NXDOMAIN ]]; then
	fail nxdomain "$label.$zone A: status $status, want NXDOMAIN"
elif ! has_flag aa; then
	fail nxdomain "$label.$zone A: aa flag missing ($(flagstr))"
elif [[ $(total) != 0 ]]; then
	fail nxdomain "$label.$zone A: answer not empty: $(oneline "$an_rrs")"
elif ! soa_owner_ok "$ns_rrs"; then
	fail nxdomain "$label.$zone A: want the zone's SOA in authority, got: $(oneline "$ns_rrs")"
else
	pass nxdomain "$label.$zone NXDOMAIN aa, SOA in authority (negative TTL $(awk '$4 == "SOA" { print $2 }' <<<"$ns_rrs"))"
fi

# 6. NODATA: the apex exists, but no zone has a TYPE65534 (private use) set.
q "$zone" TYPE65534
if [[ -z $status ]]; then
	fail nodata "$(noreply)"
elif [[ $status != NOERROR ]]; then
	fail nodata "$zone TYPE65534: status $status, want NOERROR"
elif ! has_flag aa; then
	fail nodata "$zone TYPE65534: aa flag missing ($(flagstr))"
elif [[ $(total) != 0 ]]; then
	fail nodata "$zone TYPE65534: answer not empty: $(oneline "$an_rrs")"
elif ! soa_owner_ok "$ns_rrs"; then
	fail nodata "$zone TYPE65534: want the zone's SOA in authority, got: $(oneline "$ns_rrs")"
else
	pass nodata "$zone TYPE65534 NOERROR aa, empty answer, SOA in authority"
fi

# 7. REFUSED for a name outside every zone served.
outside=example.invalid.
[[ $zone == . || $zone == invalid. ]] && outside=cdnsteer-smoke.test.
q "$outside" SOA
if [[ -z $status ]]; then
	fail refused "$(noreply)"
elif [[ $status != REFUSED ]]; then
	fail refused "$outside SOA: status $status, want REFUSED"
elif has_flag aa; then
	fail refused "$outside SOA: REFUSED but aa set ($(flagstr))"
else
	pass refused "$outside SOA REFUSED, no aa"
fi

# 8. TCP.
q +tcp "$zone" SOA
if [[ -z $status ]]; then
	fail tcp "$(noreply)"
elif ! grep -q '^;; SERVER: .*(TCP)' <<<"$out"; then
	fail tcp "$zone SOA: reply did not come over TCP"
elif [[ $status != NOERROR ]] || ! has_flag aa || ! soa_owner_ok "$an_rrs"; then
	fail tcp "$zone SOA over TCP: status $status, $(flagstr), $(count SOA) SOA"
else
	pass tcp "$zone SOA over TCP: NOERROR aa, one SOA"
fi

# 9. EDNS version 1 gets BADVERS with our OPT (RFC 6891 6.1.3). dig would
# otherwise retry with version 0 on BADVERS: +noednsneg stops it.
q +edns=1 +noednsneg "$zone" SOA
if [[ -z $status ]]; then
	fail edns "$(noreply)"
elif [[ $status != BADVERS ]]; then
	fail edns "$zone SOA with EDNS version 1: status $status, want BADVERS"
elif ! grep -q '^; EDNS: version: ' <<<"$out"; then
	fail edns "BADVERS reply carries no OPT record"
else
	pass edns "EDNS version 1 -> BADVERS, reply OPT $(sed -n 's/^; EDNS: \(version: [0-9]*\).*/\1/p' <<<"$out")"
fi

# 10. The client subnet is echoed (RFC 7871 7.2.1: family, source prefix
# and address as sent).
ecs_q=192.0.2.0/24
q "$steered" A "+subnet=$ecs_q"
echoed=$(sed -n 's/^; CLIENT-SUBNET: //p' <<<"$out" | head -n1)
if [[ -z $status ]]; then
	fail ecs "$(noreply)"
elif [[ -z $echoed ]]; then
	fail ecs "$steered A +subnet=$ecs_q: reply has no CLIENT-SUBNET option (status $status)"
elif [[ ${echoed%/*} != "$ecs_q" ]]; then
	fail ecs "$steered A +subnet=$ecs_q: echoed $echoed, want $ecs_q/SCOPE"
else
	pass ecs "$steered A +subnet=$ecs_q: CLIENT-SUBNET $echoed echoed (scope /${echoed##*/})"
fi

# 11. No reply claims recursion. Every reply so far asked +norec; one more
# query sets RD, as a stub resolver would, since a server may echo RD in RA.
q +rec "$zone" SOA
if [[ -n $status ]] && ! has_flag rd; then
	fail nora "$zone SOA with RD set: reply does not echo rd ($(flagstr))"
elif ((replies == 0)); then
	fail nora "no reply to check ($(noreply))"
elif [[ -n $ra_seen ]]; then
	fail nora "ra flag set in reply to:$ra_seen"
else
	pass nora "no ra flag in $replies replies (one with rd set)"
fi

echo "smoke: $passed passed, $failed failed"
exit "$failed"
