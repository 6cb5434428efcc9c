//! Real-data tests on the CelebA sample in `../shared/celeba` (8,000 images at 89x109, full
//! annotation files). Ignored by default (the sample is not redistributable, so not in the
//! repository); run with `cargo test -p sliders-celeba --test real_sample -- --ignored`.

use sliders_celeba::{CelebaIndex, Part, prepare_dir};
use sliders_config::data::{DataConfig, Framing};
use std::collections::HashMap;
use std::path::PathBuf;

fn sample_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/celeba");
    assert!(
        CelebaIndex::has_images(&dir),
        "the CelebA sample is not at {}",
        dir.display()
    );
    dir
}

#[test]
#[ignore = "needs the CelebA sample in ../shared/celeba (research-only, not in the repository)"]
fn sample_rates_match_the_readme() {
    let dir = sample_dir();
    let index = CelebaIndex::open(&dir).unwrap();
    assert_eq!(index.records.len(), 8000);
    assert_eq!(index.n_annotated, 202_599);
    assert!(index.records.iter().all(|r| r.part == Some(Part::Train)));
    let rate = |name: &str| {
        let c = index.attr_names.iter().position(|n| n == name).unwrap();
        index
            .records
            .iter()
            .filter(|r| r.bits >> c & 1 == 1)
            .count() as f64
            / 8000.0
    };
    for (name, want) in [
        ("Male", 0.42),
        ("Smiling", 0.48),
        ("Mouth_Slightly_Open", 0.48),
        ("Young", 0.78),
        ("Eyeglasses", 0.07),
    ] {
        let got = rate(name);
        assert!((got - want).abs() <= 0.01, "{name}: {got} vs {want}");
    }
}

/// Decodes all 8,000 images once (32 px), then checks the split, the cache reuse and batches.
#[test]
#[ignore = "needs the CelebA sample in ../shared/celeba (research-only, not in the repository)"]
fn sample_cache_split_and_batches() {
    let dir = sample_dir();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = DataConfig {
        celeba_dir: dir.clone(),
        cache_dir: tmp.path().to_path_buf(),
        image_size: 32,
        framing: Framing::Fader,
        ..DataConfig::default()
    };
    let mut calls = 0;
    let data = prepare_dir(&dir, &cfg, &mut |p| {
        calls += 1;
        assert!(p.done <= p.total);
    })
    .unwrap();
    assert!(calls > 0);
    assert_eq!(data.cache.len(), 8000);
    assert_eq!(data.cache.names()[0], "000001.jpg");
    // The official partition cannot be used (all train): random split by identity.
    assert!(
        data.split.kind.starts_with("random-by-identity"),
        "{}",
        data.split.kind
    );
    let counts = data.split.counts();
    assert_eq!(counts.iter().sum::<usize>(), 8000);
    for (c, f) in counts.iter().zip([0.8, 0.1, 0.1]) {
        assert!((*c as f64 / 8000.0 - f).abs() < 0.01, "{counts:?}");
    }
    let mut owner: HashMap<u32, Part> = HashMap::new();
    for (r, p) in data.records.iter().zip(&data.split.parts) {
        let id = r.identity.expect("every sample image has an identity");
        assert_eq!(
            *owner.entry(id).or_insert(*p),
            *p,
            "identity {id} in two parts"
        );
    }
    assert!(data.split_path.is_file());
    // Images are not blank and look like faces in the middle (not the background colour).
    let img = data.cache.image(0);
    let mean = img.iter().map(|&v| f64::from(v)).sum::<f64>() / img.len() as f64;
    assert!(mean > 30.0 && mean < 230.0, "{mean}");

    // A second prepare reuses the cache and the split file (no progress calls).
    let mut calls2 = 0;
    let again = prepare_dir(&dir, &cfg, &mut |_| calls2 += 1).unwrap();
    assert_eq!(calls2, 0);
    assert_eq!(again.split, data.split);

    let b = data.train_sampler(&cfg.sampler).prefetch(2).next_batch();
    assert_eq!(b.images.shape(), [32, 3, 32, 32]);
    assert_eq!(b.attributes.len(), 32 * 4); // Male, Smiling one-hot
    let valid: usize = data.eval_batches(Part::Valid, 32).map(|b| b.len()).sum();
    assert_eq!(valid, counts[1]);
}
