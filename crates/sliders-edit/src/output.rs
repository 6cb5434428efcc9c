//! Writing results atomically: PNG and animated GIF files are encoded in memory, written to a
//! temporary name in the destination folder and renamed, so an interrupted run never leaves a
//! half-written image.

use crate::error::{EditError, Result};
use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, RgbImage, RgbaImage};
use std::path::Path;

/// Writes `img` as a PNG at `path` (folder created if needed).
pub fn write_png(path: &Path, img: &RgbImage) -> Result<()> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .map_err(|e| write_err(path, format!("PNG encoding failed: {e}")))?;
    write_bytes(path, &bytes)
}

/// Writes `frames` as a looping animated GIF at `path`, `delay_ms` per frame.
pub fn write_gif(path: &Path, frames: &[RgbImage], delay_ms: u32) -> Result<()> {
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite)
            .map_err(|e| write_err(path, format!("GIF encoding failed: {e}")))?;
        let frames = frames.iter().map(|f| {
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(f.clone()).into_rgba8();
            Frame::from_parts(rgba, 0, 0, Delay::from_numer_denom_ms(delay_ms, 1))
        });
        enc.encode_frames(frames)
            .map_err(|e| write_err(path, format!("GIF encoding failed: {e}")))?;
    }
    write_bytes(path, &bytes)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    sliders_fs::write_atomic(path, bytes).map_err(|e| write_err(path, e.to_string()))
}

fn write_err(path: &Path, what: String) -> EditError {
    EditError::Write {
        path: path.to_path_buf(),
        what,
    }
}
