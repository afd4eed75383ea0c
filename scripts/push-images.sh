#!/usr/bin/env bash
# Builds the worker images and pushes them to a registry, as multi-arch manifest lists where the image makes sense on
# arm64:
#   cpu     linux/amd64 + linux/arm64   (any PC; Raspberry Pi 4 with its h264_v4l2m2m encoder, Pi 5 on the CPU)
#   nvidia  linux/amd64                 (NVENC; the NVIDIA Container Toolkit images of ARM boards are another world)
#   vaapi   linux/amd64                 (Intel's VA and VPL drivers exist for amd64 only)
# Each is pushed as REGISTRY/transcode-worker:TAG-VARIANT and as the floating REGISTRY/transcode-worker:VARIANT that
# docker/k3s and compose.yaml name.
#
#   scripts/push-images.sh [--dry-run] [--tool podman|docker] [--only cpu,nvidia,vaapi] REGISTRY TAG
#   scripts/push-images.sh --dry-run registry.example.lan:5000 1.4.0      # prints the commands, runs nothing
#
# podman (preferred when installed): `podman build --platform linux/ARCH --manifest LIST` per arch, then
# `podman manifest push --all`. The foreign arch runs under QEMU (qemu-user-static + binfmt), all of it: podman/buildah
# 4.x/1.28 ignore FROM --platform=$BUILDPLATFORM, so npm ci and tsc are emulated too (about 5 to 9 min on 2 cores).
# docker: `docker buildx build --platform ... --push` (buildx compiles once on the host's arch through
# $BUILDPLATFORM; needs a builder with QEMU for arm64: `docker buildx create --use`).
# Environment: BASE_IMAGE (default: the Dockerfiles' own, docker.io/library/node:24-trixie-slim).
set -euo pipefail

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
fail() {
  printf '[push-images] ERROR: %s\n' "$*" >&2
  exit 1
}

DRY_RUN=0
TOOL=""
ONLY="cpu,nvidia,vaapi"
POSITIONAL=()
while (($#)); do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --tool)
      TOOL="${2:-}"
      shift
      ;;
    --only)
      ONLY="${2:-}"
      shift
      ;;
    -h | --help) usage ;;
    -*) fail "unknown option $1 (see --help)" ;;
    *) POSITIONAL+=("$1") ;;
  esac
  shift
done
((${#POSITIONAL[@]} == 2)) || usage
REGISTRY="${POSITIONAL[0]%/}"
TAG="${POSITIONAL[1]}"
[[ "$TAG" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$ ]] || fail "'$TAG' is not a valid image tag"
[[ "$REGISTRY" =~ ^[A-Za-z0-9][A-Za-z0-9._:/-]*$ ]] || fail "'$REGISTRY' is not a registry or repository prefix"

if [[ -z "$TOOL" ]]; then
  if command -v podman >/dev/null; then TOOL=podman; elif command -v docker >/dev/null; then TOOL=docker; else TOOL=podman; fi
fi
[[ "$TOOL" == podman || "$TOOL" == docker ]] || fail "--tool must be podman or docker (got '$TOOL')"

# Which platforms each image is published for.
declare -A PLATFORMS=([cpu]="linux/amd64 linux/arm64" [nvidia]="linux/amd64" [vaapi]="linux/amd64")
IFS=, read -r -a VARIANTS <<<"$ONLY"
for v in "${VARIANTS[@]}"; do [[ -n "${PLATFORMS[$v]:-}" ]] || fail "unknown image '$v' (cpu, nvidia, vaapi)"; done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BASE_IMAGE="${BASE_IMAGE:-docker.io/library/node:24-trixie-slim}"
VERSION="$(node -p 'require("./package.json").version' 2>/dev/null || echo 0.0.0-dev)"
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
SOURCE="$(git config --get remote.origin.url 2>/dev/null || echo unknown)"
CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
LABEL_ARGS=(--build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION" --build-arg "SOURCE=$SOURCE"
  --build-arg "CREATED=$CREATED")

# run CMD...: prints the command (shell-quoted, one line), then runs it unless --dry-run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  ((DRY_RUN)) || "$@"
}

for v in "${VARIANTS[@]}"; do
  refs=("$REGISTRY/transcode-worker:$TAG-$v" "$REGISTRY/transcode-worker:$v")
  read -r -a platforms <<<"${PLATFORMS[$v]}"
  echo "# $v: ${platforms[*]} -> ${refs[*]}"
  if [[ "$TOOL" == docker ]]; then
    tags=()
    for r in "${refs[@]}"; do tags+=(-t "$r"); done
    run docker buildx build --platform "$(
      IFS=,
      echo "${platforms[*]}"
    )" -f "Dockerfile.$v" --build-arg "BASE_IMAGE=$BASE_IMAGE" "${LABEL_ARGS[@]}" "${tags[@]}" --push .
    continue
  fi
  list="localhost/transcode-worker-push:$TAG-$v"
  # A list left by an earlier run would collect a second entry per arch: start from an empty one.
  if ((DRY_RUN)) || podman manifest exists "$list" 2>/dev/null; then run podman manifest rm "$list" || true; fi
  run podman manifest create "$list"
  for p in "${platforms[@]}"; do
    # --format docker keeps the HEALTHCHECK (the OCI image format has no field for it).
    run podman build --platform "$p" --format docker --manifest "$list" -f "Dockerfile.$v" \
      --build-arg "BASE_IMAGE=$BASE_IMAGE" "${LABEL_ARGS[@]}" .
  done
  for r in "${refs[@]}"; do run podman manifest push --all --format v2s2 "$list" "docker://$r"; done
done
((DRY_RUN)) && echo "# dry run: nothing was built or pushed"
exit 0
