//! What the charts share: the bitmap canvas and its conversion to [`RgbImage`], the palette, the
//! fonts, size checks, value ranges and the legend drawn right of a plot.

use plotters::coord::{Shift, types};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{PlotsError, Result};
use crate::font::{FAMILY, ensure_font};
use crate::image::RgbImage;

/// The drawing area every chart draws on.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// A chart with f64 x and y axes on an [`Area`] (`'a`: the area's borrow, `'b`: its buffer's).
pub(crate) type XyChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<types::RangedCoordf64, types::RangedCoordf64>>;

/// Tableau 10: distinguishable, and readable in greyscale print when paired with markers.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xBA, 0xB0, 0xAC),
];

/// Font sizes in pixels.
pub(crate) const TITLE_PX: u32 = 22;
pub(crate) const AXIS_DESC_PX: u32 = 16;
pub(crate) const TICK_PX: u32 = 14;
pub(crate) const LEGEND_PX: u32 = 14;

/// The `i`-th series colour (cycles after 10).
pub(crate) fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The crate's font at `px` pixels.
pub(crate) fn font(px: u32, bold: bool) -> FontDesc<'static> {
    let f = FontDesc::new(FontFamily::Name(FAMILY), f64::from(px), FontStyle::Normal);
    if bold { f.style(FontStyle::Bold) } else { f }
}

/// Width in pixels of `text` at `px` pixels.
pub(crate) fn text_width(figure: &str, text: &str, px: u32) -> Result<u32> {
    ensure_font()?;
    font(px, false)
        .box_size(text)
        .map(|(w, _)| w)
        .map_err(|e| PlotsError::draw(figure, format!("{e:?}")))
}

/// Figures are between 200x150 and 8000x8000 pixels.
pub(crate) fn check_size(figure: &str, (w, h): (u32, u32)) -> Result<()> {
    if !(200..=8000).contains(&w) || !(150..=8000).contains(&h) {
        return Err(PlotsError::input(
            figure,
            format!("size {w}x{h} pixels is outside 200x150 ..= 8000x8000"),
        ));
    }
    Ok(())
}

/// Creates a white canvas of `size`, lets `draw` paint it, and returns the pixels.
pub(crate) fn render<F>(figure: &str, size: (u32, u32), draw: F) -> Result<RgbImage>
where
    F: FnOnce(&Area<'_>) -> Result<()>,
{
    check_size(figure, size)?;
    ensure_font()?;
    let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| PlotsError::draw(figure, e))?;
    }
    RgbImage::new(size.0, size.1, buf)
}

/// How a legend entry shows its series.
#[derive(Clone, Copy)]
pub(crate) enum Mark {
    /// A line with a dot (curves).
    Line,
    /// A filled square (bars).
    Box,
}

/// Width of a legend for `names`, 0 when there are none.
pub(crate) fn legend_width(figure: &str, names: &[&str]) -> Result<u32> {
    let mut widest = 0;
    for name in names {
        widest = widest.max(text_width(figure, name, LEGEND_PX)?);
    }
    Ok(if names.is_empty() { 0 } else { widest + 48 })
}

/// Draws a legend, one entry per line, starting at `(x, y)` of `area`.
pub(crate) fn draw_legend(
    figure: &str,
    area: &Area<'_>,
    (x, y): (i32, i32),
    entries: &[(&str, RGBColor)],
    mark: Mark,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
    let style = font(LEGEND_PX, false)
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (name, colour)) in entries.iter().enumerate() {
        let cy = y + i as i32 * (LEGEND_PX as i32 + 8);
        match mark {
            Mark::Line => {
                area.draw(&PathElement::new(
                    vec![(x, cy), (x + 24, cy)],
                    colour.stroke_width(3),
                ))
                .map_err(|e| err(&e))?;
                area.draw(&Circle::new((x + 12, cy), 4, colour.filled()))
                    .map_err(|e| err(&e))?;
            }
            Mark::Box => {
                area.draw(&Rectangle::new(
                    [(x + 4, cy - 7), (x + 20, cy + 7)],
                    colour.filled(),
                ))
                .map_err(|e| err(&e))?;
            }
        }
        area.draw_text(name, &style, (x + 32, cy))
            .map_err(|e| err(&e))?;
    }
    Ok(())
}

/// The range of the finite `values`, exactly; a flat range is widened by 10% (at least 0.5).
pub(crate) fn data_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return None;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let d = (lo.abs() * 0.1).max(0.5);
        return Some((lo - d, hi + d));
    }
    Some((lo, hi))
}

/// A y range covering the finite `values`, padded by 5% of the span; a flat range is widened.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (lo, hi) = data_range(values)?;
    let pad = 0.05 * (hi - lo);
    Some((lo - pad, hi + pad))
}

/// Checks a user-given range.
pub(crate) fn check_range(figure: &str, what: &str, (lo, hi): (f64, f64)) -> Result<()> {
    if lo.is_finite() && hi.is_finite() && lo < hi {
        Ok(())
    } else {
        Err(PlotsError::input(
            figure,
            format!("{what} range {lo}..{hi} is empty or not finite"),
        ))
    }
}

/// A tick label with at most `digits` significant decimals and no trailing zeros.
pub(crate) fn tick_label(v: f64, step: f64) -> String {
    let decimals = if step > 0.0 && step.is_finite() {
        (-step.log10().floor()).clamp(0.0, 8.0) as usize
    } else {
        3
    };
    let s = format!("{v:.decimals$}");
    if s == "-0" || s.chars().all(|c| matches!(c, '-' | '0' | '.')) && s.starts_with('-') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_padded_and_flat_ranges_widened() {
        assert_eq!(padded_range([0.0, 10.0]), Some((-0.5, 10.5)));
        assert_eq!(data_range([2.0, 2.0]), Some((1.5, 2.5)));
        assert_eq!(data_range([1.0, 3.0]), Some((1.0, 3.0)));
        assert_eq!(padded_range([f64::NAN]), None);
    }

    #[test]
    fn tick_labels_follow_the_step() {
        assert_eq!(tick_label(0.2, 0.1), "0.2");
        assert_eq!(tick_label(1500.0, 500.0), "1500");
        assert_eq!(tick_label(-0.0001, 0.1), "0.0");
    }
}
