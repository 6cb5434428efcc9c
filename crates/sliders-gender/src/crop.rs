//! Where the face is in a framed image, and the 32x32 face chip the network reads.
//!
//! The network was checked on a square of side 104 centred at (89, 136) of an official 178x218
//! aligned CelebA image (columns 37..141, rows 84..188). For a framed image that box is mapped
//! into the framed square: the Fader framing (rows 20..198, 178 columns) holds it whole, at
//! columns 37..141, rows 64..168 of its 178x178; the IcGAN framing (columns 30..168, rows
//! 40..178) cuts it: in its 138x138 the box is columns 7..111 and rows 44..148, so its bottom
//! 10 rows (about 10% of the box, the chin) lie below the image. Those rows are **padded by
//! repeating the image's edge** (clamp-to-edge sampling), so the chip keeps the scale and
//! position the network expects; expect the IcGAN verdicts to be slightly less reliable.

use crate::{FramedImage, Framing};
use image::{RgbImage, imageops};

/// Side of the network's input chip, in pixels.
pub const CHIP_SIZE: u32 = 32;

/// The face box on the 178x218 reference image: centre x, centre y, side.
const FACE: (f64, f64, f64) = (89.0, 136.0, 104.0);

/// A box in continuous pixel coordinates of an image (pixel `i` spans `i..i+1`); it may extend
/// past the image's edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaceBox {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Width (equal to `height` for square framed images).
    pub width: f64,
    /// Height.
    pub height: f64,
}

impl FaceBox {
    /// Whether the box lies within a `width` x `height` image (no padding needed).
    pub fn is_inside(&self, width: u32, height: u32) -> bool {
        self.x0 >= 0.0
            && self.y0 >= 0.0
            && self.x0 + self.width <= f64::from(width)
            && self.y0 + self.height <= f64::from(height)
    }
}

/// The framing's box on the 178x218 reference image: left, top, width, height.
fn framed_region(framing: Framing) -> (f64, f64, f64, f64) {
    match framing {
        Framing::Fader => (0.0, 20.0, 178.0, 178.0),
        Framing::Icgan => (30.0, 40.0, 138.0, 138.0),
        Framing::CelebaAligned => (0.0, 0.0, 178.0, 218.0),
    }
}

/// The face box of a `width` x `height` image framed by `framing`: the reference box, shifted
/// into the framed region and scaled by `width / region width` and `height / region height`.
pub fn face_box(framing: Framing, width: u32, height: u32) -> FaceBox {
    let (left, top, region_w, region_h) = framed_region(framing);
    let sx = f64::from(width) / region_w;
    let sy = f64::from(height) / region_h;
    let (cx, cy, side) = FACE;
    FaceBox {
        x0: (cx - side / 2.0 - left) * sx,
        y0: (cy - side / 2.0 - top) * sy,
        width: side * sx,
        height: side * sy,
    }
}

/// The 32x32 RGB face chip of an image: its [`face_box`] rounded to whole pixels, cut out with
/// clamp-to-edge padding where it passes the image's edge, and resized with a triangle
/// (bilinear, antialiased when shrinking) filter. The buffer must be consistent (see
/// [`FramedImage::new`]).
pub fn face_chip(image: &FramedImage) -> RgbImage {
    let b = face_box(image.framing, image.width, image.height);
    let x0 = b.x0.round() as i64;
    let y0 = b.y0.round() as i64;
    let w = ((b.x0 + b.width).round() as i64 - x0).max(1);
    let h = ((b.y0 + b.height).round() as i64 - y0).max(1);
    let max_x = i64::from(image.width) - 1;
    let max_y = i64::from(image.height) - 1;
    let crop = RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let sx = (x0 + i64::from(x)).clamp(0, max_x) as usize;
        let sy = (y0 + i64::from(y)).clamp(0, max_y) as usize;
        let i = (sy * image.width as usize + sx) * 3;
        image::Rgb([image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]])
    });
    if crop.dimensions() == (CHIP_SIZE, CHIP_SIZE) {
        return crop;
    }
    imageops::resize(&crop, CHIP_SIZE, CHIP_SIZE, imageops::FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(b: FaceBox, want: (f64, f64, f64, f64)) {
        let got = (b.x0, b.y0, b.width, b.height);
        let ok = [
            (got.0, want.0),
            (got.1, want.1),
            (got.2, want.2),
            (got.3, want.3),
        ]
        .iter()
        .all(|(g, w)| (g - w).abs() < 1e-9);
        assert!(ok, "got {got:?}, want {want:?}");
    }

    #[test]
    fn aligned_box_is_the_checked_one() {
        let b = face_box(Framing::CelebaAligned, 178, 218);
        close(b, (37.0, 84.0, 104.0, 104.0));
        assert!(b.is_inside(178, 218));
        // The 2x downscaled development sample.
        close(
            face_box(Framing::CelebaAligned, 89, 109),
            (18.5, 42.0, 52.0, 52.0),
        );
    }

    #[test]
    fn fader_box_lies_inside_the_square() {
        let b = face_box(Framing::Fader, 178, 178);
        close(b, (37.0, 64.0, 104.0, 104.0));
        assert!(b.is_inside(178, 178));
        let s = 64.0 / 178.0;
        let b = face_box(Framing::Fader, 64, 64);
        close(b, (37.0 * s, 64.0 * s, 104.0 * s, 104.0 * s));
        assert!(b.is_inside(64, 64));
        let b = face_box(Framing::Fader, 256, 256);
        assert!(b.is_inside(256, 256));
    }

    #[test]
    fn icgan_box_passes_the_bottom_edge() {
        let b = face_box(Framing::Icgan, 138, 138);
        close(b, (7.0, 44.0, 104.0, 104.0));
        assert!(!b.is_inside(138, 138));
        assert!((b.y0 + b.height - 148.0).abs() < 1e-9);
        let s = 64.0 / 138.0;
        close(
            face_box(Framing::Icgan, 64, 64),
            (7.0 * s, 44.0 * s, 104.0 * s, 104.0 * s),
        );
    }

    /// A 178x218 image whose pixels encode their coordinates.
    fn coordinate_image() -> RgbImage {
        RgbImage::from_fn(178, 218, |x, y| {
            image::Rgb([x as u8, y as u8, ((x * 7 + y * 3) % 256) as u8])
        })
    }

    #[test]
    fn framing_then_cropping_gives_the_aligned_chip() {
        let aligned = coordinate_image();
        let reference = face_chip(&FramedImage::from_rgb(
            aligned.clone(),
            Framing::CelebaAligned,
        ));
        assert_eq!(reference.dimensions(), (32, 32));
        let fader = imageops::crop_imm(&aligned, 0, 20, 178, 178).to_image();
        assert_eq!(
            face_chip(&FramedImage::from_rgb(fader, Framing::Fader)),
            reference
        );
        // IcGAN: same chip except where the box leaves the framed square (the bottom rows).
        let icgan = imageops::crop_imm(&aligned, 30, 40, 138, 138).to_image();
        let chip = face_chip(&FramedImage::from_rgb(icgan, Framing::Icgan));
        for y in 0..26 {
            for x in 0..32 {
                assert_eq!(chip.get_pixel(x, y), reference.get_pixel(x, y), "({x},{y})");
            }
        }
        // The padded rows repeat the framed square's last row (reference row 177).
        assert_eq!(chip.get_pixel(16, 31)[1], 177);
    }

    #[test]
    fn chip_of_a_tiny_image_is_still_32x32() {
        let tiny = FramedImage::new(1, 1, vec![9, 8, 7], Framing::Icgan).unwrap();
        let chip = face_chip(&tiny);
        assert_eq!(chip.dimensions(), (32, 32));
        assert!(chip.pixels().all(|p| p.0 == [9, 8, 7]));
    }
}
