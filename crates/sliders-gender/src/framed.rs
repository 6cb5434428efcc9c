//! The judge's input: an RGB image and how it was framed (which part of an aligned CelebA image
//! it shows).

use crate::GenderError;
use ndarray::ArrayView3;

/// Which part of an aligned CelebA image (178x218 in the official release) a picture shows. The
/// boxes are those of `sliders_config::data::Framing` and `sliders_celeba::framing`; each framed
/// box may have been resized to any size (the crop scales with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Fader Networks framing: rows 20..198 and all 178 columns (a 178x178 square).
    Fader,
    /// IcGAN framing: columns 30..168, rows 40..178 (a 138x138 square).
    Icgan,
    /// The whole aligned image (178x218, or the same proportions at another resolution, such as
    /// the 89x109 development sample).
    CelebaAligned,
}

impl From<sliders_config::data::Framing> for Framing {
    fn from(framing: sliders_config::data::Framing) -> Self {
        match framing {
            sliders_config::data::Framing::Fader => Framing::Fader,
            sliders_config::data::Framing::Icgan => Framing::Icgan,
        }
    }
}

/// One image to judge: `width` x `height` RGB bytes in HWC order (rows top to bottom), plus its
/// framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramedImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `height * width * 3` bytes, `[row][column][r, g, b]`.
    pub pixels: Vec<u8>,
    /// What part of the aligned CelebA face the image shows.
    pub framing: Framing,
}

impl FramedImage {
    /// An image from raw HWC RGB bytes; the buffer length must be `width * height * 3`.
    pub fn new(
        width: u32,
        height: u32,
        pixels: Vec<u8>,
        framing: Framing,
    ) -> Result<Self, GenderError> {
        let image = Self {
            width,
            height,
            pixels,
            framing,
        };
        image.check(0)?;
        Ok(image)
    }

    /// An image from an `image` crate RGB buffer (never fails: the buffer is consistent).
    pub fn from_rgb(image: image::RgbImage, framing: Framing) -> Self {
        Self {
            width: image.width(),
            height: image.height(),
            pixels: image.into_raw(),
            framing,
        }
    }

    /// An image from planar CHW bytes `[3, height, width]` (the layout of an image tensor and of
    /// the preprocessing caches of `sliders-celeba`; tensors convert with tch's ndarray
    /// conversion at the caller's boundary). Errors on an empty image or another channel count.
    pub fn from_chw(chw: ArrayView3<'_, u8>, framing: Framing) -> Result<Self, GenderError> {
        let (channels, height, width) = chw.dim();
        let (width, height) = (width as u32, height as u32);
        let expected = width as usize * height as usize * 3;
        if expected == 0 || channels != 3 {
            return Err(GenderError::BadImage {
                index: 0,
                width,
                height,
                expected,
                actual: chw.len(),
            });
        }
        // The HWC view's logical order is the interleaved byte order.
        let pixels = chw.permuted_axes([1, 2, 0]).iter().copied().collect();
        Ok(Self {
            width,
            height,
            pixels,
            framing,
        })
    }

    /// Checks that the buffer matches the size and that the image is not empty; `index` names the
    /// image in the error.
    pub(crate) fn check(&self, index: usize) -> Result<(), GenderError> {
        let expected = self.width as usize * self.height as usize * 3;
        if expected == 0 || self.pixels.len() != expected {
            return Err(GenderError::BadImage {
                index,
                width: self.width,
                height: self.height,
                expected,
                actual: self.pixels.len(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chw_and_hwc_agree() {
        let chw = [1, 2, 3, 4, 5, 6]; // 2x1: R plane [1,2], G [3,4], B [5,6]
        let view = ArrayView3::from_shape((3, 1, 2), &chw).unwrap();
        let image = FramedImage::from_chw(view, Framing::Fader).unwrap();
        assert_eq!((image.width, image.height), (2, 1));
        assert_eq!(image.pixels, [1, 3, 5, 2, 4, 6]);
        let two_channels = ArrayView3::from_shape((2, 1, 3), &chw).unwrap();
        assert!(FramedImage::from_chw(two_channels, Framing::Fader).is_err());
        let empty = ArrayView3::from_shape((3, 0, 2), &chw[..0]).unwrap();
        assert!(FramedImage::from_chw(empty, Framing::Fader).is_err());
    }

    #[test]
    fn a_short_buffer_is_refused() {
        let err = FramedImage::new(2, 2, vec![0; 11], Framing::Icgan)
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs 12 bytes, got 11"), "{err}");
    }

    #[test]
    fn config_framings_map_over() {
        assert_eq!(
            Framing::from(sliders_config::data::Framing::Icgan),
            Framing::Icgan
        );
        assert_eq!(
            Framing::from(sliders_config::data::Framing::Fader),
            Framing::Fader
        );
    }
}
