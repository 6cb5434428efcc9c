//! Line charts of named series over a shared x axis: training curves (reconstruction loss,
//! latent-discriminator accuracy, lambda: one panel each, stacked vertically, sharing x) and
//! slider-response curves (x = alpha, several attributes or models, y in `[0, 1]`).

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{
    AXIS_DESC_PX, Area, Mark, TICK_PX, TITLE_PX, XyChart, check_range, colour, data_range,
    draw_legend, font, legend_width, padded_range, render, tick_label,
};
use crate::error::{PlotsError, Result};
use crate::image::RgbImage;

/// Series with at most this many points are drawn with a dot on each point.
const MAX_MARKED_POINTS: usize = 60;

/// One named line: `(x, y)` points in drawing order. Non-finite points are skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Legend name.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
    /// An interval band drawn under the line: `(x, low, high)` in drawing order (empty: none).
    pub band: Vec<(f64, f64, f64)>,
}

impl Series {
    /// A series from points.
    pub fn new(name: impl Into<String>, points: impl IntoIterator<Item = (f64, f64)>) -> Self {
        Self {
            name: name.into(),
            points: points.into_iter().collect(),
            band: Vec::new(),
        }
    }

    /// The same series with an interval band `(x, low, high)` shaded in its colour.
    pub fn with_band(mut self, band: impl IntoIterator<Item = (f64, f64, f64)>) -> Self {
        self.band = band.into_iter().collect();
        self
    }

    /// The band as a closed polygon (lows left to right, then highs back), finite points only.
    fn band_polygon(&self) -> Vec<(f64, f64)> {
        let ok: Vec<_> = self
            .band
            .iter()
            .filter(|(x, l, h)| x.is_finite() && l.is_finite() && h.is_finite())
            .collect();
        let lows = ok.iter().map(|(x, l, _)| (*x, *l));
        let highs = ok.iter().rev().map(|(x, _, h)| (*x, *h));
        lows.chain(highs).collect()
    }

    /// A series from two columns of a table such as `metrics.csv` (see
    /// [`crate::Table::read_csv`]): the rows where both `x` and `y` are present; the shorter
    /// column bounds the rows.
    pub fn from_columns(name: impl Into<String>, x: &[Option<f64>], y: &[Option<f64>]) -> Self {
        Self::new(
            name,
            x.iter().zip(y).filter_map(|(x, y)| Some(((*x)?, (*y)?))),
        )
    }

    fn finite_points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    }
}

/// One plot of a [`CurveChart`]: its series share a y axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// The y axis description (e.g. "reconstruction MSE").
    pub y_label: String,
    /// The lines; a legend is drawn when there are two or more.
    pub series: Vec<Series>,
    /// Fixed y range; `None` fits the data.
    pub y_range: Option<(f64, f64)>,
}

impl Panel {
    /// An empty panel with a y description.
    pub fn new(y_label: impl Into<String>) -> Self {
        Self {
            y_label: y_label.into(),
            series: Vec::new(),
            y_range: None,
        }
    }

    /// Adds a series.
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Fixes the y range (e.g. `(0.0, 1.0)` for accuracies and probabilities).
    pub fn with_y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }
}

/// A figure of one or more [`Panel`]s stacked vertically that share the x axis (its range and
/// description, drawn under the last panel).
#[derive(Clone, Debug, PartialEq)]
pub struct CurveChart {
    /// Title above the first panel; empty for none.
    pub title: String,
    /// The x axis description (e.g. "step", "α").
    pub x_label: String,
    /// The panels, top to bottom.
    pub panels: Vec<Panel>,
    /// Fixed x range; `None` fits the data of all panels.
    pub x_range: Option<(f64, f64)>,
    /// Output size in pixels `(width, height)`; `None` is 900 wide and 320 per panel (+ title).
    pub size: Option<(u32, u32)>,
}

impl CurveChart {
    /// A chart with no panels yet.
    pub fn new(title: impl Into<String>, x_label: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            panels: Vec::new(),
            x_range: None,
            size: None,
        }
    }

    /// Adds a panel below the others.
    pub fn with_panel(mut self, panel: Panel) -> Self {
        self.panels.push(panel);
        self
    }

    /// Fixes the x range.
    pub fn with_x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Sets the output size in pixels.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    /// The output size: the given one or the default for the panel count.
    pub fn output_size(&self) -> (u32, u32) {
        self.size.unwrap_or_else(|| {
            let title = if self.title.is_empty() { 0 } else { 40 };
            (900, 320 * self.panels.len().max(1) as u32 + title)
        })
    }

    fn figure(&self) -> String {
        if self.title.is_empty() {
            "curve chart".to_string()
        } else {
            format!("curve chart `{}`", self.title)
        }
    }

    /// Draws the chart.
    pub fn render(&self) -> Result<RgbImage> {
        let figure = self.figure();
        if self.panels.is_empty() {
            return Err(PlotsError::input(&figure, "no panels (add at least one)"));
        }
        let x_range = match self.x_range {
            Some(r) => {
                check_range(&figure, "x", r)?;
                r
            }
            None => {
                let xs = self
                    .panels
                    .iter()
                    .flat_map(|p| &p.series)
                    .flat_map(|s| s.finite_points().map(|(x, _)| x));
                data_range(xs)
                    .ok_or_else(|| PlotsError::input(&figure, "no finite points in any series"))?
            }
        };
        for panel in &self.panels {
            if let Some(r) = panel.y_range {
                check_range(&figure, &format!("y ({})", panel.y_label), r)?;
            }
        }
        let names: Vec<&str> = self
            .panels
            .iter()
            .filter(|p| p.series.len() > 1)
            .flat_map(|p| p.series.iter().map(|s| s.name.as_str()))
            .collect();
        let legend_w = legend_width(&figure, &names)?;
        render(&figure, self.output_size(), |root| {
            let area = if self.title.is_empty() {
                root.clone()
            } else {
                root.titled(&self.title, font(TITLE_PX, true).color(&BLACK))
                    .map_err(|e| PlotsError::draw(&figure, e))?
            };
            let panels = area.split_evenly((self.panels.len(), 1));
            for (i, (panel, area)) in self.panels.iter().zip(&panels).enumerate() {
                let last = i + 1 == self.panels.len();
                self.draw_panel(&figure, panel, area, x_range, legend_w, last)?;
            }
            Ok(())
        })
    }

    /// Draws one panel on `area`: its axes, its curves (or "no data") and, with several curves,
    /// its legend; only the `last` panel has the x axis description.
    fn draw_panel(
        &self,
        figure: &str,
        panel: &Panel,
        area: &Area<'_>,
        x_range: (f64, f64),
        legend_w: u32,
        last: bool,
    ) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
        let (plot_area, legend_area) = area.split_horizontally(area.dim_in_pixel().0 - legend_w);
        let y_range = panel
            .y_range
            .or_else(|| {
                padded_range(
                    panel
                        .series
                        .iter()
                        .flat_map(|s| s.finite_points().map(|p| p.1)),
                )
            })
            .unwrap_or((0.0, 1.0));
        let mut chart = self.panel_axes(figure, panel, &plot_area, (x_range, y_range), last)?;
        let any = draw_curves(figure, panel, &mut chart)?;
        if !any {
            let style = font(AXIS_DESC_PX, false)
                .color(&RGBColor(120, 120, 120))
                .pos(Pos::new(HPos::Center, VPos::Center));
            let (w, h) = plot_area.dim_in_pixel();
            plot_area
                .draw_text("no data", &style, (w as i32 / 2, h as i32 / 2))
                .map_err(|e| err(&e))?;
        }
        if panel.series.len() > 1 {
            let entries: Vec<(&str, RGBColor)> = panel
                .series
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), colour(i)))
                .collect();
            draw_legend(figure, &legend_area, (4, 24), &entries, Mark::Line)?;
        }
        Ok(())
    }

    /// A panel's coordinates on `plot_area` (`ranges`: x then y) and its axes and mesh.
    fn panel_axes<'a, 'b>(
        &self,
        figure: &str,
        panel: &Panel,
        plot_area: &'a Area<'b>,
        (x_range, y_range): ((f64, f64), (f64, f64)),
        last: bool,
    ) -> Result<XyChart<'a, 'b>> {
        let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
        let mut chart = ChartBuilder::on(plot_area)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(if last { 48 } else { 28 })
            .y_label_area_size(72)
            .build_cartesian_2d(x_range.0..x_range.1, y_range.0..y_range.1)
            .map_err(|e| err(&e))?;
        let x_step = (x_range.1 - x_range.0) / 10.0;
        let y_step = (y_range.1 - y_range.0) / 8.0;
        let x_fmt = |v: &f64| tick_label(*v, x_step);
        let y_fmt = |v: &f64| tick_label(*v, y_step);
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(10)
            .y_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(font(TICK_PX, false).color(&BLACK))
            .axis_desc_style(font(AXIS_DESC_PX, false).color(&BLACK))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(215, 215, 215))
            .y_desc(panel.y_label.as_str());
        if last {
            mesh.x_desc(self.x_label.as_str());
        }
        mesh.draw().map_err(|e| err(&e))?;
        Ok(chart)
    }

    /// Renders the chart and writes it as a PNG file (atomically).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        self.render().map_err(|e| e.in_file(path))?.write_png(path)
    }
}

/// Draws a panel's curves (band, line, and markers when few points); whether any had a point.
fn draw_curves(figure: &str, panel: &Panel, chart: &mut XyChart) -> Result<bool> {
    let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
    let mut any = false;
    for (i, series) in panel.series.iter().enumerate() {
        let c = colour(i);
        let band = series.band_polygon();
        if band.len() >= 4 {
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled())))
                .map_err(|e| err(&e))?;
        }
        let points: Vec<(f64, f64)> = series.finite_points().collect();
        any |= !points.is_empty();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))
            .map_err(|e| err(&e))?;
        if points.len() <= MAX_MARKED_POINTS {
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(|e| err(&e))?;
        }
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response() -> CurveChart {
        let alphas = [-2.0, -1.0, 0.0, 1.0, 2.0, 3.0];
        let sig = |a: f64, s: f64| 1.0 / (1.0 + (-s * a).exp());
        CurveChart::new("Slider response", "α").with_panel(
            Panel::new("P(attribute)")
                .with_y_range(0.0, 1.0)
                .with_series(Series::new("Smiling", alphas.map(|a| (a, sig(a, 2.0)))))
                .with_series(Series::new(
                    "Eyeglasses",
                    alphas.map(|a| (a, sig(a - 1.0, 1.5))),
                )),
        )
    }

    #[test]
    fn a_chart_png_has_the_requested_size_and_is_not_flat() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("response.png");
        response().with_size(640, 400).write_png(&path).unwrap();
        let png = RgbImage::read_png(&path).unwrap();
        assert_eq!((png.width, png.height), (640, 400));
        assert!(png.distinct_colours(50) >= 10, "looks blank");
        // Both series colours are present.
        for c in [colour(0), colour(1)] {
            assert!(png.data.chunks_exact(3).any(|p| p == [c.0, c.1, c.2]));
        }
    }

    #[test]
    fn a_band_is_a_closed_polygon_and_is_shaded_under_its_line() {
        let s = Series::new("p", [(0.0, 0.5), (1.0, 0.6)]).with_band([
            (0.0, 0.4, 0.6),
            (1.0, f64::NAN, 0.7),
            (2.0, 0.5, 0.9),
        ]);
        // Non-finite rows are dropped; lows left to right, then highs right to left.
        assert_eq!(
            s.band_polygon(),
            vec![(0.0, 0.4), (2.0, 0.5), (2.0, 0.9), (0.0, 0.6)]
        );
        let wide = |band: bool| {
            let mut s = Series::new("p", [(0.0, 0.5), (1.0, 0.5)]);
            if band {
                s = s.with_band([(0.0, 0.1, 0.9), (1.0, 0.1, 0.9)]);
            }
            let chart = CurveChart::new("band", "x")
                .with_panel(Panel::new("y").with_y_range(0.0, 1.0).with_series(s))
                .with_size(400, 300);
            let png = chart.render().unwrap();
            let c = colour(0);
            // The band's tint: the series colour mixed with white at 18%.
            let tint = |v: u8| (f64::from(v) * 0.18 + 255.0 * 0.82).round() as i32;
            let near = |p: &[u8]| {
                (i32::from(p[0]) - tint(c.0)).abs() <= 2
                    && (i32::from(p[1]) - tint(c.1)).abs() <= 2
                    && (i32::from(p[2]) - tint(c.2)).abs() <= 2
            };
            png.data.chunks_exact(3).filter(|p| near(p)).count()
        };
        assert_eq!(wide(false), 0);
        assert!(wide(true) > 5_000, "band not shaded: {}", wide(true));
    }

    #[test]
    fn stacked_panels_get_the_default_height() {
        let steps: Vec<f64> = (0..100).map(f64::from).collect();
        let chart = CurveChart::new("Fader training", "step")
            .with_panel(Panel::new("loss").with_series(Series::new(
                "loss",
                steps.iter().map(|&s| (s, 1.0 / (1.0 + s))),
            )))
            .with_panel(Panel::new("lambda").with_series(Series::new(
                "lambda",
                steps.iter().map(|&s| (s, 1e-4 * s / 100.0)),
            )));
        let img = chart.render().unwrap();
        assert_eq!((img.width, img.height), (900, 680));
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let empty = CurveChart::new("t", "x");
        assert!(empty.render().is_err());
        let nan = CurveChart::new("t", "x")
            .with_panel(Panel::new("y").with_series(Series::new("s", [(f64::NAN, 1.0)])));
        let msg = nan.render().unwrap_err().to_string();
        assert!(msg.contains("no finite points"), "{msg}");
        let range = response().with_x_range(1.0, 1.0);
        assert!(range.render().unwrap_err().to_string().contains("x range"));
        let size = response().with_size(10, 10);
        assert!(size.render().unwrap_err().to_string().contains("10x10"));
    }

    #[test]
    fn series_from_columns_keeps_rows_with_both_values() {
        let s = Series::from_columns(
            "acc",
            &[Some(0.0), Some(1.0), None, Some(3.0)],
            &[Some(0.5), None, Some(0.7), Some(0.9)],
        );
        assert_eq!(s.points, vec![(0.0, 0.5), (3.0, 0.9)]);
    }
}
