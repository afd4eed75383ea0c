#!/usr/bin/env bash
# SVT-AV1 (libsvtav1) against libx264 at equal quality on this machine (issue 14, "AV1 rungs").
# Source: 10 s of 1280x720 25 fps testsrc2 with light temporal noise (detail and motion), kept as raw y4m so decoding
# costs nothing. libx264 -preset fast -crf 23 (the worker's default preset) sets the quality bar (SSIM from
# ffmpeg's ssim filter against the source); for each SVT-AV1 preset the CRF giving the nearest SSIM is searched
# (bisection, SSIM falls as CRF rises), then size, wall and CPU (user+sys) time are compared.
# Usage: bench/av1-bench.sh [workdir]   (prints a markdown table on stdout; about 10 minutes on 2 cores)
set -euo pipefail
W=${1:-$(mktemp -d)}
SRC=$W/src.y4m
[ -f "$SRC" ] || ffmpeg -hide_banner -loglevel error -y -f lavfi \
  -i 'testsrc2=s=1280x720:r=25:d=10,noise=alls=4:allf=t+u,format=yuv420p' "$SRC"

# encode NAME ARGS... -> prints "bytes wall cpu ssim psnr"
encode() {
  local out=$W/$1.mp4; shift
  local t0 t1 cpu
  t0=$(date +%s.%N)
  cpu=$( { /usr/bin/time -f '%U %S' ffmpeg -hide_banner -loglevel error -y -i "$SRC" "$@" -an "$out" 2>&1 >/dev/null \
    | grep -v '^Svt' | tail -1; } )
  t1=$(date +%s.%N)
  local ssim psnr
  ssim=$(ffmpeg -hide_banner -i "$out" -i "$SRC" -lavfi '[0:v][1:v]ssim' -f null - 2>&1 | sed -n 's/.*SSIM .* All:\([0-9.]*\).*/\1/p')
  psnr=$(ffmpeg -hide_banner -i "$out" -i "$SRC" -lavfi '[0:v][1:v]psnr' -f null - 2>&1 | sed -n 's/.*PSNR .* average:\([0-9.]*\).*/\1/p')
  echo "$(stat -c %s "$out") $(echo "$t1 - $t0" | bc) $(echo "$cpu" | awk '{print $1+$2}') $ssim $psnr"
}

echo "| encoder | setting | size (bytes) | wall (s) | fps (wall) | CPU (s) | frames per CPU-s | SSIM | PSNR (dB) |"
echo "|---|---|---|---|---|---|---|---|---|"
row() { read -r b w c s p <<<"$3"; printf '| %s | %s | %s | %.1f | %.1f | %.1f | %.1f | %s | %s |\n' "$1" "$2" "$b" "$w" "$(echo "250 / $w" | bc -l)" "$c" "$(echo "250 / $c" | bc -l)" "$s" "$p"; }

X264=$(encode x264 -c:v libx264 -preset fast -crf 23)
row libx264 'preset fast, crf 23' "$X264"
TARGET=$(echo "$X264" | awk '{print $4}')

for PRESET in ${PRESETS:-10 8}; do
  lo=20 hi=55 best='' bestd=9
  while [ $lo -le $hi ]; do
    mid=$(( (lo + hi) / 2 ))
    r=$(encode "svt-p$PRESET-crf$mid" -c:v libsvtav1 -preset "$PRESET" -crf "$mid" -g 250)
    s=$(echo "$r" | awk '{print $4}')
    d=$(echo "$s - $TARGET" | bc -l | tr -d -); if [ "$(echo "$d < $bestd" | bc)" = 1 ]; then bestd=$d; best="$mid $r"; fi
    echo "  (search: preset $PRESET crf $mid -> SSIM $s)" >&2
    if [ "$(echo "$s > $TARGET" | bc)" = 1 ]; then lo=$((mid + 1)); else hi=$((mid - 1)); fi
  done
  row libsvtav1 "preset $PRESET, crf ${best%% *}" "${best#* }"
done
