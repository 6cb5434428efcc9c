//! Resampling through a similarity: a photo warped into a model's input frame (bilinear,
//! supersampled when the frame is smaller than the face in the photo, so a large photo does not
//! alias; memory at the frame's size only), and an edited frame pasted back into the photo
//! through the inverse map with a feathered border, at the photo's resolution.

use crate::similarity::Similarity;
use image::RgbImage;

/// Samples per axis at most when shrinking (a frame at 1/8 of the photo's scale or less).
pub const MAX_SUPERSAMPLE: u32 = 8;

/// Width of the feathered border of [`paste_back`], as a fraction of the frame's shorter side.
pub const FEATHER: f64 = 0.1;

/// The colour at continuous position `(x, y)` of `image`, bilinear between pixel centres, the
/// border pixels repeated outside.
pub fn sample(image: &RgbImage, x: f64, y: f64) -> [f64; 3] {
    let (w, h) = (image.width() as i64, image.height() as i64);
    let (px, py) = (x - 0.5, y - 0.5);
    let (x0, y0) = (px.floor(), py.floor());
    let (fx, fy) = (px - x0, py - y0);
    let ix = |v: f64| (v as i64).clamp(0, w - 1) as u32;
    let iy = |v: f64| (v as i64).clamp(0, h - 1) as u32;
    let (xa, xb, ya, yb) = (ix(x0), ix(x0 + 1.0), iy(y0), iy(y0 + 1.0));
    let p = |x, y| image.get_pixel(x, y).0;
    let (p00, p10, p01, p11) = (p(xa, ya), p(xb, ya), p(xa, yb), p(xb, yb));
    std::array::from_fn(|c| {
        let top = f64::from(p00[c]) * (1.0 - fx) + f64::from(p10[c]) * fx;
        let bottom = f64::from(p01[c]) * (1.0 - fx) + f64::from(p11[c]) * fx;
        top * (1.0 - fy) + bottom * fy
    })
}

/// `image` seen through `to_frame` (photo coordinates → frame coordinates) as a
/// `width`×`height` RGB image. Each output pixel averages `k`×`k` bilinear samples spread over
/// its footprint, `k = ⌈1 / scale⌉` (at most [`MAX_SUPERSAMPLE`]), which approximates the area
/// averaging of the training pipeline's resizer when the face is larger than the frame.
pub fn warp(image: &RgbImage, to_frame: &Similarity, width: u32, height: u32) -> RgbImage {
    let back = to_frame.inverse();
    let k = (1.0 / to_frame.scale())
        .ceil()
        .clamp(1.0, f64::from(MAX_SUPERSAMPLE)) as u32;
    let offsets: Vec<f64> = (0..k)
        .map(|i| (f64::from(i) + 0.5) / f64::from(k))
        .collect();
    let n = f64::from(k * k);
    let mut out = RgbImage::new(width, height);
    for (x, y, px) in out.enumerate_pixels_mut() {
        let mut acc = [0.0; 3];
        for oy in &offsets {
            for ox in &offsets {
                let [sx, sy] = back.apply([f64::from(x) + ox, f64::from(y) + oy]);
                let c = sample(image, sx, sy);
                for (a, v) in acc.iter_mut().zip(c) {
                    *a += v;
                }
            }
        }
        px.0 = acc.map(|a| (a / n).round().clamp(0.0, 255.0) as u8);
    }
    out
}

/// `photo` with `edited` (a frame produced by [`warp`] with `to_frame`, then edited) put back
/// in place: each photo pixel whose centre maps inside the frame takes the edited colour
/// (bilinear in the frame), weighted by a smoothstep from 0 at the frame's edge to 1 at
/// [`FEATHER`] of its shorter side inside, so no seam shows. The result has the photo's size.
pub fn paste_back(photo: &RgbImage, edited: &RgbImage, to_frame: &Similarity) -> RgbImage {
    let (fw, fh) = (f64::from(edited.width()), f64::from(edited.height()));
    let feather = (FEATHER * fw.min(fh)).max(1.0);
    let back = to_frame.inverse();
    let (lo, hi) = back.bounds(fw, fh);
    let clampx = |v: f64, max: u32| (v.max(0.0) as u32).min(max);
    let (x0, x1) = (
        clampx(lo[0].floor(), photo.width()),
        clampx(hi[0].ceil(), photo.width()),
    );
    let (y0, y1) = (
        clampx(lo[1].floor(), photo.height()),
        clampx(hi[1].ceil(), photo.height()),
    );
    let mut out = photo.clone();
    for y in y0..y1 {
        for x in x0..x1 {
            let [u, v] = to_frame.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            let edge = u.min(fw - u).min(v).min(fh - v);
            if edge <= 0.0 {
                continue;
            }
            let t = (edge / feather).min(1.0);
            let weight = t * t * (3.0 - 2.0 * t);
            let e = sample(edited, u, v);
            let px = out.get_pixel_mut(x, y);
            for (o, e) in px.0.iter_mut().zip(e) {
                let f = f64::from(*o);
                *o = (f + (e - f) * weight).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth test pattern (bilinear resampling is exact on affine colour ramps).
    fn ramp(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 2) as u8, ((x + y) % 256) as u8])
        })
    }

    #[test]
    fn identity_warp_is_a_copy_and_a_shift_moves_pixels() {
        let img = ramp(40, 30);
        assert_eq!(warp(&img, &Similarity::IDENTITY, 40, 30), img);
        let shifted = warp(&img, &Similarity::new(1.0, 0.0, -5.0, -3.0), 20, 20);
        assert_eq!(shifted.get_pixel(0, 0), img.get_pixel(5, 3));
        assert_eq!(shifted.get_pixel(19, 19), img.get_pixel(24, 22));
    }

    #[test]
    fn warp_then_paste_back_restores_the_photo() {
        // A rotated, scaled frame: pasting the unedited frame back changes the photo only by
        // the resampling error inside the frame and not at all outside it.
        let img = ramp(120, 100);
        let t = Similarity::new(1.3, 0.35, -20.0, -45.0);
        let frame = warp(&img, &t, 64, 64);
        let back = paste_back(&img, &frame, &t);
        let mut worst = 0u8;
        for (x, y, p) in back.enumerate_pixels() {
            let q = img.get_pixel(x, y);
            let d = (0..3).map(|c| p.0[c].abs_diff(q.0[c])).max().unwrap();
            let [u, v] = t.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            if !(0.0..64.0).contains(&u) || !(0.0..64.0).contains(&v) {
                assert_eq!(d, 0, "pixel ({x}, {y}) outside the frame changed");
            }
            worst = worst.max(d);
        }
        assert!(worst <= 3, "round trip error {worst}");
        assert_ne!(back, RgbImage::new(120, 100));
    }

    #[test]
    fn paste_back_feathers_the_border() {
        let photo = RgbImage::from_pixel(50, 50, image::Rgb([0, 0, 0]));
        let white = RgbImage::from_pixel(20, 20, image::Rgb([255, 255, 255]));
        let t = Similarity::new(1.0, 0.0, -15.0, -15.0);
        let out = paste_back(&photo, &white, &t);
        assert_eq!(out.get_pixel(25, 25).0, [255; 3]); // the centre, beyond the feather
        assert_eq!(out.get_pixel(10, 25).0, [0; 3]); // outside the frame
        let edge = out.get_pixel(15, 25).0[0]; // half a pixel inside the frame
        assert!(edge > 0 && edge < 128, "edge {edge}");
    }

    #[test]
    fn shrinking_warps_average_instead_of_aliasing() {
        // A one-pixel checkerboard shrunk 4x: supersampling gives the mean grey, not a pattern.
        let board = RgbImage::from_fn(64, 64, |x, y| image::Rgb([((x + y) % 2 * 255) as u8; 3]));
        let small = warp(&board, &Similarity::new(0.25, 0.0, 0.0, 0.0), 16, 16);
        for p in small.pixels() {
            assert!((100..=155).contains(&p.0[0]), "{:?}", p.0);
        }
    }
}
