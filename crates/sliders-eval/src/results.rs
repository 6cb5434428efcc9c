//! The evaluation's result records: one [`Cell`] per (table, row, attribute, metric) with its value,
//! 95% interval and the number of images behind it, or the reason it is missing; and the images the
//! figures show.

use sliders_metrics::stats::Proportion;

/// One figure of a table: `results.csv`'s row, typed in sliders-config so the report reads what
/// the evaluation writes.
pub use sliders_config::results::ResultCell as Cell;

/// An accuracy with its Wilson interval.
pub fn proportion_cell(
    table: &str,
    row: &str,
    attribute: &str,
    metric: &str,
    p: Proportion,
) -> Cell {
    Cell::value(table, row, attribute, metric, p.value, p.n).with_interval(p.low, p.high)
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
