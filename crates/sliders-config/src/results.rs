//! The evaluation's `results.csv`, typed once for its writer (sliders-eval) and its reader
//! (sliders-report): one [`ResultCell`] per figure (table, row, attribute, metric, value, 95%
//! interval, n, note), the table keys, and the CSV text both sides use. A missing value stays
//! empty in the file, never zero.

use serde::Serialize;

/// The header line of `results.csv`.
pub const HEADER: &str = "table,row,attribute,metric,value,ci_low,ci_high,n,note";

/// Table keys of the cells (the first column).
pub mod table {
    /// The papers' Fader-vs-IcGAN table (swap accuracy, FID/KID).
    pub const FADER_VS_ICGAN: &str = "fader_vs_icgan";
    /// IcGAN's encoder comparison (Fig. 4a).
    pub const ENCODERS: &str = "encoders";
    /// Counterfactual truth on synthetic faces.
    pub const COUNTERFACTUAL: &str = "counterfactual";
    /// The judge's response as a Fader slider moves.
    pub const SLIDER_RESPONSE: &str = "slider_response";
    /// The gender judge's agreement.
    pub const GENDER: &str = "gender";
}

/// One figure of the evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultCell {
    /// The table key ([`table`], or `digits_<source>`).
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

impl ResultCell {
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

    /// The same figure with its 95% interval.
    pub fn with_interval(self, low: f64, high: f64) -> Self {
        Self {
            low: Some(low),
            high: Some(high),
            ..self
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

/// A field as CSV: quoted when it holds a comma or a quote; a line break becomes a space (the
/// file is read line by line).
fn csv_field(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn number(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

/// The text of `results.csv`: the header, then one line per cell.
pub fn to_csv(cells: &[ResultCell]) -> String {
    let mut s = format!("{HEADER}\n");
    for c in cells {
        let fields = [
            csv_field(&c.table),
            csv_field(&c.row),
            csv_field(&c.attribute),
            csv_field(&c.metric),
            number(c.value),
            number(c.low),
            number(c.high),
            c.n.to_string(),
            csv_field(&c.note),
        ];
        s.push_str(&fields.join(","));
        s.push('\n');
    }
    s
}

/// A `results.csv` that cannot be read: where, and why.
#[derive(Debug, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct ResultsCsvError {
    /// The file (or what the text came from).
    pub origin: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

/// Parses the text of a `results.csv`; `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<Vec<ResultCell>, ResultsCsvError> {
    let bad = |line: usize, message: String| ResultsCsvError {
        origin: origin.to_string(),
        line,
        message,
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    if header != HEADER {
        return Err(bad(1, format!("header `{header}`, expected `{HEADER}`")));
    }
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let f = fields(line);
        if f.len() != 9 {
            return Err(bad(i + 2, format!("{} fields, expected 9", f.len())));
        }
        let num = |s: &str| -> Result<Option<f64>, ResultsCsvError> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse()
                .map(Some)
                .map_err(|_| bad(i + 2, format!("`{s}` is not a number")))
        };
        out.push(ResultCell {
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
            note: f[8].clone(),
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
    fn cells_survive_the_file_with_missing_values_missing_and_quoted_notes_whole() {
        let cells = vec![
            ResultCell::value(
                table::FADER_VS_ICGAN,
                "FadNet Swap",
                "Smiling",
                "accuracy",
                0.96,
                100,
            )
            .with_interval(0.902, 0.984),
            ResultCell::missing(
                table::FADER_VS_ICGAN,
                "Real Image",
                "Smiling",
                "fid",
                "off, \"no FID\"",
            ),
            ResultCell::value(table::ENCODERS, "IND", "all", "kid", 0.5, 7).with_spread(0.25, "sd"),
        ];
        let text = to_csv(&cells);
        assert!(text.starts_with(&format!("{HEADER}\n")));
        assert_eq!(parse("results.csv", &text).unwrap(), cells);
        assert_eq!(
            cells[1].value, None,
            "a missing value is not written as zero"
        );
        assert_eq!(
            cells[0].key(),
            "fader_vs_icgan/FadNet Swap/Smiling/accuracy"
        );
    }

    #[test]
    fn a_line_break_in_a_note_cannot_split_a_row() {
        let cell = ResultCell::missing(table::GENDER, "judge", "Male", "agreement", "no\nmodel");
        let back = parse("r.csv", &to_csv(std::slice::from_ref(&cell))).unwrap();
        assert_eq!(back[0].note, "no model");
    }

    #[test]
    fn a_bad_file_names_its_line_and_what_is_wrong() {
        let err = parse("results.csv", &format!("{HEADER}\na,b\n")).unwrap_err();
        assert_eq!(err.to_string(), "results.csv:2: 2 fields, expected 9");
        let err = parse("results.csv", "x,y\n").unwrap_err();
        assert!(
            err.to_string().starts_with("results.csv:1: header"),
            "{err}"
        );
        let text = format!("{HEADER}\nt,r,a,m,oops,,,1,\n");
        let err = parse("results.csv", &text).unwrap_err();
        assert!(err.message.contains("`oops` is not a number"), "{err}");
    }
}
