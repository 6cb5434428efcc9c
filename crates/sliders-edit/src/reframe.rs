//! Edit quality on re-framed faces (docs/face-alignment.md#edit-quality-on-re-framed-faces): a
//! Fader model's swap accuracy, judged by the evaluation classifier, on CelebA test images in
//! their original framing (the papers' crop, as in training) and on the same images re-framed by
//! a random similarity (rotation ±30°, scale 0.5–2, a shift, padded into a larger canvas of other
//! content) and brought back by `--crop auto`'s detect-and-align path ([`FaceFinder`]). The
//! `reframe_swap` example of this crate runs it on trained run folders.

use crate::error::{EditError, Result};
use crate::faces::FaceFinder;
use crate::photo::{Crop, Photo, to_tensor};
use crate::{Edit, Editor};
use image::{Rgb, RgbImage};
use rand::Rng;
use sliders_align::Similarity;
use sliders_metrics::stats::{Proportion, paired_difference, proportion};
use tch::Tensor;

/// A test image with the true values of the model's attributes.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The aligned CelebA image file.
    pub path: std::path::PathBuf,
    /// One value per attribute of the model, in its order.
    pub labels: Vec<bool>,
}

/// One image's outcome for one attribute: did the classifier see the flipped value?
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// The attribute (index into the model's).
    pub attribute: usize,
    /// The swap in the original framing succeeded.
    pub original: bool,
    /// The swap on the re-framed photo succeeded (false when no face was found there).
    pub reframed: bool,
    /// No face large enough was found in the re-framed photo.
    pub missed: bool,
    /// The attribute's true value (the swap sets the other one).
    pub label: bool,
    /// The judge reads the true value on the unedited original frame.
    pub read_original: bool,
    /// The judge reads the true value on the unedited re-framed frame (false when missed).
    pub read_reframed: bool,
    /// The swap succeeded on the re-framed photo brought back by the placement's exact inverse
    /// (no detection): what resampling alone costs, alignment error left out.
    pub exact: bool,
    /// The judge reads the true value on that exactly inverted frame, unedited.
    pub read_exact: bool,
}

/// The random similarity of a trial: rotation `U(−30°, 30°)`, scale `2^U(−1, 1)` (0.5–2), and
/// the `w`×`h` canvas it places a 178×218 face into: 1.2–2× the face's bounding box, the face at
/// a random position inside.
pub fn random_placement(rng: &mut impl Rng) -> (Similarity, u32, u32) {
    let angle = rng.gen_range(-30f64..30.0).to_radians();
    let scale = 2f64.powf(rng.gen_range(-1.0..1.0));
    let t = Similarity::new(scale, angle, 0.0, 0.0);
    let (lo, hi) = t.bounds(178.0, 218.0);
    let (bw, bh) = (hi[0] - lo[0], hi[1] - lo[1]);
    let pad = rng.gen_range(1.2..2.0);
    let (w, h) = ((bw * pad).ceil(), (bh * pad).ceil());
    let tx = rng.gen_range(0.0..=(w - bw)) - lo[0];
    let ty = rng.gen_range(0.0..=(h - bh)) - lo[1];
    (Similarity { tx, ty, ..t }, w as u32, h as u32)
}

/// `face` (any size) placed by `t` on a `w`×`h` canvas of smooth colour noise (other content:
/// blobs of colour at a few scales, seeded by `rng`).
pub fn place(face: &RgbImage, t: &Similarity, w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let waves: Vec<[f64; 5]> = (0..6)
        .map(|_| {
            [
                rng.gen_range(0.005..0.05),
                rng.gen_range(0.005..0.05),
                rng.gen_range(0.0..6.3),
                rng.gen_range(0.0..3.0),
                rng.gen_range(20.0..60.0),
            ]
        })
        .collect();
    let back = t.inverse();
    let (fw, fh) = (f64::from(face.width()), f64::from(face.height()));
    RgbImage::from_fn(w, h, |x, y| {
        let (xf, yf) = (f64::from(x) + 0.5, f64::from(y) + 0.5);
        let [u, v] = back.apply([xf, yf]);
        if (0.0..fw).contains(&u) && (0.0..fh).contains(&v) {
            return Rgb(sample_cubic(face, u, v).map(|c| c.round().clamp(0.0, 255.0) as u8));
        }
        let mut c = [120.0f64; 3];
        for (k, wv) in waves.iter().enumerate() {
            let s = (wv[0] * xf + wv[1] * yf + wv[2]).sin() * wv[4];
            c[k % 3] += s;
            c[(k + wv[3] as usize) % 3] -= s / 2.0;
        }
        Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
    })
}

/// The colour at continuous position `(x, y)` of `image` by Catmull-Rom bicubic interpolation
/// between pixel centres (border pixels repeated). The re-framed photo is drawn with it: an
/// enlarged face drawn bilinearly is visibly softer than a photo taken at that size, and the
/// Fader read the softer face's attribute less (Smiling: +6.0 points more "successful" swaps
/// re-framed than in the original framing with bilinear placement, docs/face-alignment.md).
fn sample_cubic(image: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (i64::from(image.width()), i64::from(image.height()));
    let (px, py) = (x - 0.5, y - 0.5);
    let (x0, y0) = (px.floor(), py.floor());
    let weights = |t: f64| {
        let k = |d: f64| {
            let d = d.abs();
            if d < 1.0 {
                1.5 * d * d * d - 2.5 * d * d + 1.0
            } else if d < 2.0 {
                -0.5 * d * d * d + 2.5 * d * d - 4.0 * d + 2.0
            } else {
                0.0
            }
        };
        [k(t + 1.0), k(t), k(1.0 - t), k(2.0 - t)]
    };
    let (wx, wy) = (weights(px - x0), weights(py - y0));
    let mut acc = [0.0; 3];
    for (j, wyj) in wy.iter().enumerate() {
        let yy = (y0 as i64 - 1 + j as i64).clamp(0, h - 1) as u32;
        for (i, wxi) in wx.iter().enumerate() {
            let xx = (x0 as i64 - 1 + i as i64).clamp(0, w - 1) as u32;
            let p = image.get_pixel(xx, yy).0;
            for (a, c) in acc.iter_mut().zip(p) {
                *a += wxi * wyj * f64::from(c);
            }
        }
    }
    acc
}

/// `photo` (an aligned CelebA image at any resolution) re-framed by a [`random_placement`], whose
/// scale is relative to full-size CelebA (178×218): the photo's pixels are sampled once, straight
/// into the canvas. (Resizing the half-resolution sample to 178×218 first and then placing it
/// resampled every face twice before the aligner's own warp; the extra blur read as a weaker
/// attribute to the judge, which counted it as a successful swap.) Returns the canvas and the
/// similarity from the photo's pixels to the canvas's.
pub fn reframe(photo: &RgbImage, rng: &mut impl Rng) -> (RgbImage, Similarity) {
    let (t, w, h) = random_placement(rng);
    let to_full = 178.0 / f64::from(photo.width().max(1));
    let t = t.after(&Similarity::new(to_full, 0.0, 0.0, 0.0));
    (place(photo, &t, w, h, rng), t)
}

/// The swap outcomes of one image: in its original framing and re-framed (`rng` draws the
/// transform), for every attribute of `editor`'s model. `judge` gives the classifier's logits
/// `[N, 2k]` for edited faces `[N, 3, S, S]` in [−1, 1]; `offsets[a]` is the column of
/// attribute `a`'s first logit.
pub fn trial(
    editor: &Editor,
    finder: &FaceFinder,
    judge: &dyn Fn(&Tensor) -> Tensor,
    offsets: &[i64],
    image: &Labelled,
    rng: &mut impl Rng,
) -> Result<Vec<Outcome>> {
    let info = editor.info();
    let (size, framing) = (info.image_size, info.framing);
    let photo = crate::photo::decode(&image.path)?;
    let original = Photo::from_image(&image.path, photo.clone(), size, framing, Crop::Celeba)?;
    let (canvas, placed) = reframe(&photo, rng);
    let exact = crate::photo::planar(&exact_frame(&canvas, &placed, photo.width(), framing, size));
    let reframed = match finder.frame_at_most(&image.path, canvas, size, framing, Crop::Auto, 1) {
        Ok(mut faces) => Some(faces.swap_remove(0)),
        Err(EditError::NoFace { .. } | EditError::TooSmall { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut faces: Vec<&[u8]> = vec![&original.face];
    if let Some(r) = &reframed {
        faces.push(&r.face);
    }
    faces.push(&exact);
    let last = faces.len() as i64 - 1;
    let x = to_tensor(&faces, size);
    let unedited = tch::no_grad(|| judge(&x));
    let mut out = Vec::new();
    for (a, &label) in image.labels.iter().enumerate() {
        let reads = |i: i64| {
            unedited.double_value(&[i, offsets[a] + 1]) > unedited.double_value(&[i, offsets[a]])
        };
        // The attribute flipped, the others at their true values (the papers' swap).
        let values: Vec<(usize, f64)> = image
            .labels
            .iter()
            .enumerate()
            .map(|(i, &l)| (i, f64::from(u8::from(if i == a { !l } else { l }))))
            .collect();
        let edits = vec![Edit(values); faces.len()];
        let y = editor.edit_batch(&x, &edits)?;
        let logits = tch::no_grad(|| judge(&y.to_device(tch::Device::Cpu)));
        let seen = |i: i64| {
            logits.double_value(&[i, offsets[a] + 1]) > logits.double_value(&[i, offsets[a]])
        };
        out.push(Outcome {
            attribute: a,
            original: seen(0) != label,
            reframed: reframed.is_some() && seen(1) != label,
            missed: reframed.is_none(),
            label,
            read_original: reads(0) == label,
            read_reframed: reframed.is_some() && reads(1) == label,
            exact: seen(last) != label,
            read_exact: reads(last) == label,
        });
    }
    Ok(out)
}

/// The re-framed `canvas` brought back into the model's `size`-pixel frame through the exact
/// inverse of `placed` (photo pixels → canvas, the photo `photo_width` wide), resampled as the
/// aligner resamples ([`sliders_align::warp`]): the re-framed face without alignment error.
fn exact_frame(
    canvas: &RgbImage,
    placed: &Similarity,
    photo_width: u32,
    framing: sliders_config::data::Framing,
    size: u32,
) -> RgbImage {
    let f = crate::faces::frame_of(framing);
    let k = f64::from(size) / f.width;
    let full = sliders_align::Frame::ALIGNED.width / f64::from(photo_width.max(1));
    let to_aligned = Similarity::new(full, 0.0, 0.0, 0.0);
    let to_frame = Similarity::new(k, 0.0, -k * f.x0, -k * f.y0);
    let t = to_frame.after(&to_aligned.after(&placed.inverse()));
    sliders_align::warp(canvas, &t, size, size)
}

/// A re-framed copy of `image` (drawn by `rng`) with its attribute `a` flipped and the edit pasted
/// back into it at its resolution ([`crate::paste::Placement`]): `(canvas, pasted)`, or `None`
/// when no face is found. For looking at the result by eye.
pub fn reframed_paste_back(
    editor: &Editor,
    finder: &FaceFinder,
    image: &Labelled,
    a: usize,
    rng: &mut impl Rng,
) -> Result<Option<(RgbImage, RgbImage)>> {
    let info = editor.info();
    let photo = crate::photo::decode(&image.path)?;
    let (canvas, _) = reframe(&photo, rng);
    let framed = match finder.frame_at_most(
        &image.path,
        canvas.clone(),
        info.image_size,
        info.framing,
        Crop::Auto,
        1,
    ) {
        Ok(mut faces) => faces.swap_remove(0),
        Err(EditError::NoFace { .. } | EditError::TooSmall { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let values = (0..image.labels.len())
        .map(|i| (i, f64::from(u8::from(image.labels[i] != (i == a)))))
        .collect();
    let y = editor.edit_batch(
        &to_tensor(&[&framed.face], info.image_size),
        &[Edit(values)],
    )?;
    let edited = crate::photo::to_image(&y, 0);
    let (pw, ph) = framed.image.dimensions();
    let pasted = crate::paste::Placement::of(&framed, pw, ph).paste(&framed.image, &edited);
    Ok(Some((canvas, pasted)))
}

/// One attribute's swap accuracies (each with n and a 95% Wilson interval), the paired
/// difference re-framed − original (95% interval over images) and the re-framed photos in which
/// no face was found.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Original framing.
    pub original: Proportion,
    /// Re-framed, detected and aligned.
    pub reframed: Proportion,
    /// Re-framed − original, paired over images.
    pub difference: Proportion,
    /// Re-framed photos without a detected face (counted as failed swaps).
    pub missed: usize,
}

/// The [`Summary`] of attribute `a` over `outcomes`.
pub fn summarize(outcomes: &[Outcome], a: usize) -> Summary {
    let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.attribute == a).collect();
    let n = mine.len() as u64;
    let count = |f: fn(&Outcome) -> bool| mine.iter().filter(|o| f(o)).count() as u64;
    let as_f = |f: fn(&Outcome) -> bool| -> Vec<f64> {
        mine.iter().map(|o| f64::from(u8::from(f(o)))).collect()
    };
    Summary {
        original: proportion(count(|o| o.original), n),
        reframed: proportion(count(|o| o.reframed), n),
        difference: paired_difference(&as_f(|o| o.reframed), &as_f(|o| o.original)),
        missed: count(|o| o.missed) as usize,
    }
}

/// Where a difference comes from: for attribute `a`, the swap accuracies in each direction
/// (adding the attribute to images without it, removing it from images with it) and the judge's
/// accuracy on the unedited frames, each original → re-framed with the paired difference.
pub fn breakdown(outcomes: &[Outcome], a: usize) -> Vec<String> {
    let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.attribute == a).collect();
    let line = |what: &str, pick: &dyn Fn(&Outcome) -> bool, get: fn(&Outcome) -> (bool, bool)| {
        let these: Vec<(bool, bool)> = mine.iter().filter(|o| pick(o)).map(|o| get(o)).collect();
        let n = these.len() as u64;
        let f = |v: &[(bool, bool)], i: usize| -> Vec<f64> {
            v.iter()
                .map(|p| f64::from(u8::from(if i == 0 { p.0 } else { p.1 })))
                .collect()
        };
        let (o, r) = (f(&these, 0), f(&these, 1));
        let count = |v: &[f64]| v.iter().sum::<f64>() as u64;
        let (po, pr, d) = (
            proportion(count(&o), n),
            proportion(count(&r), n),
            paired_difference(&r, &o),
        );
        format!(
            "{what} (n = {n}): {:.1}% → {:.1}%, {:+.1} [{:+.1}, {:+.1}]",
            100.0 * po.value,
            100.0 * pr.value,
            100.0 * d.value,
            100.0 * d.low,
            100.0 * d.high
        )
    };
    let swap = |o: &Outcome| (o.original, o.reframed);
    let read = |o: &Outcome| (o.read_original, o.read_reframed);
    let exact = |o: &Outcome| (o.original, o.exact);
    let read_exact = |o: &Outcome| (o.read_original, o.read_exact);
    vec![
        line("swap, adding it", &|o| !o.label, swap),
        line("swap, removing it", &|o| o.label, swap),
        line("judge on the unedited frame", &|_| true, read),
        line("swap, exact inverse instead of alignment", &|_| true, exact),
        line("judge on the unedited exact inverse", &|_| true, read_exact),
    ]
}

/// A table row: the attribute, both accuracies with their intervals and n, the difference.
pub fn row(name: &str, s: &Summary) -> String {
    let pct = |p: &Proportion| {
        format!(
            "{:.1}% [{:.1}, {:.1}]",
            100.0 * p.value,
            100.0 * p.low,
            100.0 * p.high
        )
    };
    format!(
        "| {name} | {} | {} | {} | {:+.1} [{:+.1}, {:+.1}] | {} |",
        s.original.n,
        pct(&s.original),
        pct(&s.reframed),
        100.0 * s.difference.value,
        100.0 * s.difference.low,
        100.0 * s.difference.high,
        s.missed
    )
}

/// The header of [`row`]'s table.
pub const HEADER: &str = "| attribute | n | swap accuracy, original framing (95% Wilson) | \
    swap accuracy, re-framed + detect/align (95% Wilson) | difference, points (paired 95%) | \
    no face found |\n| --- | --- | --- | --- | --- | --- |";

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn placements_keep_the_face_inside_a_larger_canvas() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(24);
        for _ in 0..200 {
            let (t, w, h) = random_placement(&mut rng);
            let (lo, hi) = t.bounds(178.0, 218.0);
            assert!(lo[0] >= -1e-9 && lo[1] >= -1e-9, "{lo:?}");
            assert!(hi[0] <= f64::from(w) + 1e-9 && hi[1] <= f64::from(h) + 1e-9);
            assert!((0.5..=2.0).contains(&t.scale()));
            assert!(t.angle().abs() <= 30f64.to_radians());
        }
    }

    #[test]
    fn a_reframed_photo_is_sampled_once_at_its_own_resolution() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // A half-resolution CelebA-sized photo: a horizontal ramp, with one marked pixel.
        let mut photo = RgbImage::from_fn(89, 109, |x, _| Rgb([(x * 2) as u8, 100, 50]));
        photo.put_pixel(40, 60, Rgb([255, 255, 255]));
        for _ in 0..20 {
            let (canvas, t) = reframe(&photo, &mut rng);
            // Scale is relative to full-size CelebA: 0.5–2 × 178 / 89.
            assert!((1.0..=4.0).contains(&t.scale()), "{}", t.scale());
            let (lo, hi) = t.bounds(89.0, 109.0);
            assert!(hi[0] <= f64::from(canvas.width()) + 1e-9 && lo[0] >= -1e-9);
            // The marked pixel's centre lands where the similarity puts it (bilinear: at least
            // the ramp's value there, brightened by the mark).
            let [x, y] = t.apply([40.5, 60.5]);
            let p = canvas.get_pixel(x as u32, y as u32);
            assert!(p[1] > 120, "the mark is not at {x:.1},{y:.1}: {p:?}");
        }
    }

    #[test]
    fn bicubic_sampling_hits_pixel_centres_and_is_exact_on_ramps() {
        let ramp = RgbImage::from_fn(20, 10, |x, y| Rgb([(x * 10) as u8, (y * 20) as u8, 7]));
        let c = sample_cubic(&ramp, 10.5, 5.5);
        assert!((c[0] - 100.0).abs() < 1e-9 && (c[1] - 100.0).abs() < 1e-9);
        let c = sample_cubic(&ramp, 10.75, 4.25);
        assert!((c[0] - 102.5).abs() < 1e-9, "{c:?}");
        assert!((c[1] - 75.0).abs() < 1e-9, "{c:?}");
        assert!((c[2] - 7.0).abs() < 1e-9);
    }

    #[test]
    fn the_summary_pairs_the_two_framings_per_image() {
        let o = |original, reframed| Outcome {
            attribute: 0,
            original,
            reframed,
            missed: false,
            label: original,
            read_original: true,
            read_reframed: reframed,
            exact: original,
            read_exact: true,
        };
        let s = summarize(
            &[
                o(true, true),
                o(true, false),
                o(false, false),
                o(true, true),
            ],
            0,
        );
        assert_eq!((s.original.n, s.missed), (4, 0));
        assert!((s.original.value - 0.75).abs() < 1e-12);
        assert!((s.reframed.value - 0.5).abs() < 1e-12);
        assert!((s.difference.value + 0.25).abs() < 1e-12);
        assert!(row("Smiling", &s).starts_with("| Smiling | 4 | 75.0%"));
    }

    #[test]
    fn the_breakdown_splits_the_directions_and_reads_the_unedited_frames() {
        let o = |label, original, reframed, read_reframed| Outcome {
            attribute: 0,
            original,
            reframed,
            missed: false,
            label,
            read_original: true,
            read_reframed,
            exact: original,
            read_exact: true,
        };
        let lines = breakdown(
            &[
                o(false, false, false, true),
                o(false, true, true, true),
                o(true, false, true, false),
                o(true, false, true, true),
            ],
            0,
        );
        assert_eq!(lines.len(), 5);
        assert!(lines[3].contains("→"), "{lines:?}");
        assert!(
            lines[0].starts_with("swap, adding it (n = 2): 50.0% → 50.0%, +0.0"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("swap, removing it (n = 2): 0.0% → 100.0%, +100.0"),
            "{lines:?}"
        );
        assert!(
            lines[2].starts_with("judge on the unedited frame (n = 4): 100.0% → 75.0%, -25.0"),
            "{lines:?}"
        );
    }
}
