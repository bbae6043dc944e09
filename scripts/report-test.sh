#!/usr/bin/env bash
# report-test.sh — the post-event report against real tools: a real
# Prometheus (Debian's prometheus, with promtool) fed with a recorded event
# by promtool's backfill (OpenMetrics made by the test from a rehearsal
# run, so that every expectation comes from the same data), and the page
# opened from its file in a real headless Chromium (Debian's chromium),
# which must lay out and draw every chart. It also records a short real
# event (about two minutes): the demo, scraped every second by a real
# Prometheus, has fastly's edge broken for 40 s and healed, and the report
# over its decision log and that Prometheus must render the traffic, the
# answers and the degradation. Installs what is missing. The
# tests start their own Prometheus on a free loopback port with temp
# storage and end it; the package's service is never started. Plain `go
# test ./...` skips these tests. Run it from anywhere:
#   scripts/report-test.sh
#
# Environment:
#   CDNSTEER_ARTIFACTS  where the pages, their CSV tables and the
#                       screenshots go (default build/report)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

prometheus=/usr/bin/prometheus
promtool=/usr/bin/promtool
chromium=/usr/bin/chromium
missing=()
[[ -x $prometheus && -x $promtool ]] || missing+=(prometheus)
[[ -x $chromium ]] || missing+=(chromium)
if ((${#missing[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "FAIL: install Debian's ${missing[*]} (needs root)" >&2
		exit 1
	fi
	# The prometheus package starts its service where systemd runs; the
	# tests need none, so a policy-rc.d that denies starts is in place
	# meanwhile.
	policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	echo "installing Debian packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for b in "$prometheus" "$promtool" "$chromium"; do
	[[ -x $b ]] || { echo "FAIL: $b is not an executable" >&2; exit 1; }
done

# go test -race needs cgo; without a C compiler the tests run without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

artifacts=${CDNSTEER_ARTIFACTS:-$PWD/build/report}
mkdir -p "$artifacts"
CDNSTEER_PROMETHEUS=$prometheus CDNSTEER_PROMTOOL=$promtool CDNSTEER_CHROMIUM=$chromium CDNSTEER_ARTIFACTS=$artifacts \
	go test "${race[@]}" -count=1 -v -run 'TestReport(AgainstRealPrometheus|BadPrometheusInput|ChartsInChromium|OfARecordedDemoEvent)$' ./cmd/cdnsteer/
echo "pages, tables and screenshots: $artifacts"
