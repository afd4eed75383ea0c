#!/usr/bin/env bash
# Prepares a fresh machine for the demo and the tests: ffmpeg/ffprobe (and Chromium for the browser playback test)
# from the OS packages when missing, then the npm dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
# lavapipe, a CPU Vulkan driver: ffmpeg's libplacebo tone mapping runs on it exactly as on a GPU, so
# test/integration/tone-map-gpu.test.ts runs the GPU path for real (skipped without it). Debian/Ubuntu only.
if command -v dpkg >/dev/null 2>&1 && ! dpkg -s mesa-vulkan-drivers >/dev/null 2>&1; then
  need+=(mesa-vulkan-drivers)
fi
if [ "${SKIP_BROWSER:-0}" != "1" ] && ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "[setup] installing: ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "[setup] please install: ${need[*]} (no apt-get here)" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "[setup] ready: $(ffmpeg -version | head -n1); node $(node --version)"
