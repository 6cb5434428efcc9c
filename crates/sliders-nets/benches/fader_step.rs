//! Forward + backward + Adam step time of the Fader autoencoder at 64 px, batch 32, with the
//! calibration configuration of docs/architecture.md#calibration-run (5 layers, init_fm 32,
//! max_fm 512, one attribute), on the CPU (and on CUDA too when available). Plain timing (no
//! criterion): 3 warm-up steps,
//! then the mean and the best of `SLIDERS_BENCH_STEPS` (default 20) steps. When the build found
//! the provisioned Python (`SLIDERS_TORCH_PYTHON`), the same step in PyTorch eager
//! (`benches/fader_step.py`) runs right after as the baseline, and the ratio is printed
//! (`SLIDERS_BENCH_BASELINE=0` skips it).
//!
//! Run: `cargo bench -p sliders-nets --bench fader_step`, or without a release build of
//! libtorch's bindings, `cargo test -p sliders-nets --bench fader_step` (dependencies are
//! optimised in the dev profile too; the time is spent in libtorch).

use std::time::Instant;

use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, LatentDiscriminator};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

/// Mean ms/step of the two variants (reconstruction only, with the latent-dis term).
fn bench(device: Device, steps: usize) -> [f64; 2] {
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
    let mut means = [0.0; 2];
    for (slot, with_dis) in [false, true].into_iter().enumerate() {
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
        means[slot] = mean;
    }
    means
}

/// Runs the PyTorch eager baseline and returns its two mean ms/step figures.
fn baseline(steps: usize) -> Option<[f64; 2]> {
    let python = env!("SLIDERS_TORCH_PYTHON");
    if python.is_empty() || std::env::var("SLIDERS_BENCH_BASELINE").as_deref() == Ok("0") {
        println!("PyTorch baseline skipped (no provisioned Python, or SLIDERS_BENCH_BASELINE=0)");
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/fader_step.py");
    let out = std::process::Command::new(python)
        .args(["-W", "ignore", script, &steps.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    let means: Vec<f64> = text
        .lines()
        .filter_map(|l| l.split(": ").nth(1)?.split(" ms/step").next()?.parse().ok())
        .collect();
    (means.len() == 2).then(|| [means[0], means[1]])
}

fn main() {
    let steps = std::env::var("SLIDERS_BENCH_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let rust = bench(Device::Cpu, steps);
    if let Some(py) = baseline(steps) {
        println!(
            "ratio sliders-nets / PyTorch eager (CPU, same run): {:.2} (reconstruction only), \
             {:.2} (with latent-dis loss)",
            rust[0] / py[0],
            rust[1] / py[1]
        );
    }
    if tch::Cuda::is_available() {
        bench(Device::Cuda(0), steps);
    }
}
