//! Paste-back: the edited `S`x`S` face resized to its box in the original photo (area averaging
//! or Lanczos3, the training resampler) and blended in with a feathered border so no seam shows.
//! No paper section: neither paper puts an edit back into the source photo.

use image::RgbImage;
use sliders_celeba::framing::CropBox;
use sliders_celeba::resize::Resampler;

/// Width of the feathered border, as a fraction of the box's shorter side.
pub const FEATHER: f64 = 0.08;

/// `original` with `edited` (an `S`x`S` RGB image) resized into `crop` and blended: weight 1
/// inside, falling smoothly to 0 over the last [`FEATHER`] of the box towards each edge. The
/// result has the size of `original`; outside the box it is `original` unchanged.
pub fn paste_back(original: &RgbImage, crop: CropBox, edited: &RgbImage) -> RgbImage {
    let (bw, bh) = (crop.width() as usize, crop.height() as usize);
    let (ew, eh) = (edited.width() as usize, edited.height() as usize);
    let mut planar = vec![0u8; 3 * bw * bh];
    Resampler::new(ew, eh, bw, bh).run(edited.as_raw(), ew * 3, 0, 0, &mut planar, &mut Vec::new());
    let feather = (FEATHER * bw.min(bh) as f64).max(1.0);
    let ramp = |d: usize| {
        // Distance from the edge in pixels (pixel centres), smoothstep over `feather`.
        let t = ((d as f64 + 0.5) / feather).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    };
    let mut out = original.clone();
    let plane = bw * bh;
    for y in 0..bh {
        let wy = ramp(y.min(bh - 1 - y));
        for x in 0..bw {
            let w = wy.min(ramp(x.min(bw - 1 - x)));
            let px = out.get_pixel_mut(crop.x0 + x as u32, crop.y0 + y as u32);
            for c in 0..3 {
                let e = f64::from(planar[c * plane + y * bw + x]);
                let o = f64::from(px.0[c]);
                px.0[c] = (o + (e - o) * w).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Where a framed face sits in its photo, in the pixels of a copy of that photo of a given size:
/// what paste-back needs once the photo is decoded again at another size (`sliders serve` keeps
/// the upload's bytes and pastes into the full-resolution photo on download).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Placement {
    /// An aligned face: photo pixels → the model input's.
    Aligned(sliders_align::Similarity),
    /// A box crop, resized to the model's input.
    Box(CropBox),
}

impl Placement {
    /// The placement of `photo`'s face in a `width`×`height` copy of `photo.image` (the same
    /// picture at another resolution, e.g. the full-size decode of a photo kept downscaled).
    pub fn of(photo: &crate::Photo, width: u32, height: u32) -> Self {
        let (kw, kh) = photo.image.dimensions();
        if (kw, kh) == (width, height) || kw == 0 || kh == 0 {
            return match photo.to_frame {
                Some(t) => Self::Aligned(t),
                None => Self::Box(photo.crop),
            };
        }
        let (sx, sy) = (
            f64::from(width) / f64::from(kw),
            f64::from(height) / f64::from(kh),
        );
        match photo.to_frame {
            Some(t) => {
                let to_kept = sliders_align::Similarity::new(1.0 / sx, 0.0, 0.0, 0.0);
                Self::Aligned(t.after(&to_kept))
            }
            None => {
                let c = photo.crop;
                let scale = |v: u32, s: f64, max: u32| ((f64::from(v) * s).round() as u32).min(max);
                let (x0, y0) = (scale(c.x0, sx, width - 1), scale(c.y0, sy, height - 1));
                Self::Box(CropBox {
                    x0,
                    y0,
                    x1: scale(c.x1, sx, width).max(x0 + 1),
                    y1: scale(c.y1, sy, height).max(y0 + 1),
                })
            }
        }
    }

    /// `photo` (of the size this placement was made for) with `edited` blended in: through the
    /// inverse similarity ([`sliders_align::paste_back`]) or resized into the box
    /// ([`paste_back`]). The result has `photo`'s size.
    pub fn paste(&self, photo: &RgbImage, edited: &RgbImage) -> RgbImage {
        match self {
            Self::Aligned(t) => sliders_align::paste_back(photo, edited, t),
            Self::Box(b) => paste_back(photo, *b, edited),
        }
    }
}
