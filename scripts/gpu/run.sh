#!/usr/bin/env bash
# The one prepared command for a GPU machine (docs/gpu.md#the-prepared-device-command): with the
# binaries of scripts/gpu/pack.sh carried (gpu-bin.tar.xz, unpacked here) and a CelebA-layout folder, it runs the CUDA
# tests, the training-step benchmark against PyTorch eager and fused, then the quick profile's
# CelebA stages with `reproduce --jobs auto`, and writes every log and the pixel-free results
# (report text, metrics, tables, timings) to $OUT. Stage times are printed as it goes.
# Usage: OUT=/some/dir scripts/gpu/run.sh CELEBA_DIR [checks|reproduce|all]   (from the
# repository root; CELEBA_DIR `gpu-celeba` unpacks the carried gpu-celeba.tar.xz of pack.sh). `checks` runs the tests and the benchmark, `reproduce` the quick profile,
# `all` (the default) both; a device call runs at most 10 minutes, so two calls on the same warm
# machine (checks, then reproduce) leave each its own limit. The reproduce is stopped after
# SLIDERS_GPU_REPRODUCE_LIMIT_S seconds (default 570; set it under the device time left), so its
# logs and stage times still come back; they are also copied to $OUT every 20 s meanwhile.
set -uo pipefail
celeba=${1:?usage: scripts/gpu/run.sh CELEBA_DIR [checks|reproduce|all]}
part=${2:-all}
case "$part" in checks | reproduce | all) ;; *)
  echo "run.sh: unknown part '$part': use checks, reproduce or all" >&2
  exit 2
  ;;
esac
if [ -z "${SLIDERS_GPU_BIN:-}" ] && [ ! -d gpu-bin ] && [ -f gpu-bin.tar.xz ]; then
  tar -xJf gpu-bin.tar.xz
fi
# The CelebA copy pack.sh made, carried as gpu-celeba.tar.xz: pass `gpu-celeba` as CELEBA_DIR.
if [ "$celeba" = gpu-celeba ] && [ ! -d gpu-celeba ] && [ -f gpu-celeba.tar.xz ]; then
  tar -xJf gpu-celeba.tar.xz
fi
bin=$(readlink -f "${SLIDERS_GPU_BIN:-gpu-bin}")
out=${OUT:-gpu-out}
mkdir -p "$out"
log() { echo "[$(date -u +%T) +${SECONDS}s] $*" | tee -a "$out/run.log"; }
torch=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))') || {
  log "no python3 with torch on this machine"; exit 1; }
site=$(dirname "$torch")
export LD_LIBRARY_PATH="$torch/lib:$site/nvidia/cu13/lib:${LD_LIBRARY_PATH:-}"
export LIBTORCH=$torch SLIDERS_PREBUILT_BIN=$bin SLIDERS_GENDER_MODEL=$bin/gender-v1.onnx
nvidia-smi >"$out/nvidia-smi.txt" 2>&1
log "device: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"
status=0

# 1. The CUDA tests (ignored where there is no GPU): the binaries and filters pack.sh listed.
checks() {
  while read -r name filters; do
    [ -n "$name" ] || continue
    log "tests: $name --ignored $filters"
    for f in $filters; do
      "$bin/tests/$name" --ignored --test-threads 1 $f </dev/null >>"$out/tests.log" 2>&1 \
        || { status=1; log "FAILED: $name $f"; }
    done
    if [ -z "$filters" ]; then
      "$bin/tests/$name" --ignored --test-threads 1 </dev/null >>"$out/tests.log" 2>&1 \
        || { status=1; log "FAILED: $name"; }
    fi
  done <"$bin/cuda-tests.txt"
  grep -E "^test |test result" "$out/tests.log" | tee -a "$out/run.log"

  # 2. The benchmark: ours (multi-tensor Adam, CUDA graph) against PyTorch eager and fused, then
  # ours eager, to show what the graph adds.
  log "bench"
  "$bin/sliders" bench --device cuda --cases fader64,fader256,cgan64 --rounds 3 --steps 100 \
    --warmup 10 --python python3 2>&1 | tee "$out/bench.txt" || status=1
  "$bin/sliders" bench --device cuda --cases fader64,fader256,cgan64 --rounds 1 --steps 100 \
    --warmup 10 --eager --no-pytorch 2>&1 | tee "$out/bench-eager.txt" || status=1
  # Channels-last on both sides, where it may pay (docs/gpu.md#benchmarks).
  "$bin/sliders" bench --device cuda --cases fader64,fader256 --rounds 1 --steps 100 \
    --warmup 10 --channels-last --python python3 2>&1 | tee "$out/bench-channels-last.txt" || status=1
}

# 3. The quick profile's CelebA stages side by side (the digits stage needs its download, and FID
# its 81 MB network: neither is on this machine). Stopped at the limit (the whole process group),
# the stage logs and times written so far still come back; the report only from a finished run.
quick() {
  log "reproduce --profile quick --jobs auto (limit ${limit}s)"
  only=()
  for stage in classifier fader cgan encoders eval report; do only+=(--only "$stage"); done
  runs=data/runs/quick
  mkdir -p "$out/quick"
  # Stage logs and times copied every 20 s as well, so they come back even when the device tool
  # ends the call before this script's own limit does.
  keep_logs() {
    cp "$runs"/timings.json "$runs"/wall_clock.json "$out/quick/" 2>/dev/null
    [ -d "$runs/logs" ] && rm -rf "$out/quick/stage-logs" && cp -r "$runs/logs" "$out/quick/stage-logs"
    return 0
  }
  (while sleep 20; do keep_logs; done) &
  local syncer=$!
  SLIDERS__EVAL__FID=false timeout --signal=INT --kill-after=15 "$limit" "$bin/xtask" reproduce \
    --profile quick --data "$celeba" --device cuda --jobs auto "${only[@]}" 2>&1 \
    | tee "$out/reproduce.log"
  local rc=${PIPESTATUS[0]}
  kill "$syncer" 2>/dev/null
  wait "$syncer" 2>/dev/null
  keep_logs
  if [ "$rc" -eq 0 ]; then
    log "reproduce finished"
    cp -r reports/quick/README.md reports/quick/metrics.json reports/quick/tables "$out/quick/"
  else
    status=1
    [ "$rc" -eq 124 ] && log "reproduce stopped at the ${limit}s limit"
    log "reproduce FAILED (exit $rc, see reproduce.log); logs and times copied, no report"
  fi
}

limit=${SLIDERS_GPU_REPRODUCE_LIMIT_S:-570}
case "$part" in
  checks) checks ;;
  reproduce) quick ;;
  all) checks; quick ;;
esac
log "done (status $status)"
exit $status
