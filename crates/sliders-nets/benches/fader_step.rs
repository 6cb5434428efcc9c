//! Forward + backward + Adam step time of the Fader autoencoder at 64 px, batch 32, with the
//! architecture.md calibration configuration (5 layers, init_fm 32, max_fm 512, one attribute),
//! on the CPU (and on CUDA too when available). Plain timing (no criterion): 3 warm-up steps,
//! then the mean and the best of `SLIDERS_BENCH_STEPS` (default 20) steps.
//!
//! Run: `cargo bench -p sliders-nets --bench fader_step`, or without a release build of
//! libtorch's bindings, `cargo test -p sliders-nets --bench fader_step` (dependencies are
//! optimised in the dev profile too; the time is spent in libtorch).

use std::time::Instant;

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, LatentDiscriminator};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

fn bench(device: Device, steps: usize) {
    tch::manual_seed(0);
    let cfg = FaderConfig::small(64);
    let b = 32;
    let ae_vs = nn::VarStore::new(device);
    let ae = FaderAutoEncoder::new(&ae_vs.root(), &cfg).expect("valid config");
    let dis_vs = nn::VarStore::new(device);
    let dis = LatentDiscriminator::new(&dis_vs.root(), &cfg).expect("valid config");
    let adam = nn::Adam {
        beta1: 0.5,
        beta2: 0.999,
        wd: 0.0,
        eps: 1e-8,
        amsgrad: false,
    };
    let mut opt = adam.build(&ae_vs, 2e-4).expect("optimizer");
    let x = Tensor::rand([b, 3, 64, 64], (Kind::Float, device)) * 2.0 - 1.0;
    let labels = Tensor::randint(2, [b], (Kind::Int64, device));
    let y = labels.one_hot(2).to_kind(Kind::Float);
    let flipped = labels.ones_like() - &labels;

    // One AE step of the reference: reconstruction MSE + λ·CE(lat_dis(E(x)), 1 − y), lat_dis in
    // eval mode, gradient clipping at 5.
    let mut step = |with_dis: bool| {
        let (enc, rec) = ae.forward_t(&x, &y, true);
        let mut loss = rec.mse_loss(&x, Reduction::Mean);
        if with_dis {
            let logits = dis.forward_t(&enc[dis.input_index()], false);
            loss += logits.cross_entropy_for_logits(&flipped) * 1e-4;
        }
        opt.backward_step_clip_norm(&loss, 5.0);
        if device.is_cuda() {
            tch::Cuda::synchronize(0);
        }
    };
    for with_dis in [false, true] {
        for _ in 0..3 {
            step(with_dis);
        }
        let mut times = Vec::with_capacity(steps);
        for _ in 0..steps {
            let t0 = Instant::now();
            step(with_dis);
            times.push(t0.elapsed().as_secs_f64() * 1e3);
        }
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let best = times.iter().cloned().fold(f64::INFINITY, f64::min);
        println!(
            "fader AE step{} on {device:?}, 64 px, batch 32, 5 layers, init_fm 32, max_fm 512, \
             {} threads: {mean:.1} ms/step (mean of {steps}), best {best:.1} ms",
            if with_dis {
                " + latent-dis loss"
            } else {
                " (reconstruction only)"
            },
            tch::get_num_threads(),
        );
    }
}

fn main() {
    let steps = std::env::var("SLIDERS_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    bench(Device::Cpu, steps);
    if tch::Cuda::is_available() {
        bench(Device::Cuda(0), steps);
    }
}
