//! The two papers' crops of an aligned CelebA image, scaled to the source resolution: Fader's
//! square of rows 20..198 (docs/fader-networks.md#framing-and-resizing) and IcGAN's box
//! (30,40)-(168,178) (docs/icgan.md#framing-and-resizing),
//! both given for the official 178x218 images.

use sliders_config::data::Framing;

/// Width of an official aligned CelebA image.
pub const CELEBA_WIDTH: u32 = 178;
/// Height of an official aligned CelebA image.
pub const CELEBA_HEIGHT: u32 = 218;

/// A crop box in pixels, `x0..x1` columns and `y0..y1` rows (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CropBox {
    /// First column.
    pub x0: u32,
    /// First row.
    pub y0: u32,
    /// One past the last column.
    pub x1: u32,
    /// One past the last row.
    pub y1: u32,
}

impl CropBox {
    /// Width of the box.
    pub fn width(&self) -> u32 {
        self.x1 - self.x0
    }
    /// Height of the box.
    pub fn height(&self) -> u32 {
        self.y1 - self.y0
    }
}

/// The box of a framing on a 178x218 image.
pub fn reference_box(framing: Framing) -> CropBox {
    match framing {
        Framing::Fader => CropBox {
            x0: 0,
            y0: 20,
            x1: 178,
            y1: 198,
        },
        Framing::Icgan => CropBox {
            x0: 30,
            y0: 40,
            x1: 168,
            y1: 178,
        },
    }
}

/// The framing's box scaled to a `width` x `height` source (x by `width/178`, y by
/// `height/218`, edges rounded to the nearest pixel and clamped inside the image). On 89x109 (the
/// 2x downscaled sample) Fader gives rows 10..99 (89x89) and IcGAN (15,20)-(84,89) (69x69).
pub fn crop_box(framing: Framing, width: u32, height: u32) -> CropBox {
    let r = reference_box(framing);
    let sx = f64::from(width) / f64::from(CELEBA_WIDTH);
    let sy = f64::from(height) / f64::from(CELEBA_HEIGHT);
    let scale = |v: u32, s: f64, max: u32| ((f64::from(v) * s).round() as u32).min(max);
    let mut b = CropBox {
        x0: scale(r.x0, sx, width),
        y0: scale(r.y0, sy, height),
        x1: scale(r.x1, sx, width),
        y1: scale(r.y1, sy, height),
    };
    // Never empty, even on tiny images.
    if b.x1 <= b.x0 {
        b.x1 = (b.x0 + 1).min(width.max(1));
        b.x0 = b.x1 - 1;
    }
    if b.y1 <= b.y0 {
        b.y1 = (b.y0 + 1).min(height.max(1));
        b.y0 = b.y1 - 1;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn full_size_boxes() {
        let f = crop_box(Framing::Fader, 178, 218);
        assert_eq!((f.x0, f.y0, f.width(), f.height()), (0, 20, 178, 178));
        let i = crop_box(Framing::Icgan, 178, 218);
        assert_eq!((i.x0, i.y0, i.width(), i.height()), (30, 40, 138, 138));
    }

    #[test]
    fn half_size_boxes() {
        let f = crop_box(Framing::Fader, 89, 109);
        assert_eq!((f.x0, f.y0, f.x1, f.y1), (0, 10, 89, 99));
        let i = crop_box(Framing::Icgan, 89, 109);
        assert_eq!((i.x0, i.y0, i.x1, i.y1), (15, 20, 84, 89));
    }

    proptest! {
        #[test]
        fn box_inside_and_nonempty(w in 1u32..400, h in 1u32..500, icgan in any::<bool>()) {
            let fr = if icgan { Framing::Icgan } else { Framing::Fader };
            let b = crop_box(fr, w, h);
            prop_assert!(b.x0 < b.x1 && b.x1 <= w);
            prop_assert!(b.y0 < b.y1 && b.y1 <= h);
        }
    }
}
