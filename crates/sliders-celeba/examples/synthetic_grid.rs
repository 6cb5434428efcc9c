//! Writes a PNG grid of synthetic faces: each row is one face, then the same face with each
//! attribute flipped (Male, Young, Smiling, Mouth_Slightly_Open, Eyeglasses), then the region
//! the last flip changed; below the face, letters M Y S O G light up green when present.
//! The last rows are intensity strips (smile, mouth opening, lens darkness from 0 to 1).
//!
//! `cargo run -p sliders-celeba --release --example synthetic_grid -- [out.png] [rows] [seed]`

use image::{Rgb, RgbImage};
use sliders_celeba::synthetic::{FaceParams, Intensity, SynthAttr, faces, region_mask, render};

const W: u32 = 178;
const H: u32 = 218;
const LABEL: u32 = 16;
const ORDER: [SynthAttr; 5] = [
    SynthAttr::Male,
    SynthAttr::Young,
    SynthAttr::Smiling,
    SynthAttr::MouthOpen,
    SynthAttr::Eyeglasses,
];

/// 5x5 bitmaps of M, Y, S, O, G (rows top to bottom, bit 4 = left).
const GLYPHS: [[u8; 5]; 5] = [
    [0b10001, 0b11011, 0b10101, 0b10001, 0b10001],
    [0b10001, 0b01010, 0b00100, 0b00100, 0b00100],
    [0b01111, 0b10000, 0b01110, 0b00001, 0b11110],
    [0b01110, 0b10001, 0b10001, 0b10001, 0b01110],
    [0b01111, 0b10000, 0b10011, 0b10001, 0b01110],
];

fn blit(dst: &mut RgbImage, src: &RgbImage, x0: u32, y0: u32) {
    for (x, y, p) in src.enumerate_pixels() {
        dst.put_pixel(x0 + x, y0 + y, *p);
    }
}

fn labels(dst: &mut RgbImage, f: &FaceParams, x0: u32, y0: u32) {
    for (k, a) in ORDER.iter().enumerate() {
        let on = f.has(*a);
        let color = if on {
            Rgb([40, 200, 60])
        } else {
            Rgb([90, 90, 90])
        };
        for (r, row) in GLYPHS[k].iter().enumerate() {
            for c in 0..5 {
                if row >> (4 - c) & 1 == 1 {
                    for dy in 0..2 {
                        for dx in 0..2 {
                            let x = x0 + 10 + k as u32 * 34 + c * 2 + dx;
                            dst.put_pixel(x, y0 + 3 + r as u32 * 2 + dy, color);
                        }
                    }
                }
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "synthetic_grid.png".into());
    let rows: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(6);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let fs = faces(rows * 3, seed);
    let picks: Vec<FaceParams> = fs.iter().step_by(3).copied().take(rows).collect();
    let cols = 2 + ORDER.len() as u32;
    let strip_rows = 3u32;
    let mut grid = RgbImage::from_pixel(
        cols * W,
        (rows as u32 + strip_rows) * (H + LABEL),
        Rgb([255, 255, 255]),
    );
    for (r, f) in picks.iter().enumerate() {
        let y0 = r as u32 * (H + LABEL);
        blit(&mut grid, &render(f, W, H), 0, y0);
        labels(&mut grid, f, 0, y0 + H);
        for (k, a) in ORDER.iter().enumerate() {
            let cf = f.flipped(*a);
            let x0 = (k as u32 + 1) * W;
            blit(&mut grid, &render(&cf, W, H), x0, y0);
            labels(&mut grid, &cf, x0, y0 + H);
        }
        // Region of the last flip (Eyeglasses) over the original, plus the union of all regions.
        let mut img = render(f, W, H);
        for a in ORDER {
            let m = region_mask(f, a, W, H);
            let tint = match a {
                SynthAttr::Male => [0, 0, 255],
                SynthAttr::Young => [0, 160, 255],
                SynthAttr::Smiling | SynthAttr::MouthOpen => [255, 0, 0],
                SynthAttr::Eyeglasses => [0, 200, 0],
            };
            for (i, inside) in m.iter().enumerate() {
                if *inside {
                    let p = img.get_pixel_mut(i as u32 % W, i as u32 / W);
                    for (v, t) in p.0.iter_mut().zip(tint) {
                        *v = ((u16::from(*v) * 3 + t) / 4) as u8;
                    }
                }
            }
        }
        blit(&mut grid, &img, (cols - 1) * W, y0);
    }
    // Intensity strips on the first face.
    let base = picks[0];
    for (s, which) in [
        Intensity::Smile,
        Intensity::MouthOpen,
        Intensity::LensDarkness,
    ]
    .into_iter()
    .enumerate()
    {
        let y0 = (rows as u32 + s as u32) * (H + LABEL);
        for c in 0..cols {
            let v = c as f32 / (cols - 1) as f32;
            let f = base.with_intensity(which, v);
            blit(&mut grid, &render(&f, W, H), c * W, y0);
            labels(&mut grid, &f, c * W, y0 + H);
        }
    }
    grid.save(&out).expect("writing the grid PNG");
    println!(
        "wrote {out}: rows = faces; columns = original, flip Male, flip Young, flip Smiling, flip Mouth_Slightly_Open, flip Eyeglasses, attribute regions; last 3 rows = smile, mouth opening, lens darkness 0..1"
    );
}
