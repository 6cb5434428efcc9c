//! Faces of a photo mapped to a model's frame: each detected face's five landmarks fitted to the
//! template's place in the frame by a similarity, the photo warped through it; and the test of
//! whether a photo is already framed like an aligned CelebA image.

use crate::detect::{Detector, Face};
use crate::error::AlignError;
use crate::similarity::Similarity;
use crate::template::{ALIGNED_HEIGHT, ALIGNED_WIDTH, Frame, Template};
use crate::warp::warp;
use image::RgbImage;

/// A face of a photo in a model's frame.
#[derive(Debug, Clone)]
pub struct AlignedFace {
    /// The detection it comes from.
    pub face: Face,
    /// Photo coordinates → frame coordinates.
    pub to_frame: Similarity,
    /// The photo warped into the frame (`width`×`height` of the request).
    pub image: RgbImage,
}

/// The similarity that carries a face's landmarks onto the template in a `width`×`height`
/// model input cut from `frame`: least squares over the eyes, the nose and the midpoint of the
/// mouth corners ([`fit_points`]), then the template's framing correction when it has one
/// (docs/face-alignment.md#framing-correction), both in the aligned image's pixels, then the
/// aligned image's place in the model input.
pub fn fit_to_frame(
    face: &Face,
    template: &Template,
    frame: Frame,
    width: u32,
    height: u32,
) -> Similarity {
    let fit = |dst: &[[f64; 2]; 5]| {
        Similarity::fit(&fit_points(&face.landmarks), &fit_points(dst))
            .expect("four distinct template points")
    };
    let dst = template.in_frame(frame, width, height);
    let Some(correction) = &template.correction else {
        return fit(&dst);
    };
    let aligned = template.in_frame(Frame::ALIGNED, ALIGNED.0, ALIGNED.1);
    let to_aligned = fit(&aligned);
    let corrected = correction
        .predict(&to_aligned, &face.landmarks, &aligned)
        .after(&to_aligned);
    let to_frame = Similarity::fit(&aligned, &dst).expect("five distinct template points");
    to_frame.after(&corrected)
}

/// The aligned CelebA image's size in pixels, where the framing correction is measured.
const ALIGNED: (u32, u32) = (178, 218);

/// The four points alignment fits: both eyes, the nose, and the midpoint of the two mouth
/// corners in place of the corners themselves. A smile moves the corners apart (and squints the
/// eyes): fitted as two points, they shrink a smiling face by 4% more than a neutral one, so a
/// re-framed smiling face would reach the model smaller than in its CelebA crop; their midpoint
/// barely moves (docs/face-alignment.md#similarity-fit, measured by `examples/frame_residual.rs`).
pub fn fit_points(landmarks: &[[f64; 2]; 5]) -> [[f64; 2]; 4] {
    let [le, re, nose, lm, rm] = *landmarks;
    [le, re, nose, [(lm[0] + rm[0]) / 2.0, (lm[1] + rm[1]) / 2.0]]
}

/// Size of the working view of [`refine`]: the whole aligned frame at CelebA's resolution
/// (178×218, an inter-ocular distance of about 39 px).
const VIEW: (u32, u32) = (178, 218);

/// The box O-Net sees a face in, in the working view: centre and side, as the cascade places it
/// on aligned faces (the mean over 199 sample images, every 40th from the first, brought to
/// 178×218 and refined; `examples/onet_box.rs` measures it again).
const VIEW_BOX: [f32; 3] = [90.91, 127.24, 105.60];

/// Relative shifts (of the box's side) and scales of the boxes whose landmarks are averaged.
const JITTER_SHIFTS: [f32; 3] = [-0.04, 0.0, 0.04];
const JITTER_SCALES: [f32; 3] = [0.94, 1.0, 1.06];

/// Passes of [`refine`] on the fixed box, after the one that detects the face in the view.
pub const REFINE_PASSES: usize = 2;

/// The face's landmarks measured again on an upright, standard-size view of it. The photo is
/// warped so that the current landmarks sit on the template in a 178×218 aligned frame; the
/// detector runs on that view, and the face found there (the one whose eyes are nearest the
/// template's, within half the inter-ocular distance) gives new landmarks, mapped back to the
/// photo. Then, [`REFINE_PASSES`] times, the view is made again and O-Net alone reads the
/// landmarks in the box where the cascade puts an aligned face, averaged over 27 boxes shifted
/// by ±4% and scaled by ±6%. A pass that finds nothing keeps the landmarks it had.
///
/// Deviation: MTCNN places landmarks in a single pass on the photo as it is. O-Net was trained
/// on upright faces, and its landmarks drift with the face's rotation and size and with where
/// R-Net happens to put the box (measured on the alignment benchmark of
/// docs/face-alignment.md); on the upright view with a fixed box the same network sees every
/// face as it sees aligned CelebA, which makes the alignment nearly independent of the photo's
/// framing.
pub fn refine(detector: &Detector, template: &Template, photo: &RgbImage, face: &Face) -> Face {
    let (w, h) = VIEW;
    let expected = template.in_frame(Frame::ALIGNED, w, h);
    let mid = |p: &[[f64; 2]; 5]| [(p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0];
    let iod = template.eye_distance(Frame::ALIGNED, w, h);
    let mut out = *face;
    // The view is made by the similarity fit alone: the framing correction is for the model's
    // frame; the view, its fixed box and its measured convergence are the uncorrected fit's.
    let plain = Template {
        correction: None,
        ..*template
    };
    let view_of = |f: &Face| {
        let to_view = fit_to_frame(f, &plain, Frame::ALIGNED, w, h);
        (to_view, warp(photo, &to_view, w, h))
    };
    let (to_view, view) = view_of(&out);
    let off = |f: &Face| {
        let (m, m0) = (mid(&f.landmarks), mid(&expected));
        (m[0] - m0[0]).hypot(m[1] - m0[1])
    };
    let found = detector.detect(&view);
    let Some(best) = found
        .iter()
        .filter(|f| off(f) <= 0.5 * iod)
        .min_by(|a, b| off(a).total_cmp(&off(b)))
    else {
        return out;
    };
    let back = to_view.inverse();
    out.landmarks = best.landmarks.map(|p| back.apply(p));
    let boxes = jittered_boxes();
    for _ in 0..REFINE_PASSES {
        let (to_view, view) = view_of(&out);
        let read: Vec<[[f64; 2]; 5]> = detector
            .landmarks_in(&view, &boxes)
            .into_iter()
            .flatten()
            .filter(|(p, _)| *p > 0.5)
            .map(|(_, m)| m)
            .collect();
        if read.is_empty() {
            break;
        }
        let n = read.len() as f64;
        let back = to_view.inverse();
        out.landmarks = std::array::from_fn(|k| {
            let sx: f64 = read.iter().map(|m| m[k][0]).sum();
            let sy: f64 = read.iter().map(|m| m[k][1]).sum();
            back.apply([sx / n, sy / n])
        });
    }
    out
}

/// The 27 boxes around [`VIEW_BOX`] of [`refine`].
fn jittered_boxes() -> Vec<[f32; 4]> {
    let [cx, cy, side] = VIEW_BOX;
    let mut out = Vec::new();
    for s in JITTER_SCALES {
        for dy in JITTER_SHIFTS {
            for dx in JITTER_SHIFTS {
                let (x, y, half) = (cx + dx * side, cy + dy * side, side * s / 2.0);
                out.push([x - half, y - half, x + half, y + half]);
            }
        }
    }
    out
}

/// Every face of `photo` (most probable first), its landmarks refined ([`refine`]) and the
/// photo warped into the model's frame; a photo without a face is [`AlignError::NoFace`].
pub fn align_faces(
    detector: &Detector,
    template: &Template,
    photo: &RgbImage,
    frame: Frame,
    size: u32,
) -> Result<Vec<AlignedFace>, AlignError> {
    let faces = detector.detect(photo);
    if faces.is_empty() {
        return Err(AlignError::NoFace {
            width: photo.width(),
            height: photo.height(),
            min_face: detector.config().min_face,
        });
    }
    Ok(align_detected(
        detector, template, photo, &faces, frame, size,
    ))
}

/// [`align_faces`] for faces already detected (in `photo`'s coordinates, possibly found on a
/// smaller copy of it and scaled back).
pub fn align_detected(
    detector: &Detector,
    template: &Template,
    photo: &RgbImage,
    faces: &[Face],
    frame: Frame,
    size: u32,
) -> Vec<AlignedFace> {
    faces
        .iter()
        .map(|face| {
            let face = refine(detector, template, photo, face);
            let to_frame = fit_to_frame(&face, template, frame, size, size);
            AlignedFace {
                face,
                to_frame,
                image: warp(photo, &to_frame, size, size),
            }
        })
        .collect()
}

/// Tolerances of [`is_celeba_aligned`]: scale within 18%, rotation within 6°, offset within 6%
/// of the image width. Aligned CelebA images themselves spread this far from the template
/// (measured on sample images: scale 0.86-1.04, rotation up to 3.2°, offset up to 3% of the
/// width; the largest for faces turned sideways).
const ALIGNED_SCALE_TOL: f64 = 0.18;
const ALIGNED_ANGLE_TOL: f64 = 6.0 * std::f64::consts::PI / 180.0;
const ALIGNED_SHIFT_TOL: f64 = 0.06;

/// Whether `face` in a `width`×`height` photo sits where aligned CelebA puts faces: the photo
/// has CelebA's 178:218 shape (within 2%) and the fit of the landmarks to the template, in the
/// photo's own coordinates, is close to the identity. Such photos are best framed by the
/// papers' fixed crop, exactly as the training images were.
pub fn is_celeba_aligned(face: &Face, template: &Template, width: u32, height: u32) -> bool {
    let (w, h) = (f64::from(width), f64::from(height));
    if ((w / h) / (ALIGNED_WIDTH / ALIGNED_HEIGHT) - 1.0).abs() > 0.02 {
        return false;
    }
    // The five landmarks as they are (the tolerances were measured with this fit), not
    // alignment's four points: this asks whether CelebA's own alignment framed the photo.
    let dst = template.in_frame(Frame::ALIGNED, width, height);
    let fit = Similarity::fit(&face.landmarks, &dst).expect("five distinct template points");
    // Where the photo's centre goes, relative to where it should stay.
    let [cx, cy] = fit.apply([w / 2.0, h / 2.0]);
    (fit.scale() - 1.0).abs() <= ALIGNED_SCALE_TOL
        && fit.angle().abs() <= ALIGNED_ANGLE_TOL
        && (cx - w / 2.0).hypot(cy - h / 2.0) <= ALIGNED_SHIFT_TOL * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_at(points: [[f64; 2]; 5]) -> Face {
        Face {
            rect: [0.0; 4],
            input_rect: [0.0; 4],
            score: 1.0,
            landmarks: points,
        }
    }

    /// The committed template without its framing correction: the similarity fit alone.
    fn uncorrected() -> Template {
        Template {
            correction: None,
            ..Template::celeba()
        }
    }

    #[test]
    fn a_face_on_the_template_is_aligned_and_a_moved_one_is_not() {
        let t = uncorrected();
        let exact = face_at(t.in_frame(Frame::ALIGNED, 89, 109));
        assert!(is_celeba_aligned(&exact, &t, 89, 109));
        let fit = fit_to_frame(&exact, &t, Frame::ALIGNED, 89, 109);
        assert!((fit.scale() - 1.0).abs() < 1e-9 && fit.tx.abs() < 1e-9);
        let turned = Similarity::new(1.0, 0.2, 10.0, -5.0);
        let moved = face_at(exact.landmarks.map(|p| turned.apply(p)));
        assert!(!is_celeba_aligned(&moved, &t, 89, 109));
        // Right landmarks, wrong shape: a square photo is not aligned CelebA.
        assert!(!is_celeba_aligned(&exact, &t, 109, 109));
    }

    #[test]
    fn fit_to_frame_undoes_a_known_transform() {
        let t = uncorrected();
        let fader = Frame {
            x0: 0.0,
            y0: 20.0,
            width: 178.0,
            height: 178.0,
        };
        let in_frame = t.in_frame(fader, 64, 64);
        let photo_from_frame = Similarity::new(3.1, -0.4, 200.0, 120.0);
        let face = face_at(in_frame.map(|p| photo_from_frame.apply(p)));
        let fit = fit_to_frame(&face, &t, fader, 64, 64);
        let should = photo_from_frame.inverse();
        assert!((fit.a - should.a).abs() < 1e-9 && (fit.b - should.b).abs() < 1e-9);
        assert!((fit.tx - should.tx).abs() < 1e-6 && (fit.ty - should.ty).abs() < 1e-6);
    }

    #[test]
    fn a_wider_mouth_leaves_the_fit_where_the_template_puts_it() {
        // A smile moves the mouth corners apart; the fit reads only their midpoint, so the face
        // is neither shrunk nor moved (with the corners as two points it would be).
        let t = uncorrected();
        let mut smiling = t.in_frame(Frame::ALIGNED, 178, 218);
        smiling[3][0] -= 6.0;
        smiling[4][0] += 6.0;
        let fit = fit_to_frame(&face_at(smiling), &t, Frame::ALIGNED, 178, 218);
        assert!((fit.scale() - 1.0).abs() < 1e-9, "scale {}", fit.scale());
        assert!(fit.tx.abs() < 1e-9 && fit.ty.abs() < 1e-9);
        let five = Similarity::fit(&smiling, &t.in_frame(Frame::ALIGNED, 178, 218)).unwrap();
        assert!(
            five.scale() < 0.97,
            "five points shrink it: {}",
            five.scale()
        );
    }

    /// The framing correction reads the face's shape, not its placement: the same face placed
    /// two ways in two photos reaches the model's frame at the same place, and the correction
    /// moves it there from where the fit alone puts it.
    #[test]
    fn the_framing_correction_depends_on_the_face_not_its_placement() {
        let t = Template::celeba();
        assert!(
            t.correction.is_some(),
            "the committed template has a correction"
        );
        let fader = Frame {
            x0: 0.0,
            y0: 20.0,
            width: 178.0,
            height: 178.0,
        };
        let mut shape = t.in_frame(Frame::ALIGNED, 178, 218);
        shape[3][0] -= 3.0;
        shape[4][0] += 3.0;
        shape[2][1] += 2.0;
        let eye = [shape[0], shape[1]];
        let mut placed_eyes = Vec::new();
        for place in [
            Similarity::new(2.3, 0.35, 140.0, -60.0),
            Similarity::new(0.6, -0.5, 20.0, 300.0),
        ] {
            let face = face_at(shape.map(|p| place.apply(p)));
            let to_frame = fit_to_frame(&face, &t, fader, 256, 256);
            placed_eyes.push(eye.map(|e| to_frame.apply(place.apply(e))));
        }
        for (a, b) in placed_eyes[0].iter().zip(&placed_eyes[1]) {
            assert!((a[0] - b[0]).hypot(a[1] - b[1]) < 1e-6, "{a:?} vs {b:?}");
        }
        let plain = fit_to_frame(&face_at(shape), &uncorrected(), fader, 256, 256);
        let moved = eye.map(|e| plain.apply(e));
        let d = (moved[0][0] - placed_eyes[0][0][0]).hypot(moved[0][1] - placed_eyes[0][0][1]);
        assert!(d > 0.1, "the correction should move this face ({d} px)");
    }
}
