#!/usr/bin/env bash
# dnstap-test.sh — the server's dnstap output read by a reader we did not
# write: BIND's dnstap-read (Debian's bind9-dnsutils, with dig; installed
# here when missing). The Go test (TestDnstapReadReadsOurFile in
# cmd/cdnsteer) serves a policy with [dnstap] file on 127.0.0.1 and ::1,
# asks it with dig over UDP and TCP from 127.0.0.1, 127.0.0.2 and ::1,
# stops it (the stream's STOP), and checks dnstap-read's lines and YAML:
# every query and reply with its name, addresses, ports, transport and
# status, the identity, the steered CNAME. Then the socket and file tests
# of the dnstap writer itself (a Frame Streams reader in Go, a stalled
# and a gone socket reader while every query is answered). Plain
# `go test ./...` skips the first. Run it from anywhere:
#   scripts/dnstap-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

if ! command -v dnstap-read >/dev/null 2>&1 || ! command -v dig >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "FAIL: dnstap-read or dig is missing; install Debian's bind9-dnsutils package (needs root)" >&2
		exit 1
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends bind9-dnsutils
fi
reader=$(command -v dnstap-read)
dpkg -S "$reader" 2>/dev/null || true

# go test -race needs cgo; without a C compiler the tests run without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

CDNSTEER_DNSTAP_READ=$reader go test "${race[@]}" -count=1 -run 'TestDnstapReadReadsOurFile' -v ./cmd/cdnsteer/
go test "${race[@]}" -count=1 -run 'Dnstap' ./dnsserver/ ./zones/
echo "dnstap-test.sh: PASS"
