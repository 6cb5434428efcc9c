"""PyTorch eager baseline for `cargo xtask bench train`: the same training steps as the Rust
example `crates/sliders-bench/examples/bench_step.rs`, with plain eager PyTorch,
`torch.optim.Adam` (defaults: foreach on CUDA, single-tensor on CPU) and
`torch.nn.utils.clip_grad_norm_`. The networks are the modules of
`crates/sliders-nets/tests/python/roundtrip.py` (same shapes, state_dict keys and modes as ours).

Cases:
- `fader64`, `fader256`: one Fader iteration (fader-networks.md section 4.2-4.3): a latent
  discriminator step (AE in eval mode, encode without grad; lat_dis in train mode; CE towards y;
  clip 5; Adam) then an autoencoder step (AE train, lat_dis eval; MSE + lambda * CE towards the
  flipped labels; clip 5 on the AE; Adam). Adam lr 2e-4, betas (0.5, 0.999). 64 px: 5 layers,
  init_fm 32, max_fm 512; 256 px: the reference defaults (6 layers). One attribute (n_attr 2).
- `cgan64`: one IcGAN iteration (icgan.md section 3.4): three separate D forwards (real, wrong y,
  fake detached), L_D = L_real + 0.5 L_wrong + 0.5 L_fake, Adam on D; then L_G = BCE(D(G(z,y')),1)
  reusing the same fake, Adam on G. 64 px, batch 64, nz 100, ny 18, ngf = ndf = 64.

The batches are generated once (data loading is not timed); each timed step includes the CUDA
synchronisation at its end. Prints one line:
`python: case=<c> device=<d> threads=<n> steps=<s> steps_per_s=<f> ms_per_step=<f> [peak_mem_mb=<f>]`.

usage: train_step_reference.py --case fader64 [--device cpu|cuda] [--threads N] [--warmup W]
       [--steps S] [--breakdown]
"""

import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "crates", "sliders-nets",
                                "tests", "python"))
import roundtrip as r  # noqa: E402

LR, BETAS, CLIP = 2e-4, (0.5, 0.999), 5.0


def fader_cfg(img_sz):
    """fader-networks.md section 2: 64 px = FaderConfig::small(64), 256 px = the defaults."""
    return dict(img_sz=img_sz, img_fm=3, init_fm=32, max_fm=512,
                n_layers=5 if img_sz == 64 else 6, n_skip=0, deconv_method="convtranspose",
                norm="batch", dec_dropout=0.0, n_attr=2, hid_dim=512, lat_dis_dropout=0.3,
                n_patch_dis_layers=3)


def attr_loss(logits, y, flip):
    """get_attr_loss for binary attributes: sum over attributes of the mean CE."""
    loss = 0
    for k in range(0, y.size(1), 2):
        target = y[:, k:k + 2].argmax(1)
        if flip:
            target = 1 - target
        loss = loss + F.cross_entropy(logits[:, k:k + 2], target)
    return loss


class Parts:
    """Sub-step timings for --breakdown (synchronised after each part)."""

    def __init__(self, dev):
        self.on, self.dev, self.ms = False, dev, {}

    def __call__(self, name, f):
        if not self.on:
            return f()
        t0 = time.perf_counter()
        out = f()
        if self.dev.type == "cuda":
            torch.cuda.synchronize()
        self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1e3
        return out


def adam(params, fused):
    # fused: one kernel for all parameters (torch.optim.Adam(fused=True)), the second baseline.
    return torch.optim.Adam(params, lr=LR, betas=BETAS, fused=True if fused else None)


def fader_step_fn(img_sz, bs, dev, part, channels_last=False, fused=False):
    c = fader_cfg(img_sz)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    ae = r.FaderAutoEncoder(c).to(dev).to(memory_format=fmt)
    lat = r.LatentDiscriminator(c).to(dev).to(memory_format=fmt)
    ae_opt = adam(ae.parameters(), fused)
    lat_opt = adam(lat.parameters(), fused)
    foreach = True if fused else None

    def batch():
        x = (torch.rand(bs, 3, img_sz, img_sz, device=dev) * 2 - 1).contiguous(memory_format=fmt)
        y = F.one_hot(torch.randint(0, 2, (bs,), device=dev), 2).float()
        return x, y

    (x1, y1), (x2, y2) = batch(), batch()
    lam = 1e-4  # lambda_lat_dis; its value does not change the work

    def lat_step():
        ae.eval()
        lat.train()
        with torch.no_grad():
            z = ae.encode(x1)[-1]
        loss = attr_loss(lat.run({"in.z": z})[0], y1, False)
        lat_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lat.parameters(), CLIP, foreach=foreach)
        lat_opt.step()

    def ae_forward():
        ae.train()
        lat.eval()
        enc = ae.encode(x2)
        dec = ae.decode(enc, y2)[-1]
        loss = F.mse_loss(dec, x2)
        return loss + lam * attr_loss(lat.run({"in.z": enc[-1]})[0], y2, True)

    def step():
        part("lat_dis_update", lat_step)
        loss = part("ae forward", ae_forward)
        part("ae zero_grad", ae_opt.zero_grad)
        part("ae backward", loss.backward)
        part("ae clip", lambda: torch.nn.utils.clip_grad_norm_(ae.parameters(), CLIP, foreach=foreach))
        part("ae adam", ae_opt.step)

    return step


def cgan_step_fn(bs, dev, fused=False):
    c = dict(img_sz=64, nc=3, nz=100, ny=18, ngf=64, ndf=64)
    g = r.IcganGenerator(c).to(dev)
    d = r.IcganDiscriminator(c).to(dev)
    g.train()
    d.train()
    g_opt = adam(g.parameters(), fused)
    d_opt = adam(d.parameters(), fused)

    def labels():
        return torch.randint(0, 2, (bs, c["ny"]), device=dev).float() * 2 - 1

    x = torch.rand(bs, 3, 64, 64, device=dev) * 2 - 1
    y, y_wrong, y_fake = labels(), labels(), labels()
    ones = torch.ones(bs, 1, device=dev)
    zeros = torch.zeros(bs, 1, device=dev)

    def D(img, lab):
        return d.run({"in.x": img, "in.y": lab})[0]

    def step():
        d_opt.zero_grad()
        l_real = F.binary_cross_entropy(D(x, y), ones)
        l_wrong = F.binary_cross_entropy(D(x, y_wrong), zeros)
        z = torch.randn(bs, c["nz"], 1, 1, device=dev)
        fake = g.run({"in.z": z, "in.y": y_fake})[0]
        l_fake = F.binary_cross_entropy(D(fake.detach(), y_fake), zeros)
        (l_real + 0.5 * l_wrong + 0.5 * l_fake).backward()
        d_opt.step()
        g_opt.zero_grad()
        F.binary_cross_entropy(D(fake, y_fake), ones).backward()
        g_opt.step()

    return step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", required=True, choices=["fader64", "fader256", "cgan64"])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--breakdown", action="store_true", help="then time each sub-step (Fader)")
    ap.add_argument("--fused", action="store_true",
                    help="torch.optim.Adam(fused=True), foreach clipping and, on CUDA, cuDNN "
                         "autotuning (the second baseline: PyTorch eager tuned)")
    ap.add_argument("--channels-last", action="store_true",
                    help="Fader cases: images and conv weights in torch.channels_last")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    dev = torch.device(a.device)
    # The tuned baseline autotunes cuDNN's convolutions as ours does on CUDA (docs/gpu.md);
    # the reference baseline keeps PyTorch's default, as the reference code has it.
    torch.backends.cudnn.benchmark = a.fused and dev.type == "cuda"
    part = Parts(dev)
    if a.case == "cgan64":
        step = cgan_step_fn(64, dev, a.fused)
    else:
        step = fader_step_fn(64 if a.case == "fader64" else 256, 32, dev, part, a.channels_last,
                             a.fused)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    for _ in range(a.warmup):
        step()
    sync()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    sync()
    dt = time.perf_counter() - t0
    extra = ""
    if dev.type == "cuda":
        extra = f" peak_mem_mb={torch.cuda.max_memory_allocated() / 2**20:.1f}"
    print(f"python: case={a.case} device={a.device} fused={a.fused} "
          f"cudnn_benchmark={torch.backends.cudnn.benchmark} threads={torch.get_num_threads()} "
          f"steps={a.steps} steps_per_s={a.steps / dt:.4f} ms_per_step={dt / a.steps * 1e3:.2f}"
          f" torch={torch.__version__}{extra}", flush=True)
    if a.breakdown:
        part.on = True
        for _ in range(a.steps):
            step()
        total = sum(part.ms.values())
        for name, ms in part.ms.items():
            print(f"python breakdown: {name:<22} {ms / a.steps:>9.2f} ms/step  "
                  f"{100 * ms / total:>5.1f}%")


if __name__ == "__main__":
    main()
