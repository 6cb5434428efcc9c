"""PyTorch eager baseline for benches/fader_step.rs: the same Fader autoencoder step (64 px,
batch 32, 5 layers, init_fm 32, max_fm 512, one attribute; MSE + 1e-4 * latent-dis CE towards
flipped labels, lat_dis in eval mode, Adam(2e-4, betas (0.5, 0.999)), clip 5), with the modules
of tests/python/roundtrip.py. Usage: python fader_step.py [steps]."""

import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "python"))
import roundtrip as r  # noqa: E402


def main(steps):
    torch.manual_seed(0)
    cfg = dict(img_sz=64, img_fm=3, init_fm=32, max_fm=512, n_layers=5, n_skip=0,
               deconv_method="convtranspose", norm="batch", dec_dropout=0.0, n_attr=2, hid_dim=512,
               lat_dis_dropout=0.3, n_patch_dis_layers=3)
    ae, dis = r.FaderAutoEncoder(cfg), r.LatentDiscriminator(cfg)
    dis.eval()
    opt = torch.optim.Adam(ae.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x = torch.rand(32, 3, 64, 64) * 2 - 1
    labels = torch.randint(0, 2, (32,))
    y = F.one_hot(labels, 2).float()

    def step(with_dis):
        enc = ae.encode(x)
        rec = ae.decode(enc, y)[-1]
        loss = F.mse_loss(rec, x)
        if with_dis:
            loss = loss + 1e-4 * F.cross_entropy(dis.run({"in.z": enc[-1]})[0], 1 - labels)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ae.parameters(), 5.0)
        opt.step()

    for with_dis in (False, True):
        for _ in range(3):
            step(with_dis)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            step(with_dis)
            times.append((time.perf_counter() - t0) * 1e3)
        what = " + latent-dis loss" if with_dis else " (reconstruction only)"
        print(f"pytorch eager fader AE step{what} on cpu, {torch.get_num_threads()} threads: "
              f"{sum(times) / len(times):.1f} ms/step (mean of {steps}), best {min(times):.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
