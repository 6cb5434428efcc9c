//! Preprocessing of one image, timed by criterion (docs/architecture.md#benchmarks): a synthetic
//! face at CelebA's 178×218 (so no dataset is needed), Fader framing, brought to 64 and 256 px
//! by [`preprocess_image`] (crop and resize, as the cache does), and the same after decoding the
//! face's JPEG bytes ([`decode_rgb`]). The end-to-end comparison with Pillow on real CelebA files
//! is `cargo xtask bench data`.
//!
//! ```sh
//! cargo bench -p sliders-celeba --bench preprocess -- --warm-up-time 1 --measurement-time 2
//! ```

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use sliders_celeba::CacheParams;
use sliders_celeba::cache::{decode_rgb, preprocess_image};
use sliders_celeba::synthetic::{FaceParams, render};
use sliders_config::data::Framing;
use std::hint::black_box;
use std::path::Path;

/// Output sides: the quick profile's and the paper's.
const SIZES: [u32; 2] = [64, 256];

/// A synthetic face at 178×218 and its JPEG bytes.
fn face() -> (image::RgbImage, Vec<u8>) {
    let rgb = render(&FaceParams::sample(0, 1, 1), 178, 218);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(&rgb)
        .expect("encoding a JPEG in memory");
    (rgb, jpeg)
}

fn preprocess(c: &mut Criterion) {
    let (rgb, jpeg) = face();
    let mut group = c.benchmark_group("preprocess");
    for size in SIZES {
        let params = CacheParams {
            framing: Framing::Fader,
            size,
        };
        group.bench_with_input(BenchmarkId::new("crop_resize", size), &params, |b, &p| {
            b.iter(|| preprocess_image(black_box(&rgb), p))
        });
        group.bench_with_input(
            BenchmarkId::new("decode_crop_resize", size),
            &params,
            |b, &p| {
                b.iter(|| {
                    let decoded =
                        decode_rgb(black_box(&jpeg), Path::new("face.jpg")).expect("a JPEG");
                    preprocess_image(&decoded, p)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, preprocess);
criterion_main!(benches);
