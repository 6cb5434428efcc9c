//! Renders a contact sheet of synthetic faces and their counterfactuals at a model's input size,
//! to look at what each attribute changes: one row per face, the columns are the face and the
//! same face with each attribute flipped (Eyeglasses, Male, Mouth_Slightly_Open, Smiling, Young).
//!
//! `cargo run -p sliders-celeba --example synthetic_sheet -- OUT.png [SIZE] [ROWS] [SEED]`

use sliders_celeba::cache::{CacheParams, preprocess_image};
use sliders_celeba::synthetic::{SynthAttr, faces, height_for, render};
use sliders_config::data::Framing;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("synthetic_sheet.png", String::as_str);
    let num = |i: usize, d: u32| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (size, rows, seed) = (num(2, 32), num(3, 8), num(4, 0));
    let params = CacheParams {
        framing: Framing::Fader,
        size,
    };
    let zoom = (128 / size).max(1);
    let cell = size * zoom + 4;
    let cols = 1 + SynthAttr::ALL.len() as u32;
    let mut sheet = image::RgbImage::from_pixel(cols * cell, rows * cell, image::Rgb([255; 3]));
    let (w, h) = (64, height_for(64));
    for (r, f) in faces(rows as usize, u64::from(seed)).iter().enumerate() {
        let variants = std::iter::once(*f).chain(SynthAttr::ALL.iter().map(|&a| f.flipped(a)));
        for (c, v) in variants.enumerate() {
            let planar = preprocess_image(&render(&v, w, h), params);
            let plane = (size * size) as usize;
            for y in 0..size * zoom {
                for x in 0..size * zoom {
                    let i = ((y / zoom) * size + x / zoom) as usize;
                    let px = [planar[i], planar[plane + i], planar[2 * plane + i]];
                    sheet.put_pixel(
                        c as u32 * cell + 2 + x,
                        r as u32 * cell + 2 + y,
                        image::Rgb(px),
                    );
                }
            }
        }
    }
    sheet.save(out).expect("writing the sheet");
    println!(
        "wrote {out}: columns = face, then flipped {:?}",
        SynthAttr::ALL
    );
}
