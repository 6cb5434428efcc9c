"""The baseline of `cargo bench -p sliders-align --bench detect_align`: facenet-pytorch 2.6.0's
own MTCNN (`MTCNN.detect(..., landmarks=True)`: its pyramid, P-/R-/O-Net, NMS and landmarks) timed
on the same canvases, one image at a time, on one CPU thread, as the Rust benchmark runs.

Usage: python mtcnn_baseline.py REPEATS IMAGE.png...
       python mtcnn_baseline.py boxes IMAGE.png...

Prints one line per image: its path, the median ms of a `detect` call and the faces found,
separated by tabs. With `boxes` (the cascade test of `tests/detect.rs`), one line per face
instead: path, then the box `x1 y1 x2 y2`, the probability and the ten landmark coordinates
`x1 y1 ... x5 y5`, space-separated after the tab.

The package is installed without its dependencies (`cargo xtask setup`), so as in
`crates/sliders-nets/tests/python/mtcnn_reference.py` its `__init__` is bypassed and torchvision
gets stand-ins; `batched_nms`, which the cascade does call, is written here in plain torch
(greedy suppression per image index, highest score first, as torchvision's: drop a box whose IoU
with a kept one is above the threshold, areas `(x2 - x1)(y2 - y1)`).
"""

import importlib.util
import statistics
import sys
import time
import types

import numpy as np
import torch
from PIL import Image


def batched_nms(boxes, scores, idxs, threshold):
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64)
    # torchvision's trick: boxes of different images never overlap once shifted apart.
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    b = boxes + offsets[:, None]
    x1, y1, x2, y2 = b.unbind(1)
    area = (x2 - x1) * (y2 - y1)
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = (torch.minimum(x2[i], x2[rest]) - torch.maximum(x1[i], x1[rest])).clamp(min=0)
        h = (torch.minimum(y2[i], y2[rest]) - torch.maximum(y1[i], y1[rest])).clamp(min=0)
        inter = w * h
        iou = inter / (area[i] + area[rest] - inter)
        order = rest[iou <= threshold]
    return torch.stack(keep)


for name in ("torchvision", "torchvision.transforms", "torchvision.ops", "torchvision.ops.boxes"):
    sys.modules.setdefault(name, types.ModuleType(name))
sys.modules["torchvision.transforms"].functional = types.ModuleType("functional")
sys.modules["torchvision.ops.boxes"].batched_nms = batched_nms
package = types.ModuleType("facenet_pytorch")
package.__path__ = list(importlib.util.find_spec("facenet_pytorch").submodule_search_locations)
sys.modules["facenet_pytorch"] = package

from facenet_pytorch.models.mtcnn import MTCNN  # noqa: E402


def boxes(paths):
    mtcnn = MTCNN(device="cpu")
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        found, probs, points = mtcnn.detect(img, landmarks=True)
        for b, p, pts in zip(found if found is not None else [], probs if probs is not None else [], points if points is not None else []):
            numbers = [*b.tolist(), float(p), *pts.reshape(-1).tolist()]
            print(path + "\t" + " ".join(f"{v:.4f}" for v in numbers), flush=True)


def main(repeats, paths):
    torch.set_num_threads(1)
    mtcnn = MTCNN(device="cpu")
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        boxes, _, _ = mtcnn.detect(img, landmarks=True)  # warm-up
        faces = 0 if boxes is None else len(boxes)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            mtcnn.detect(img, landmarks=True)
            times.append((time.perf_counter() - t0) * 1e3)
        print(f"{path}\t{statistics.median(times):.3f}\t{faces}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "boxes":
        boxes(sys.argv[2:])
    else:
        main(int(sys.argv[1]), sys.argv[2:])
