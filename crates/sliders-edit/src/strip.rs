//! Composition of interpolation figures (Fader Networks Fig. 3/4 style sliding strips): a grid
//! with one row per photo and one column per slider value α, the attribute's name on top and each
//! column labelled with its α; and the frames of the matching animated GIF. Tiles are enlarged by
//! an integer factor (nearest neighbour) so 32 or 64 px faces stay visible. Layout and text are
//! sliders-plots' [`ImageGrid`], the same drawing as the evaluation's grids.

use image::{Rgb, RgbImage, imageops};
use sliders_plots::{ImageGrid, PlotsError};

/// Tiles are enlarged to at least this side (integer factor, nearest neighbour).
pub const MIN_TILE: u32 = 96;
const BG: Rgb<u8> = Rgb([255, 255, 255]);

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

/// An `image` tile as sliders-plots' image (same RGB bytes).
fn to_plots(img: &RgbImage) -> sliders_plots::RgbImage {
    sliders_plots::RgbImage::new(img.width(), img.height(), img.as_raw().clone())
        .expect("an RgbImage holds width × height × 3 bytes")
}

/// A rendered grid back as an `image` image.
fn from_plots(img: sliders_plots::RgbImage) -> RgbImage {
    RgbImage::from_raw(img.width, img.height, img.data)
        .expect("a rendered grid holds width × height × 3 bytes")
}

/// The enlargement of the first tile of `rows` (1 without tiles).
fn scale_of(rows: &[&[RgbImage]]) -> u32 {
    rows.first()
        .and_then(|r| r.first())
        .map_or(1, |t| tile_scale(t.width()))
}

/// The labelled grid, undrawn: `rows[i][j]` is photo `i` at `alphas[j]` (all tiles the same
/// size). Above the tiles: the attribute name, then each column's α.
pub fn strip(attribute: &str, alphas: &[f64], rows: &[&[RgbImage]]) -> ImageGrid {
    ImageGrid::new(
        rows.iter()
            .map(|r| r.iter().map(to_plots).collect())
            .collect(),
    )
    .with_title(format!("{attribute} (α)"))
    .with_col_labels(alphas.iter().map(|&a| format_alpha(a)))
    .with_scale(scale_of(rows))
}

/// [`strip`] drawn.
pub fn grid(attribute: &str, alphas: &[f64], rows: &[&[RgbImage]]) -> Result<RgbImage, PlotsError> {
    strip(attribute, alphas, rows).render().map(from_plots)
}

/// GIF frames: for each α (forward, then back without repeating the ends), every photo at that α
/// stacked vertically under a `NAME=α` title; every frame has the size of the largest (centred on
/// white), as a GIF needs.
pub fn gif_frames(
    attribute: &str,
    alphas: &[f64],
    rows: &[&[RgbImage]],
) -> Result<Vec<RgbImage>, PlotsError> {
    let frames = (0..alphas.len())
        .map(|j| {
            ImageGrid::new(rows.iter().map(|r| vec![to_plots(&r[j])]).collect())
                .with_title(format!("{attribute}={}", format_alpha(alphas[j])))
                .with_scale(scale_of(rows))
                .render()
                .map(from_plots)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let width = frames.iter().map(RgbImage::width).max().unwrap_or(0);
    let height = frames.iter().map(RgbImage::height).max().unwrap_or(0);
    let frame = |f: &RgbImage| {
        let mut img = RgbImage::from_pixel(width, height, BG);
        let x = (width - f.width()) / 2;
        imageops::replace(&mut img, f, i64::from(x), 0);
        img
    };
    let n = frames.len();
    let order = (0..n).chain((1..n.saturating_sub(1)).rev());
    Ok(order.map(|j| frame(&frames[j])).collect())
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
        let colour = Rgb([10, 200, 30]);
        let t = RgbImage::from_pixel(32, 32, colour);
        let row = vec![t.clone(), t.clone(), t];
        let rows: Vec<&[RgbImage]> = vec![&row, &row];
        let alphas = [-1.0, 0.5, 2.0];
        let layout = strip("Smiling", &alphas, &rows).layout().unwrap();
        assert_eq!(tile_scale(32), 3);
        assert_eq!(layout.cell_width, 96);
        let g = grid("Smiling", &alphas, &rows).unwrap();
        assert_eq!(g.dimensions(), (layout.width, layout.height));
        // Every tile in place, enlarged; the corner is background.
        for (r, c) in [(0, 0), (1, 2)] {
            let (x, y) = layout.cell_origin(r, c);
            assert_eq!(*g.get_pixel(x, y), colour);
            assert_eq!(*g.get_pixel(x + 95, y + 95), colour);
        }
        assert_eq!(*g.get_pixel(0, 0), BG);
        // Some ink in the label band above the tiles.
        let ink = |p: &Rgb<u8>| p.0.iter().all(|&v| v < 128);
        assert!((0..g.width()).any(|x| (0..layout.top).any(|y| ink(g.get_pixel(x, y)))));
        let frames = gif_frames("Smiling", &alphas, &rows).unwrap();
        assert_eq!(frames.len(), 4, "there and back: 0 1 2 1");
        assert!(
            frames
                .iter()
                .all(|f| f.dimensions() == frames[0].dimensions())
        );
    }
}
