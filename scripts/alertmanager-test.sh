#!/usr/bin/env bash
# alertmanager-test.sh — runs escalation against a real Alertmanager
# (Debian's prometheus-alertmanager, installed here when missing). The Go
# test (TestAgainstRealAlertmanager in cmd/cdnsteer) starts its own
# Alertmanager on a free loopback port with clustering off, a temp config
# and storage, and the real serve loop with [escalation] pointing at it;
# it escalates through the API and polls Alertmanager's GET /api/v2/alerts
# until the alert fires with the right labels, then until it is resolved
# (closed by hand; a CDN healthy again); it stops Alertmanager mid-way,
# checks DNS answers on, and that the escalation made meanwhile arrives
# once Alertmanager is back. It ends only the processes it started; the
# package's systemd service is never started. Plain `go test ./...` skips
# this test. Run it from anywhere:
#   scripts/alertmanager-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

alertmanager=/usr/bin/prometheus-alertmanager
if [[ ! -x $alertmanager ]]; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "FAIL: $alertmanager is missing; install Debian's prometheus-alertmanager package (needs root)" >&2
		exit 1
	fi
	# The package starts its service where systemd runs; the test needs
	# none, so a policy-rc.d that denies starts is in place meanwhile.
	policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-alertmanager
fi
[[ -x $alertmanager ]] || { echo "FAIL: $alertmanager is not an executable" >&2; exit 1; }
"$alertmanager" --version 2>&1 | head -1

# go test -race needs cgo; without a C compiler the test runs without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

CDNSTEER_ALERTMANAGER=$alertmanager go test "${race[@]}" -count=1 -run 'TestAgainstRealAlertmanager' -v ./cmd/cdnsteer/
