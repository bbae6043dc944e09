#!/usr/bin/env bash
# players-test.sh — content steering with real players: the demo's live
# stream (ffmpeg) played by hls.js and by dash.js (web/players, pinned
# npm versions, installed here with `npm ci`) in a real headless Chromium;
# the CDN each player is on is drained through the API and the player
# must move within the steering TTL + one segment without a stall, then
# stay put once the drain ends; the throughput each reports must be read
# in bit/s; hls.js's CMCD v2 event reports must reach the collector on
# the steering listener and be counted; and with every edge slowed
# below the stream's bitrate, hls.js's rebuffering must show as its CDN's
# rebuffer_ratio in /api/v1/state (TestPlayersFollowSteering).
# Run it from anywhere: scripts/players-test.sh
#
# Installs the Debian packages it needs when missing (ffmpeg, chromium,
# npm); a tool that cannot be installed is a failure, never a skip.
#
# Environment:
#   CDNSTEER_CHROMIUM   the browser binary (default /usr/bin/chromium)
#   CDNSTEER_ARTIFACTS  where the screenshots go (default build/players)
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
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [[ ! -x $chromium && $chromium == /usr/bin/chromium ]]; then
	missing+=(chromium)
fi
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
for tool in ffmpeg npm; do
	command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done
[[ -x $chromium ]] || { echo "FAIL: $chromium is not an executable" >&2; exit 1; }
echo "browser: $chromium; $(ffmpeg -version | head -1)"

# The players, exactly as package-lock.json pins them; no install scripts.
(cd web/players && npm ci --ignore-scripts --no-audit --no-fund)
modules=$PWD/web/players/node_modules
for f in hls.js/dist/hls.min.js dashjs/dist/modern/umd/dash.all.min.js; do
	[[ -f $modules/$f ]] || { echo "FAIL: npm ci left no $modules/$f" >&2; exit 1; }
done
echo "players: hls.js $(node -p 'require("./web/players/node_modules/hls.js/package.json").version'), dash.js $(node -p 'require("./web/players/node_modules/dashjs/package.json").version')"

# go test -race needs cgo; without a C compiler the test runs without it.
race=()
if command -v "$(go env CC)" >/dev/null 2>&1; then
	race=(-race)
fi

artifacts=${CDNSTEER_ARTIFACTS:-$PWD/build/players}
mkdir -p "$artifacts"
CDNSTEER_PLAYERS_TEST=1 CDNSTEER_CHROMIUM=$chromium CDNSTEER_PLAYERS=$modules CDNSTEER_ARTIFACTS=$artifacts \
	go test "${race[@]}" -count=1 -run 'TestPlayersFollowSteering' -v ./cmd/cdnsteer/
echo "screenshots: $artifacts/players-hls.png, $artifacts/players-dash.png, $artifacts/players-hls-rebuffer.png"
