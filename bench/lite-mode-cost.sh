#!/usr/bin/env bash
# What --lite-mode costs where the worker's own JavaScript works hardest: one real ladder through `run-job` inside the
# cpu image (Node 24), default V8 against --lite-mode, runs alternated. The ladder is 3 rungs of a 120 s source cut
# into 1 s segments (360 segments whose opening keyframes the verify step locates for the I-frame playlists, plus
# ffmpeg's -progress stream parsed twice a second). node's own CPU (process.cpuUsage, children excluded) is the figure
# that V8's tiers change; the ffmpeg and ffprobe children are the same in both.
#
#   bash bench/lite-mode-cost.sh IMAGE [RUNS]        # e.g. localhost/transcode-worker:cpu-ci 3
#   SRC_SIZE=160x90 SRC_SECONDS=600 bash bench/lite-mode-cost.sh IMAGE 2   # 1800 segments: verify-heavy, cheap encode
# Results: bench/footprint-node24.md ("--lite-mode under load").
set -euo pipefail
IMAGE="${1:?usage: lite-mode-cost.sh IMAGE [RUNS]}"
RUNS="${2:-3}"
SRC_SIZE="${SRC_SIZE:-640x360}"
SRC_SECONDS="${SRC_SECONDS:-120}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUN=(bash "${OCI_TOOLS:-$ROOT/../shared/tools}/oci-run.sh")
WORK="$(mktemp -d /tmp/tw-lite-bench.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/nas/in" "$WORK/state" "$WORK/tmp"
cat >"$WORK/cpu-at-exit.mjs" <<'JS'
// Preloaded with --import: prints node's own CPU and wall time when the process exits.
const t0 = performance.now();
process.on('exit', () => {
  const u = process.cpuUsage();
  process.stderr.write(`BENCH ${JSON.stringify({ cpuMs: Math.round((u.user + u.system) / 1000), wallMs: Math.round(performance.now() - t0), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
});
JS
cat >"$WORK/job.json" <<'JSON'
{ "job_id": "lite-bench", "input": { "source_url": "in/src.mp4" },
  "outputs": [
    { "resolution": "360p", "bitrate": "500k", "codec": "libx264", "dest_path": "out/360p/" },
    { "resolution": "240p", "bitrate": "300k", "codec": "libx264", "dest_path": "out/240p/" },
    { "resolution": "240p", "bitrate": "150k", "codec": "libx264", "dest_path": "out/240l/" } ],
  "hls_settings": { "master_playlist_name": "index.m3u8", "segment_time": 1 } }
JSON
"${RUN[@]}" -v "$WORK:/w" --user 0 --entrypoint ffmpeg "$IMAGE" -hide_banner -loglevel error \
  -f lavfi -i testsrc2=size=$SRC_SIZE:rate=25:duration=$SRC_SECONDS -f lavfi -i sine=frequency=440:duration=$SRC_SECONDS \
  -c:v libx264 -preset ultrafast -g 25 -pix_fmt yuv420p -c:a aac -shortest -y /w/nas/in/src.mp4 2>/dev/null
chown -R 1000:1000 "$WORK"
for i in $(seq 1 "$RUNS"); do
  for mode in default lite; do
    flags=()
    [[ $mode == lite ]] && flags=(--lite-mode)
    rm -rf "$WORK/nas/out"
    out="$("${RUN[@]}" -v "$WORK:/w" -e WORKER_NAS_MOUNT_PATH=/w/nas -e WORKER_STATE_DIR=/w/state \
      -e WORKER_TEMP_DIR=/w/tmp -e WORKER_LOG_LEVEL=warn --entrypoint node "$IMAGE" \
      "${flags[@]}" --import /w/cpu-at-exit.mjs /app/dist/main.js run-job /w/job.json 2>&1 >"$WORK/payload.json")" || {
      echo "$out" >&2
      exit 1
    }
    bench="$(grep -o 'BENCH .*' <<<"$out" | cut -d' ' -f2-)"
    transcode="$(node -e 'const p=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(p.metrics?.transcode_time_ms ?? p.status)' "$WORK/payload.json")"
    echo "run $i $mode $bench transcodeMs=$transcode segments=$(find "$WORK/nas/out" -name '*.m4s' -o -name '*.ts' | wc -l)"
  done
done
