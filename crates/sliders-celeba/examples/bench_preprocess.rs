//! Benchmark for `cargo xtask bench data`: preprocesses a CelebA folder into a fresh cache
//! (Fader framing) and prints images/s and peak RSS (VmHWM), then measures the training sampler
//! (batch 32, one thread, no prefetch) at each sampler size.
//!
//! `cargo run -p sliders-celeba --release --example bench_preprocess -- CELEBA_DIR
//!  [--size 64] [--threads 2] [--sampler-sizes 64,256] [--sampler-secs 3]`

use sliders_celeba::cache::{self, BuildOptions, CacheParams};
use sliders_celeba::{AttributeSelection, BatchSampler, BatchSource, CelebaIndex};
use sliders_config::data::{AttributeEncoding, BadImagePolicy, Framing, SamplerConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU seconds (user + system, all threads) of this process, from /proc/self/stat (USER_HZ 100).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<f64> = after
        .split_whitespace()
        .filter_map(|t| t.parse().ok())
        .collect();
    // After the command name: state is field 3; utime and stime are fields 14 and 15.
    f.get(10)
        .zip(f.get(11))
        .map_or(f64::NAN, |(u, s)| (u + s) / 100.0)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.windows(2)
        .find(|w| w[0] == name)
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .expect("usage: bench_preprocess CELEBA_DIR [...]"),
    );
    let size: u32 = arg(&args, "--size", 64);
    let threads: usize = arg(&args, "--threads", 2);
    let sampler_sizes: String = arg(&args, "--sampler-sizes", "64,256".to_string());
    let sampler_secs: f64 = arg(&args, "--sampler-secs", 3.0);
    let work = std::env::temp_dir().join(format!("sliders-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);

    let index = CelebaIndex::open(&dir).expect("reading the CelebA folder");
    let n = index.records.len();
    let opts = BuildOptions {
        on_bad_image: BadImagePolicy::Stop,
        threads,
    };
    let params = CacheParams {
        framing: Framing::Fader,
        size,
    };
    let cpu0 = cpu_secs();
    let start = Instant::now();
    let built = cache::build_or_open(&index, &work, params, opts, &mut |_| {}).expect("building");
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    assert_eq!(built.len(), n);
    println!(
        "ours: images={n} size={size} threads={threads} secs={secs:.3} images_per_s={:.1} cpu_ms_per_image={:.3} peak_rss_mb={:.1}",
        n as f64 / secs,
        cpu * 1000.0 / n as f64,
        peak_rss_mb()
    );
    drop(built);

    let selection = AttributeSelection::resolve(
        &sliders_config::data::AttributeSpec::default(),
        &index.attr_names,
        &index.attr_path,
    )
    .expect("attributes");
    for s in sampler_sizes
        .split(',')
        .filter_map(|s| s.parse::<u32>().ok())
    {
        let params = CacheParams {
            framing: Framing::Fader,
            size: s,
        };
        let c = Arc::new(
            cache::build_or_open(&index, &work, params, opts, &mut |_| {}).expect("building"),
        );
        let source = Arc::new(BatchSource::new(
            c.clone(),
            &index.records,
            (0..c.len()).collect(),
            &selection,
            AttributeEncoding::OneHot,
        ));
        let mut sampler = BatchSampler::new(source, &SamplerConfig::default());
        // Warm the page cache once so the figure is the sampler's, not the disk's.
        let _ = c
            .all_images()
            .iter()
            .step_by(4096)
            .map(|&v| u64::from(v))
            .sum::<u64>();
        let start = Instant::now();
        let mut batches = 0u64;
        let mut check = 0f32;
        while start.elapsed().as_secs_f64() < sampler_secs {
            let b = sampler.next_batch();
            check += b.images[[0, 0, 0, 0]];
            batches += 1;
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "sampler: size={s} batch=32 batches_per_s={:.1} images_per_s={:.1} (check {check:.1})",
            batches as f64 / secs,
            batches as f64 * 32.0 / secs
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}
