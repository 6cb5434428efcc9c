//! sliders-plots: the figures and tables of the sliders reports, from plain Rust data (no tch).
//!
//! - [`ImageGrid`]: labelled grids of small images (sliding-attribute grids, swaps, encoder
//!   reconstructions, cGAN samples, interpolation strips);
//! - [`CurveChart`]: line charts, stacked panels sharing x (training curves, slider response);
//! - [`BarChart`]: grouped bars with error bars (attribute and swap accuracies);
//! - [`Table`]: Markdown, CSV and Parquet (polars) tables with "not available" cells, and the
//!   CSV reader used for `metrics.csv`.
//!
//! Images arrive as `ndarray` arrays (CHW, as tensors are laid out; see docs/architecture.md).
//!
//! Figures are PNG files rendered with plotters' bitmap backend and the bundled DejaVu Sans
//! font, so they look the same on a machine without system fonts. Every file is written to a
//! temporary file beside its destination and renamed.

mod atomic;
mod bars;
mod chart;
mod csv;
mod curves;
mod error;
mod font;
mod image;
mod image_grid;
mod table;

pub use atomic::{write_atomic, write_bytes_atomic};
pub use bars::{BarChart, BarSeries};
pub use curves::{CurveChart, Panel, Series};
pub use error::{PlotsError, Result};
pub use image::RgbImage;
pub use image_grid::{GridLayout, ImageGrid};
/// The ndarray of the image boundary (the version tch converts to and from).
pub use ndarray;
pub use table::{Column, ColumnData, Table};
