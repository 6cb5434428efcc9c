"""Baseline for `cargo xtask bench data`: CelebA preprocessing the way the Fader Networks reference
does it (data/preprocess.py), with Pillow instead of matplotlib/OpenCV: decode, crop rows 20..198
of a 178x218 image (scaled to the source resolution), resize with Pillow's area (BOX) filter when
shrinking or LANCZOS when enlarging, transpose to CHW, and stack everything in memory as one uint8
numpy array. Prints one line with images/s and peak RSS.

usage: preprocess_reference.py CELEBA_DIR [--size 64] [--threads 2] [--limit N]
"""

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def annotated_present(celeba_dir: str) -> list:
    """Image names of list_attr_celeba.txt that exist in img_align_celeba/ (file order)."""
    present = set(os.listdir(os.path.join(celeba_dir, "img_align_celeba")))
    names = []
    with open(os.path.join(celeba_dir, "list_attr_celeba.txt")) as f:
        lines = f.read().splitlines()
    for line in lines[2:]:
        parts = line.split()
        if parts and parts[0] in present:
            names.append(parts[0])
    return names


def preprocess(path: str, size: int) -> np.ndarray:
    img = Image.open(path).convert("RGB")
    w, h = img.size
    # Fader crop: rows 20..198 of 178x218, scaled to this resolution.
    box = (0, round(20 * h / 218), w, round(198 * h / 218))
    img = img.crop(box)
    side = box[3] - box[1]
    if size != side:
        method = Image.BOX if size < side else Image.LANCZOS
        img = img.resize((size, size), method)
    return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("celeba_dir")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    names = annotated_present(args.celeba_dir)
    if args.limit:
        names = names[: args.limit]
    paths = [os.path.join(args.celeba_dir, "img_align_celeba", n) for n in names]
    start = time.perf_counter()
    cpu0 = time.process_time()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        images = list(pool.map(lambda p: preprocess(p, args.size), paths, chunksize=64))
    data = np.stack(images)
    secs = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    assert data.shape == (len(paths), 3, args.size, args.size) and data.dtype == np.uint8
    print(
        f"python: images={len(paths)} size={args.size} threads={args.threads} "
        f"secs={secs:.3f} images_per_s={len(paths) / secs:.1f} "
        f"cpu_ms_per_image={cpu * 1000 / len(paths):.3f} peak_rss_mb={peak_rss_mb():.1f}"
    )


if __name__ == "__main__":
    main()
