//! [`Table`]: ordered, named columns of text, numbers, or numbers that may be missing ("not
//! available", e.g. a paper that reports no value), written as Markdown (per-column precision,
//! "n/a" with an optional footnote), CSV (full precision, missing = empty cell) and Parquet
//! (polars; missing = null). Missing values are never written as zero. Also reads CSV back, with
//! column types inferred, which is how `metrics.csv` files are loaded.

use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::{Column as PlColumn, DataFrame, ParquetWriter};

use crate::atomic::write_atomic;
use crate::csv::{Field, parse, quote};
use crate::error::{PlotsError, Result};

/// Decimals shown in Markdown for columns read from CSV.
const READ_PRECISION: usize = 4;

/// The values of one column.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnData {
    /// Text cells (left-aligned in Markdown).
    Text(Vec<String>),
    /// Numbers, all present.
    Number(Vec<f64>),
    /// Numbers where `None` is "not available": "n/a" in Markdown, empty in CSV, null in Parquet.
    OptionalNumber(Vec<Option<f64>>),
}

impl ColumnData {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(v) => v.len(),
            Self::Number(v) => v.len(),
            Self::OptionalNumber(v) => v.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named column and the decimals its numbers get in Markdown.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Header.
    pub name: String,
    /// Values.
    pub data: ColumnData,
    /// Decimals in Markdown (CSV and Parquet keep full precision).
    pub precision: usize,
}

impl Column {
    /// The values as optional numbers (`None` for a text column).
    pub fn numbers(&self) -> Option<Vec<Option<f64>>> {
        match &self.data {
            ColumnData::Text(_) => None,
            ColumnData::Number(v) => Some(v.iter().copied().map(Some).collect()),
            ColumnData::OptionalNumber(v) => Some(v.clone()),
        }
    }

    /// The values of a text column (`None` for a numeric one).
    pub fn text(&self) -> Option<&[String]> {
        match &self.data {
            ColumnData::Text(v) => Some(v),
            _ => None,
        }
    }

    fn markdown_cell(&self, row: usize) -> (String, bool) {
        let p = self.precision;
        match &self.data {
            ColumnData::Text(v) => (escape_markdown(&v[row]), false),
            ColumnData::Number(v) => (format!("{:.p$}", v[row]), false),
            ColumnData::OptionalNumber(v) => match v[row] {
                Some(x) => (format!("{x:.p$}"), false),
                None => ("n/a".to_string(), true),
            },
        }
    }

    fn csv_cell(&self, row: usize) -> String {
        match &self.data {
            ColumnData::Text(v) => quote(&v[row]),
            ColumnData::Number(v) => format!("{}", v[row]),
            ColumnData::OptionalNumber(v) => v[row].map(|x| format!("{x}")).unwrap_or_default(),
        }
    }
}

/// A table of equally long, uniquely named columns, in order, with an optional footnote that
/// explains "n/a" cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    columns: Vec<Column>,
    footnote: Option<String>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a text column.
    pub fn with_text<S: Into<String>>(
        self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Result<Self> {
        let data = ColumnData::Text(values.into_iter().map(Into::into).collect());
        self.with_column(Column {
            name: name.into(),
            data,
            precision: 0,
        })
    }

    /// Appends a numeric column shown with `precision` decimals in Markdown.
    pub fn with_numbers(
        self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = f64>,
        precision: usize,
    ) -> Result<Self> {
        let data = ColumnData::Number(values.into_iter().collect());
        self.with_column(Column {
            name: name.into(),
            data,
            precision,
        })
    }

    /// Appends a numeric column whose `None` cells are "not available".
    pub fn with_optional_numbers(
        self,
        name: impl Into<String>,
        values: impl IntoIterator<Item = Option<f64>>,
        precision: usize,
    ) -> Result<Self> {
        let data = ColumnData::OptionalNumber(values.into_iter().collect());
        self.with_column(Column {
            name: name.into(),
            data,
            precision,
        })
    }

    /// Appends a column; errors when its length differs from the table's or its name is taken.
    pub fn with_column(mut self, column: Column) -> Result<Self> {
        if self.columns.iter().any(|c| c.name == column.name) {
            return Err(PlotsError::input(
                "table",
                format!("two columns are named `{}`", column.name),
            ));
        }
        if let Some(first) = self.columns.first()
            && first.data.len() != column.data.len()
        {
            return Err(PlotsError::input(
                "table",
                format!(
                    "column `{}` has {} rows, column `{}` has {}",
                    column.name,
                    column.data.len(),
                    first.name,
                    first.data.len()
                ),
            ));
        }
        self.columns.push(column);
        Ok(self)
    }

    /// Sets the footnote printed under the Markdown table when it has "n/a" cells
    /// (e.g. "not reported in the paper").
    pub fn with_footnote(mut self, footnote: impl Into<String>) -> Self {
        self.footnote = Some(footnote.into());
        self
    }

    /// The columns, in order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Number of rows (0 for a table without columns).
    pub fn n_rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    /// The table as GitHub-flavoured Markdown: a header row, an alignment row (text left, numbers
    /// right), one line per row, numbers with their column's precision, missing values as "n/a",
    /// and, when some cell is "n/a" and a footnote is set, a blank line and `n/a: <footnote>`.
    /// `|` in text is escaped and line breaks become spaces.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        if self.columns.is_empty() {
            return out;
        }
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|c| escape_markdown(&c.name))
            .collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let align: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.data {
                ColumnData::Text(_) => ":---",
                _ => "---:",
            })
            .collect();
        let _ = writeln!(out, "| {} |", align.join(" | "));
        let mut any_missing = false;
        for row in 0..self.n_rows() {
            let cells: Vec<String> = self
                .columns
                .iter()
                .map(|c| {
                    let (text, missing) = c.markdown_cell(row);
                    any_missing |= missing;
                    text
                })
                .collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        if let (true, Some(note)) = (any_missing, &self.footnote) {
            let _ = writeln!(out, "\nn/a: {}", note.replace('\n', " "));
        }
        out
    }

    /// The table as CSV text: a header row, then one line per row; numbers in full precision
    /// (they parse back to the same `f64`), missing values as empty cells, text quoted when it
    /// holds a comma, quote or line break, or is empty.
    pub fn to_csv_string(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| quote(&c.name)).collect();
        let _ = writeln!(out, "{}", header.join(","));
        for row in 0..self.n_rows() {
            let cells: Vec<String> = self.columns.iter().map(|c| c.csv_cell(row)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    /// Writes [`Table::to_csv_string`] to `path` (atomically).
    pub fn to_csv(&self, path: &Path) -> Result<()> {
        let text = self.to_csv_string();
        write_atomic(path, |w| {
            std::io::Write::write_all(w, text.as_bytes())
                .map_err(|e| PlotsError::io(path, "write", e))
        })
    }

    /// Reads a CSV file with a header row, such as `metrics.csv` or a file written by
    /// [`Table::to_csv`]. A column whose non-empty cells all parse as numbers becomes
    /// [`ColumnData::Number`], or [`ColumnData::OptionalNumber`] when some cell is empty (a value
    /// that row does not have); any other column is [`ColumnData::Text`]. Errors name the file
    /// and line (a row with another cell count than the header, a broken quote).
    pub fn read_csv(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| PlotsError::io(path, "read", e))?;
        Self::parse_csv(&text, path)
    }

    /// [`Table::read_csv`] on text; `path` only names errors.
    pub fn parse_csv(text: &str, path: &Path) -> Result<Self> {
        let mut records = parse(text, path)?.into_iter();
        let header = records.next().ok_or_else(|| PlotsError::Csv {
            path: path.to_path_buf(),
            line: 1,
            problem: "the file is empty (expected a header row)".into(),
        })?;
        let width = header.fields.len();
        let mut cells: Vec<Vec<Field>> = vec![Vec::new(); width];
        for record in records {
            if record.fields.len() != width {
                return Err(PlotsError::Csv {
                    path: path.to_path_buf(),
                    line: record.line,
                    problem: format!(
                        "{} cells, the header has {width} (a line cut short?)",
                        record.fields.len()
                    ),
                });
            }
            for (column, field) in cells.iter_mut().zip(record.fields) {
                column.push(field);
            }
        }
        let mut table = Table::new();
        for (name, column) in header.fields.into_iter().zip(cells) {
            let missing = |f: &Field| f.text.trim().is_empty() && !f.quoted;
            let numbers: Option<Vec<Option<f64>>> = column
                .iter()
                .map(|f| {
                    if missing(f) {
                        Some(None)
                    } else if f.quoted {
                        None
                    } else {
                        f.text.trim().parse::<f64>().ok().map(Some)
                    }
                })
                .collect();
            let data = match numbers {
                Some(v) if v.iter().all(Option::is_some) => {
                    ColumnData::Number(v.into_iter().flatten().collect())
                }
                Some(v) => ColumnData::OptionalNumber(v),
                None => ColumnData::Text(column.into_iter().map(|f| f.text).collect()),
            };
            table = table
                .with_column(Column {
                    name: name.text,
                    data,
                    precision: READ_PRECISION,
                })
                .map_err(|e| PlotsError::Csv {
                    path: path.to_path_buf(),
                    line: header.line,
                    problem: e.to_string(),
                })?;
        }
        Ok(table)
    }

    /// The table as a polars `DataFrame`: text as `String`, numbers as `Float64` (missing values
    /// as nulls).
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let columns: Vec<PlColumn> = self
            .columns
            .iter()
            .map(|c| {
                let name = c.name.as_str().into();
                match &c.data {
                    ColumnData::Text(v) => PlColumn::new(name, v),
                    ColumnData::Number(v) => PlColumn::new(name, v),
                    ColumnData::OptionalNumber(v) => PlColumn::new(name, v),
                }
            })
            .collect();
        DataFrame::new(self.n_rows(), columns)
            .map_err(|e| PlotsError::input("table", format!("polars: {e}")))
    }

    /// Writes the table as a Parquet file (polars, default compression) to `path` (atomically).
    pub fn to_parquet(&self, path: &Path) -> Result<()> {
        let mut df = self.to_dataframe().map_err(|e| e.in_file(path))?;
        write_atomic(path, |w| {
            ParquetWriter::new(w)
                .finish(&mut df)
                .map(|_| ())
                .map_err(|e| PlotsError::Parquet {
                    path: path.to_path_buf(),
                    action: "write",
                    message: e.to_string(),
                })
        })
    }
}

fn escape_markdown(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> Table {
        Table::new()
            .with_text("Attribute", ["Smiling", "Eyeglasses"])
            .unwrap()
            .with_numbers("Real Image", [0.9, 0.97], 3)
            .unwrap()
            .with_optional_numbers("Paper Swap", [Some(0.971), None], 1)
            .unwrap()
            .with_optional_numbers("Ours Swap", [Some(0.7412345), Some(0.6)], 3)
            .unwrap()
            .with_footnote("not reported in the paper")
    }

    #[test]
    fn markdown_of_a_known_table() {
        let expected = "\
| Attribute | Real Image | Paper Swap | Ours Swap |
| :--- | ---: | ---: | ---: |
| Smiling | 0.900 | 1.0 | 0.741 |
| Eyeglasses | 0.970 | n/a | 0.600 |

n/a: not reported in the paper
";
        assert_eq!(results().to_markdown(), expected);
    }

    #[test]
    fn markdown_escapes_pipes_and_skips_an_unneeded_footnote() {
        let t = Table::new()
            .with_text("a|b", ["x|y"])
            .unwrap()
            .with_optional_numbers("n", [Some(1.0)], 0)
            .unwrap()
            .with_footnote("unused");
        assert_eq!(
            t.to_markdown(),
            "| a\\|b | n |\n| :--- | ---: |\n| x\\|y | 1 |\n"
        );
    }

    #[test]
    fn csv_round_trip_keeps_values_and_missing_cells() {
        let table = Table::new()
            .with_text("name", ["plain", "with, comma", "", "quote \"q\""])
            .unwrap()
            .with_numbers("x", [0.1, 1e-7, -3.0, 1.0 / 3.0], 3)
            .unwrap()
            .with_optional_numbers("y", [None, Some(2.5), None, Some(0.0)], 3)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        table.to_csv(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("name,x,y\nplain,0.1,\n\"with, comma\","),
            "{text}"
        );
        let back = Table::read_csv(&path).unwrap();
        let mut expected = table.clone();
        for c in &mut expected.columns {
            c.precision = READ_PRECISION;
        }
        assert_eq!(back, expected);
    }

    #[test]
    fn metrics_csv_with_empty_cells_reads_as_optional_columns() {
        let text = "step,phase,loss,acc\n0,train,0.5,\n10,eval,,0.75\n20,train,0.25,\n";
        let t = Table::parse_csv(text, Path::new("metrics.csv")).unwrap();
        assert_eq!(t.n_rows(), 3);
        assert_eq!(
            t.column("step").unwrap().data,
            ColumnData::Number(vec![0.0, 10.0, 20.0])
        );
        assert_eq!(
            t.column("phase").unwrap().text().unwrap(),
            ["train", "eval", "train"]
        );
        assert_eq!(
            t.column("acc").unwrap().numbers().unwrap(),
            vec![None, Some(0.75), None]
        );
        let err = Table::parse_csv("a,b\n1,2\n3\n", Path::new("metrics.csv")).unwrap_err();
        assert!(
            err.to_string().starts_with("metrics.csv:3: 1 cells"),
            "{err}"
        );
    }

    #[test]
    fn mismatched_and_duplicate_columns_are_errors() {
        let t = Table::new().with_numbers("a", [1.0, 2.0], 1).unwrap();
        let err = t.clone().with_numbers("b", [1.0], 1).unwrap_err();
        assert!(
            err.to_string().contains("`b` has 1 rows, column `a` has 2"),
            "{err}"
        );
        assert!(t.with_numbers("a", [1.0, 2.0], 1).is_err());
    }

    #[test]
    fn parquet_read_back_by_polars_has_the_values_and_nulls() {
        use polars::prelude::{ParquetReader, SerReader};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        results().to_parquet(&path).unwrap();
        let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height(), 2);
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["Attribute", "Real Image", "Paper Swap", "Ours Swap"]
        );
        let attr = df.column("Attribute").unwrap().str().unwrap();
        let attr: Vec<Option<&str>> = (0..attr.len()).map(|i| attr.get(i)).collect();
        assert_eq!(attr, [Some("Smiling"), Some("Eyeglasses")]);
        let floats = |name: &str| -> Vec<Option<f64>> {
            let ca = df.column(name).unwrap().f64().unwrap();
            (0..ca.len()).map(|i| ca.get(i)).collect()
        };
        let paper = floats("Paper Swap");
        assert_eq!(paper, [Some(0.971), None]);
        assert_eq!(df.column("Paper Swap").unwrap().null_count(), 1);
        let real = floats("Real Image");
        assert_eq!(real, [Some(0.9), Some(0.97)]);
    }
}
