//! Fader decoder latency, timed by criterion (docs/architecture.md#benchmarks): one
//! [`FaderAutoEncoder::decode`] in eval mode without gradient, at 64 px with the calibration
//! networks (`FaderConfig::small(64)`: 5 layers, init_fm 32, max_fm 512, one attribute), batch 1
//! (an edit) and 32 (an evaluation batch), on the CPU with one libtorch thread; the latent code
//! is the encoder's output for random images. No dataset or trained model needed.
//!
//! ```sh
//! cargo bench -p sliders-nets --bench decoder -- --warm-up-time 1 --measurement-time 2
//! ```

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use tch::{Device, Kind, Tensor, nn};

fn decoder(c: &mut Criterion) {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let cfg = FaderConfig::small(64);
    let vs = nn::VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).expect("valid config");
    let mut group = c.benchmark_group("fader_decoder_64px");
    for batch in [1i64, 32] {
        let x = Tensor::rand([batch, 3, 64, 64], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let y = Tensor::randint(2, [batch], (Kind::Int64, Device::Cpu))
            .one_hot(2)
            .to_kind(Kind::Float);
        let enc = tch::no_grad(|| ae.encode(&x, false));
        group.bench_with_input(BenchmarkId::new("batch", batch), &batch, |b, _| {
            b.iter(|| tch::no_grad(|| ae.decode(&enc, &y, false)))
        });
    }
    group.finish();
}

criterion_group!(benches, decoder);
criterion_main!(benches);
