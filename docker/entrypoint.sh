#!/bin/sh
# The images' entrypoint, run by tini: `node /app/dist/main.js "$@"`, with one V8 flag for the long-running service.
#
# `start` (the default CMD) runs under --lite-mode: V8 without its optimizing compilers and with lazier feedback
# vectors. Measured in the cpu image (bench/footprint-node24.md): idle RSS 91 -> 78 MB and idle CPU down a fifth,
# and no measurable CPU cost on the worker's busiest JavaScript (a real ladder's verify step and progress parsing).
# Lite mode also turns WebAssembly off, and with it Node's built-in fetch (undici's HTTP parser is WebAssembly):
# `start` uses neither (the orchestrator client is axios on node:http; test/packaging checks), but the one-shot
# commands (probe, run-job, demo, dev-orchestrator) run with V8's defaults. The flag is not allowed in NODE_OPTIONS,
# hence this script. TRANSCODE_WORKER_LITE_MODE=0 turns it off.
set -e
if [ "${1:-}" = start ] && [ "${TRANSCODE_WORKER_LITE_MODE:-1}" != 0 ]; then
  exec node --lite-mode /app/dist/main.js "$@"
fi
exec node /app/dist/main.js "$@"
