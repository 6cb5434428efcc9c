//! [`RgbImage`], the crate's plain image type (8-bit RGB, row-major HWC), its nearest-neighbour
//! upscaling, and PNG encoding and decoding (atomic writes).

use ndarray::ArrayView3;
use std::io::Cursor;
use std::path::Path;

use crate::atomic::write_bytes_atomic;
use crate::error::{PlotsError, Result};

/// An 8-bit RGB image: `data` holds `height` rows of `width` pixels of 3 bytes (R, G, B), row-major
/// (HWC), so `data.len() == width * height * 3`. Values are 0..=255.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `height * width * 3` bytes, HWC RGB.
    pub data: Vec<u8>,
}

impl RgbImage {
    /// Wraps an HWC RGB buffer; errors when `data.len() != width * height * 3`.
    pub fn new(width: u32, height: u32, data: Vec<u8>) -> Result<Self> {
        let image = Self {
            width,
            height,
            data,
        };
        image.check()?;
        Ok(image)
    }

    /// An image filled with one colour.
    pub fn filled(width: u32, height: u32, rgb: [u8; 3]) -> Self {
        let n = width as usize * height as usize;
        Self {
            width,
            height,
            data: rgb.iter().copied().cycle().take(n * 3).collect(),
        }
    }

    /// Converts a CHW float image `[3, H, W]` (channels R, G, B; the layout of an image tensor,
    /// converted at the caller's boundary with tch's ndarray conversion) with values in `[0, 1]`
    /// to bytes; values outside `[0, 1]` are clamped and NaN becomes 0. Errors when the first axis
    /// is not three channels.
    pub fn from_chw_f32(chw: ArrayView3<'_, f32>) -> Result<Self> {
        let (channels, height, width) = chw.dim();
        let (width, height) = (width as u32, height as u32);
        if channels != 3 {
            return Err(PlotsError::ImageBuffer {
                width,
                height,
                expected: width as usize * height as usize * 3,
                found: chw.len(),
            });
        }
        // The HWC view's logical order is the interleaved byte order.
        let data = chw
            .permuted_axes([1, 2, 0])
            .iter()
            .map(|&v| {
                let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
                (v * 255.0).round() as u8
            })
            .collect();
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// The pixels as an `[H, W, 3]` array view (HWC, no copy). Panics when `data` was given
    /// another length than [`check`](Self::check) accepts.
    pub fn view(&self) -> ArrayView3<'_, u8> {
        let shape = (self.height as usize, self.width as usize, 3);
        ArrayView3::from_shape(shape, &self.data).expect("data is height × width × 3 bytes")
    }

    /// The pixel at column `x`, row `y`, or `None` outside the image.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * 3;
        self.data.get(i..i + 3).map(|p| [p[0], p[1], p[2]])
    }

    /// Checks that the buffer length matches the size.
    pub fn check(&self) -> Result<()> {
        let expected = self.width as usize * self.height as usize * 3;
        if self.data.len() == expected {
            Ok(())
        } else {
            Err(PlotsError::ImageBuffer {
                width: self.width,
                height: self.height,
                expected,
                found: self.data.len(),
            })
        }
    }

    /// The image enlarged `factor` times in each direction by pixel repetition (nearest
    /// neighbour), so small faces stay sharp. `factor` 0 is treated as 1.
    pub fn upscale(&self, factor: u32) -> Self {
        let f = factor.max(1) as usize;
        let (w, h) = (self.width as usize, self.height as usize);
        let mut data = Vec::with_capacity(w * h * f * f * 3);
        for y in 0..h * f {
            let row = &self.data[(y / f) * w * 3..(y / f + 1) * w * 3];
            for x in 0..w * f {
                data.extend_from_slice(&row[(x / f) * 3..(x / f) * 3 + 3]);
            }
        }
        Self {
            width: self.width * f as u32,
            height: self.height * f as u32,
            data,
        }
    }

    /// Encodes the image as PNG bytes.
    pub fn to_png_bytes(&self) -> Result<Vec<u8>> {
        self.check()?;
        let mut out = Vec::new();
        let err = |e: png::EncodingError| PlotsError::Png {
            path: "<memory>".into(),
            action: "encode",
            message: e.to_string(),
        };
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(err)?;
        writer.write_image_data(&self.data).map_err(err)?;
        writer.finish().map_err(err)?;
        Ok(out)
    }

    /// Writes the image as a PNG file (atomically: temporary file, then rename).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let bytes = self.to_png_bytes().map_err(|e| match e {
            PlotsError::Png {
                action, message, ..
            } => PlotsError::Png {
                path: path.to_path_buf(),
                action,
                message,
            },
            other => other.in_file(path),
        })?;
        write_bytes_atomic(path, &bytes)
    }

    /// Reads a PNG file (any colour type and bit depth) as 8-bit RGB; alpha is dropped.
    pub fn read_png(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| PlotsError::io(path, "read", e))?;
        let err = |message: String| PlotsError::Png {
            path: path.to_path_buf(),
            action: "decode",
            message,
        };
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().map_err(|e| err(e.to_string()))?;
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| err("the image is too large".into()))?;
        let mut buf = vec![0; size];
        let info = reader
            .next_frame(&mut buf)
            .map_err(|e| err(e.to_string()))?;
        let channels = match info.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            png::ColorType::Indexed => return Err(err("palette was not expanded".into())),
        };
        let (w, h) = (info.width as usize, info.height as usize);
        let mut data = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            let line = &buf[y * info.line_size..y * info.line_size + w * channels];
            for px in line.chunks_exact(channels) {
                if channels < 3 {
                    data.extend_from_slice(&[px[0], px[0], px[0]]);
                } else {
                    data.extend_from_slice(&px[..3]);
                }
            }
        }
        Ok(Self {
            width: info.width,
            height: info.height,
            data,
        })
    }

    /// The number of distinct colours, up to `limit` (used to check a figure is not blank).
    pub fn distinct_colours(&self, limit: usize) -> usize {
        let mut seen = std::collections::HashSet::new();
        for px in self.data.chunks_exact(3) {
            seen.insert([px[0], px[1], px[2]]);
            if seen.len() >= limit {
                break;
            }
        }
        seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip_keeps_every_pixel() {
        let data: Vec<u8> = (0..5 * 4 * 3).map(|i| (i * 7 % 256) as u8).collect();
        let img = RgbImage::new(5, 4, data).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        img.write_png(&path).unwrap();
        assert_eq!(RgbImage::read_png(&path).unwrap(), img);
    }

    #[test]
    fn upscale_repeats_pixels() {
        let img = RgbImage::new(2, 1, vec![1, 2, 3, 4, 5, 6]).unwrap();
        let up = img.upscale(2);
        assert_eq!((up.width, up.height), (4, 2));
        assert_eq!(up.pixel(1, 1), Some([1, 2, 3]));
        assert_eq!(up.pixel(2, 0), Some([4, 5, 6]));
    }

    #[test]
    fn a_short_buffer_is_an_error() {
        let err = RgbImage::new(2, 2, vec![0; 11]).unwrap_err();
        assert!(matches!(
            err,
            PlotsError::ImageBuffer {
                expected: 12,
                found: 11,
                ..
            }
        ));
    }

    #[test]
    fn chw_floats_are_clamped_and_interleaved() {
        let chw = [0.0, 1.0, 0.5, 2.0, -1.0, f32::NAN];
        let chw = ArrayView3::from_shape((3, 1, 2), &chw).unwrap();
        let img = RgbImage::from_chw_f32(chw).unwrap();
        assert_eq!(img.data, vec![0, 128, 0, 255, 255, 0]);
        assert_eq!(img.view()[[0, 0, 1]], 128);
        let two = ArrayView3::from_shape((2, 1, 3), &[0.0; 6]).unwrap();
        assert!(matches!(
            RgbImage::from_chw_f32(two),
            Err(PlotsError::ImageBuffer {
                expected: 9,
                found: 6,
                ..
            })
        ));
    }
}
