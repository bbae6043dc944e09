#!/usr/bin/env bash
# browser-test.sh — the end-to-end test of the live view in a real headless
# Chromium: it runs `cdnsteer demo` in-process, opens the page, checks the
# four CDNs and their scores, drains a CDN with a click (entering the token
# when asked) and checks the page and /api/v1/state agree, breaks an edge
# from the demo panel, activates the demo's plan from the Plans panel (a
# reason asked for) and checks the overrides it made, ends it, escalates
# the broken CDN from its row (a note required) and checks the Escalations
# list, the timeline and /api/v1/escalations, closes it, adds a note and
# checks /api/v1/annotations.
# Run it from anywhere: scripts/browser-test.sh
#
# Environment:
#   CDNSTEER_CHROMIUM   the browser binary (default /usr/bin/chromium,
#                       installed from Debian's "chromium" when missing)
#   CDNSTEER_ARTIFACTS  where the screenshot goes (default build/browser)
#
# Uses ephemeral loopback ports only.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

chromium=${CDNSTEER_CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $chromium && $chromium == /usr/bin/chromium ]]; then
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { echo "FAIL: need Debian package chromium: install it as root (apt-get install chromium)" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "installing Debian package chromium"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
[[ -x $chromium ]] || { echo "FAIL: $chromium is not an executable" >&2; exit 1; }
echo "browser: $chromium"

# go test -race needs cgo; without a C compiler the test runs without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

artifacts=${CDNSTEER_ARTIFACTS:-$PWD/build/browser}
mkdir -p "$artifacts"
CDNSTEER_CHROMIUM=$chromium CDNSTEER_ARTIFACTS=$artifacts \
	go test "${race[@]}" -count=1 -run 'Browser' -v ./cmd/cdnsteer/
echo "screenshot: $artifacts/live-view.png"
