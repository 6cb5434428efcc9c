"""PyTorch side of the sliders-nets checkpoint round trip.

Defines, from the papers' references (docs/fader-networks.md#networks,
docs/icgan.md#conditional-gan and #encoders), PyTorch modules with the same structure and
state_dict keys as the tch modules of sliders-nets, then for every case listed in
<dir>/manifest.json:

1. Rust -> PyTorch: builds the module from the configuration stored in the Rust checkpoint
   (metadata "sliders.config"), loads "<case>.rust.safetensors", runs it in eval mode on the
   inputs of "<case>.io.safetensors" and compares with the Rust outputs stored there (max abs
   difference <= 1e-5).
2. PyTorch -> Rust: builds a fresh module with random weights and random BN statistics, saves it
   to "<case>.py.safetensors" (with the same metadata) and its eval-mode outputs on the same
   inputs to "<case>.pyout.safetensors"; the Rust test then loads and compares.

Usage: python roundtrip.py <dir>. Prints one line per case; exits 1 if any comparison fails.
"""

import json
import math
import sys

import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file, save_file

TOL = 1e-5


def log2(n):
    return int(round(math.log2(n)))


# ---------------------------------------------------------------------------------------------
# Fader Networks (docs/fader-networks.md#networks)
# ---------------------------------------------------------------------------------------------


def build_layers(img_sz, img_fm, init_fm, max_fm, n_layers, n_attr, n_skip, deconv_method,
                 instance_norm, enc_dropout, dec_dropout):
    """Encoder and decoder layer lists, as described in section 2.1 (decoder in decode order)."""
    assert init_fm <= max_fm and n_skip <= n_layers - 1
    assert 2 ** log2(img_sz) == img_sz and n_layers <= log2(img_sz)
    norm_fn = nn.InstanceNorm2d if instance_norm else nn.BatchNorm2d
    enc_layers, dec_layers = [], []
    n_in, n_out = img_fm, init_fm
    for i in range(n_layers):
        skip = n_layers - (n_skip + 1) <= i < n_layers - 1
        n_dec_in = n_out + n_attr + (n_out if skip else 0)
        n_dec_out = n_in
        enc = [nn.Conv2d(n_in, n_out, 4, 2, 1)]
        if i > 0:
            enc.append(norm_fn(n_out, affine=True))
        enc.append(nn.LeakyReLU(0.2))
        if enc_dropout > 0:
            enc.append(nn.Dropout(enc_dropout))
        if deconv_method == "convtranspose":
            dec = [nn.ConvTranspose2d(n_dec_in, n_dec_out, 4, 2, 1, bias=False)]
        elif deconv_method == "upsampling":
            dec = [nn.UpsamplingNearest2d(scale_factor=2), nn.Conv2d(n_dec_in, n_dec_out, 3, 1, 1)]
        else:
            assert deconv_method == "pixelshuffle"
            dec = [nn.Conv2d(n_dec_in, 4 * n_dec_out, 3, 1, 1), nn.PixelShuffle(2)]
        if i > 0:
            dec.append(norm_fn(n_dec_out, affine=True))
            if dec_dropout > 0 and i >= n_layers - 3:
                dec.append(nn.Dropout(dec_dropout))
            dec.append(nn.ReLU())
        else:
            dec.append(nn.Tanh())
        n_in, n_out = n_out, min(2 * n_out, max_fm)
        enc_layers.append(nn.Sequential(*enc))
        dec_layers.insert(0, nn.Sequential(*dec))
    return enc_layers, dec_layers


class FaderAutoEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        enc, dec = build_layers(c["img_sz"], c["img_fm"], c["init_fm"], c["max_fm"], c["n_layers"],
                                c["n_attr"], c["n_skip"], c["deconv_method"],
                                c["norm"] == "instance", 0, c["dec_dropout"])
        self.enc_layers = nn.ModuleList(enc)
        self.dec_layers = nn.ModuleList(dec)

    def encode(self, x):
        outs = [x]
        for layer in self.enc_layers:
            outs.append(layer(outs[-1]))
        return outs

    def decode(self, enc, y):
        bs, n_attr = y.shape
        y = y.view(bs, n_attr, 1, 1)
        outs = [enc[-1]]
        for i, layer in enumerate(self.dec_layers):
            h = outs[-1]
            s = h.size(2)
            inp = [h, y.expand(bs, n_attr, s, s)]
            if 0 < i <= self.c["n_skip"]:
                inp.append(enc[-1 - i])
            outs.append(layer(torch.cat(inp, 1)))
        return outs

    def run(self, io):
        enc = self.encode(io["in.x"])
        dec = self.decode(enc, io["in.y"])
        return enc[1:] + dec[1:]


class LatentDiscriminator(nn.Module):
    def __init__(self, c):
        super().__init__()
        n_dis = log2(c["img_sz"])
        enc, _ = build_layers(c["img_sz"], c["img_fm"], c["init_fm"], c["max_fm"], n_dis,
                              c["n_attr"], 0, "convtranspose", False, c["lat_dis_dropout"], 0)
        self.conv_layers = nn.Sequential(*enc[c["n_layers"] - c["n_skip"]:])
        self.conv_out_fm = min(c["init_fm"] * 2 ** (n_dis - 1), c["max_fm"])
        self.proj_layers = nn.Sequential(nn.Linear(self.conv_out_fm, c["hid_dim"]),
                                         nn.LeakyReLU(0.2), nn.Linear(c["hid_dim"], c["n_attr"]))

    def run(self, io):
        h = self.conv_layers(io["in.z"])
        return [self.proj_layers(h.view(h.size(0), self.conv_out_fm))]


class PatchDiscriminator(nn.Module):
    def __init__(self, c):
        super().__init__()
        layers = [nn.Conv2d(c["img_fm"], c["init_fm"], 4, 2, 1), nn.LeakyReLU(0.2)]
        n_in, n_out = c["init_fm"], min(2 * c["init_fm"], c["max_fm"])
        n = c["n_patch_dis_layers"]
        for j in range(n):
            stride = 1 if j == n - 1 else 2
            layers += [nn.Conv2d(n_in, n_out, 4, stride, 1), nn.BatchNorm2d(n_out), nn.LeakyReLU(0.2)]
            if j < n - 1:
                n_in, n_out = n_out, min(2 * n_out, c["max_fm"])
        layers += [nn.Conv2d(n_out, 1, 4, 1, 1), nn.Sigmoid()]
        self.layers = nn.Sequential(*layers)

    def run(self, io):
        m = self.layers(io["in.x"])
        return [m, m.view(m.size(0), -1).mean(1)]


class Classifier(nn.Module):
    def __init__(self, c):
        super().__init__()
        n = log2(c["img_sz"])
        enc, _ = build_layers(c["img_sz"], c["img_fm"], c["init_fm"], c["max_fm"], n, c["n_attr"], 0,
                              "convtranspose", False, 0, 0)
        self.conv_layers = nn.Sequential(*enc)
        self.conv_out_fm = min(c["init_fm"] * 2 ** (n - 1), c["max_fm"])
        self.proj_layers = nn.Sequential(nn.Linear(self.conv_out_fm, c["hid_dim"]),
                                         nn.LeakyReLU(0.2), nn.Linear(c["hid_dim"], c["n_attr"]))

    def run(self, io):
        h = self.conv_layers(io["in.x"])
        return [self.proj_layers(h.view(h.size(0), self.conv_out_fm))]


# ---------------------------------------------------------------------------------------------
# IcGAN (docs/icgan.md#conditional-gan, #encoders)
# ---------------------------------------------------------------------------------------------


class IcganGenerator(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        ch = c["ngf"] * (c["img_sz"] // 8)
        layers = [nn.ConvTranspose2d(c["nz"] + c["ny"], ch, 4, 1, 0), nn.BatchNorm2d(ch), nn.ReLU()]
        for _ in range(log2(c["img_sz"]) - 3):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1), nn.BatchNorm2d(ch // 2), nn.ReLU()]
            ch //= 2
        layers += [nn.ConvTranspose2d(ch, c["nc"], 4, 2, 1), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def run(self, io):
        z, y = io["in.z"], io["in.y"]
        b = z.size(0)
        inp = torch.cat([z.view(b, self.c["nz"], 1, 1), y.view(b, self.c["ny"], 1, 1)], 1)
        return [self.main(inp)]


class IcganDiscriminator(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.conv1 = nn.Sequential(nn.Conv2d(c["nc"], c["ndf"], 4, 2, 1), nn.LeakyReLU(0.2))
        layers = []
        c_in, c_out = c["ndf"] + c["ny"], 2 * c["ndf"]
        for _ in range(log2(c["img_sz"]) - 3):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
            c_in, c_out = c_out, 2 * c_out
        layers += [nn.Conv2d(c_in, 1, 4, 1, 0), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)

    def run(self, io):
        x, y = io["in.x"], io["in.y"]
        b, s = x.size(0), self.c["img_sz"] // 2
        h = self.conv1(x)
        h = torch.cat([h, y.view(b, self.c["ny"], 1, 1).expand(b, self.c["ny"], s, s)], 1)
        return [self.main(h).view(b, 1)]


class EncoderBody(nn.Module):
    """conv_layers: [Conv 5x5/2, BN, ReLU] per block; fc_layers: Linear, BN1d, ReLU, Linear."""

    def __init__(self, channels, in_sz, fc, out):
        super().__init__()
        layers = []
        for a, b in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(a, b, 5, 2, 2), nn.BatchNorm2d(b), nn.ReLU()]
        self.conv_layers = nn.Sequential(*layers)
        s = in_sz // 2 ** (len(channels) - 1)
        self.flat = channels[-1] * s * s
        self.fc_layers = nn.Sequential(nn.Linear(self.flat, fc), nn.BatchNorm1d(fc), nn.ReLU(),
                                       nn.Linear(fc, out))

    def forward(self, x):
        h = self.conv_layers(x)
        return self.fc_layers(h.view(h.size(0), self.flat))


def flat_size(c):
    s = c["img_sz"] // 2 ** c["n_conv_layers"]
    return c["nf"] * 2 ** (c["n_conv_layers"] - 1) * s * s


class IcganEncoder(EncoderBody):
    def __init__(self, c, role):
        self.c, self.role = c, role
        c_in = c["nc"] + c["ny"] if role == "z-cond" else c["nc"]
        fc_z = c["fc_z"] if c["fc_z"] is not None else flat_size(c)
        fc, out = (c["fc_y"], c["ny"]) if role == "y" else (fc_z, c["nz"])
        channels = [c_in] + [c["nf"] * 2 ** j for j in range(c["n_conv_layers"])]
        super().__init__(channels, c["img_sz"], fc, out)

    def run(self, io):
        x = io["in.x"]
        if self.role == "z-cond":
            b, s, ny = x.size(0), self.c["img_sz"], self.c["ny"]
            x = torch.cat([x, io["in.y"].view(b, ny, 1, 1).expand(b, ny, s, s)], 1)
        return [self(x)]


class SngEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.shared = nn.Sequential(nn.Conv2d(c["nc"], c["nf"], 5, 2, 2), nn.BatchNorm2d(c["nf"]), nn.ReLU())
        channels = [c["nf"] * 2 ** j for j in range(c["n_conv_layers"])]
        fc = c["fc_z"] if c["fc_z"] is not None else flat_size(c)
        self.z_branch = EncoderBody(channels, c["img_sz"] // 2, fc, c["nz"])
        self.y_branch = EncoderBody(channels, c["img_sz"] // 2, fc, c["ny"])

    def run(self, io):
        h = self.shared(io["in.x"])
        return [self.z_branch(h), self.y_branch(h)]


def build(kind, c):
    return {
        "fader-autoencoder": lambda: FaderAutoEncoder(c),
        "fader-latent-discriminator": lambda: LatentDiscriminator(c),
        "fader-patch-discriminator": lambda: PatchDiscriminator(c),
        "fader-classifier": lambda: Classifier(c),
        "icgan-generator": lambda: IcganGenerator(c),
        "icgan-discriminator": lambda: IcganDiscriminator(c),
        "icgan-encoder-z": lambda: IcganEncoder(c, "z"),
        "icgan-encoder-y": lambda: IcganEncoder(c, "y"),
        "icgan-encoder-z-cond": lambda: IcganEncoder(c, "z-cond"),
        "icgan-encoder-sng": lambda: SngEncoder(c),
    }[kind]()


def randomize(model):
    """Random weights and BN statistics, so that eval-mode outputs depend on every tensor."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif name.endswith("running_var"):
                t.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                t.uniform_(-0.2, 0.2)
            elif name.endswith("weight") and t.dim() == 1:
                t.uniform_(0.5, 1.5)
            else:
                t.uniform_(-0.3, 0.3) if t.dim() == 1 else t.normal_(0, 1.0 / math.sqrt(t[0].numel()))


def max_diff(a, b):
    if a.shape != b.shape:
        return float("inf")
    return (a.double() - b.double()).abs().max().item()


def main(folder):
    torch.manual_seed(1234)
    manifest = json.load(open(f"{folder}/manifest.json"))
    failures = 0
    for case in manifest["cases"]:
        ckpt = f"{folder}/{case}.rust.safetensors"
        with safe_open(ckpt, framework="pt") as f:
            meta = f.metadata()
        kind, cfg = meta["sliders.kind"], json.loads(meta["sliders.config"])
        io = load_file(f"{folder}/{case}.io.safetensors")
        n_out = len([k for k in io if k.startswith("out.")])

        # Rust -> PyTorch
        model = build(kind, cfg)
        missing, unexpected = model.load_state_dict(load_file(ckpt), strict=False)
        bad_missing = [k for k in missing if not k.endswith("num_batches_tracked")]
        model.eval()
        with torch.no_grad():
            outs = model.run(io)
        diffs = [max_diff(o, io[f"out.{i}"]) for i, o in enumerate(outs)]
        ok = not bad_missing and not unexpected and len(outs) == n_out and max(diffs) <= TOL
        print(f"{case} rust->torch {'ok' if ok else 'FAIL'} kind={kind} max_diff={max(diffs):.3g} "
              f"outputs={len(outs)}/{n_out} missing={bad_missing} unexpected={unexpected}")
        failures += not ok

        # PyTorch -> Rust
        model = build(kind, cfg)
        randomize(model)
        model.eval()
        sd = {k: v.contiguous() for k, v in model.state_dict().items()}
        save_file(sd, f"{folder}/{case}.py.safetensors",
                  metadata={"sliders.kind": kind, "sliders.config": json.dumps(cfg), "format": "pt"})
        with torch.no_grad():
            outs = model.run(io)
        save_file({f"out.{i}": o.contiguous() for i, o in enumerate(outs)},
                  f"{folder}/{case}.pyout.safetensors")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1])
