//! Composition of interpolation figures (Fader Networks Fig. 3/4 style sliding strips): a grid
//! with one row per photo and one column per slider value α, the attribute's name on top and each
//! column labelled with its α; and the frames of the matching animated GIF. Tiles are enlarged by
//! an integer factor (nearest neighbour) so 32 or 64 px faces stay visible. Text comes from the
//! built-in [`crate::font`].

use crate::font::{draw_text, text_height, text_width};
use image::{Rgb, RgbImage, imageops};

/// Tiles are enlarged to at least this side (integer factor, nearest neighbour).
pub const MIN_TILE: u32 = 96;
const GAP: u32 = 4;
const PAD: u32 = 4;
const BG: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([0, 0, 0]);

/// α as a short label: at most two decimals, trailing zeros dropped (`-1`, `0.5`, `1.25`).
pub fn format_alpha(a: f64) -> String {
    let s = format!("{a:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The integer enlargement factor for a tile of side `size`.
pub fn tile_scale(size: u32) -> u32 {
    MIN_TILE.div_ceil(size.max(1)).max(1)
}

fn enlarge(img: &RgbImage) -> RgbImage {
    let k = tile_scale(img.width());
    if k == 1 {
        img.clone()
    } else {
        imageops::resize(
            img,
            img.width() * k,
            img.height() * k,
            imageops::FilterType::Nearest,
        )
    }
}

/// Font scale: 2 when every label fits its column at 2, else 1.
fn font_scale(labels: &[String], column: u32) -> u32 {
    if labels.iter().all(|l| text_width(l, 2) <= column) {
        2
    } else {
        1
    }
}

/// The labelled grid: `rows[i][j]` is photo `i` at `alphas[j]` (all tiles the same size). Above
/// the tiles: the attribute name, then each column's α.
pub fn grid(attribute: &str, alphas: &[f64], rows: &[&[RgbImage]]) -> RgbImage {
    let tile = rows
        .first()
        .and_then(|r| r.first())
        .map(|t| t.width() * tile_scale(t.width()))
        .unwrap_or(MIN_TILE);
    let labels: Vec<String> = alphas.iter().map(|&a| format_alpha(a)).collect();
    let fs = font_scale(&labels, tile);
    let line = text_height(fs) + 2 * PAD;
    let cols = alphas.len() as u32;
    let width = GAP + cols * (tile + GAP);
    let title = format!("{attribute} (alpha)");
    let title_fs = if text_width(&title, fs) + 2 * PAD <= width {
        fs
    } else {
        1
    };
    let width = width.max(text_width(&title, title_fs) + 2 * PAD);
    let top = 2 * line;
    let height = top + rows.len() as u32 * (tile + GAP) + GAP;
    let mut img = RgbImage::from_pixel(width, height, BG);
    draw_text(&mut img, PAD, PAD, &title, title_fs, INK);
    for (j, l) in labels.iter().enumerate() {
        let cx = GAP + j as u32 * (tile + GAP) + tile / 2;
        let x = cx.saturating_sub(text_width(l, fs) / 2);
        draw_text(&mut img, x, line + PAD, l, fs, INK);
    }
    for (i, row) in rows.iter().enumerate() {
        for (j, t) in row.iter().enumerate() {
            let x = GAP + j as u32 * (tile + GAP);
            let y = top + i as u32 * (tile + GAP);
            imageops::replace(&mut img, &enlarge(t), i64::from(x), i64::from(y));
        }
    }
    img
}

/// GIF frames: for each α (forward, then back without repeating the ends), every photo at that α
/// stacked vertically under a `NAME=α` label.
pub fn gif_frames(attribute: &str, alphas: &[f64], rows: &[&[RgbImage]]) -> Vec<RgbImage> {
    let tile = rows
        .first()
        .and_then(|r| r.first())
        .map(|t| t.width() * tile_scale(t.width()))
        .unwrap_or(MIN_TILE);
    let labels: Vec<String> = alphas
        .iter()
        .map(|&a| format!("{attribute}={}", format_alpha(a)))
        .collect();
    let fs = font_scale(&labels, tile + 2 * GAP);
    let label_w = labels.iter().map(|l| text_width(l, fs)).max().unwrap_or(0) + 2 * PAD;
    let width = (tile + 2 * GAP).max(label_w);
    let line = text_height(fs) + 2 * PAD;
    let height = line + rows.len() as u32 * (tile + GAP) + GAP;
    let frame = |j: usize| {
        let mut img = RgbImage::from_pixel(width, height, BG);
        let l = &labels[j];
        draw_text(&mut img, (width - text_width(l, fs)) / 2, PAD, l, fs, INK);
        for (i, row) in rows.iter().enumerate() {
            let y = line + i as u32 * (tile + GAP);
            imageops::replace(
                &mut img,
                &enlarge(&row[j]),
                i64::from((width - tile) / 2),
                i64::from(y),
            );
        }
        img
    };
    let n = alphas.len();
    let order = (0..n).chain((1..n.saturating_sub(1)).rev());
    order.map(frame).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_labels_are_short() {
        assert_eq!(format_alpha(-1.0), "-1");
        assert_eq!(format_alpha(0.0), "0");
        assert_eq!(format_alpha(-0.001), "0");
        assert_eq!(format_alpha(0.5), "0.5");
        assert_eq!(format_alpha(1.125), "1.12");
        assert_eq!(format_alpha(2.0), "2");
    }

    #[test]
    fn grid_and_frames_have_the_expected_sizes() {
        let t = RgbImage::from_pixel(32, 32, Rgb([10, 200, 30]));
        let row = vec![t.clone(), t.clone(), t];
        let rows: Vec<&[RgbImage]> = vec![&row, &row];
        let g = grid("Smiling", &[-1.0, 0.5, 2.0], &rows);
        let tile = 32 * tile_scale(32);
        assert_eq!(tile, 96);
        assert_eq!(g.width(), GAP + 3 * (tile + GAP));
        // The first tile's top-left pixel is the tile's colour, the corner is background.
        let top = 2 * (text_height(2) + 2 * PAD);
        assert_eq!(*g.get_pixel(GAP, top), Rgb([10, 200, 30]));
        assert_eq!(*g.get_pixel(0, 0), BG);
        // Some ink in the label band.
        assert!((0..g.width()).any(|x| (0..top).any(|y| *g.get_pixel(x, y) == INK)));
        let frames = gif_frames("Smiling", &[-1.0, 0.5, 2.0], &rows);
        assert_eq!(frames.len(), 4, "there and back: 0 1 2 1");
        assert!(
            frames
                .iter()
                .all(|f| f.dimensions() == frames[0].dimensions())
        );
    }
}
