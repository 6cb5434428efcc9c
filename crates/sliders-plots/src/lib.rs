//! sliders-plots: image grids, interpolation strips, curves and bar charts (plotters), tables to
//! CSV, Parquet and Markdown (polars), and the report writer. Filled by the pipeline issue; nothing
//! here yet.
