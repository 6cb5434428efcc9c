//! Hostile image files, generated (no binary fixture is committed): header bombs (a small valid
//! PNG whose IHDR claims 100000x100000, a JPEG whose SOF claims 60000x60000), truncated JPEG and
//! PNG files, an RGBA giant (12000x12000, ~600 KB of PNG), zero bytes and wrong magic. Shared by
//! the test suites of sliders-celeba, sliders-edit, sliders-cli and sliders-serve through
//! `#[path]`; each uses what it needs.
#![allow(dead_code)]

use std::io::Write;

/// CRC-32 (IEEE) as PNG chunks use it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A plausible face-sized picture (gradients, so that JPEG has something to code).
pub fn picture(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 5 % 256) as u8,
            (y * 3 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
}

/// `img` encoded in `format`.
pub fn encode(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A good 178x218 JPEG (the aligned CelebA shape).
pub fn good_jpeg() -> Vec<u8> {
    encode(&picture(178, 218), image::ImageFormat::Jpeg)
}

/// A good 178x218 PNG.
pub fn good_png() -> Vec<u8> {
    encode(&picture(178, 218), image::ImageFormat::Png)
}

/// A valid small PNG whose IHDR is patched to claim `w`x`h` RGB pixels (the CRC recomputed):
/// decoding it naively allocates `3·w·h` bytes (30 GB for 100000x100000).
pub fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    let mut png = encode(&picture(32, 32), image::ImageFormat::Png);
    // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; CRC over type + data.
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A valid small JPEG whose SOF0 header is patched to claim `w`x`h` pixels.
pub fn jpeg_bomb(w: u16, h: u16) -> Vec<u8> {
    let mut jpg = encode(&picture(32, 32), image::ImageFormat::Jpeg);
    let sof = jpg
        .windows(2)
        .position(|m| m == [0xFF, 0xC0])
        .expect("a baseline JPEG has an SOF0 marker");
    // FF C0, length (2), precision (1), height (2), width (2).
    jpg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    jpg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    jpg
}

/// The first third of `bytes` (a file cut short in transfer).
pub fn truncated(bytes: &[u8]) -> Vec<u8> {
    bytes[..bytes.len() / 3].to_vec()
}

/// A `w`x`h` RGBA8 PNG of transparent zeros, written row by row (the test never holds the
/// pixels): 12000x12000 is a 576 MB image in about 600 KB.
pub fn rgba_giant(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; 4 * w as usize];
    for _ in 0..h {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out
}

/// Every hostile case with a name, for suites that send them all.
pub fn all_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("png-bomb-100000x100000.png", png_bomb(100_000, 100_000)),
        ("jpeg-bomb-60000x60000.jpg", jpeg_bomb(60_000, 60_000)),
        ("truncated.jpg", truncated(&good_jpeg())),
        ("truncated.png", truncated(&good_png())),
        ("rgba-giant-12000x12000.png", rgba_giant(12_000, 12_000)),
        ("empty.png", Vec::new()),
        (
            "wrong-magic.jpg",
            b"GIF89a this is not a photo at all".to_vec(),
        ),
    ]
}
