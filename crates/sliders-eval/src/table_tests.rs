//! Tests of the Fader-vs-IcGAN table's assembly: slider values, IcGAN codes, reconstruction
//! cells and balanced selections.

use super::*;
use tch::Kind;

/// Eight images; Smiling (bit 0) on the odd ones, Male (bit 1) on the first four.
fn test_set() -> TestSet {
    let bits = (0..8u64)
        .map(|i| (i % 2) | (u64::from(i < 4) << 1))
        .collect();
    let images = Tensor::zeros([8, 3, 4, 4], (Kind::Float, tch::Device::Cpu));
    TestSet::from_parts(images, bits, &["Smiling", "Male"])
}

#[test]
fn fader_values_slide_one_attribute_and_keep_the_others_at_their_labels() {
    let t = test_set();
    let positions = [0, 1, 4, 5];
    let attrs = ["Smiling".to_string(), "Male".to_string()];
    // The Swap row's values: Smiling flipped, Male at its label.
    let flip = |has: bool| Some(if has { 0.0 } else { 1.0 });
    let got = slider_values(&attrs, &t, &positions, "Smiling", flip).unwrap();
    // The AE row's: every attribute at its label.
    let ae = slider_values(&attrs, &t, &positions, "Smiling", |_| None).unwrap();
    assert_eq!(ae[1], vec![1.0, 1.0]);
    assert_eq!(
        got,
        vec![
            vec![1.0, 1.0],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![0.0, 0.0]
        ]
    );
    assert_eq!(
        t.labels(&positions, "Smiling").unwrap(),
        [false, true, false, true]
    );
    assert!(
        t.column("Bald")
            .unwrap_err()
            .to_string()
            .contains("known: Smiling, Male")
    );
}

#[test]
fn the_icgan_code_thresholds_ey_and_sets_only_the_edited_column() {
    let y_raw = Tensor::from_slice(&[0.3f32, -2.0, -0.1, 4.0]).view([2, 2]);
    let swapped = icgan_code(&y_raw, 0, Some(&[false, true]));
    assert_eq!(
        Vec::<f32>::try_from(swapped.view([-1])).unwrap(),
        [-1.0, -1.0, 1.0, 1.0]
    );
    let kept = icgan_code(&y_raw, 0, None);
    assert_eq!(
        Vec::<f32>::try_from(kept.view([-1])).unwrap(),
        [1.0, -1.0, -1.0, 1.0]
    );
}

#[test]
fn reconstruction_cells_carry_the_row_attribute_and_image_count() {
    let x = Tensor::zeros([3, 3, 4, 4], (Kind::Float, tch::Device::Cpu));
    let rec = x.ones_like() * 0.5;
    let [m, p] = reconstruction("FadNet AE", "Smiling", &rec, &x);
    assert_eq!(m.key(), "fader_vs_icgan/FadNet AE/Smiling/mse");
    assert_eq!((m.value, m.n), (Some(0.25), 3));
    // MSE 0.25 on [−1, 1] is 0.0625 on [0, 1]: 10·log10(16) dB.
    assert!(
        (p.value.unwrap() - 10.0 * 16f64.log10()).abs() < 1e-9,
        "{p:?}"
    );
}

#[test]
fn balanced_selections_alternate_and_are_limited_by_the_smaller_class() {
    let t = test_set();
    let pool: Vec<usize> = (0..8).collect();
    let sel = t.balanced(&pool, "Smiling", 10, 7).unwrap();
    let labels = t.labels(&sel, "Smiling").unwrap();
    assert_eq!(labels, [false, true, false, true, false, true, false, true]);
    assert_eq!(t.balanced(&pool, "Smiling", 10, 7).unwrap(), sel, "seeded");
    let err = t
        .balanced(&[1, 3], "Smiling", 10, 7)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no balanced test set for `Smiling`"), "{err}");
}
