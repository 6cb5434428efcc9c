//! `--crop auto` and `--crop align`: faces found by MTCNN and aligned to the model's frame with
//! `sliders-align` (docs/face-alignment.md). A photo already framed like aligned CelebA keeps
//! the papers' fixed crop, as the training images had; every other face is warped into the
//! frame by the similarity that puts its five landmarks on the template, one model input per
//! face.

use crate::error::{EditError, Result};
use crate::photo::{
    Crop, FramedBy, Photo, WORKING_SIDE, downscaled, has_celeba_shape, working_copy,
};
use image::RgbImage;
use sliders_align::{
    AlignError, AlignedFace, Detector, Frame, Similarity, Template, align_detected,
    is_celeba_aligned,
};
use sliders_celeba::framing::{CropBox, reference_box};
use sliders_config::data::Framing;
use std::path::Path;

/// The longest side of the copy of a photo the detector searches (a larger photo is searched
/// downscaled, in u8, and the faces scaled back): bounds the pyramid's memory (P-Net's first
/// level of a 40-megapixel photo alone would hold over 1 GB of activations). Faces under about
/// 20 px in that copy are missed; they would be refused anyway, being far smaller than a model's
/// input.
pub const DETECT_SIDE: u32 = 1600;

/// The detector and the landmark template.
#[derive(Debug)]
pub struct FaceFinder {
    detector: Detector,
    template: Template,
}

/// The frame a model trained with `framing` sees: the framing's box of the 178×218 image.
pub fn frame_of(framing: Framing) -> Frame {
    let b = reference_box(framing);
    Frame {
        x0: f64::from(b.x0),
        y0: f64::from(b.y0),
        width: f64::from(b.width()),
        height: f64::from(b.height()),
    }
}

impl FaceFinder {
    /// Loads MTCNN's weights (installed by `cargo xtask setup`) on the CPU.
    pub fn load() -> Result<Self> {
        let detector = Detector::load_default(tch::Device::Cpu)
            .map_err(|e| EditError::Detector(e.to_string()))?;
        Ok(Self {
            detector,
            template: Template::celeba(),
        })
    }

    /// The model inputs of `image` for `crop` = [`Crop::Auto`] or [`Crop::Align`] (one per face,
    /// most probable first).
    pub fn frame(
        &self,
        path: &Path,
        image: RgbImage,
        size: u32,
        framing: Framing,
        crop: Crop,
    ) -> Result<Vec<Photo>> {
        self.frame_at_most(path, image, size, framing, crop, usize::MAX)
    }

    /// [`FaceFinder::frame`] for at most the `max_faces` most probable faces (`sliders serve`
    /// edits one face per photo: a crowd photo costs one refinement, not one per face).
    pub fn frame_at_most(
        &self,
        path: &Path,
        image: RgbImage,
        size: u32,
        framing: Framing,
        crop: Crop,
        max_faces: usize,
    ) -> Result<Vec<Photo>> {
        let (w, h) = image.dimensions();
        let mut faces = self.detect(&image);
        faces.truncate(max_faces.max(1));
        let celeba = || Photo::from_image(path, image.clone(), size, framing, Crop::Celeba);
        if crop == Crop::Auto
            && has_celeba_shape(w, h)
            && faces
                .first()
                .is_none_or(|f| is_celeba_aligned(f, &self.template, w, h))
        {
            if faces.is_empty() {
                tracing::warn!(
                    "{}: no face found; the photo has the 178:218 shape of aligned CelebA, so \
                     its CelebA crop is used",
                    path.display()
                );
            }
            return Ok(vec![celeba()?]);
        }
        let frame = frame_of(framing);
        if faces.is_empty() {
            let e = AlignError::NoFace {
                width: w,
                height: h,
                min_face: self.detector.config().min_face,
            };
            return Err(EditError::NoFace {
                path: path.to_path_buf(),
                why: e.to_string(),
            });
        }
        let aligned = align_detected(&self.detector, &self.template, &image, &faces, frame, size);
        // As for a box crop, a face smaller in the photo than in the model's input is refused
        // (it would be enlarged and blurred); small faces in the background are skipped.
        let (large, small): (Vec<_>, Vec<_>) = aligned
            .into_iter()
            .partition(|a| a.to_frame.scale() <= 1.0 + 1e-6);
        if large.is_empty() {
            let b = outline(&small[0].to_frame, size, w, h);
            return Err(EditError::TooSmall {
                path: path.to_path_buf(),
                width: b.width(),
                height: b.height(),
                size,
            });
        }
        Ok(photos(path, image, large, size))
    }
}

impl FaceFinder {
    /// The faces of `image`, searched on a copy at most [`DETECT_SIDE`] a side.
    fn detect(&self, image: &RgbImage) -> Vec<sliders_align::Face> {
        let (w, h) = image.dimensions();
        if w.max(h) <= DETECT_SIDE {
            return self.detector.detect(image);
        }
        let small = downscaled(image, DETECT_SIDE);
        let k = f64::from(w) / f64::from(small.width());
        let faces = self.detector.detect(&small);
        faces.iter().map(|f| f.scaled(k)).collect()
    }
}

/// The model inputs of aligned faces of `image` (taken from `path`): each face's frame as planar
/// CHW bytes, with the photo kept for paste-back (at most [`WORKING_SIDE`] a side; the maps
/// follow it).
fn photos(path: &Path, image: RgbImage, faces: Vec<AlignedFace>, size: u32) -> Vec<Photo> {
    let (w, h) = image.dimensions();
    let whole = CropBox {
        x0: 0,
        y0: 0,
        x1: w,
        y1: h,
    };
    let (kept, _) = working_copy(image, whole, WORKING_SIDE);
    let to_photo = Similarity::new(f64::from(w) / f64::from(kept.width()), 0.0, 0.0, 0.0);
    let (kw, kh) = kept.dimensions();
    faces
        .into_iter()
        .map(|a| {
            let face = crate::photo::planar(&a.image);
            let to_frame = a.to_frame.after(&to_photo);
            Photo {
                path: path.to_path_buf(),
                crop: outline(&to_frame, size, kw, kh),
                image: kept.clone(),
                to_frame: Some(to_frame),
                framed_by: FramedBy::Aligned,
                face,
                size,
            }
        })
        .collect()
}

/// The bounding box in the photo of a `size`×`size` frame seen through `to_frame`, clipped.
fn outline(to_frame: &sliders_align::Similarity, size: u32, w: u32, h: u32) -> CropBox {
    let back = to_frame.inverse();
    let s = f64::from(size);
    let c = [[0.0, 0.0], [s, 0.0], [0.0, s], [s, s]].map(|p| back.apply(p));
    let lo = |i: usize, max: u32| {
        c.iter()
            .map(|p| p[i])
            .fold(f64::INFINITY, f64::min)
            .clamp(0.0, f64::from(max)) as u32
    };
    let hi = |i: usize, max: u32| {
        c.iter()
            .map(|p| p[i])
            .fold(f64::NEG_INFINITY, f64::max)
            .clamp(0.0, f64::from(max))
            .ceil() as u32
    };
    CropBox {
        x0: lo(0, w),
        y0: lo(1, h),
        x1: hi(0, w),
        y1: hi(1, h),
    }
}
