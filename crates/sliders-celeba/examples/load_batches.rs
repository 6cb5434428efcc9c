//! Loading CelebA batches with this crate alone: prepare the data (cache + split), then draw
//! training batches on a background thread and walk the validation part in order.
//!
//! `cargo run -p sliders-celeba --release --example load_batches -- [CELEBA_DIR] [SIZE]`
//! (default: the project's `../shared/celeba` sample at 64 px; synthetic faces if absent).

use sliders_celeba::{Part, prepare};
use sliders_config::data::{AttributeSpec, DataConfig};
use std::path::PathBuf;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cfg = DataConfig {
        celeba_dir: args
            .get(1)
            .map_or_else(|| root.join("../shared/celeba"), PathBuf::from),
        cache_dir: root.join("data/cache"),
        image_size: args.get(2).and_then(|s| s.parse().ok()).unwrap_or(64),
        attributes: AttributeSpec::Names(vec!["Smiling".into(), "Male".into()]),
        synthetic: sliders_config::data::SyntheticConfig {
            dir: root.join("data/synthetic"),
            ..Default::default()
        },
        ..DataConfig::default()
    };
    let data = prepare(&cfg, &mut |p| {
        if p.done == p.total || p.done % 2048 < 256 {
            eprintln!(
                "preprocessing {}/{} ({} skipped)",
                p.done, p.total, p.skipped
            );
        }
    })
    .expect("preparing the data");
    let [tr, va, te] = data.split.counts();
    println!(
        "{:?}: {} images of 3x{s}x{s} in {}; split {} (train {tr}, valid {va}, test {te}) in {}",
        data.source,
        data.cache.len(),
        data.cache.path().display(),
        data.split.kind,
        data.split_path.display(),
        s = data.cache.size(),
    );
    println!(
        "attributes (one-hot, 2 columns each): {:?}",
        data.selection.names()
    );

    let train = data
        .train_sampler(&cfg.sampler)
        .prefetch(cfg.sampler.prefetch);
    for step in 0..3 {
        let b = train.next_batch();
        let mean = b.images.mean().unwrap_or(0.0);
        println!(
            "train batch {step}: images {:?} (mean {mean:.3}), attributes [{}, {}], first y = {:?}",
            b.images.shape(),
            b.len(),
            b.attr_width(),
            b.attributes.row(0).to_vec()
        );
    }
    let (mut n, mut batches) = (0, 0);
    for b in data.eval_batches(Part::Valid, 32) {
        n += b.len();
        batches += 1;
    }
    println!("valid: {n} images in {batches} batches (last one partial)");
}
