#!/usr/bin/env bash
# Container checks of transcode-worker, run by .ci/run after the unit suite. Builds the real images with podman
# (offline stand-ins for the official base images, from ../shared/tools) and runs them:
#   1. Dockerfile.cpu: real build (apt + npm ci inside); image metadata (non-root user, health check, labels);
#      `probe` in the container; a full job against the dev orchestrator on the host (host networking, bind-mounted
#      NAS folder) whose HLS output must be complete and decodable; SIGTERM shuts the worker down cleanly; every
#      process in the container runs as uid 1000.
#   2. Dockerfile.vaapi and Dockerfile.nvidia built with BASE_IMAGE=<the node stand-in>: ffmpeg lists the expected
#      encoders, hwaccels and filters; vainfo and the VA drivers are in the vaapi image. (No GPU here: the GPU
#      paths themselves cannot run.)
#   3. compose.yaml: `docker-compose config` for every profile, then the demo profile really runs through podman's
#      Docker-compatible API socket.
#   4. Dockerfile.cpu for linux/arm64 (Raspberry Pi 4/5), emulated with QEMU: the image is arm64 through and through,
#      its ffmpeg has libx264 and the Pi 4's h264_v4l2m2m, `probe` passes, and one tiny real job (2 s, 160x90, one
#      rung) completes against the dev orchestrator on the host. The whole build runs under QEMU: buildah 1.28 ignores
#      FROM --platform=$BUILDPLATFORM, and it refuses an amd64 image as a stage of an arm64 build ("image not known",
#      tried by name and through a local manifest list), so npm ci and tsc cannot be moved to the host's arch here.
# Prints image sizes and build times at the end.
#
# Skips (exit 0, with a message) when SKIP_CONTAINERS=1, when not root, or when neither podman nor the shared
# oci tools are available; part 4 alone is skipped when SKIP_ARM64=1 or when the kernel cannot run arm64 binaries.
# The workers run with WORKER_BUSY_CPU_PERCENT=100: what is checked is the container, and a CI machine is busy (QEMU,
# parallel work), which would otherwise keep a queued job waiting for the host to calm down.
# Set CI_CONTAINERS_ONLY=cpu|gpu|compose|arm64 to run one part while developing, CI_IMAGE_PREFIX to tag the images
# elsewhere than localhost/transcode-worker (so that two checkouts on one machine do not share tags).
set -euo pipefail

ROOT="$(git rev-parse --show-toplevel)"
TOOLS="${OCI_TOOLS:-$ROOT/../shared/tools}"
TAG_PREFIX="${CI_IMAGE_PREFIX:-localhost/transcode-worker}"
ONLY="${CI_CONTAINERS_ONLY:-all}"
# The images are Debian 13 (trixie) based; oci-setup.sh --suite trixie makes the stand-in under this official name.
STAND_IN="docker.io/library/node:24-trixie-slim"

log() { printf '[ci-containers %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
  printf '[ci-containers] FAILED: %s\n' "$*" >&2
  exit 1
}
skip() {
  log "SKIPPED: $* (the container checks did not run)"
  exit 0
}

[[ "$ONLY" =~ ^(all|cpu|gpu|compose|arm64)$ ]] ||
  fail "CI_CONTAINERS_ONLY must be all, cpu, gpu, compose or arm64 (got '$ONLY')"
[[ "${SKIP_CONTAINERS:-0}" == 1 ]] && skip "SKIP_CONTAINERS=1"
[[ "$(id -u)" == 0 ]] || skip "not root: podman on these machines runs rootful only"
WANT_ARM64=0
[[ "$ONLY" == all || "$ONLY" == arm64 ]] && [[ "${SKIP_ARM64:-0}" != 1 ]] && WANT_ARM64=1
if [[ -f "$TOOLS/oci-setup.sh" ]]; then
  setup_args=(--suite trixie)
  ((WANT_ARM64)) && setup_args+=(--arch arm64)
  log "oci-setup.sh ${setup_args[*]} (installs podman if needed, builds the base-image stand-ins; ~2 min the first" \
    "time, ~5 more for the arm64 ones)"
  bash "$TOOLS/oci-setup.sh" "${setup_args[@]}"
elif ! command -v podman >/dev/null; then
  skip "no podman and no $TOOLS/oci-setup.sh"
fi
command -v podman >/dev/null || skip "podman is not installed"
if [[ -f "$TOOLS/oci-run.sh" ]]; then
  OCI_RUN=(bash "$TOOLS/oci-run.sh")
else
  # Plain podman (a machine that has it without ../shared/tools): the wrapper's own flags are translated,
  # --host-net to the host's network and --keep to "do not remove the container when it stops".
  oci_run_podman() {
    local rm=(--rm) args=()
    for a in "$@"; do
      case "$a" in
        --host-net) args+=(--network host) ;;
        --keep) rm=() ;;
        *) args+=("$a") ;;
      esac
    done
    podman run "${rm[@]}" --runtime runc "${args[@]}"
  }
  OCI_RUN=(oci_run_podman)
fi

cd "$ROOT"
WORK="$(mktemp -d /tmp/tw-ci-containers.XXXXXX)"
declare -a CLEANUP=()
cleanup() {
  local rc=$?
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[i]}" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

declare -A BUILD_SECONDS=()
# The build reaches the npm registry over HTTPS through a CA that only the host trusts: mount it for the build only
# (nothing of it is committed to the image). See ../shared/tools/README.md.
HTTPS_MOUNTS=()
[[ -f /var/cache/oci-setup/build-npmrc ]] && HTTPS_MOUNTS=(
  -v /etc/ssl/certs/ca-certificates.crt:/run/oci-host-ca.crt:ro
  -v /var/cache/oci-setup/build-npmrc:/usr/local/etc/npmrc:ro
)

build_image() { # build_image VARIANT [extra podman build args...]; BUILD_SUFFIX=-arm64 build_image ... tags cpu-arm64-ci
  local variant="$1" name="$1${BUILD_SUFFIX:-}"
  shift
  local start=$SECONDS
  log "building Dockerfile.$variant -> $TAG_PREFIX:$name-ci"
  local version revision source created
  version="$(node -p 'require("./package.json").version')"
  revision="$(git rev-parse HEAD)"
  source="$(git config --get remote.origin.url || echo unknown)"
  created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # --format docker keeps the HEALTHCHECK (the OCI image format has no field for it). The labels are passed twice:
  # as the build args the Dockerfiles use, and as --label, because buildah 1.28 (podman 4.3) reuses a cached LABEL
  # layer even when the build args in it changed.
  if ! podman build --pull=never --format docker -f "Dockerfile.$variant" -t "$TAG_PREFIX:$name-ci" \
    "${HTTPS_MOUNTS[@]}" \
    --build-arg VERSION="$version" --build-arg REVISION="$revision" \
    --build-arg SOURCE="$source" --build-arg CREATED="$created" \
    --label org.opencontainers.image.version="$version" --label org.opencontainers.image.revision="$revision" \
    --label org.opencontainers.image.source="$source" --label org.opencontainers.image.created="$created" \
    "$@" . >"$WORK/build-$name.log" 2>&1; then
    tail -n 40 "$WORK/build-$name.log" >&2
    fail "podman build of Dockerfile.$variant ($name) failed"
  fi
  BUILD_SECONDS[$name]=$((SECONDS - start))
  log "built $name in ${BUILD_SECONDS[$name]} s"
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_http() { # wait_http URL SECONDS: until the URL answers 2xx
  local url="$1" deadline=$((SECONDS + $2))
  until node -e "fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$url"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

ffmpeg_lists() { # ffmpeg_lists IMAGE: encoders, hwaccels and filters of the image's ffmpeg, one blob
  "${OCI_RUN[@]}" --entrypoint sh "$1" -c \
    'ffmpeg -hide_banner -encoders; ffmpeg -hide_banner -hwaccels; ffmpeg -hide_banner -filters' 2>/dev/null
}

expect_in() { # expect_in WHAT BLOB WORD...
  local what="$1" blob="$2"
  shift 2
  for word in "$@"; do grep -qw -- "$word" <<<"$blob" || fail "$what: '$word' not found"; done
  log "$what: $* present"
}

# ------------------------------------------------------------------------------------------------ 1. cpu image
check_cpu_image() {
  build_image cpu
  local img="$TAG_PREFIX:cpu-ci"

  log "image metadata"
  [[ "$(podman image inspect -f '{{.Config.User}}' "$img")" == node ]] || fail "the image does not run as user node"
  podman image inspect -f '{{json .Config.Healthcheck}}' "$img" | grep -q healthcheck.mjs || fail "no HEALTHCHECK"
  podman image inspect -f '{{json .Config.Entrypoint}}' "$img" | grep -q '/usr/bin/tini' || fail "tini is not the entrypoint"
  [[ "$(podman image inspect -f '{{index .Labels "org.opencontainers.image.revision"}}' "$img")" == "$(git rev-parse HEAD)" ]] ||
    fail "OCI revision label missing"
  [[ "$("${OCI_RUN[@]}" --entrypoint id "$img" -u 2>/dev/null)" == 1000 ]] || fail "default user is not uid 1000"
  expect_in "cpu image ffmpeg" "$(ffmpeg_lists "$img")" libx264 libx265 libsvtav1 aac h264_v4l2m2m

  log "probe inside the container"
  "${OCI_RUN[@]}" "$img" probe >"$WORK/probe.out" 2>"$WORK/probe.err" || {
    cat "$WORK/probe.out" "$WORK/probe.err" >&2
    fail "'probe' failed in the container"
  }
  grep -q libx264 "$WORK/probe.out" || fail "probe output does not mention libx264: $(head -c 2000 "$WORK/probe.out")"
  log "probe OK: $(tr -s ' \n' ' ' <"$WORK/probe.out" | head -c 300)"

  log "full job: dev orchestrator on the host, worker in the container (host network), NAS bind-mounted"
  [[ -f dist/main.js ]] || npm run build >/dev/null
  local orch_port metrics_port nas="$WORK/nas" name="tw-ci-worker-$$"
  orch_port="$(free_port)"
  metrics_port="$(free_port)"
  node dist/main.js dev-orchestrator --port "$orch_port" --host 127.0.0.1 >"$WORK/orchestrator.log" 2>&1 &
  local orch_pid=$!
  CLEANUP+=("kill $orch_pid")
  mkdir -p "$nas/demo/input"
  # Tiny source made on the spot: 3 s, 320x180, H.264 + AAC.
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=320x180:rate=25:duration=3 \
    -f lavfi -i sine=frequency=440:duration=3 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac \
    -shortest -y "$nas/demo/input/sample.mp4"
  chown -R 1000:1000 "$nas" # the worker is uid 1000 in the container

  CLEANUP+=("podman rm -f -v $name")
  "${OCI_RUN[@]}" --host-net --keep -d --name "$name" \
    -e WORKER_ORCHESTRATOR_URL="http://127.0.0.1:$orch_port" -e WORKER_ID=ci-container \
    -e WORKER_SYNC_INTERVAL=500ms -e WORKER_HTTP_PORT="$metrics_port" -e WORKER_BUSY_CPU_PERCENT=100 \
    -v "$nas:/data/nas" "$img" >/dev/null
  wait_http "http://127.0.0.1:$metrics_port/readyz" 120 || {
    podman logs "$name" 2>&1 | tail -n 30 >&2
    fail "the worker in the container never became ready (/readyz)"
  }
  log "worker ready; every process in the container runs as uid $(podman exec "$name" sh -c \
    "awk '/^Uid:/{print \$2}' /proc/[0-9]*/status | sort -u | tr '\n' ' '")"
  [[ "$(podman exec "$name" sh -c "awk '/^Uid:/{print \$2}' /proc/[0-9]*/status | sort -u")" == 1000 ]] ||
    fail "a process in the container is not uid 1000"
  # The image's entrypoint runs the service under V8's lite mode (docker/entrypoint.sh).
  podman exec "$name" sh -c 'for p in /proc/[0-9]*; do tr "\0" " " <"$p/cmdline"; echo; done' 2>/dev/null |
    grep -q '^node --lite-mode /app/dist/main.js start' || fail "the worker does not run as node --lite-mode ... start"
  log "the worker runs as: node --lite-mode /app/dist/main.js start"

  DEMO_ORCHESTRATOR_URL="http://127.0.0.1:$orch_port" DEMO_NAS="$nas" DEMO_JOB="$ROOT/docker/demo/job.json" \
    DEMO_TIMEOUT_S=180 node docker/demo/run-demo.mjs || {
    podman logs "$name" 2>&1 | tail -n 40 >&2
    fail "the job did not complete with a valid HLS output"
  }
  ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$nas/demo/output/index.m3u8" >"$WORK/ffprobe.out" ||
    fail "ffprobe cannot read the master playlist"
  grep -q h264 "$WORK/ffprobe.out" || fail "the HLS output has no H.264 stream"
  log "HLS output decodes: $(sort -u "$WORK/ffprobe.out" | tr '\n' ' ')"

  podman healthcheck run "$name" >/dev/null 2>&1 || fail "the image's HEALTHCHECK reports the running worker unhealthy"
  log "the image's HEALTHCHECK passes on the running worker"

  log "SIGTERM to the container while a job runs"
  # A longer source, so that ffmpeg is surely busy when the signal arrives.
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=25:duration=60 \
    -f lavfi -i sine=frequency=440:duration=60 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac \
    -shortest -y "$nas/demo/input/long.mp4"
  chown -R 1000:1000 "$nas"
  local job_id
  job_id="$(node -e '
    const [url, src] = process.argv.slice(1);
    const job = { input: { source_url: src }, hls_settings: { segment_time: 2 },
      outputs: [{ resolution: "720p", bitrate: "2500k", codec: "libx264", dest_path: "demo/long/720p/" }] };
    fetch(url + "/api/v1/jobs", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(job) })
      .then((r) => r.json()).then((b) => console.log(b.job_id ?? b.job?.job_id));' \
    "http://127.0.0.1:$orch_port" demo/input/long.mp4)"
  [[ -n "$job_id" && "$job_id" != undefined ]] || fail "could not queue the long job"
  job_status() {
    node -e 'fetch(process.argv[1]).then((r) => r.json()).then((j) => console.log(j.status))' \
      "http://127.0.0.1:$orch_port/api/v1/jobs/$job_id"
  }
  local deadline=$((SECONDS + 60))
  until [[ "$(job_status)" == PROCESSING ]]; do
    ((SECONDS < deadline)) || fail "the long job never reached PROCESSING (status $(job_status))"
    sleep 0.5
  done
  sleep 1 # let ffmpeg get going (the condition above already holds; this only makes the abort mid-encode)
  local t0=$SECONDS code
  podman stop -t 30 "$name" >/dev/null 2>&1
  code="$(podman inspect -f '{{.State.ExitCode}}' "$name")"
  podman logs "$name" >"$WORK/worker.log" 2>&1
  [[ "$code" == 0 || "$code" == 143 ]] || fail "the worker exited $code after SIGTERM"
  grep -qi 'shutting down\|shutdown' "$WORK/worker.log" || fail "no shutdown line in the worker's log"
  ((SECONDS - t0 <= 15)) || fail "the worker took $((SECONDS - t0)) s to stop (expected < 15)"
  [[ ! -e "$nas/demo/long/720p/stream.m3u8" ]] || fail "an aborted job left output on the NAS"
  log "clean shutdown mid-job: exit $code in $((SECONDS - t0)) s; job now $(job_status); nothing committed to the NAS"
  podman rm -f -v "$name" >/dev/null 2>&1
}

# ------------------------------------------------------------------------------------------------ 2. GPU images
check_gpu_images() {
  build_image vaapi --build-arg BASE_IMAGE="$STAND_IN"
  local va="$TAG_PREFIX:vaapi-ci"
  expect_in "vaapi image ffmpeg" "$(ffmpeg_lists "$va")" h264_vaapi hevc_vaapi av1_vaapi h264_qsv hevc_qsv av1_qsv \
    vaapi qsv scale_vaapi tonemap_vaapi vpp_qsv
  "${OCI_RUN[@]}" --entrypoint sh "$va" -c \
    'command -v vainfo && ls /usr/lib/*/dri/iHD_drv_video.so /usr/lib/*/dri/i965_drv_video.so /usr/lib/*/dri/radeonsi_drv_video.so /usr/lib/*/libmfx-gen.so.1.2 && id -Gn | grep -qw video' \
    >"$WORK/vaapi.out" 2>&1 || {
    cat "$WORK/vaapi.out" >&2
    fail "vainfo, a VA driver, the VPL GPU runtime or the video group is missing in the vaapi image"
  }
  log "vaapi image: vainfo, iHD, i965 and radeonsi drivers and libmfx-gen (QSV via libvpl) present; node in group video"
  [[ "$(podman image inspect -f '{{.Config.User}}' "$va")" == node ]] || fail "vaapi image does not run as node"

  build_image nvidia --build-arg BASE_IMAGE="$STAND_IN"
  local nv="$TAG_PREFIX:nvidia-ci"
  expect_in "nvidia image ffmpeg" "$(ffmpeg_lists "$nv")" h264_nvenc hevc_nvenc av1_nvenc cuda scale_cuda hwupload_cuda \
    libplacebo tonemap_opencl
  podman image inspect -f '{{json .Config.Env}}' "$nv" |
    grep -q 'NVIDIA_DRIVER_CAPABILITIES=compute,video,graphics,utility' ||
    fail "NVIDIA_DRIVER_CAPABILITIES (with graphics, for Vulkan) not set in the nvidia image"
  # GPU tone mapping at run time: the Vulkan and OpenCL loaders, and the ICD file naming NVIDIA's OpenCL library.
  "${OCI_RUN[@]}" --entrypoint sh "$nv" -c \
    'ldconfig -p | grep -q libvulkan.so.1 && ldconfig -p | grep -q libOpenCL.so.1 && grep -qx libnvidia-opencl.so.1 /etc/OpenCL/vendors/nvidia.icd' ||
    fail "the nvidia image lacks the Vulkan loader, the OpenCL loader or /etc/OpenCL/vendors/nvidia.icd"
  log "nvidia image: Vulkan and OpenCL loaders and NVIDIA's OpenCL ICD file present"
  [[ "$(podman image inspect -f '{{.Config.User}}' "$nv")" == node ]] || fail "nvidia image does not run as node"
}

# ------------------------------------------------------------------------------------------------ 4. arm64 (emulated)
arm64_runnable() { # the kernel runs arm64 binaries (QEMU through binfmt_misc) and the arm64 stand-in exists
  [[ "$(uname -m)" == aarch64 ]] && return 0
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] || return 1
  "${OCI_RUN[@]}" --platform linux/arm64 --entrypoint uname "$STAND_IN" -m 2>/dev/null | grep -qx aarch64
}

check_arm64_image() {
  if ! arm64_runnable; then
    log "SKIPPED part 4: this kernel cannot run arm64 binaries (no qemu-aarch64 in binfmt_misc) or no arm64 stand-in"
    return 0
  fi
  local t0=$SECONDS
  BUILD_SUFFIX=-arm64 build_image cpu --platform linux/arm64
  local img="$TAG_PREFIX:cpu-arm64-ci"

  # arm64 through and through: the image's platform, and what runs in it.
  [[ "$(podman image inspect -f '{{.Architecture}}' "$img")" == arm64 ]] || fail "the arm64 build is not labelled arm64"
  local arches
  arches="$("${OCI_RUN[@]}" --entrypoint sh "$img" -c 'uname -m; node -p process.arch' 2>/dev/null | tr '\n' ' ')"
  [[ "$arches" == "aarch64 arm64 " ]] || fail "the arm64 image runs '$arches', expected 'aarch64 arm64'"
  expect_in "arm64 cpu image ffmpeg" "$(ffmpeg_lists "$img")" libx264 aac h264_v4l2m2m

  log "probe inside the arm64 container (emulated: WORKER_PROBE_TIMEOUT=60s)"
  local p0=$SECONDS
  "${OCI_RUN[@]}" -e WORKER_PROBE_TIMEOUT=60s "$img" probe >"$WORK/probe-arm64.out" 2>"$WORK/probe-arm64.err" || {
    cat "$WORK/probe-arm64.out" "$WORK/probe-arm64.err" >&2
    fail "'probe' failed in the arm64 container"
  }
  grep -q '"libx264"' "$WORK/probe-arm64.out" || fail "arm64 probe did not verify libx264: $(head -c 2000 "$WORK/probe-arm64.out")"
  grep -q '"cpu_arch": *"arm64"' "$WORK/probe-arm64.out" || fail "arm64 probe does not report cpu_arch arm64"
  log "arm64 probe OK in $((SECONDS - p0)) s: $(tr -s ' \n' ' ' <"$WORK/probe-arm64.out" | head -c 200)"

  log "one tiny job in the arm64 container (2 s, 160x90, one rung) against the dev orchestrator on the host"
  [[ -f dist/main.js ]] || npm run build >/dev/null
  local orch_port metrics_port nas="$WORK/nas-arm64" name="tw-ci-arm64-$$"
  orch_port="$(free_port)"
  metrics_port="$(free_port)"
  node dist/main.js dev-orchestrator --port "$orch_port" --host 127.0.0.1 >"$WORK/orchestrator-arm64.log" 2>&1 &
  local orch_pid=$!
  CLEANUP+=("kill $orch_pid")
  mkdir -p "$nas/arm64/input"
  ffmpeg -hide_banner -loglevel error -f lavfi -i testsrc2=size=160x90:rate=25:duration=2 \
    -f lavfi -i sine=frequency=440:duration=2 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac \
    -shortest -y "$nas/arm64/input/tiny.mp4"
  cat >"$WORK/job-arm64.json" <<'JSON'
{ "movie_id": "arm64", "input": { "source_url": "arm64/input/tiny.mp4", "format": "mp4" },
  "outputs": [{ "resolution": "240p", "bitrate": "200k", "codec": "libx264", "dest_path": "arm64/output/240p/" }],
  "hls_settings": { "master_playlist_name": "index.m3u8", "segment_time": 1 } }
JSON
  chown -R 1000:1000 "$nas"
  CLEANUP+=("podman rm -f -v $name")
  "${OCI_RUN[@]}" --host-net --keep -d --name "$name" \
    -e WORKER_ORCHESTRATOR_URL="http://127.0.0.1:$orch_port" -e WORKER_ID=ci-arm64 -e WORKER_PROBE_TIMEOUT=60s \
    -e WORKER_SYNC_INTERVAL=500ms -e WORKER_HTTP_PORT="$metrics_port" -e WORKER_BUSY_CPU_PERCENT=100 \
    -v "$nas:/data/nas" "$img" >/dev/null
  wait_http "http://127.0.0.1:$metrics_port/readyz" 300 || {
    podman logs "$name" 2>&1 | tail -n 30 >&2
    fail "the worker in the arm64 container never became ready (/readyz)"
  }
  local j0=$SECONDS
  DEMO_ORCHESTRATOR_URL="http://127.0.0.1:$orch_port" DEMO_NAS="$nas" DEMO_JOB="$WORK/job-arm64.json" \
    DEMO_TIMEOUT_S=300 node docker/demo/run-demo.mjs >"$WORK/demo-arm64.log" 2>&1 || {
    cat "$WORK/demo-arm64.log" >&2
    podman logs "$name" 2>&1 | tail -n 40 >&2
    fail "the arm64 worker did not complete the job with a valid HLS output"
  }
  # The master playlist where the job's manifest_url put it (run-demo.mjs checked every playlist and segment).
  local master
  master="$(grep -o 'HLS output OK: [^ ]*' "$WORK/demo-arm64.log" | cut -d' ' -f4)"
  ffprobe -v error -show_entries stream=codec_name -of csv=p=0 "$master" >"$WORK/ffprobe-arm64.out" ||
    fail "ffprobe cannot read the arm64 job's master playlist ($master)"
  grep -q h264 "$WORK/ffprobe-arm64.out" || fail "the arm64 job's HLS output has no H.264 stream"
  log "arm64 job COMPLETED in $((SECONDS - j0)) s, HLS decodes: $(grep -o 'HLS output OK.*' "$WORK/demo-arm64.log")"
  podman rm -f -v "$name" >/dev/null 2>&1
  kill "$orch_pid" 2>/dev/null || true
  log "part 4 (arm64) took $((SECONDS - t0)) s"
}

# ------------------------------------------------------------------------------------------------ 3. compose
check_compose() {
  if ! command -v docker-compose >/dev/null; then
    log "installing docker-compose (Debian, v1.29)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null ||
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null)
  fi
  for profile in cpu nvidia vaapi demo monitoring; do
    docker-compose -f compose.yaml --profile "$profile" config -q || fail "docker-compose config: profile $profile"
  done
  log "docker-compose config: every profile valid"

  podman image exists "$TAG_PREFIX:cpu-ci" || build_image cpu
  # compose.yaml names the image transcode-worker:cpu, which the Docker API resolves to docker.io/library/...
  podman tag "$TAG_PREFIX:cpu-ci" docker.io/library/transcode-worker:cpu
  local sock="$WORK/podman.sock" project="twci$$"
  podman system service --time=0 "unix://$sock" >"$WORK/podman-service.log" 2>&1 &
  local svc_pid=$!
  CLEANUP+=("kill $svc_pid")
  local deadline=$((SECONDS + 30))
  until [[ -S "$sock" ]]; do
    ((SECONDS < deadline)) || fail "podman system service did not start"
    sleep 0.5
  done
  export DOCKER_HOST="unix://$sock"
  CLEANUP+=("DOCKER_HOST=unix://$sock docker-compose -p $project -f $ROOT/compose.yaml --profile demo down -v --remove-orphans")
  log "demo profile through podman's Docker API (docker-compose up)"
  local t0=$SECONDS
  if ! DEMO_ORCHESTRATOR_PORT="$(free_port)" DEMO_WORKER_METRICS_PORT="$(free_port)" \
    timeout 300 docker-compose -p "$project" -f compose.yaml --profile demo up --no-build \
    --abort-on-container-exit --exit-code-from demo-job >"$WORK/demo.log" 2>&1; then
    tail -n 60 "$WORK/demo.log" >&2
    fail "the demo profile did not complete"
  fi
  grep -q 'HLS output OK' "$WORK/demo.log" || fail "the demo did not report its HLS output"
  log "demo profile: job completed and HLS verified in $((SECONDS - t0)) s"
  grep 'demo-job' "$WORK/demo.log" | grep -E '\[demo\]' | tail -n 5
  docker-compose -p "$project" -f compose.yaml --profile demo down -v --remove-orphans >/dev/null 2>&1 || true
  unset DOCKER_HOST
}

case "$ONLY" in
  # Called one by one, not with &&: set -e does not apply inside a function that is part of an && list.
  all)
    check_cpu_image
    check_gpu_images
    check_compose
    if ((WANT_ARM64)); then check_arm64_image; else log "SKIPPED part 4 (arm64): SKIP_ARM64=1"; fi
    ;;
  cpu) check_cpu_image ;;
  gpu) check_gpu_images ;;
  compose) check_compose ;;
  arm64) if ((WANT_ARM64)); then check_arm64_image; else log "SKIPPED part 4 (arm64): SKIP_ARM64=1"; fi ;;
esac

log "image sizes and build times (this machine, podman, layer cache as found):"
for variant in cpu vaapi nvidia cpu-arm64; do
  podman image exists "$TAG_PREFIX:$variant-ci" || continue
  size=$(podman image inspect -f '{{.Size}}' "$TAG_PREFIX:$variant-ci")
  printf '  %-7s %6d MB   build %s s\n' "$variant" $((size / 1000000)) "${BUILD_SECONDS[$variant]:-n/a}"
done
log "all container checks passed"
