//! Synthetic faces: exact counterfactuals (pairs differ only inside the attribute's region),
//! determinism, and the CelebA layout read back by the same loader and sampler.

use sliders_celeba::synthetic::{
    self, FaceParams, Intensity, SynthAttr, faces, height_for, region_mask, render,
};
use sliders_celeba::{Part, prepare_dir};
use sliders_config::data::{AttributeEncoding, AttributeSpec, DataConfig, Framing};

fn diff_outside(a: &FaceParams, b: &FaceParams, attr: SynthAttr, w: u32) -> (usize, usize) {
    let h = height_for(w);
    let (ia, ib) = (render(a, w, h), render(b, w, h));
    let mask = region_mask(a, attr, w, h);
    let mask_b = region_mask(b, attr, w, h);
    let (mut outside, mut inside) = (0, 0);
    for (i, (pa, pb)) in ia.pixels().zip(ib.pixels()).enumerate() {
        if pa != pb {
            if mask[i] || mask_b[i] {
                inside += 1;
            } else {
                outside += 1;
            }
        }
    }
    (outside, inside)
}

#[test]
fn counterfactual_pairs_differ_only_in_the_region() {
    for w in [178u32, 64] {
        for f in faces(40, 11) {
            for attr in SynthAttr::ALL {
                let cf = f.flipped(attr);
                assert_ne!(cf.has(attr), f.has(attr));
                let (outside, inside) = diff_outside(&f, &cf, attr, w);
                assert_eq!(
                    outside, 0,
                    "{attr:?} at {w}px changed pixels outside its region"
                );
                assert!(inside > 0, "{attr:?} at {w}px changed nothing");
            }
        }
    }
}

#[test]
fn intensities_stay_in_their_region_and_are_monotone_in_effect() {
    let f = faces(5, 2)[0];
    for (which, attr) in [
        (Intensity::Smile, SynthAttr::Smiling),
        (Intensity::MouthOpen, SynthAttr::MouthOpen),
        (Intensity::LensDarkness, SynthAttr::Eyeglasses),
    ] {
        let a = f.with_intensity(which, 0.0);
        let b = f.with_intensity(which, 1.0);
        let (outside, inside) = diff_outside(&a, &b, attr, 178);
        assert_eq!(outside, 0, "{which:?}");
        assert!(inside > 20, "{which:?}");
    }
    // Darker lenses give a darker eye region.
    let mean = |p: &FaceParams| {
        let img = render(p, 178, 218);
        let m = region_mask(p, SynthAttr::Eyeglasses, 178, 218);
        let (s, n) = img
            .pixels()
            .zip(&m)
            .filter(|(_, m)| **m)
            .fold((0u64, 0u64), |(s, n), (p, _)| {
                (s + p.0.iter().map(|&v| u64::from(v)).sum::<u64>(), n + 3)
            });
        s as f64 / n as f64
    };
    let light = mean(&f.with_intensity(Intensity::LensDarkness, 0.2));
    let dark = mean(&f.with_intensity(Intensity::LensDarkness, 0.9));
    assert!(dark < light - 5.0, "{dark} vs {light}");
}

#[test]
fn rendering_is_deterministic() {
    let f = faces(3, 9)[2];
    assert_eq!(render(&f, 89, 109), render(&f, 89, 109));
}

#[test]
fn generated_layout_loads_and_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("synth");
    let params = synthetic::generate(&dir, 120, 64, 5).unwrap();
    assert_eq!(params.len(), 120);
    assert!(dir.join("img_align_celeba/000120.png").is_file());
    // `ensure` keeps a matching dataset.
    let before = std::fs::metadata(dir.join("list_attr_celeba.txt"))
        .unwrap()
        .modified()
        .unwrap();
    synthetic::ensure(&dir, 120, 64, 5).unwrap();
    let after = std::fs::metadata(dir.join("list_attr_celeba.txt"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);

    let cfg = DataConfig {
        cache_dir: tmp.path().join("cache"),
        image_size: 32,
        framing: Framing::Fader,
        attributes: AttributeSpec::Names(vec!["Smiling".into(), "Eyeglasses".into()]),
        ..DataConfig::default()
    };
    let data = prepare_dir(&dir, &cfg, &mut |_| {}).unwrap();
    assert_eq!(data.cache.len(), 120);
    assert_eq!(data.split.kind, "official");
    let [tr, va, te] = data.split.counts();
    assert!(tr > 80 && va > 0 && te > 0, "{tr} {va} {te}");
    // Labels agree with the generator's parameters.
    let eye = data
        .selection
        .names()
        .iter()
        .position(|n| n == "Eyeglasses")
        .unwrap();
    for (i, r) in data.records.iter().enumerate() {
        assert_eq!(r.name, synthetic::image_name(i));
        assert_eq!(
            data.selection.present(r.bits, eye),
            params[i].has(SynthAttr::Eyeglasses)
        );
    }
    let mut sampler = data.train_sampler(&cfg.sampler);
    let b = sampler.next_batch();
    assert_eq!(b.images.shape(), [32, 3, 32, 32]);
    assert_eq!(b.attributes.len(), 32 * 4);
    assert!(b.images.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Flips mirror each row; attributes are unchanged.
    let src = data.batch_source(Part::Train);
    let (plain, flipped) = (src.batch(&[0], &[false]), src.batch(&[0], &[true]));
    assert_eq!(plain.attributes, flipped.attributes);
    for row in 0..3 * 32 {
        let a = &plain.images.as_slice().unwrap()[row * 32..(row + 1) * 32];
        let b: Vec<f32> = flipped.images.as_slice().unwrap()[row * 32..(row + 1) * 32]
            .iter()
            .rev()
            .copied()
            .collect();
        assert_eq!(a, &b[..]);
    }
    // The prefetch thread hands out batches and stops cleanly when dropped.
    let pre = data.train_sampler(&cfg.sampler).prefetch(3);
    let got: Vec<_> = (0..5).map(|_| pre.next_batch()).collect();
    assert!(got.iter().all(|b| b.images.shape() == [32, 3, 32, 32]));
    drop(pre);
    // Same seed, same batches.
    let a = data.train_sampler(&cfg.sampler).next_batch();
    let b = data.train_sampler(&cfg.sampler).next_batch();
    assert_eq!(a, b);
    // Shuffled epochs visit every training image once per epoch.
    let epochs = sliders_config::data::SamplerConfig {
        order: sliders_config::data::SampleOrder::ShuffledEpochs,
        batch_size: tr,
        ..cfg.sampler.clone()
    };
    let mut seen = data.train_sampler(&epochs).next_batch().indices;
    seen.sort();
    assert_eq!(seen, data.split.indices(Part::Train));
    let n: usize = data.eval_batches(Part::Test, 7).map(|b| b.len()).sum();
    assert_eq!(n, te);
    let pm = DataConfig {
        encoding: AttributeEncoding::PlusMinus,
        ..cfg.clone()
    };
    let data = prepare_dir(&dir, &pm, &mut |_| {}).unwrap();
    assert_eq!(data.attr_width(), 2);
}

#[test]
fn smiling_and_mouth_open_are_correlated() {
    let f = faces(4000, 1);
    let rate =
        |p: &dyn Fn(&FaceParams) -> bool| f.iter().filter(|x| p(x)).count() as f64 / f.len() as f64;
    let smile = rate(&|x| x.has(SynthAttr::Smiling));
    let open = rate(&|x| x.has(SynthAttr::MouthOpen));
    let both = rate(&|x| x.has(SynthAttr::Smiling) && x.has(SynthAttr::MouthOpen));
    assert!((smile - 0.48).abs() < 0.03, "{smile}");
    assert!(both > smile * open + 0.1, "{both} vs {}", smile * open);
}

#[test]
fn prepare_falls_back_to_synthetic_faces() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = DataConfig {
        celeba_dir: tmp.path().join("no-celeba-here"),
        cache_dir: tmp.path().join("cache"),
        image_size: 16,
        attributes: AttributeSpec::Names(vec!["Smiling".into()]),
        synthetic: sliders_config::data::SyntheticConfig {
            dir: tmp.path().join("synthetic"),
            n_images: 40,
            width: 48,
            seed: 3,
        },
        ..DataConfig::default()
    };
    let data = sliders_celeba::prepare(&cfg, &mut |_| {}).unwrap();
    assert_eq!(
        data.source,
        sliders_celeba::DataSource::Synthetic(tmp.path().join("synthetic"))
    );
    assert_eq!(data.cache.len(), 40);
}

/// Mean squared difference (on the [−1, 1] scale the networks see) between each face and its
/// counterfactual for `attr`, rendered at the smoke profile's source width (64) and framed and
/// resized to `size` exactly as the cache does.
fn counterfactual_mse(attr: SynthAttr, size: u32) -> f64 {
    use sliders_celeba::cache::{CacheParams, preprocess_image};
    let params = CacheParams {
        framing: Framing::Fader,
        size,
    };
    let (w, h) = (64, height_for(64));
    let fs = faces(300, 5);
    let mut total = 0.0;
    let mut count = 0usize;
    for f in &fs {
        let a = preprocess_image(&render(f, w, h), params);
        let b = preprocess_image(&render(&f.flipped(attr), w, h), params);
        for (x, y) in a.iter().zip(&b) {
            let d = (f64::from(*x) - f64::from(*y)) / 127.5;
            total += d * d;
        }
        count += a.len();
    }
    total / count as f64
}

/// Issue #19: at the smoke size (32 px) every attribute's edit must change the image clearly more
/// than a smoke autoencoder loses anyway (the smoke Faders' reconstruction MSE, reported beside
/// it), or neither the Fader nor the judge can learn it; smile and open mouth used to change it
/// by 0.0004 and 0.0010, a tenth of what glasses change (now about 0.009 each against 0.012).
#[test]
fn every_attribute_changes_the_32px_image_as_much_as_glasses_do() {
    let mse: Vec<(SynthAttr, f64)> = SynthAttr::ALL
        .iter()
        .map(|&a| (a, counterfactual_mse(a, 32)))
        .collect();
    eprintln!("counterfactual MSE at 32 px: {mse:?}");
    let glasses = mse[0].1;
    for (attr, m) in &mse {
        assert!(
            *m >= 0.008,
            "{attr:?}: counterfactual MSE {m:.4} at 32 px is below 0.008 ({mse:?})"
        );
        assert!(
            *m >= 0.7 * glasses,
            "{attr:?}: counterfactual MSE {m:.4} is far below glasses' {glasses:.4}"
        );
    }
}
