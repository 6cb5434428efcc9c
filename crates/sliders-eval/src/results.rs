//! The evaluation's result records: one [`Cell`] per (table, row, attribute, metric) with its value,
//! 95% interval and the number of images behind it, or the reason it is missing; and the images the
//! figures show.

use serde::Serialize;
use sliders_metrics::stats::Proportion;

/// One figure of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// `fader_vs_icgan`, `encoders`, `counterfactual`, `slider_response`, `gender`.
    pub table: String,
    /// The row (`Real Image`, `FadNet Swap`, `IND`, …).
    pub row: String,
    /// The attribute (or `all`).
    pub attribute: String,
    /// `accuracy`, `fid`, `kid`, `mse`, `psnr`, …
    pub metric: String,
    /// The figure; `None` when it could not be computed (see `note`).
    pub value: Option<f64>,
    /// Lower end of the 95% interval, if any.
    pub low: Option<f64>,
    /// Upper end of the 95% interval, if any.
    pub high: Option<f64>,
    /// Images (or trials) behind the figure.
    pub n: u64,
    /// Why the value is missing, or what it means.
    pub note: String,
}

impl Cell {
    /// A plain value over `n` images.
    pub fn value(table: &str, row: &str, attribute: &str, metric: &str, v: f64, n: u64) -> Self {
        Self {
            table: table.into(),
            row: row.into(),
            attribute: attribute.into(),
            metric: metric.into(),
            value: Some(v),
            low: None,
            high: None,
            n,
            note: String::new(),
        }
    }

    /// An accuracy with its Wilson interval.
    pub fn proportion(
        table: &str,
        row: &str,
        attribute: &str,
        metric: &str,
        p: Proportion,
    ) -> Self {
        Self {
            low: Some(p.low),
            high: Some(p.high),
            ..Self::value(table, row, attribute, metric, p.value, p.n)
        }
    }

    /// A figure that could not be computed, and why (never a made-up number).
    pub fn missing(table: &str, row: &str, attribute: &str, metric: &str, why: &str) -> Self {
        Self {
            value: None,
            n: 0,
            note: why.into(),
            ..Self::value(table, row, attribute, metric, 0.0, 0)
        }
    }

    /// A value with a ± spread stored as the interval (e.g. KID's standard deviation over subsets).
    pub fn with_spread(mut self, sd: f64, note: &str) -> Self {
        if let Some(v) = self.value {
            self.low = Some(v - sd);
            self.high = Some(v + sd);
        }
        self.note = note.into();
        self
    }

    /// The key used by `metrics.json` and the CI gate: `table/row/attribute/metric`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.table, self.row, self.attribute, self.metric
        )
    }
}

/// An image grid to draw: rows of equally sized images with labels.
#[derive(Debug)]
pub struct Grid {
    /// File stem (`slide_Smiling`).
    pub name: String,
    /// Title above the grid.
    pub title: String,
    /// One label per row.
    pub row_labels: Vec<String>,
    /// One label per column.
    pub col_labels: Vec<String>,
    /// `rows × cols` images, each `[3, S, S]` f32 in [−1, 1] on the CPU.
    pub cells: Vec<Vec<tch::Tensor>>,
}

/// A set of curves to draw (slider response).
#[derive(Debug, Clone)]
pub struct Curves {
    /// File stem.
    pub name: String,
    /// Title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// `(series name, points)`.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Per series, a 95% interval band `(x, low, high)` (empty: none).
    pub bands: Vec<Vec<(f64, f64, f64)>>,
}

/// Everything an evaluation produced.
#[derive(Debug, Default)]
pub struct Results {
    /// Every figure.
    pub cells: Vec<Cell>,
    /// Image grids.
    pub grids: Vec<Grid>,
    /// Curves.
    pub curves: Vec<Curves>,
    /// Notes for the report (data, judges, what was skipped and why).
    pub notes: Vec<String>,
}

impl Results {
    /// The digits tables among the cells (`digits_<source>`), each once, in first-seen order.
    pub fn digits_tables(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in &self.cells {
            if c.table.starts_with("digits_") && !out.contains(&c.table.as_str()) {
                out.push(&c.table);
            }
        }
        out
    }

    /// The cell of a key, if present.
    pub fn get(&self, table: &str, row: &str, attribute: &str, metric: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| {
            c.table == table && c.row == row && c.attribute == attribute && c.metric == metric
        })
    }
}
