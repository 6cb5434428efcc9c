//! The evaluation's files: its image grids and slider-response curves from [`Results`], the
//! accuracy bar chart of the Fader-vs-IcGAN table, the encoder comparison's bar chart (IcGAN
//! Figure 4a), and every table as CSV and Parquet, drawn with sliders-plots.

use crate::{EvalError, Results, encoders, table};
use sliders_plots::ndarray::{ArrayD, Ix3};
use sliders_plots::{BarChart, BarSeries, CurveChart, ImageGrid, Panel, RgbImage, Series, Table};
use std::path::Path;
use tch::{Kind, Tensor};

/// A `[3, S, S]` image in [−1, 1] as bytes (through tch's ndarray conversion).
fn to_rgb(t: &Tensor) -> Result<RgbImage, EvalError> {
    let x = ((t.to_kind(Kind::Float) + 1.0) / 2.0).contiguous();
    let chw = TryInto::<ArrayD<f32>>::try_into(&x)
        .ok()
        .and_then(|a| a.into_dimensionality::<Ix3>().ok())
        .ok_or_else(|| EvalError::Config(format!("image {:?} to a [3, H, W] array", x.size())))?;
    Ok(RgbImage::from_chw_f32(chw.view())?)
}

/// Writes the figures (`figures/*.png`) and tables (`tables/<table>.csv|.parquet`) of an
/// evaluation into `dir`.
pub fn write_eval_outputs(results: &Results, dir: &Path) -> Result<(), EvalError> {
    let figures = dir.join("figures");
    let tables = dir.join("tables");
    for d in [&figures, &tables] {
        std::fs::create_dir_all(d).map_err(|e| EvalError::io(d, e))?;
    }
    for g in &results.grids {
        let rows = g
            .cells
            .iter()
            .map(|r| r.iter().map(to_rgb).collect::<Result<Vec<_>, EvalError>>())
            .collect::<Result<Vec<_>, EvalError>>()?;
        let mut grid = ImageGrid::new(rows);
        grid.row_labels = g.row_labels.clone();
        grid.col_labels = g.col_labels.clone();
        grid.title = g.title.clone();
        grid.write_png(&figures.join(format!("{}.png", g.name)))?;
    }
    for c in &results.curves {
        let mut panel = Panel::new(c.y_label.clone()).with_y_range(0.0, 1.0);
        for (i, (name, pts)) in c.series.iter().enumerate() {
            let band = c.bands.get(i).cloned().unwrap_or_default();
            panel =
                panel.with_series(Series::new(name.clone(), pts.iter().copied()).with_band(band));
        }
        CurveChart::new(c.title.clone(), c.x_label.clone())
            .with_panel(panel)
            .write_png(&figures.join(format!("{}.png", c.name)))?;
    }
    accuracy_bars(results, &figures.join("accuracy.png"))?;
    encoder_bars(results, encoders::TABLE, &figures.join(encoders::FIGURE))?;
    for t in results.digits_tables() {
        encoder_bars(results, t, &figures.join(crate::digits::figure_4a(t)))?;
    }
    let mut names: Vec<&str> = results.cells.iter().map(|c| c.table.as_str()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let cells: Vec<_> = results.cells.iter().filter(|c| c.table == name).collect();
        let t = Table::new()
            .with_text("row", cells.iter().map(|c| c.row.clone()))?
            .with_text("attribute", cells.iter().map(|c| c.attribute.clone()))?
            .with_text("metric", cells.iter().map(|c| c.metric.clone()))?
            .with_optional_numbers("value", cells.iter().map(|c| c.value), 4)?
            .with_optional_numbers("ci_low", cells.iter().map(|c| c.low), 4)?
            .with_optional_numbers("ci_high", cells.iter().map(|c| c.high), 4)?
            .with_numbers("n", cells.iter().map(|c| c.n as f64), 0)?
            .with_text("note", cells.iter().map(|c| c.note.clone()))?;
        t.to_csv(&tables.join(format!("{name}.csv")))?;
        t.to_parquet(&tables.join(format!("{name}.parquet")))?;
    }
    Ok(())
}

/// The accuracy of every row of the Fader-vs-IcGAN table per attribute, with 95% intervals.
fn accuracy_bars(results: &Results, path: &Path) -> Result<(), EvalError> {
    let mut attrs: Vec<String> = Vec::new();
    for c in results.cells.iter().filter(|c| c.table == table::TABLE) {
        if !attrs.contains(&c.attribute) {
            attrs.push(c.attribute.clone());
        }
    }
    if attrs.is_empty() {
        return Ok(());
    }
    let mut chart = BarChart::new(
        "Attribute accuracy by the evaluation classifier (AE: original value; Swap: flipped)",
        "accuracy",
        attrs.clone(),
    )
    .with_y_range(0.0, 1.0);
    for row in table::ROWS {
        let cells: Vec<_> = attrs
            .iter()
            .map(|a| results.get(table::TABLE, row, a, "accuracy"))
            .collect();
        chart = chart.with_series(
            BarSeries::new(row, cells.iter().map(|c| c.and_then(|c| c.value)))
                .with_intervals(cells.iter().map(|c| c.and_then(|c| c.low.zip(c.high)))),
        );
    }
    chart.write_png(path)?;
    Ok(())
}

/// The encoder comparison as the IcGAN paper's Figure 4a draws it (docs/evaluation.md#encoder-comparison):
/// a bar per layout with its 95% interval for each error, each divided by what an encoder that
/// ignores its input scores, so both share one axis where 1 is "no better than ignoring the
/// image": the reconstruction MSE on real test images over the mean face's, and the z MSE on
/// held-out generated images over z's variance (1: z ~ N(0, I), so predicting 0 scores 1).
/// `table`: the CelebA comparison's or a digits dataset's (whose baseline row is the mean digit).
fn encoder_bars(results: &Results, table: &str, path: &Path) -> Result<(), EvalError> {
    let layouts: Vec<&str> = ["SNG", "IND", "IND-COND"]
        .into_iter()
        .filter(|l| results.get(table, l, "all", "rec_mse").is_some())
        .collect();
    let baseline = if table == encoders::TABLE {
        "mean face"
    } else {
        crate::digits::MEAN_ROW
    };
    let mean_face = results
        .get(table, baseline, "all", "rec_mse")
        .and_then(|c| c.value)
        .filter(|v| *v > 0.0);
    let Some(mean_face) = mean_face.filter(|_| !layouts.is_empty()) else {
        return Ok(());
    };
    let metrics = [
        (
            "rec_mse",
            mean_face,
            format!("reconstruction MSE / {baseline}'s (real test images)"),
        ),
        (
            "z_mse",
            1.0,
            "z MSE / var(z) (held-out generated images)".into(),
        ),
    ];
    let groups: Vec<String> = metrics.iter().map(|(_, _, g)| g.to_string()).collect();
    let on = match table.strip_prefix("digits_") {
        Some(source) => format!(" on {source}"),
        None => String::new(),
    };
    let mut chart = BarChart::new(
        format!("IcGAN encoder layouts{on} (Figure 4a), 95% intervals; lower is more faithful"),
        "error relative to ignoring the input",
        groups,
    );
    for row in layouts {
        let cells: Vec<_> = metrics
            .iter()
            .map(|(m, base, _)| {
                results.get(table, row, "all", m).map(|c| {
                    (
                        c.value.map(|v| v / base),
                        c.low.zip(c.high).map(|(l, h)| (l / base, h / base)),
                    )
                })
            })
            .collect();
        chart = chart.with_series(
            BarSeries::new(row, cells.iter().map(|c| c.and_then(|c| c.0)))
                .with_intervals(cells.iter().map(|c| c.and_then(|c| c.1))),
        );
    }
    chart.write_png(path)?;
    Ok(())
}
