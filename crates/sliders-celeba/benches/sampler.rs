//! One training batch from the sampler, timed by criterion (docs/architecture.md#benchmarks):
//! [`BatchSampler::next_batch`] (batch 32, one thread, no prefetch) over 24 MiB of in-memory
//! images (2,048 at 64 px, 128 at 256 px) with one-hot labels of one attribute, in both index orders (i.i.d. with
//! replacement, the Fader reference's; shuffled epochs), with the Fader reference's per-batch
//! flip. No dataset needed; `cargo xtask bench data` measures the sampler on the CelebA cache.
//!
//! ```sh
//! cargo bench -p sliders-celeba --bench sampler -- --warm-up-time 1 --measurement-time 2
//! ```

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sliders_celeba::{BatchSampler, BatchSource};
use sliders_config::data::{SampleOrder, SamplerConfig};
use std::sync::Arc;

/// Pixel bytes of the source (24 MiB: the batch's cost, not the page cache's, is measured).
const BYTES: usize = 24 << 20;

/// Pseudo-random `[3, size, size]` images in memory, labels alternating one-hot.
fn source(size: usize) -> Arc<BatchSource> {
    let images = BYTES / (3 * size * size);
    let pixels: Vec<u8> = (0..images * 3 * size * size)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let labels: Vec<f32> = (0..images)
        .flat_map(|i| [(i % 2) as f32, 1.0 - (i % 2) as f32])
        .collect();
    Arc::new(BatchSource::from_memory(
        Arc::new(pixels),
        3,
        size,
        (0..images).collect(),
        labels,
        2,
    ))
}

fn sampler(c: &mut Criterion) {
    let mut group = c.benchmark_group("sampler");
    for size in [64, 256] {
        let source = source(size);
        for (name, order) in [
            ("with_replacement", SampleOrder::WithReplacement),
            ("shuffled_epochs", SampleOrder::ShuffledEpochs),
        ] {
            let cfg = SamplerConfig {
                order,
                ..SamplerConfig::default()
            };
            let mut sampler = BatchSampler::new(source.clone(), &cfg);
            group.bench_function(BenchmarkId::new(name, size), |b| {
                b.iter(|| sampler.next_batch())
            });
        }
    }
    group.finish();
}

criterion_group!(benches, sampler);
criterion_main!(benches);
