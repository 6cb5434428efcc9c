//! The evaluation's `results.csv` read back typed (one [`ResultRow`] per figure: table, row,
//! attribute, metric, value, 95% interval, n, note), for the summary at the top of the report.
//! The evaluation (sliders-eval) writes it; fields holding a comma or quote are quoted as CSV.

use crate::ReportError;
use std::path::Path;

/// One figure of the evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// Table key, e.g. `fader_vs_icgan`.
    pub table: String,
    /// Row, e.g. `FadNet Swap`.
    pub row: String,
    /// Attribute, e.g. `Smiling`.
    pub attribute: String,
    /// Metric, e.g. `accuracy`.
    pub metric: String,
    /// The value, when computed.
    pub value: Option<f64>,
    /// Lower end of the 95% interval.
    pub low: Option<f64>,
    /// Upper end of the 95% interval.
    pub high: Option<f64>,
    /// Images behind the value.
    pub n: u64,
}

const HEADER: &str = "table,row,attribute,metric,value,ci_low,ci_high,n,note";

/// Reads `path`.
pub fn read(path: &Path) -> Result<Vec<ResultRow>, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    parse(&path.display().to_string(), &text)
}

/// Parses the text of a `results.csv`; `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<ResultRow>, ReportError> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let bad = |line: usize, message: String| ReportError::Format {
        path: format!("{origin}:{line}"),
        message,
    };
    if header != HEADER {
        return Err(bad(1, format!("header `{header}`, expected `{HEADER}`")));
    }
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let f = fields(line);
        if f.len() != 9 {
            return Err(bad(i + 2, format!("{} fields, expected 9", f.len())));
        }
        let num = |s: &str| -> Result<Option<f64>, ReportError> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| bad(i + 2, format!("`{s}` is not a number")))
        };
        out.push(ResultRow {
            table: f[0].clone(),
            row: f[1].clone(),
            attribute: f[2].clone(),
            metric: f[3].clone(),
            value: num(&f[4])?,
            low: num(&f[5])?,
            high: num(&f[6])?,
            n: f[7]
                .parse()
                .map_err(|_| bad(i + 2, format!("n `{}` is not a count", f[7])))?,
        });
    }
    Ok(out)
}

/// The fields of one CSV line: commas separate, `"` quotes, `""` is a quote inside quotes.
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = out.last_mut().expect("one field at least");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_missing_values_missing_and_quoted_notes_whole() {
        let text = format!(
            "{HEADER}\nfader_vs_icgan,FadNet Swap,Smiling,accuracy,0.96,0.902,0.984,100,\n\
             fader_vs_icgan,Real Image,Smiling,fid,,,,0,\"off, \"\"no FID\"\"\"\n"
        );
        let rows = parse("results.csv", &text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].row, "FadNet Swap");
        assert_eq!(rows[0].value, Some(0.96));
        assert_eq!(
            (rows[0].low, rows[0].high, rows[0].n),
            (Some(0.902), Some(0.984), 100)
        );
        assert_eq!(rows[1].value, None);
        assert_eq!(fields("a,\"b, \"\"c\"\"\",d"), vec!["a", "b, \"c\"", "d"]);
        let err = parse("results.csv", &format!("{HEADER}\na,b\n"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("results.csv:2:"), "{err}");
    }
}
