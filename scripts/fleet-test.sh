#!/usr/bin/env bash
# fleet-test.sh — runs [fleet] against real NATS: Debian's nats-server
# (installed here when missing; 2.9 or later, which has JetStream
# key-value buckets) in a three-node JetStream cluster on loopback, each
# node on its own ports with its own temporary store, and three cdnsteer
# processes sharing one bucket (TestFleetAgainstRealNATS in cmd/cdnsteer).
# It proves that an override written on one instance is in the others'
# answers (dig) within a second; that with the cluster paused (SIGSTOP),
# one node killed or every node stopped, each instance answers on, accepts
# overrides, restarts with them and lets them expire on time; and that
# once NATS is back the fleet converges on one digest with a conflict
# settled alike everywhere; and (TestPausedNATSHoldsNothingUp in fleet)
# that with the server paused a fleet starts, takes writes and stops at
# once. The tests start and end only their own
# processes (a paused node is continued before it is stopped); the
# package's systemd service is never started. Plain `go test ./...` skips
# it.
#   scripts/fleet-test.sh           the partition tests
#   scripts/fleet-test.sh -bench    also the convergence benchmark: p50/p99
#                                   from a write on ns1 to ns2's answers
#                                   over 1,000 writes
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bench=
if [[ ${1:-} == -bench ]]; then
	bench=1
fi

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

need=()
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
command -v dig >/dev/null 2>&1 || need+=(dnsutils)
if ((${#need[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "FAIL: missing ${need[*]}; install the Debian packages (needs root)" >&2
		exit 1
	fi
	# The package would start its service where systemd runs; the test
	# starts its own servers, so a policy-rc.d that denies starts is in
	# place meanwhile.
	policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi
nats=$(command -v nats-server)
version=$("$nats" --version 2>&1 | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -1)
IFS=. read -r major minor _ <<<"$version"
if ((major < 2 || (major == 2 && minor < 9))); then
	# Too old for key-value buckets: build the server from its Go module
	# into a temporary folder instead (never vendored or committed).
	echo "nats-server $version has no JetStream key-value buckets; building 2.9+ from its Go module" >&2
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	GOBIN=$tmp go install github.com/nats-io/nats-server/v2@v2.10.29
	nats=$tmp/nats-server
fi
echo "nats-server: $("$nats" --version 2>&1 | head -1)"

race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

CDNSTEER_NATS_SERVER=$nats go test "${race[@]}" -count=1 -timeout 15m \
	-run 'TestPausedNATSHoldsNothingUp|TestFleetAgainstRealNATS|TestFleetCredentialsRefused' -v ./fleet/ ./cmd/cdnsteer/
if [[ -n $bench ]]; then
	CDNSTEER_NATS_SERVER=$nats CDNSTEER_FLEET_BENCH=1000 go test -count=1 -timeout 20m -run 'TestFleetConvergence' -v ./cmd/cdnsteer/
fi
