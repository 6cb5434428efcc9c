//! A user's photo made into model input: decoded by content (JPEG or PNG, grayscale or with
//! alpha, within [`DecodeLimits`] through the project's one decoder), EXIF orientation applied, framed the way the model was trained (the CelebA crop of
//! docs/fader-networks.md#framing-and-resizing / docs/icgan.md#framing-and-resizing via
//! `sliders_celeba::framing`, a centred square, or a manual
//! box) and resized to `S`x`S` with `sliders_celeba::resize` (the training pipeline's resampler).

use crate::error::{EditError, Result};
use image::RgbImage;
use sliders_celeba::DecodeLimits;
use sliders_celeba::framing::{CELEBA_HEIGHT, CELEBA_WIDTH, CropBox, crop_box};
use sliders_celeba::resize::Resampler;
use sliders_config::data::Framing;
use std::path::{Path, PathBuf};

/// How to find the face in a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crop {
    /// Detect the faces ([`crate::faces`]): a photo already framed like aligned CelebA gets the
    /// CelebA crop, any other face is aligned to the model's frame ([`Crop::Align`]); without a
    /// face, a 178:218 photo gets the CelebA crop and any other is an error (default). Without
    /// the detector's weights: the CelebA crop for 178:218 photos, else [`Crop::Center`], with a
    /// warning. Detection happens in [`crate::job::load_photos`] ([`crate::faces::FaceFinder`]);
    /// [`frame_box`] and [`Photo::from_image`] alone take `Auto` as that fallback.
    #[default]
    Auto,
    /// Detect every face and align each to the model's frame (several faces, several inputs);
    /// a photo without a face is an error.
    Align,
    /// The model's CelebA crop, scaled to the photo, whatever its shape.
    Celeba,
    /// The largest centred square (both papers train on squares).
    Center,
    /// A box in pixels of the (EXIF-rotated) photo: left, top, width, height.
    Manual {
        /// Left column.
        x: u32,
        /// Top row.
        y: u32,
        /// Width.
        w: u32,
        /// Height.
        h: u32,
    },
}

impl std::str::FromStr for Crop {
    type Err = EditError;

    /// `auto`, `align`, `celeba`, `center` (or `centre`), or `x,y,w,h`.
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => return Ok(Crop::Auto),
            "align" => return Ok(Crop::Align),
            "celeba" => return Ok(Crop::Celeba),
            "center" | "centre" => return Ok(Crop::Center),
            _ => {}
        }
        let bad = |why: &str| EditError::BadArgument {
            flag: "--crop",
            text: s.to_string(),
            why: format!(
                "{why}; write auto, align, celeba, center, or a box x,y,w,h in pixels (e.g. 40,60,300,300)"
            ),
        };
        let v: Vec<u32> = s
            .split(',')
            .map(|p| p.trim().parse::<u32>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|_| bad("not four whole numbers"))?;
        match v[..] {
            [x, y, w, h] if w > 0 && h > 0 => Ok(Crop::Manual { x, y, w, h }),
            [_, _, _, _] => Err(bad("the width and height must be positive")),
            _ => Err(bad("not four numbers")),
        }
    }
}

/// How a photo was actually framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramedBy {
    /// The model's CelebA crop.
    Celeba,
    /// A centred square.
    Center,
    /// The user's box.
    Manual,
    /// Detected and aligned to the model's frame by a similarity ([`Photo::to_frame`]).
    Aligned,
}

/// A decoded, framed photo.
#[derive(Debug, Clone)]
pub struct Photo {
    /// The file it came from.
    pub path: PathBuf,
    /// The photo, RGB, EXIF orientation applied, at most [`WORKING_SIDE`] a side (a larger photo
    /// is downscaled in u8 once its face is taken, so a batch of photos holds a bounded size).
    pub image: RgbImage,
    /// The box that was resized to the model's input, in `image`'s pixels (for an aligned face:
    /// the bounding box of its frame, clipped to the photo).
    pub crop: CropBox,
    /// For an aligned face, the map from `image`'s pixels to the model input's (paste-back uses
    /// its inverse); `None` for a box crop.
    pub to_frame: Option<sliders_align::Similarity>,
    /// How the box was chosen.
    pub framed_by: FramedBy,
    /// The model input: `[3, S, S]` u8, planar CHW.
    pub face: Vec<u8>,
    /// `S`.
    pub size: u32,
}

/// The largest side of the photo a [`Photo`] keeps (for `--paste-back`): 2048 px, 12.6 MB as
/// RGB8. The face is resampled from the full-size decode first, so the model input is the same
/// for any photo size; only the pasted-back photo is at most this size.
pub const WORKING_SIDE: u32 = 2048;

/// Tolerance on the width/height ratio for recognising an aligned CelebA-shaped image.
const CELEBA_ASPECT_TOLERANCE: f64 = 0.02;

/// Decodes a JPEG or PNG file by content with the default [`DecodeLimits`]: EXIF orientation
/// applied, grayscale expanded to RGB, alpha composited over white.
pub fn decode(path: &Path) -> Result<RgbImage> {
    decode_with(path, &DecodeLimits::default())
}

/// [`decode`] within `limits` (the file's size is checked against them before it is read, its
/// header before any pixel is decoded).
pub fn decode_with(path: &Path, limits: &DecodeLimits) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|source| EditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    decode_bytes_with(&bytes, path, limits)
}

/// [`decode`] on bytes already read (`path` is for messages).
pub fn decode_bytes(bytes: &[u8], path: &Path) -> Result<RgbImage> {
    decode_bytes_with(bytes, path, &DecodeLimits::default())
}

/// [`decode_bytes`] within `limits`: the one decoder of the project,
/// [`sliders_celeba::decode::decode`] (header checked before any allocation, truncated files
/// refused, alpha composited in u8).
pub fn decode_bytes_with(bytes: &[u8], path: &Path, limits: &DecodeLimits) -> Result<RgbImage> {
    Ok(sliders_celeba::decode::decode(bytes, path, limits, true)?)
}

/// Whether a `w`x`h` image has the shape of an aligned CelebA image (178:218).
pub fn has_celeba_shape(w: u32, h: u32) -> bool {
    let r = f64::from(w) / f64::from(h);
    let c = f64::from(CELEBA_WIDTH) / f64::from(CELEBA_HEIGHT);
    (r / c - 1.0).abs() <= CELEBA_ASPECT_TOLERANCE
}

/// The box `crop` selects in a `w`x`h` image for a model trained with `framing`.
pub fn frame_box(
    path: &Path,
    w: u32,
    h: u32,
    framing: Framing,
    crop: Crop,
) -> Result<(CropBox, FramedBy)> {
    let center = || {
        let s = w.min(h);
        CropBox {
            x0: (w - s) / 2,
            y0: (h - s) / 2,
            x1: (w - s) / 2 + s,
            y1: (h - s) / 2 + s,
        }
    };
    Ok(match crop {
        Crop::Auto if has_celeba_shape(w, h) => (crop_box(framing, w, h), FramedBy::Celeba),
        Crop::Auto | Crop::Align | Crop::Center => (center(), FramedBy::Center),
        Crop::Celeba => (crop_box(framing, w, h), FramedBy::Celeba),
        Crop::Manual { x, y, w: bw, h: bh } => {
            let fits = x.checked_add(bw).is_some_and(|e| e <= w)
                && y.checked_add(bh).is_some_and(|e| e <= h);
            if !fits {
                return Err(EditError::CropOutside {
                    path: path.to_path_buf(),
                    x,
                    y,
                    w: bw,
                    h: bh,
                    image_w: w,
                    image_h: h,
                });
            }
            (
                CropBox {
                    x0: x,
                    y0: y,
                    x1: x + bw,
                    y1: y + bh,
                },
                FramedBy::Manual,
            )
        }
    })
}

impl Photo {
    /// Reads `path` and frames it for a model of side `size` trained with `framing`. Fails when
    /// the file cannot be read or decoded, when a manual box does not fit, or when the box is
    /// smaller than `size` (the model would see an enlarged, blurred face).
    pub fn load(path: &Path, size: u32, framing: Framing, crop: Crop) -> Result<Self> {
        Self::load_with(path, size, framing, crop, &DecodeLimits::default())
    }

    /// [`Photo::load`] within decode `limits`.
    pub fn load_with(
        path: &Path,
        size: u32,
        framing: Framing,
        crop: Crop,
        limits: &DecodeLimits,
    ) -> Result<Self> {
        let image = decode_with(path, limits)?;
        Self::from_image(path, image, size, framing, crop)
    }

    /// [`Photo::load`] on an already decoded image.
    pub fn from_image(
        path: &Path,
        image: RgbImage,
        size: u32,
        framing: Framing,
        crop: Crop,
    ) -> Result<Self> {
        let (w, h) = image.dimensions();
        let (b, framed_by) = frame_box(path, w, h, framing, crop)?;
        if b.width() < size || b.height() < size {
            return Err(EditError::TooSmall {
                path: path.to_path_buf(),
                width: b.width(),
                height: b.height(),
                size,
            });
        }
        let s = size as usize;
        let mut face = vec![0u8; 3 * s * s];
        Resampler::new(b.width() as usize, b.height() as usize, s, s).run(
            image.as_raw(),
            w as usize * 3,
            b.x0 as usize,
            b.y0 as usize,
            &mut face,
            &mut Vec::new(),
        );
        let (image, crop) = working_copy(image, b, WORKING_SIDE);
        Ok(Self {
            path: path.to_path_buf(),
            image,
            crop,
            to_frame: None,
            framed_by,
            face,
            size,
        })
    }
}

/// `image` downscaled (area averaging, in u8) so that its longer side is at most `max_side`,
/// and `crop` scaled with it; both unchanged when it is already that small. The full-size
/// buffer is freed before the smaller one is filled in.
pub fn working_copy(image: RgbImage, crop: CropBox, max_side: u32) -> (RgbImage, CropBox) {
    let (w, h) = image.dimensions();
    if w.max(h) <= max_side {
        return (image, crop);
    }
    let (nw, nh) = downscaled_size(w, h, max_side);
    let planar = resampled(&image, nw, nh);
    drop(image);
    let x0 = scale(crop.x0, w, nw).min(nw - 1);
    let y0 = scale(crop.y0, h, nh).min(nh - 1);
    let crop = CropBox {
        x0,
        y0,
        x1: scale(crop.x1, w, nw).clamp(x0 + 1, nw),
        y1: scale(crop.y1, h, nh).clamp(y0 + 1, nh),
    };
    (interleaved(&planar, nw, nh), crop)
}

/// `v` of a side `from` long scaled to a side `to` long, rounded.
fn scale(v: u32, from: u32, to: u32) -> u32 {
    ((u64::from(v) * u64::from(to) + u64::from(from) / 2) / u64::from(from)) as u32
}

/// The size of a `w`×`h` image whose longer side is brought to `max_side`.
fn downscaled_size(w: u32, h: u32, max_side: u32) -> (u32, u32) {
    if w >= h {
        (max_side, scale(h, w, max_side).max(1))
    } else {
        (scale(w, h, max_side).max(1), max_side)
    }
}

/// `image` resampled to `nw`×`nh` (area averaging, in u8), as planar CHW bytes.
fn resampled(image: &RgbImage, nw: u32, nh: u32) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let mut planar = vec![0u8; 3 * nw as usize * nh as usize];
    Resampler::new(w as usize, h as usize, nw as usize, nh as usize).run(
        image.as_raw(),
        w as usize * 3,
        0,
        0,
        &mut planar,
        &mut Vec::new(),
    );
    planar
}

/// Planar CHW bytes as an RGB image.
fn interleaved(planar: &[u8], w: u32, h: u32) -> RgbImage {
    let plane = w as usize * h as usize;
    let rgb: Vec<u8> = (0..plane)
        .flat_map(|i| [planar[i], planar[plane + i], planar[2 * plane + i]])
        .collect();
    RgbImage::from_raw(w, h, rgb).expect("3 bytes per pixel")
}

/// A copy of `image` at most `max_side` a side (area averaging, in u8; the same resampler as
/// [`working_copy`]), without copying the full-size image first: the face detector searches
/// such a copy of a large photo.
pub fn downscaled(image: &RgbImage, max_side: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    if w.max(h) <= max_side {
        return image.clone();
    }
    let (nw, nh) = downscaled_size(w, h, max_side);
    interleaved(&resampled(image, nw, nh), nw, nh)
}

/// An RGB image as planar CHW bytes (a [`Photo::face`]'s layout).
pub fn planar(image: &RgbImage) -> Vec<u8> {
    let n = image.width() as usize * image.height() as usize;
    let mut out = vec![0u8; 3 * n];
    for (i, p) in image.pixels().enumerate() {
        for c in 0..3 {
            out[c * n + i] = p.0[c];
        }
    }
    out
}

/// Planar CHW u8 `[3, S, S]` faces into a `[B, 3, S, S]` f32 tensor in [−1, 1] (`x / 255 · 2 − 1`,
/// as the training batches).
pub fn to_tensor(faces: &[&[u8]], size: u32) -> tch::Tensor {
    let s = i64::from(size);
    let mut v = Vec::with_capacity(faces.iter().map(|f| f.len()).sum());
    for f in faces {
        v.extend(f.iter().map(|&b| f32::from(b) / 255.0 * 2.0 - 1.0));
    }
    tch::Tensor::from_slice(&v).view([faces.len() as i64, 3, s, s])
}

/// Image `i` of a `[B, 3, S, S]` tensor in [−1, 1] as an RGB image (values rounded and clamped).
pub fn to_image(batch: &tch::Tensor, i: i64) -> RgbImage {
    let t = batch.get(i).to_device(tch::Device::Cpu);
    let t = ((t + 1.0) * 127.5)
        .round()
        .clamp(0.0, 255.0)
        .to_kind(tch::Kind::Uint8)
        .permute([1, 2, 0])
        .contiguous();
    let size = t.size();
    let (h, w) = (size[0] as u32, size[1] as u32);
    let mut buf = vec![0u8; (3 * h * w) as usize];
    let n = buf.len();
    t.copy_data_u8(&mut buf, n);
    RgbImage::from_raw(w, h, buf).expect("buffer of the right size")
}
