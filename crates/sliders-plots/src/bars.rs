//! Grouped bar charts with optional error bars (e.g. 95% intervals): the attribute-accuracy
//! results (Fader Networks Table 2 / IcGAN comparison): groups are attributes, bars are rows such
//! as "Real Image", "IcGAN AE", "IcGAN Swap", "FadNet AE", "FadNet Swap"; y is an accuracy.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{
    AXIS_DESC_PX, Area, Mark, TICK_PX, TITLE_PX, XyChart, check_range, colour, draw_legend, font,
    legend_width, padded_range, render, tick_label,
};
use crate::error::{PlotsError, Result};
use crate::image::RgbImage;

/// Share of a group's width taken by its bars (the rest separates groups).
const GROUP_FILL: f64 = 0.8;

/// One bar per group, with the same colour and legend entry.
#[derive(Clone, Debug, PartialEq)]
pub struct BarSeries {
    /// Legend name (e.g. "FadNet Swap").
    pub name: String,
    /// One value per group; `None` draws no bar and writes "n/a".
    pub values: Vec<Option<f64>>,
    /// Error bars, `(low, high)` per group (e.g. a 95% interval); empty for none, otherwise one
    /// per group (`None` for a group without one).
    pub intervals: Vec<Option<(f64, f64)>>,
}

impl BarSeries {
    /// A series without error bars.
    pub fn new(name: impl Into<String>, values: impl IntoIterator<Item = Option<f64>>) -> Self {
        Self {
            name: name.into(),
            values: values.into_iter().collect(),
            intervals: Vec::new(),
        }
    }

    /// Sets the error bars (one per group).
    pub fn with_intervals(
        mut self,
        intervals: impl IntoIterator<Item = Option<(f64, f64)>>,
    ) -> Self {
        self.intervals = intervals.into_iter().collect();
        self
    }
}

/// A grouped bar chart.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    /// Title; empty for none.
    pub title: String,
    /// The y axis description (e.g. "attribute accuracy").
    pub y_label: String,
    /// Group names along x (e.g. attributes).
    pub groups: Vec<String>,
    /// The bar series, drawn left to right inside each group.
    pub series: Vec<BarSeries>,
    /// Fixed y range; `None` is `[0, 1]` when every value lies there, else fitted to the data
    /// (always including 0).
    pub y_range: Option<(f64, f64)>,
    /// Output size in pixels; `None` is 900x480.
    pub size: Option<(u32, u32)>,
}

impl BarChart {
    /// A chart of `groups` with no series yet.
    pub fn new<S: Into<String>>(
        title: impl Into<String>,
        y_label: impl Into<String>,
        groups: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            title: title.into(),
            y_label: y_label.into(),
            groups: groups.into_iter().map(Into::into).collect(),
            series: Vec::new(),
            y_range: None,
            size: None,
        }
    }

    /// Adds a series.
    pub fn with_series(mut self, series: BarSeries) -> Self {
        self.series.push(series);
        self
    }

    /// Fixes the y range.
    pub fn with_y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Sets the output size in pixels.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    fn figure(&self) -> String {
        if self.title.is_empty() {
            "bar chart".to_string()
        } else {
            format!("bar chart `{}`", self.title)
        }
    }

    fn validate(&self, figure: &str) -> Result<(f64, f64)> {
        let n = self.groups.len();
        if n == 0 || self.series.is_empty() {
            return Err(PlotsError::input(
                figure,
                "needs at least one group and one series",
            ));
        }
        for s in &self.series {
            if s.values.len() != n {
                return Err(PlotsError::input(
                    figure,
                    format!(
                        "series `{}` has {} values for {n} groups",
                        s.name,
                        s.values.len()
                    ),
                ));
            }
            if !s.intervals.is_empty() && s.intervals.len() != n {
                return Err(PlotsError::input(
                    figure,
                    format!(
                        "series `{}` has {} intervals for {n} groups",
                        s.name,
                        s.intervals.len()
                    ),
                ));
            }
            for (g, iv) in s.intervals.iter().enumerate() {
                if let Some((lo, hi)) = *iv
                    && !(lo.is_finite() && hi.is_finite() && lo <= hi)
                {
                    return Err(PlotsError::input(
                        figure,
                        format!(
                            "series `{}`, group `{}`: interval {lo}..{hi} is not finite and ordered",
                            s.name, self.groups[g]
                        ),
                    ));
                }
            }
        }
        if let Some(r) = self.y_range {
            check_range(figure, "y", r)?;
            return Ok(r);
        }
        let values: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| {
                s.values
                    .iter()
                    .flatten()
                    .copied()
                    .chain(s.intervals.iter().flatten().flat_map(|&(l, h)| [l, h]))
            })
            .filter(|v| v.is_finite())
            .chain([0.0])
            .collect();
        if values.iter().all(|v| (0.0..=1.0).contains(v)) {
            return Ok((0.0, 1.0));
        }
        Ok(padded_range(values).unwrap_or((0.0, 1.0)))
    }

    /// Draws the chart.
    pub fn render(&self) -> Result<RgbImage> {
        let figure = self.figure();
        let y_range = self.validate(&figure)?;
        let names: Vec<&str> = self.series.iter().map(|s| s.name.as_str()).collect();
        let legend_w = legend_width(&figure, &names)?;
        let size = self.size.unwrap_or((900, 480));
        let err = |e: &dyn std::fmt::Display| PlotsError::draw(&figure, e);
        render(&figure, size, |root| {
            let area = if self.title.is_empty() {
                root.clone()
            } else {
                root.titled(&self.title, font(TITLE_PX, true).color(&BLACK))
                    .map_err(|e| err(&e))?
            };
            let (plot_area, legend_area) =
                area.split_horizontally(area.dim_in_pixel().0.saturating_sub(legend_w));
            let mut chart = self.axes(&figure, &plot_area, y_range)?;
            self.draw_bars(&figure, &mut chart, y_range)?;
            // Group names under the axis, centred on their groups (drawn on the whole canvas,
            // whose pixels are the backend's).
            let group_style = font(TICK_PX, false)
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Top));
            for (g, name) in self.groups.iter().enumerate() {
                let (x, y) = chart.backend_coord(&(g as f64 + 0.5, y_range.0));
                root.draw_text(name, &group_style, (x, y + 8))
                    .map_err(|e| err(&e))?;
            }
            let entries: Vec<(&str, RGBColor)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, colour(i)))
                .collect();
            draw_legend(&figure, &legend_area, (4, 24), &entries, Mark::Box)
        })
    }

    /// The chart's coordinates (one unit per group) on `plot_area` and its y axis and mesh.
    fn axes<'a, 'b>(
        &self,
        figure: &str,
        plot_area: &'a Area<'b>,
        y_range: (f64, f64),
    ) -> Result<XyChart<'a, 'b>> {
        let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
        let n = self.groups.len();
        let mut chart = ChartBuilder::on(plot_area)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(0.0..n as f64, y_range.0..y_range.1)
            .map_err(|e| err(&e))?;
        let y_step = (y_range.1 - y_range.0) / 10.0;
        let y_fmt = |v: &f64| tick_label(*v, y_step);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(10)
            .y_label_formatter(&y_fmt)
            .label_style(font(TICK_PX, false).color(&BLACK))
            .axis_desc_style(font(AXIS_DESC_PX, false).color(&BLACK))
            .light_line_style(RGBColor(240, 240, 240))
            .bold_line_style(RGBColor(215, 215, 215))
            .y_desc(self.y_label.as_str())
            .draw()
            .map_err(|e| err(&e))?;
        Ok(chart)
    }

    /// The bars, series by series ("n/a" for a missing value), with their error bars.
    fn draw_bars(&self, figure: &str, chart: &mut XyChart, y_range: (f64, f64)) -> Result<()> {
        let err = |e: &dyn std::fmt::Display| PlotsError::draw(figure, e);
        let n = self.groups.len();
        let k = self.series.len() as f64;
        let slot = GROUP_FILL / k;
        let base = y_range.0.max(0.0).min(y_range.1);
        let na_style = font(TICK_PX - 2, false)
            .color(&RGBColor(90, 90, 90))
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (j, s) in self.series.iter().enumerate() {
            let c = colour(j);
            for g in 0..n {
                let x0 = g as f64 + (1.0 - GROUP_FILL) / 2.0 + j as f64 * slot;
                let (x1, mid) = (x0 + slot * 0.9, x0 + slot * 0.45);
                match s.values[g].filter(|v| v.is_finite()) {
                    Some(v) => {
                        chart
                            .draw_series([Rectangle::new([(x0, base), (x1, v)], c.filled())])
                            .map_err(|e| err(&e))?;
                    }
                    None => {
                        let y = base + (y_range.1 - y_range.0) * 0.01;
                        chart
                            .draw_series([Text::new("n/a", (mid, y), na_style.clone())])
                            .map_err(|e| err(&e))?;
                    }
                }
                if let Some(Some((lo, hi))) = s.intervals.get(g) {
                    let cap = slot * 0.18;
                    let black = BLACK.stroke_width(2);
                    let lines = [
                        vec![(mid, *lo), (mid, *hi)],
                        vec![(mid - cap, *lo), (mid + cap, *lo)],
                        vec![(mid - cap, *hi), (mid + cap, *hi)],
                    ];
                    chart
                        .draw_series(lines.into_iter().map(|l| PathElement::new(l, black)))
                        .map_err(|e| err(&e))?;
                }
            }
        }
        Ok(())
    }

    /// Renders the chart and writes it as a PNG file (atomically).
    pub fn write_png(&self, path: &Path) -> Result<()> {
        self.render().map_err(|e| e.in_file(path))?.write_png(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> BarChart {
        BarChart::new(
            "Attribute accuracy",
            "accuracy",
            ["Mouth_Slightly_Open", "Smiling", "Eyeglasses"],
        )
        .with_series(BarSeries::new(
            "Real Image",
            [Some(0.87), Some(0.90), Some(0.97)],
        ))
        .with_series(
            BarSeries::new("FadNet Swap", [Some(0.70), Some(0.74), None]).with_intervals([
                Some((0.66, 0.74)),
                Some((0.70, 0.78)),
                None,
            ]),
        )
    }

    #[test]
    fn a_bar_png_has_the_requested_size_and_both_colours() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bars.png");
        results().with_size(700, 420).write_png(&path).unwrap();
        let png = RgbImage::read_png(&path).unwrap();
        assert_eq!((png.width, png.height), (700, 420));
        assert!(png.distinct_colours(50) >= 10, "looks blank");
        for c in [colour(0), colour(1)] {
            assert!(png.data.chunks_exact(3).any(|p| p == [c.0, c.1, c.2]));
        }
    }

    #[test]
    fn accuracies_default_to_the_unit_range() {
        let chart = results();
        assert_eq!(chart.validate("t").unwrap(), (0.0, 1.0));
        let big = BarChart::new("", "", ["a"]).with_series(BarSeries::new("s", [Some(2.0)]));
        let (lo, hi) = big.validate("t").unwrap();
        assert!(lo <= 0.0 && hi >= 2.0);
    }

    #[test]
    fn mismatched_lengths_and_bad_intervals_are_errors() {
        let short = results().with_series(BarSeries::new("IcGAN AE", [Some(0.5)]));
        let msg = short.render().unwrap_err().to_string();
        assert!(
            msg.contains("`IcGAN AE` has 1 values for 3 groups"),
            "{msg}"
        );
        let bad = BarChart::new("", "", ["a"])
            .with_series(BarSeries::new("s", [Some(0.5)]).with_intervals([Some((0.6, 0.4))]));
        assert!(bad.render().unwrap_err().to_string().contains("interval"));
        assert!(
            BarChart::new("", "", Vec::<String>::new())
                .render()
                .is_err()
        );
    }
}
