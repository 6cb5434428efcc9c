//! Measurements only synthetic faces allow, because their generator knows the truth: the
//! counterfactual error (pixel MSE between an edited image and the exact counterfactual of the
//! same face, next to the unedited input's error and the reconstruction error) and the
//! preservation of everything outside the attribute's region (pixel MSE outside it). No paper
//! has them; they need `data.synthetic` faces.

use crate::results::{Cell, Results};
use crate::table::AttributeEdits;
use crate::testset::TestSet;
use sliders_celeba::CacheParams;
use sliders_celeba::cache::preprocess_image;
use sliders_celeba::synthetic::{self, FaceParams, SynthAttr};
use sliders_config::data::SyntheticConfig;
use sliders_metrics::image::{masked_mse, mse};
use tch::{Kind, Tensor};

/// Table name of the cells made here.
pub const TABLE: &str = sliders_config::results::table::COUNTERFACTUAL;

/// The generator's attribute of a CelebA name, if it models it.
pub fn synth_attr(name: &str) -> Option<SynthAttr> {
    SynthAttr::ALL.into_iter().find(|a| a.celeba_name() == name)
}

/// `[3, S, S]` u8 planar → f32 in [−1, 1].
fn to_tensor(chw: &[u8], s: i64) -> Tensor {
    (Tensor::from_slice(chw).to_kind(Kind::Float) / 255.0 * 2.0 - 1.0).view([3, s, s])
}

/// The synthetic face behind a test image (`NNNNNN.png` is face `NNNNNN − 1`).
fn face_of(name: &str, faces: &[FaceParams]) -> Option<FaceParams> {
    let i: usize = name.split('.').next()?.parse().ok()?;
    faces.get(i.checked_sub(1)?).copied()
}

/// The faces at `positions` re-rendered by the generator (`flipped`: with `attr` flipped, the
/// exact counterfactual; otherwise the image itself) and preprocessed like the cache, `[n, 3, S, S]`
/// in [−1, 1], with the mask of pixels outside the attribute's region on either face,
/// `[n, 1, S, S]` (1 = outside). `None` when a test image is not a face of this dataset.
pub fn rendered(
    test: &TestSet,
    positions: &[usize],
    attr: SynthAttr,
    synth: &SyntheticConfig,
    params: CacheParams,
    flipped: bool,
) -> Option<(Tensor, Tensor)> {
    let faces = synthetic::faces(synth.n_images, synth.seed);
    let (w, h) = (synth.width, synthetic::height_for(synth.width));
    let s = params.size as i64;
    let mut images = Vec::new();
    let mut outside = Vec::new();
    for &p in positions {
        let face = face_of(&test.names[p], &faces)?;
        let other = face.flipped(attr);
        let shown = if flipped { other } else { face };
        images.push(to_tensor(
            &preprocess_image(&synthetic::render(&shown, w, h), params),
            s,
        ));
        // The attribute's region on either face (glasses put on or taken off, …).
        let a = synthetic::region_mask(&face, attr, w, h);
        let b = synthetic::region_mask(&other, attr, w, h);
        let mask = image::RgbImage::from_fn(w, h, |x, y| {
            let i = (y * w + x) as usize;
            let v = if a[i] || b[i] { 255 } else { 0 };
            image::Rgb([v, v, v])
        });
        let m = preprocess_image(&mask, params);
        // Outside = not touched by the region at all after resizing.
        let plane: Vec<f32> = m[..(s * s) as usize]
            .iter()
            .map(|&v| if v == 0 { 1.0 } else { 0.0 })
            .collect();
        outside.push(Tensor::from_slice(&plane).view([1, s, s]));
    }
    Some((Tensor::stack(&images, 0), Tensor::stack(&outside, 0)))
}

/// Adds the counterfactual and background cells for every attribute the generator models.
pub fn run(
    edits: &[AttributeEdits],
    test: &TestSet,
    synth: &SyntheticConfig,
    params: CacheParams,
    out: &mut Results,
) {
    for e in edits {
        let Some(attr) = synth_attr(&e.attribute) else {
            out.notes.push(format!(
                "{}: the synthetic generator does not model it; no counterfactual",
                e.attribute
            ));
            continue;
        };
        let Some((cf, outside)) = rendered(test, &e.positions, attr, synth, params, true) else {
            out.notes.push(format!(
                "{}: the test images are not this dataset's synthetic faces; counterfactuals skipped",
                e.attribute
            ));
            continue;
        };
        let n = e.positions.len() as u64;
        let a = e.attribute.as_str();
        let inside = 1.0 - &outside;
        out.cells.push(Cell::value(
            TABLE,
            "Input (unedited)",
            a,
            "cf_mse",
            mse(&e.inputs, &cf),
            n,
        ));
        out.cells.push(Cell::value(
            TABLE,
            "Input (unedited)",
            a,
            "cf_mse_region",
            masked_mse(&e.inputs, &cf, &inside),
            n,
        ));
        for (name, pair) in [("FadNet", &e.fader), ("IcGAN", &e.icgan)] {
            if let Some((rec, swap)) = pair {
                edit_cells(
                    out,
                    name,
                    a,
                    (rec, swap),
                    (&e.inputs, &cf),
                    (&inside, &outside),
                    n,
                );
            }
        }
    }
}

/// The counterfactual cells of one model's edits of attribute `a` (`n` faces): its swaps
/// against the counterfactual renders and, outside the attribute's region, against the inputs;
/// its reconstructions against the inputs, in and outside the region.
fn edit_cells(
    out: &mut Results,
    name: &str,
    a: &str,
    (rec, swap): (&Tensor, &Tensor),
    (inputs, cf): (&Tensor, &Tensor),
    (inside, outside): (&Tensor, &Tensor),
    n: u64,
) {
    let swap_row = format!("{name} Swap");
    let ae_row = format!("{name} AE");
    out.cells
        .push(Cell::value(TABLE, &swap_row, a, "cf_mse", mse(swap, cf), n));
    out.cells.push(Cell::value(
        TABLE,
        &ae_row,
        a,
        "rec_mse",
        mse(rec, inputs),
        n,
    ));
    out.cells.push(Cell::value(
        TABLE,
        &ae_row,
        a,
        "rec_mse_region",
        masked_mse(rec, inputs, inside),
        n,
    ));
    out.cells.push(Cell::value(
        TABLE,
        &swap_row,
        a,
        "outside_mse",
        masked_mse(swap, inputs, outside),
        n,
    ));
    out.cells.push(Cell::value(
        TABLE,
        &ae_row,
        a,
        "outside_mse",
        masked_mse(rec, inputs, outside),
        n,
    ));
}

/// One synthetic face rendered along one attribute at every value the generator can give it:
/// the slider response's "true intensity" is the value of the member nearest an edited image.
pub struct Family {
    /// The generator's value of each member (smile amount, mouth opening; 0/1 for the binary
    /// attributes).
    pub values: Vec<f64>,
    /// The members, preprocessed like the cache, `[k, 3, S, S]` in [−1, 1].
    pub images: Tensor,
}

/// Steps of the continuous intensities' grid (0, 0.05, …, 1).
const GRID_STEPS: usize = 20;

/// What the generator's value of `attr` means, for axis labels.
pub fn truth_label(attr: SynthAttr) -> &'static str {
    match attr {
        SynthAttr::Smiling => "smile amount (0-1)",
        SynthAttr::MouthOpen => "mouth opening (0-1)",
        _ => "present (0/1)",
    }
}

/// The family of each face named in `names` (test image names) along `attr`: a 21-step grid of the smile amount or
/// mouth opening (everything else as in the face), or the face without and with the attribute
/// for the binary ones (glasses keep the face's own lens darkness). `None` when a test image is
/// not a face of this dataset.
pub fn families(
    names: &[&str],
    attr: SynthAttr,
    synth: &SyntheticConfig,
    params: CacheParams,
) -> Option<Vec<Family>> {
    let faces = synthetic::faces(synth.n_images, synth.seed);
    let (w, h) = (synth.width, synthetic::height_for(synth.width));
    let s = params.size as i64;
    let intensity = match attr {
        SynthAttr::Smiling => Some(synthetic::Intensity::Smile),
        SynthAttr::MouthOpen => Some(synthetic::Intensity::MouthOpen),
        _ => None,
    };
    names
        .iter()
        .map(|name| {
            let face = face_of(name, &faces)?;
            let members: Vec<(f64, FaceParams)> = match intensity {
                Some(i) => (0..=GRID_STEPS)
                    .map(|k| {
                        let v = k as f32 / GRID_STEPS as f32;
                        (f64::from(v), face.with_intensity(i, v))
                    })
                    .collect(),
                None => vec![
                    (0.0, face.with_attribute(attr, false)),
                    (1.0, face.with_attribute(attr, true)),
                ],
            };
            let images: Vec<Tensor> = members
                .iter()
                .map(|(_, f)| to_tensor(&preprocess_image(&synthetic::render(f, w, h), params), s))
                .collect();
            Some(Family {
                values: members.iter().map(|(v, _)| *v).collect(),
                images: Tensor::stack(&images, 0),
            })
        })
        .collect()
}

/// The value of the member of `family` nearest (pixel MSE) to `image` (`[3, S, S]`, any device).
pub fn nearest_value(family: &Family, image: &Tensor) -> f64 {
    let image = image.to_device(tch::Device::Cpu).to_kind(Kind::Float);
    let d = (&family.images - image.unsqueeze(0)).square().mean_dim(
        [1i64, 2, 3].as_slice(),
        false,
        Kind::Float,
    );
    family.values[d.argmin(0, false).int64_value(&[]) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_config::data::Framing;

    fn setup() -> (SyntheticConfig, CacheParams) {
        let synth = SyntheticConfig {
            n_images: 40,
            width: 64,
            ..SyntheticConfig::default()
        };
        let params = CacheParams {
            size: 32,
            framing: Framing::Fader,
        };
        (synth, params)
    }

    #[test]
    fn a_render_at_a_known_intensity_projects_back_to_it() {
        let (synth, params) = setup();
        let faces = synthetic::faces(synth.n_images, synth.seed);
        let (w, h) = (synth.width, synthetic::height_for(synth.width));
        let names: Vec<String> = [0usize, 5, 9]
            .iter()
            .map(|&i| synthetic::image_name(i))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let fams = families(&names, SynthAttr::Smiling, &synth, params).unwrap();
        assert_eq!(fams[0].values.len(), GRID_STEPS + 1);
        for (f, &p) in fams.iter().zip(&[0usize, 5, 9]) {
            for v in [0.0f32, 0.3, 0.85, 1.0] {
                let face = faces[p].with_intensity(synthetic::Intensity::Smile, v);
                let x = to_tensor(
                    &preprocess_image(&synthetic::render(&face, w, h), params),
                    32,
                );
                assert!(
                    (nearest_value(f, &x) - f64::from(v)).abs() < 1e-6,
                    "face {p} at {v}"
                );
            }
        }
        // The binary attributes: the face with and without glasses.
        let name = synthetic::image_name(2);
        let fams = families(&[name.as_str()], SynthAttr::Eyeglasses, &synth, params).unwrap();
        assert_eq!(fams[0].values, vec![0.0, 1.0]);
        let with = faces[2].with_attribute(SynthAttr::Eyeglasses, true);
        let x = to_tensor(
            &preprocess_image(&synthetic::render(&with, w, h), params),
            32,
        );
        assert_eq!(nearest_value(&fams[0], &x), 1.0);
    }

    #[test]
    fn images_that_are_not_this_datasets_faces_have_no_family() {
        let (synth, params) = setup();
        assert!(families(&["000100.png"], SynthAttr::Smiling, &synth, params).is_none());
        assert!(families(&["face.jpg"], SynthAttr::Smiling, &synth, params).is_none());
    }
}
