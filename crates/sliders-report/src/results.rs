//! The evaluation's `results.csv` read back typed (one [`ResultRow`] per figure: table, row,
//! attribute, metric, value, 95% interval, n, note), for the summary at the top of the report.
//! The format is sliders-config's `results`, which the evaluation (sliders-eval) writes with.

use crate::ReportError;
use std::path::Path;

/// One figure of the evaluation.
pub use sliders_config::results::ResultCell as ResultRow;

/// Reads `path`.
pub fn read(path: &Path) -> Result<Vec<ResultRow>, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    sliders_config::results::parse(&path.display().to_string(), &text).map_err(|e| {
        ReportError::Format {
            path: format!("{}:{}", e.origin, e.line),
            message: e.message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_results_file_is_a_format_error_naming_its_line() {
        let dir =
            std::env::temp_dir().join(format!("sliders-report-results-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.csv");
        let header = sliders_config::results::HEADER;
        std::fs::write(&path, format!("{header}\nt,r,a,m,1,,,x,\n")).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("results.csv:2: n `x` is not a count"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
