//! The one image decoder of the project (the CelebA loader, `sliders edit` / `interpolate` and
//! `sliders serve` uploads): JPEG or PNG by content, with explicit [`DecodeLimits`] checked from
//! the header before any pixel buffer is allocated, the image crate's own `Limits` set on the
//! decoder as a second guard, truncated files refused, and every colour type turned into RGB8 in
//! place (alpha composited over white in integer math, 16-bit samples rounded to 8 bits), so a
//! decode never holds more than `max(decoded bytes, 3 · pixels)` bytes (plus one RGB copy when an
//! EXIF orientation rotates the image).

use image::{ColorType, ImageDecoder, ImageFormat, RgbImage};
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// How large an image may be before it is decoded. The defaults accept any camera photo (a
/// 40-megapixel frame, 16384 px a side) and refuse decompression bombs: a 3 KB PNG whose header
/// claims 100000x100000 pixels would need 30 GB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest width in pixels (default [`DecodeLimits::DEFAULT_SIDE`]).
    pub max_width: u32,
    /// Largest height in pixels (default [`DecodeLimits::DEFAULT_SIDE`]).
    pub max_height: u32,
    /// Largest width × height (default [`DecodeLimits::DEFAULT_PIXELS`]).
    pub max_pixels: u64,
    /// Largest decoder output in bytes, `pixels × bytes per pixel` of the file's colour type
    /// (default [`DecodeLimits::DEFAULT_DECODED_BYTES`]).
    pub max_decoded_bytes: u64,
}

impl DecodeLimits {
    /// Default largest side: 16384 px.
    pub const DEFAULT_SIDE: u32 = 16_384;
    /// Default largest image: 40 megapixels (120 MB as RGB8).
    pub const DEFAULT_PIXELS: u64 = 40_000_000;
    /// Default largest decoder output: 256 MiB (a 40-megapixel RGBA8 image is 160 MB; 16-bit
    /// RGBA at that size is refused).
    pub const DEFAULT_DECODED_BYTES: u64 = 256 << 20;
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_width: Self::DEFAULT_SIDE,
            max_height: Self::DEFAULT_SIDE,
            max_pixels: Self::DEFAULT_PIXELS,
            max_decoded_bytes: Self::DEFAULT_DECODED_BYTES,
        }
    }
}

/// Which limit an image exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`DecodeLimits::max_width`].
    Width,
    /// [`DecodeLimits::max_height`].
    Height,
    /// [`DecodeLimits::max_pixels`].
    Pixels,
    /// [`DecodeLimits::max_decoded_bytes`].
    DecodedBytes,
}

impl Limit {
    /// The field of [`DecodeLimits`].
    pub fn field(self) -> &'static str {
        match self {
            Limit::Width => "max_width",
            Limit::Height => "max_height",
            Limit::Pixels => "max_pixels",
            Limit::DecodedBytes => "max_decoded_bytes",
        }
    }

    /// The command-line option of `sliders edit`, `interpolate` and `serve` that raises it.
    pub fn flag(self) -> &'static str {
        match self {
            Limit::Width | Limit::Height => "--max-image-side",
            Limit::Pixels => "--max-image-pixels",
            Limit::DecodedBytes => "--max-image-mb",
        }
    }
}

/// Why an image was not decoded. Every variant names the file; a limit names itself, its value
/// and the option that raises it.
#[derive(Debug)]
pub enum DecodeError {
    /// Zero bytes.
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// Not a JPEG or PNG (by content).
    Format {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: String,
    },
    /// The header asks for more than a limit allows (nothing was allocated).
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Which limit.
        limit: Limit,
        /// What was measured (`width`, `height`, `width x height`, `decoded bytes`).
        what: &'static str,
        /// Its value.
        value: u64,
        /// The limit's value.
        max: u64,
    },
    /// The file is cut short (no JPEG end-of-image marker, no PNG `IEND` chunk).
    Truncated {
        /// The file.
        path: PathBuf,
        /// `JPEG` or `PNG`.
        format: &'static str,
        /// What is missing.
        what: &'static str,
    },
    /// The decoder failed (corrupt data, unsupported variant, the image crate's own limits).
    Corrupt {
        /// The file.
        path: PathBuf,
        /// `JPEG` or `PNG`.
        format: &'static str,
        /// The decoder's message.
        what: String,
    },
}

impl DecodeError {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            DecodeError::Empty { path }
            | DecodeError::Format { path, .. }
            | DecodeError::TooLarge { path, .. }
            | DecodeError::Truncated { path, .. }
            | DecodeError::Corrupt { path, .. } => path,
        }
    }

    /// What is wrong, without the file name (for messages that name the file already).
    pub fn reason(&self) -> String {
        match self {
            DecodeError::Empty { .. } => "the file is empty (0 bytes)".into(),
            DecodeError::Format { what, .. } => what.clone(),
            DecodeError::TooLarge {
                limit,
                what,
                value,
                max,
                ..
            } => format!(
                "the header says {what} = {value}, over the limit {} = {max}; nothing was \
                 decoded. If the file is genuine, raise the limit ({} N with sliders edit, \
                 interpolate or serve)",
                limit.field(),
                limit.flag()
            ),
            DecodeError::Truncated { format, what, .. } => {
                format!("the {format} file is cut short ({what})")
            }
            DecodeError::Corrupt { format, what, .. } => {
                format!("cannot decode it as {format} ({what})")
            }
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path().display(), self.reason())
    }
}

impl std::error::Error for DecodeError {}

/// What the header of an image says, checked against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    /// JPEG or PNG.
    pub format: ImageFormat,
    /// Width in pixels (before EXIF orientation).
    pub width: u32,
    /// Height in pixels (before EXIF orientation).
    pub height: u32,
    /// The decoder's output type.
    pub color: ColorType,
    /// The decoder's output size in bytes.
    pub decoded_bytes: u64,
}

impl Probe {
    /// Width × height.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }

    /// Peak bytes a [`decode`] of this image holds (see the module docs): the decoder's buffer
    /// or the RGB8 result, whichever is larger, plus an RGB8 copy for a rotating orientation.
    pub fn peak_bytes(&self) -> u64 {
        let rgb = self.pixels() * 3;
        self.decoded_bytes.max(rgb) + rgb
    }
}

fn format_name(f: ImageFormat) -> &'static str {
    if f == ImageFormat::Png { "PNG" } else { "JPEG" }
}

/// The format by content, refusing empty, truncated and non-JPEG/PNG files.
fn sniff(bytes: &[u8], path: &Path) -> Result<ImageFormat, DecodeError> {
    let path = || path.to_path_buf();
    if bytes.is_empty() {
        return Err(DecodeError::Empty { path: path() });
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::Format {
        path: path(),
        what: "not a JPEG or PNG file (unknown content)".into(),
    })?;
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    let (marker, what): (&[u8], _) = match format {
        ImageFormat::Jpeg => (&[0xFF, 0xD9], "no end-of-image marker"),
        ImageFormat::Png => (b"IEND", "no IEND chunk"),
        other => {
            return Err(DecodeError::Format {
                path: path(),
                what: format!("a {other:?} file, not a JPEG or PNG"),
            });
        }
    };
    if !tail.windows(marker.len()).any(|w| w == marker) {
        return Err(DecodeError::Truncated {
            path: path(),
            format: format_name(format),
            what,
        });
    }
    Ok(format)
}

/// The image crate's limits matching ours (the second guard).
fn crate_limits(limits: &DecodeLimits) -> image::Limits {
    let mut l = image::Limits::no_limits();
    l.max_image_width = Some(limits.max_width);
    l.max_image_height = Some(limits.max_height);
    // The decoders' own working memory (PNG rows, JPEG planes) on top of the output.
    l.max_alloc = Some(limits.max_decoded_bytes.saturating_mul(2));
    l
}

fn check(probe: &Probe, path: &Path, limits: &DecodeLimits) -> Result<(), DecodeError> {
    let over = |limit, what, value: u64, max: u64| {
        (value > max).then(|| DecodeError::TooLarge {
            path: path.to_path_buf(),
            limit,
            what,
            value,
            max,
        })
    };
    let checks = [
        over(
            Limit::Width,
            "width",
            probe.width.into(),
            limits.max_width.into(),
        ),
        over(
            Limit::Height,
            "height",
            probe.height.into(),
            limits.max_height.into(),
        ),
        over(
            Limit::Pixels,
            "width x height",
            probe.pixels(),
            limits.max_pixels,
        ),
        over(
            Limit::DecodedBytes,
            "decoded bytes",
            probe.decoded_bytes,
            limits.max_decoded_bytes,
        ),
    ];
    match checks.into_iter().flatten().next() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A decoder for the file, its header checked against `limits` and the crate limits set.
enum Dec<'a> {
    Jpeg(image::codecs::jpeg::JpegDecoder<Cursor<&'a [u8]>>),
    Png(Box<image::codecs::png::PngDecoder<Cursor<&'a [u8]>>>),
}

impl Dec<'_> {
    fn as_dyn(&mut self) -> &mut dyn ImageDecoder {
        match self {
            Dec::Jpeg(d) => d,
            Dec::Png(d) => d.as_mut(),
        }
    }
}

fn open<'a>(
    bytes: &'a [u8],
    path: &Path,
    limits: &DecodeLimits,
) -> Result<(Dec<'a>, Probe), DecodeError> {
    let format = sniff(bytes, path)?;
    let corrupt = |e: image::ImageError| DecodeError::Corrupt {
        path: path.to_path_buf(),
        format: format_name(format),
        what: e.to_string(),
    };
    let mut dec = match format {
        ImageFormat::Jpeg => {
            Dec::Jpeg(image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes)).map_err(corrupt)?)
        }
        _ => Dec::Png(Box::new(
            // The PNG crate's own allocation cap (text, ICC, rows) from the start; the
            // dimensions are checked below, so that the error names our limit.
            image::codecs::png::PngDecoder::with_limits(Cursor::new(bytes), {
                let mut l = crate_limits(limits);
                (l.max_image_width, l.max_image_height) = (None, None);
                l
            })
            .map_err(corrupt)?,
        )),
    };
    let d = dec.as_dyn();
    let (width, height) = d.dimensions();
    let probe = Probe {
        format,
        width,
        height,
        color: d.color_type(),
        decoded_bytes: d.total_bytes(),
    };
    check(&probe, path, limits)?;
    d.set_limits(crate_limits(limits)).map_err(corrupt)?;
    Ok((dec, probe))
}

/// Reads an image's header and checks it against `limits` (no pixel is decoded): what
/// `sliders serve` uses to count an upload's memory before accepting it.
pub fn probe(bytes: &[u8], path: &Path, limits: &DecodeLimits) -> Result<Probe, DecodeError> {
    open(bytes, path, limits).map(|(_, p)| p)
}

/// Decodes a JPEG or PNG file's bytes (`path` names it in errors) to RGB8 within `limits`:
/// grayscale expanded, alpha composited over white, 16-bit samples rounded to 8 bits, and, with
/// `orient`, the EXIF orientation applied (the CelebA loader skips that pass: its JPEGs carry
/// none, and it is a measurable share of decoding 178x218 images).
pub fn decode(
    bytes: &[u8],
    path: &Path,
    limits: &DecodeLimits,
    orient: bool,
) -> Result<RgbImage, DecodeError> {
    let (mut dec, probe) = open(bytes, path, limits)?;
    let corrupt = |e: image::ImageError| DecodeError::Corrupt {
        path: path.to_path_buf(),
        format: format_name(probe.format),
        what: e.to_string(),
    };
    let orientation = if orient {
        dec.as_dyn()
            .orientation()
            .unwrap_or(image::metadata::Orientation::NoTransforms)
    } else {
        image::metadata::Orientation::NoTransforms
    };
    let n = probe.pixels() as usize;
    let len = probe.decoded_bytes as usize;
    // One buffer serves the decoder's output and the RGB8 result (converted in place).
    let mut buf = vec![0u8; len.max(3 * n)];
    match dec {
        Dec::Jpeg(d) => d.read_image(&mut buf[..len]).map_err(corrupt)?,
        Dec::Png(d) => d.read_image(&mut buf[..len]).map_err(corrupt)?,
    }
    to_rgb8_in_place(&mut buf, probe.color, n).map_err(|what| DecodeError::Corrupt {
        path: path.to_path_buf(),
        format: format_name(probe.format),
        what,
    })?;
    buf.truncate(3 * n);
    buf.shrink_to_fit();
    let mut img = RgbImage::from_raw(probe.width, probe.height, buf).expect("3 bytes per pixel");
    if orientation != image::metadata::Orientation::NoTransforms {
        let mut dynamic = image::DynamicImage::ImageRgb8(img);
        dynamic.apply_orientation(orientation);
        img = dynamic.into_rgb8();
    }
    Ok(img)
}

/// `c` (0..=255) with alpha `a` (0..=255) over white, rounded: `(c·a + 255·(255 − a)) / 255`.
pub fn over_white(c: u8, a: u8) -> u8 {
    let (c, a) = (u32::from(c), u32::from(a));
    ((c * a + 255 * (255 - a) + 127) / 255) as u8
}

/// A 16-bit sample rounded to 8 bits.
fn to8(hi_lo: [u8; 2]) -> u8 {
    ((u32::from(u16::from_ne_bytes(hi_lo)) * 255 + 32_767) / 65_535) as u8
}

/// Converts `n` pixels of `color` at the start of `buf` into `n` RGB8 pixels at its start
/// (`buf` holds at least `max(n · bpp, 3n)` bytes). Narrower pixels are expanded back to front,
/// wider ones narrowed front to back, so no pixel is overwritten before it is read.
fn to_rgb8_in_place(buf: &mut [u8], color: ColorType, n: usize) -> Result<(), String> {
    let bpp = usize::from(color.bytes_per_pixel());
    let px: fn(&[u8]) -> [u8; 3] = match color {
        ColorType::Rgb8 => return Ok(()),
        ColorType::L8 => |p| [p[0]; 3],
        ColorType::La8 => |p| [over_white(p[0], p[1]); 3],
        ColorType::Rgba8 => |p| {
            [
                over_white(p[0], p[3]),
                over_white(p[1], p[3]),
                over_white(p[2], p[3]),
            ]
        },
        ColorType::L16 => |p| [to8([p[0], p[1]]); 3],
        ColorType::La16 => |p| [over_white(to8([p[0], p[1]]), to8([p[2], p[3]])); 3],
        ColorType::Rgb16 => |p| [to8([p[0], p[1]]), to8([p[2], p[3]]), to8([p[4], p[5]])],
        ColorType::Rgba16 => |p| {
            let a = to8([p[6], p[7]]);
            [
                over_white(to8([p[0], p[1]]), a),
                over_white(to8([p[2], p[3]]), a),
                over_white(to8([p[4], p[5]]), a),
            ]
        },
        other => return Err(format!("unsupported colour type {other:?}")),
    };
    let mut step = |i: usize| {
        let rgb = px(&buf[i * bpp..(i + 1) * bpp]);
        buf[3 * i..3 * i + 3].copy_from_slice(&rgb);
    };
    if bpp < 3 {
        (0..n).rev().for_each(&mut step);
    } else {
        (0..n).for_each(&mut step);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_over_white_is_exact_at_the_ends_and_rounds() {
        assert_eq!(over_white(0, 255), 0);
        assert_eq!(over_white(200, 255), 200);
        assert_eq!(over_white(0, 0), 255);
        assert_eq!(over_white(0, 128), 127);
        assert_eq!(to8(u16::MAX.to_ne_bytes()), 255);
        assert_eq!(to8(0u16.to_ne_bytes()), 0);
    }

    #[test]
    fn in_place_conversion_matches_per_pixel_conversion() {
        let n = 5;
        let la: Vec<u8> = (0..n)
            .flat_map(|i| [i as u8 * 40, 255 - i as u8 * 50])
            .collect();
        let mut buf = la.clone();
        buf.resize(3 * n, 0);
        to_rgb8_in_place(&mut buf, ColorType::La8, n).unwrap();
        for i in 0..n {
            let v = over_white(la[2 * i], la[2 * i + 1]);
            assert_eq!(&buf[3 * i..3 * i + 3], &[v; 3]);
        }
        let rgba: Vec<u8> = (0..4 * n).map(|i| (i * 13) as u8).collect();
        let mut buf = rgba.clone();
        to_rgb8_in_place(&mut buf, ColorType::Rgba8, n).unwrap();
        for i in 0..n {
            let p = &rgba[4 * i..4 * i + 4];
            let want = [0, 1, 2].map(|c| over_white(p[c], p[3]));
            assert_eq!(&buf[3 * i..3 * i + 3], &want);
        }
    }
}
