#!/usr/bin/env bash
# browser-test.sh — the end-to-end test of the live view in a real headless
# Chromium: it runs `cdnsteer demo` in-process, opens the page, checks the
# four CDNs and their scores, drains a CDN with a click (entering the token
# when asked) and checks the page and /api/v1/state agree, breaks an edge
# from the demo panel, activates the demo's plan from the Plans panel (a
# reason asked for) and checks the overrides it made, ends it, escalates
# the broken CDN from its row (a note required) and checks the Escalations
# list, the timeline and /api/v1/escalations, closes it, adds a note and
# checks /api/v1/annotations. On the event-scale fixture (12 regions × 6
# CDNs, pushed signals, overrides, 30 notes; TestBrowserScale) it checks
# the overview in the first screen at 1280×800, no horizontal scrolling at
# 1280, 1400 and 390 px, the pin refused, the preview against the split
# published, the change feed, the attention cue, wall mode and the charts,
# and runs axe-core (web/a11y, installed here with npm ci) on the page, a
# dialog and wall mode (TestBrowserA11y): no serious or critical violation.
# Run it from anywhere: scripts/browser-test.sh
#
# Environment:
#   CDNSTEER_CHROMIUM   the browser binary (default /usr/bin/chromium,
#                       installed from Debian's "chromium" when missing)
#   CDNSTEER_ARTIFACTS  where the screenshots go (default build/browser)
#
# Uses ephemeral loopback ports only.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || { echo "FAIL: go not found on PATH; install Go first" >&2; exit 1; }

chromium=${CDNSTEER_CHROMIUM:-/usr/bin/chromium}
missing=()
if [[ ! -x $chromium && $chromium == /usr/bin/chromium ]]; then
	missing+=(chromium)
fi
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ((${#missing[@]})); then
	sudo=()
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || { echo "FAIL: need Debian packages ${missing[*]}: install them as root" >&2; exit 1; }
		sudo=(sudo)
	fi
	echo "installing Debian packages: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[[ -x $chromium ]] || { echo "FAIL: $chromium is not an executable" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "FAIL: npm is not installed" >&2; exit 1; }
echo "browser: $chromium"

# axe-core, exactly as web/a11y/package-lock.json pins it; no install scripts.
(cd web/a11y && npm ci --ignore-scripts --no-audit --no-fund)
axe=$PWD/web/a11y/node_modules/axe-core/axe.min.js
[[ -f $axe ]] || { echo "FAIL: npm ci left no $axe" >&2; exit 1; }
echo "axe-core: $(node -p 'require("./web/a11y/node_modules/axe-core/package.json").version' 2>/dev/null || echo '?')"

# go test -race needs cgo; without a C compiler the test runs without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

artifacts=${CDNSTEER_ARTIFACTS:-$PWD/build/browser}
mkdir -p "$artifacts"
CDNSTEER_CHROMIUM=$chromium CDNSTEER_AXE=$axe CDNSTEER_ARTIFACTS=$artifacts \
	go test "${race[@]}" -count=1 -run 'Browser' -v ./cmd/cdnsteer/
echo "screenshots: $artifacts/live-view.png; at event scale: overview-1280.png, overview-390.png, wall-1280.png, chart-notes.png"
