#!/usr/bin/env bash
# The ffmpeg matrix of transcode-worker, run by .ci/run after the unit suite: the black-box subset
# (test/matrix/*.e2e.ts: a 3-rung ladder to COMPLETED, HDR10 tone mapping, a cancel mid-job, odd inputs) once per
# ffmpeg that users run:
#   host     the host's ffmpeg (Debian 12: 5.1), straight on the host
#   trixie   Debian 13's ffmpeg 7.1, in a container
#   sid      Debian unstable's ffmpeg 9.x, in a container
# A container leg runs vitest inside test/matrix/Dockerfile's image with the repository bind-mounted read-only and
# no network, so the test media, the worker's probe and its jobs all use that image's ffmpeg (the only one there).
# Prints one line per version at the end: ffmpeg version, tests passed/failed, seconds, image build seconds.
#
# The host leg always runs (it needs dist/: built here when missing). The container legs skip, with a message, when
# SKIP_CONTAINERS=1, when not root, or when neither podman nor the shared oci tools are available.
# FFMPEG_MATRIX=host,trixie,sid (the default) picks the legs; SKIP_FFMPEG_MATRIX=1 skips everything.
set -euo pipefail

ROOT="$(git rev-parse --show-toplevel)"
TOOLS="${OCI_TOOLS:-$ROOT/../shared/tools}"
IMAGE="localhost/transcode-worker-matrix"
BASE_IMAGE="docker.io/library/node:24-trixie-slim" # test/matrix/Dockerfile's default BASE_IMAGE
LEGS="${FFMPEG_MATRIX:-host,trixie,sid}"
# The version each leg must run (a prefix of `ffmpeg -version`): a leg that silently ran another ffmpeg fails.
declare -A EXPECT=([trixie]=7.1 [sid]=9.)

log() { printf '[ffmpeg-matrix %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
  printf '[ffmpeg-matrix] FAILED: %s\n' "$*" >&2
  exit 1
}

[[ "${SKIP_FFMPEG_MATRIX:-0}" == 1 ]] && {
  log "SKIPPED: SKIP_FFMPEG_MATRIX=1 (the ffmpeg matrix did not run)"
  exit 0
}
for leg in ${LEGS//,/ }; do
  [[ "$leg" =~ ^(host|trixie|sid)$ ]] || fail "FFMPEG_MATRIX takes host, trixie and sid, comma-separated (got '$LEGS')"
done

cd "$ROOT"
WORK="$(mktemp -d /tmp/tw-ffmpeg-matrix.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
declare -a SUMMARY=()
failed=0

# "tests: N passed, N failed, N skipped" is the last line of test/helpers/summary-reporter.ts.
tests_line() { grep -Eo 'tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$1" | tail -n 1 || true; }

# run_leg NAME VERSION BUILD_SECONDS CMD...: runs the subset, records its summary line, never exits on failure.
run_leg() {
  local name="$1" version="$2" build="$3" out="$WORK/$1.log" start rc=0
  shift 3
  log "$name: ffmpeg $version: running the subset"
  start=$(date +%s)
  "$@" >"$out" 2>&1 || rc=$?
  local secs=$(($(date +%s) - start)) tests
  tests="$(tests_line "$out")"
  if ((rc != 0)); then
    failed=1
    tail -n 80 "$out"
    log "$name: FAILED (exit $rc)"
  fi
  SUMMARY+=("$(printf '%-7s ffmpeg %-24s %-38s %4d s  build %s' "$name" "$version" "${tests:-tests: none ran}" "$secs" "$build")")
}

ffmpeg_version() { "$@" -hide_banner -version 2>/dev/null | sed -n 's/^ffmpeg version \([^ ]*\).*/\1/p'; }

if [[ ! -f dist/main.js ]]; then
  log "dist/main.js missing: npm run build"
  npm run build >/dev/null
fi
VITEST=(node node_modules/vitest/vitest.mjs run -c vitest.matrix.config.ts --configLoader runner)

if [[ ",$LEGS," == *,host,* ]]; then
  run_leg host "$(ffmpeg_version ffmpeg)" "-" "${VITEST[@]}"
fi

container_legs=()
for leg in trixie sid; do [[ ",$LEGS," == *,$leg,* ]] && container_legs+=("$leg"); done
skip_containers=""
if ((${#container_legs[@]} > 0)); then
  if [[ "${SKIP_CONTAINERS:-0}" == 1 ]]; then
    skip_containers="SKIP_CONTAINERS=1"
  elif [[ "$(id -u)" != 0 ]]; then
    skip_containers="not root: podman on these machines runs rootful only"
  elif [[ -f "$TOOLS/oci-setup.sh" ]] &&
    ! { command -v podman >/dev/null && podman image exists "$BASE_IMAGE"; }; then
    # Only when the base is missing: oci-setup.sh waits for any other run of itself (an arm64 debootstrap next door
    # takes minutes), and with the base present it would have nothing to do.
    log "oci-setup.sh --suite trixie (podman and the Debian 13 stand-ins; ~1 min the first time)"
    bash "$TOOLS/oci-setup.sh" --suite trixie >"$WORK/oci-setup.log" 2>&1 || {
      tail -n 40 "$WORK/oci-setup.log"
      fail "oci-setup.sh --suite trixie"
    }
  fi
  if [[ -z "$skip_containers" ]] && ! command -v podman >/dev/null; then
    skip_containers="no podman and no $TOOLS/oci-setup.sh"
  fi
fi
if [[ -n "$skip_containers" ]]; then
  for leg in "${container_legs[@]}"; do SUMMARY+=("$(printf '%-7s SKIPPED: %s' "$leg" "$skip_containers")"); done
  container_legs=()
fi

if ((${#container_legs[@]} > 0)); then
  if [[ -f "$TOOLS/oci-run.sh" ]]; then
    OCI_RUN=(bash "$TOOLS/oci-run.sh")
  else
    OCI_RUN=(podman run --rm --runtime runc)
  fi
  # The repository at its own path, read-only; node_modules too where it is a link (a git worktree sharing one).
  MOUNTS=(-v "$ROOT:$ROOT:ro")
  modules="$(readlink -f node_modules)"
  [[ "$modules" != "$ROOT/node_modules" ]] && MOUNTS+=(-v "$modules:$modules:ro")
fi

for leg in "${container_legs[@]}"; do
  log "$leg: building $IMAGE:$leg"
  start=$(date +%s)
  if ! podman build --pull=never --build-arg SUITE="$leg" -f test/matrix/Dockerfile -t "$IMAGE:$leg" test/matrix \
    >"$WORK/build-$leg.log" 2>&1; then
    tail -n 40 "$WORK/build-$leg.log"
    failed=1
    SUMMARY+=("$(printf '%-7s FAILED: the image did not build' "$leg")")
    continue
  fi
  build="$(($(date +%s) - start)) s"
  version="$(ffmpeg_version "${OCI_RUN[@]}" --network none "$IMAGE:$leg" ffmpeg)"
  run_leg "$leg" "$version" "$build" "${OCI_RUN[@]}" --network none "${MOUNTS[@]}" -w "$ROOT" \
    -e CI=1 -e MATRIX_CACHE_DIR=/tmp/vite -e MATRIX_FFMPEG_VERSION="${EXPECT[$leg]}" \
    "$IMAGE:$leg" "${VITEST[@]}"
done

log "summary (one line per ffmpeg; the subset is test/matrix/ffmpeg-matrix.e2e.ts):"
printf '  %s\n' "${SUMMARY[@]}"
((failed == 0)) || fail "the ffmpeg matrix has failures (logs above)"
