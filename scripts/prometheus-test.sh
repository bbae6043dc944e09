#!/usr/bin/env bash
# prometheus-test.sh — runs health/prom's test against a real Prometheus
# server (Debian's prometheus package, installed here when missing). The
# test starts its own server on a free loopback port with a temp config and
# storage, and ends it; the package's systemd service is never started.
# The test also checks that a series whose exporter dates it minutes back
# reaches the engine that old ([prometheus.timestamps]), and, against a
# server with a --web.config.file (HTTPS, client certificates from a test
# CA, basic auth), that the source's ca_file, cert_file/key_file and
# basic_auth_* keys get through and each is needed. Plain `go test
# ./...` skips this test. Run it from anywhere:
#   scripts/prometheus-test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

prometheus=/usr/bin/prometheus
if [[ ! -x $prometheus ]]; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "$prometheus is missing; install Debian's prometheus package (needs root)" >&2
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
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus
fi

CDNSTEER_PROMETHEUS=$prometheus go test -race -count=1 -run 'TestAgainstRealPrometheus|TestRealPrometheusWithAuth' -v ./health/prom/
