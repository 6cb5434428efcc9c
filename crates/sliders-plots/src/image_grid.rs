//! Image grids: rows of equally sized small images (faces), upscaled by an integer factor
//! (nearest neighbour), with column labels above and row labels on the left, written as PNG.
//! Used for sliding-attribute grids (Fader Networks Fig. 3-4: "original", "reconstruction",
//! then one column per alpha), attribute swaps, encoder reconstructions (IcGAN Fig. 4: rows SNG,
//! IND, IND-COND) and cGAN sample grids; a one-row grid is an interpolation strip.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{PlotsError, Result};
use crate::font::{FAMILY, ensure_font};
use crate::image::RgbImage;

/// Cells are upscaled to at least this many pixels wide by default ([`ImageGrid::new`]).
const TARGET_CELL_PX: u32 = 128;
const MARGIN: u32 = 12;
const GAP: u32 = 4;
const LABEL_PX: u32 = 15;
const MIN_LABEL_PX: u32 = 9;
const TITLE_PX: u32 = 20;

/// A grid of images with labels. Every image must have the size of the first one; every row the
/// same number of images. Labels are optional: an empty `row_labels` or `col_labels` draws none,
/// otherwise there must be one per row or column.
#[derive(Clone, Debug)]
pub struct ImageGrid {
    /// `rows[r][c]` is the image of row `r`, column `c`.
    pub rows: Vec<Vec<RgbImage>>,
    /// One label per row, drawn left of the row (e.g. "face 1", "SNG"); empty for none.
    pub row_labels: Vec<String>,
    /// One label per column, drawn above it (e.g. "original", "α=-2"); empty for none.
    pub col_labels: Vec<String>,
    /// A title above the grid; empty for none.
    pub title: String,
    /// Integer upscaling factor of every cell (nearest neighbour); at least 1.
    pub scale: u32,
}

/// Where things are in a rendered grid, in pixels of the output image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLayout {
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Width of one upscaled cell.
    pub cell_width: u32,
    /// Height of one upscaled cell.
    pub cell_height: u32,
    /// Left edge of column 0.
    pub left: u32,
    /// Top edge of row 0.
    pub top: u32,
    /// Font size of the column labels (shrunk so the longest fits a cell).
    col_label_px: u32,
    title_h: u32,
}

impl GridLayout {
    /// Top-left pixel of the cell at `row`, `col`.
    pub fn cell_origin(&self, row: usize, col: usize) -> (u32, u32) {
        (
            self.left + col as u32 * (self.cell_width + GAP),
            self.top + row as u32 * (self.cell_height + GAP),
        )
    }
}

impl ImageGrid {
    /// A grid of `rows` with no labels or title, and cells upscaled to at least 128 pixels wide
    /// (32 px faces by 4, 64 px by 2, 128 px and larger by 1).
    pub fn new(rows: Vec<Vec<RgbImage>>) -> Self {
        let width = rows
            .first()
            .and_then(|r| r.first())
            .map_or(TARGET_CELL_PX, |i| i.width.max(1));
        Self {
            rows,
            row_labels: Vec::new(),
            col_labels: Vec::new(),
            title: String::new(),
            scale: TARGET_CELL_PX.div_ceil(width).max(1),
        }
    }

    /// Sets the row labels (one per row).
    pub fn with_row_labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.row_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the column labels (one per column).
    pub fn with_col_labels<S: Into<String>>(mut self, labels: impl IntoIterator<Item = S>) -> Self {
        self.col_labels = labels.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the title.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets the upscaling factor (1 keeps the images' size).
    pub fn with_scale(mut self, scale: u32) -> Self {
        self.scale = scale;
        self
    }

    /// The cell size of the input images, `(width, height)`, after checking that every image has
    /// it, every row has as many images, and the label counts match.
    pub fn cell(&self) -> Result<(u32, u32)> {
        let first =
            self.rows.first().and_then(|r| r.first()).ok_or_else(|| {
                PlotsError::input("image grid", "no images (give at least one row)")
            })?;
        let cell = (first.width, first.height);
        if cell.0 == 0 || cell.1 == 0 {
            return Err(PlotsError::input(
                "image grid",
                "the first image is empty (0 pixels)",
            ));
        }
        let cols = self.rows[0].len();
        for (r, row) in self.rows.iter().enumerate() {
            if row.len() != cols {
                return Err(PlotsError::input(
                    "image grid",
                    format!("row {r} has {} images, row 0 has {cols}", row.len()),
                ));
            }
            for (c, image) in row.iter().enumerate() {
                image.check()?;
                if (image.width, image.height) != cell {
                    return Err(PlotsError::ImageSize {
                        row: r,
                        col: c,
                        expected: cell,
                        found: (image.width, image.height),
                    });
                }
            }
        }
        for (noun, labels, n) in [
            ("row", &self.row_labels, self.rows.len()),
            ("column", &self.col_labels, cols),
        ] {
            if !labels.is_empty() && labels.len() != n {
                return Err(PlotsError::input(
                    "image grid",
                    format!(
                        "{} {noun} labels for {n} {noun}{}",
                        labels.len(),
                        if n == 1 { "" } else { "s" }
                    ),
                ));
            }
        }
        if self.scale == 0 {
            return Err(PlotsError::input(
                "image grid",
                "scale is 0 (use 1 or more)",
            ));
        }
        Ok(cell)
    }

    /// Validates the grid and computes where everything goes.
    pub fn layout(&self) -> Result<GridLayout> {
        ensure_font()?;
        let (w, h) = self.cell()?;
        let (cell_width, cell_height) = (w * self.scale, h * self.scale);
        let cols = self.rows[0].len() as u32;
        let rows = self.rows.len() as u32;

        let text_w = |text: &str, px: u32, bold: bool| -> Result<u32> {
            let font = font(px, bold);
            font.box_size(text)
                .map(|(w, _)| w)
                .map_err(|e| PlotsError::draw("image grid", format!("{e:?}")))
        };
        let mut row_label_w = 0;
        for label in &self.row_labels {
            row_label_w = row_label_w.max(text_w(label, LABEL_PX, false)?);
        }
        if row_label_w > 0 {
            row_label_w += 10;
        }
        let mut col_label_px = LABEL_PX;
        while col_label_px > MIN_LABEL_PX {
            let mut widest = 0;
            for label in &self.col_labels {
                widest = widest.max(text_w(label, col_label_px, false)?);
            }
            if widest + 4 <= cell_width {
                break;
            }
            col_label_px -= 1;
        }
        let col_label_h = if self.col_labels.iter().any(|l| !l.is_empty()) {
            col_label_px + 10
        } else {
            0
        };
        let title_h = if self.title.is_empty() {
            0
        } else {
            TITLE_PX + 12
        };
        let grid_w = cols * cell_width + (cols - 1) * GAP;
        let grid_h = rows * cell_height + (rows - 1) * GAP;
        let mut width = MARGIN + row_label_w + grid_w + MARGIN;
        if !self.title.is_empty() {
            width = width.max(text_w(&self.title, TITLE_PX, true)? + 2 * MARGIN);
        }
        Ok(GridLayout {
            width,
            height: MARGIN + title_h + col_label_h + grid_h + MARGIN,
            cell_width,
            cell_height,
            left: MARGIN + row_label_w,
            top: MARGIN + title_h + col_label_h,
            col_label_px,
            title_h,
        })
    }

    /// Draws the grid into an image (white background).
    pub fn render(&self) -> Result<RgbImage> {
        let layout = self.layout()?;
        let mut canvas = RgbImage::filled(layout.width, layout.height, [255, 255, 255]);
        let stride = layout.width as usize * 3;
        for (r, row) in self.rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                let up = image.upscale(self.scale);
                let (x0, y0) = layout.cell_origin(r, c);
                let line = up.width as usize * 3;
                for y in 0..up.height as usize {
                    let dst = (y0 as usize + y) * stride + x0 as usize * 3;
                    canvas.data[dst..dst + line]
                        .copy_from_slice(&up.data[y * line..(y + 1) * line]);
                }
            }
        }
        self.draw_labels(&layout, &mut canvas.data)?;
        Ok(canvas)
    }

    fn draw_labels(&self, layout: &GridLayout, buf: &mut [u8]) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| PlotsError::draw("image grid", e);
        let root =
            BitMapBackend::with_buffer(buf, (layout.width, layout.height)).into_drawing_area();
        if !self.title.is_empty() {
            let style = font(TITLE_PX, true)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            let y = MARGIN + layout.title_h / 2 - 4;
            root.draw_text(&self.title, &style, ((layout.width / 2) as i32, y as i32))
                .map_err(|e| err(&e))?;
        }
        let style = font(layout.col_label_px, false)
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (c, label) in self.col_labels.iter().enumerate() {
            let (x0, y0) = layout.cell_origin(0, c);
            let x = x0 + layout.cell_width / 2;
            let y = y0.saturating_sub(5);
            root.draw_text(label, &style, (x as i32, y as i32))
                .map_err(|e| err(&e))?;
        }
        let style = font(LABEL_PX, false)
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (r, label) in self.row_labels.iter().enumerate() {
            let (x0, y0) = layout.cell_origin(r, 0);
            let x = x0.saturating_sub(8);
            let y = y0 + layout.cell_height / 2;
            root.draw_text(label, &style, (x as i32, y as i32))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }

    /// Renders the grid and writes it as a PNG file (atomically).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        self.render().map_err(|e| e.in_file(path))?.write_png(path)
    }
}

fn font(px: u32, bold: bool) -> FontDesc<'static> {
    let f = FontDesc::new(FontFamily::Name(FAMILY), px as f64, FontStyle::Normal);
    if bold { f.style(FontStyle::Bold) } else { f }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(w: u32, h: u32, seed: u8) -> RgbImage {
        let data = (0..w * h * 3)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect();
        RgbImage::new(w, h, data).unwrap()
    }

    #[test]
    fn the_grid_has_the_layout_size_and_cells_hold_the_upscaled_images() {
        let rows: Vec<Vec<RgbImage>> = (0..2)
            .map(|r| (0..3).map(|c| face(8, 6, (r * 3 + c) as u8)).collect())
            .collect();
        let grid = ImageGrid::new(rows.clone())
            .with_scale(3)
            .with_title("Smiling")
            .with_row_labels(["face 1", "face 2"])
            .with_col_labels(["original", "α=-2", "α=2"]);
        let layout = grid.layout().unwrap();
        assert_eq!((layout.cell_width, layout.cell_height), (24, 18));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.png");
        grid.write_png(&path).unwrap();
        let png = RgbImage::read_png(&path).unwrap();
        assert_eq!((png.width, png.height), (layout.width, layout.height));
        for (r, row) in rows.iter().enumerate() {
            for (c, image) in row.iter().enumerate() {
                let up = image.upscale(3);
                let (x0, y0) = layout.cell_origin(r, c);
                for y in 0..up.height {
                    for x in 0..up.width {
                        assert_eq!(
                            png.pixel(x0 + x, y0 + y),
                            up.pixel(x, y),
                            "r{r} c{c} {x},{y}"
                        );
                    }
                }
            }
        }
        // Labels drew something dark above the first column and left of the first row.
        let (x0, y0) = layout.cell_origin(0, 0);
        let dark = |xs: std::ops::Range<u32>, ys: std::ops::Range<u32>| {
            ys.flat_map(|y| xs.clone().map(move |x| (x, y)))
                .filter(|&(x, y)| png.pixel(x, y).is_some_and(|p| p[0] < 128))
                .count()
        };
        assert!(dark(x0..x0 + layout.cell_width, y0 - 20..y0) > 5);
        assert!(dark(0..x0, y0..y0 + layout.cell_height) > 5);
    }

    #[test]
    fn default_scale_makes_small_faces_readable() {
        assert_eq!(ImageGrid::new(vec![vec![face(32, 32, 0)]]).scale, 4);
        assert_eq!(ImageGrid::new(vec![vec![face(64, 64, 0)]]).scale, 2);
        assert_eq!(ImageGrid::new(vec![vec![face(256, 256, 0)]]).scale, 1);
    }

    #[test]
    fn an_image_of_another_size_is_an_error_naming_its_cell() {
        let grid = ImageGrid::new(vec![
            vec![face(8, 8, 0), face(8, 8, 1)],
            vec![face(8, 8, 2), face(16, 8, 3)],
        ]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        let err = grid.write_png(&path).unwrap_err();
        assert!(
            matches!(
                err.cause(),
                PlotsError::ImageSize {
                    row: 1,
                    col: 1,
                    expected: (8, 8),
                    found: (16, 8)
                }
            ),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("bad.png") && msg.contains("row 1, column 1"),
            "{msg}"
        );
        assert!(!path.exists());
    }

    #[test]
    fn ragged_rows_empty_grids_and_wrong_label_counts_are_errors() {
        let ragged = ImageGrid::new(vec![vec![face(4, 4, 0)], vec![]]);
        assert!(
            ragged
                .render()
                .unwrap_err()
                .to_string()
                .contains("row 1 has 0 images")
        );
        assert!(ImageGrid::new(vec![]).render().is_err());
        let labels = ImageGrid::new(vec![vec![face(4, 4, 0)]]).with_col_labels(["a", "b"]);
        let msg = labels.render().unwrap_err().to_string();
        assert!(msg.contains("2 column labels for 1 column"), "{msg}");
    }
}
