//! One Fader training iteration at the smoke size, timed by criterion
//! (docs/architecture.md#benchmarks): the latent discriminator's update then the autoencoder's
//! ([`FaderModels::update`], the functions `FaderTrainer` runs), with the networks of
//! `experiments/smoke/fader.toml` (32 px, 4 layers, init_fm 16, max_fm 128, hid_dim 128), batch
//! 32 of random images, on the CPU with one libtorch thread. No dataset needed. The comparison
//! with PyTorch eager at 64 and 256 px is `cargo xtask bench train`.
//!
//! ```sh
//! cargo bench -p sliders-bench --bench train_step -- --warm-up-time 1 --measurement-time 2
//! ```

use criterion::{Criterion, criterion_group, criterion_main};
use sliders_bench::{FaderModels, StepOptions, fader_batch};
use sliders_config::nets::FaderConfig;
use tch::Device;

/// The smoke profile's Fader networks (`experiments/smoke/fader.toml`, one attribute).
fn smoke() -> FaderConfig {
    FaderConfig {
        img_sz: 32,
        init_fm: 16,
        max_fm: 128,
        hid_dim: 128,
        n_layers: 4,
        ..FaderConfig::default()
    }
}

fn train_step(c: &mut Criterion) {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let cfg = smoke();
    let mut m = FaderModels::with_config(&cfg, Device::Cpu, StepOptions::default());
    let (x1, y1) = fader_batch(32, cfg.img_sz, Device::Cpu);
    let (x2, y2) = fader_batch(32, cfg.img_sz, Device::Cpu);
    c.bench_function("fader_step/smoke32_batch32", |b| {
        b.iter(|| m.update((&x1, &y1), (&x2, &y2)))
    });
}

criterion_group!(benches, train_step);
criterion_main!(benches);
