"""MTCNN reference outputs from facenet-pytorch 2.6.0's own PNet/RNet/ONet classes.

Usage: python mtcnn_reference.py INPUTS.safetensors OUTPUTS.safetensors

INPUTS holds `p`, `r` and `o` (normalised images for P-, R- and O-Net); OUTPUTS gets each
network's outputs in facenet-pytorch's order (`p.0` regression, `p.1` probability, `r.0`, `r.1`,
`o.0` regression, `o.1` landmarks, `o.2` probability), computed with the pretrained weights the
package ships (`facenet_pytorch/data/*.pt`). The package is installed without its dependencies:
its `__init__` (which imports the face-recognition network and its download helpers) is
bypassed, and `models/utils/detect_face.py` gets empty stand-ins for the torchvision modules it
imports (for the cascade's NMS and image helpers, which the networks do not use).
"""

import importlib.util
import sys
import types

import torch
from safetensors.torch import load_file, save_file

for name in ("torchvision", "torchvision.transforms", "torchvision.ops", "torchvision.ops.boxes"):
    sys.modules.setdefault(name, types.ModuleType(name))
sys.modules["torchvision.transforms"].functional = types.ModuleType("functional")
sys.modules["torchvision.ops.boxes"].batched_nms = None
package = types.ModuleType("facenet_pytorch")
package.__path__ = list(importlib.util.find_spec("facenet_pytorch").submodule_search_locations)
sys.modules["facenet_pytorch"] = package

from facenet_pytorch.models.mtcnn import ONet, PNet, RNet  # noqa: E402


def main(inputs, outputs):
    x = load_file(inputs)
    out = {}
    with torch.no_grad():
        for key, net in (("p", PNet()), ("r", RNet()), ("o", ONet())):
            net.eval()
            for i, t in enumerate(net(x[key])):
                out[f"{key}.{i}"] = t.contiguous()
    save_file(out, outputs)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
