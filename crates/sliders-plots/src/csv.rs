//! A small RFC 4180 CSV reader and field quoting, enough for `metrics.csv` (header row, numeric
//! columns, empty cells for values a row does not have) and for reading back the tables this
//! crate writes; no dependency.

use std::path::Path;

use crate::error::{PlotsError, Result};

/// One cell: its text, and whether it was quoted (a quoted empty cell is an empty string, an
/// unquoted empty cell is a missing value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub text: String,
    pub quoted: bool,
}

/// One record and the 1-based line where it starts.
#[derive(Debug)]
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<Field>,
}

/// Splits CSV text into records. Quoted fields may hold commas, doubled quotes and newlines;
/// `\r\n` and `\n` both end a record; blank lines are skipped. `path` only names errors.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Vec<Record>> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                quoted = true;
                at_field_start = false;
            }
            '"' => {
                return Err(PlotsError::Csv {
                    path: path.to_path_buf(),
                    line,
                    problem: "a quote inside an unquoted cell (quote the whole cell)".into(),
                });
            }
            ',' => {
                fields.push(Field {
                    text: std::mem::take(&mut field),
                    quoted,
                });
                quoted = false;
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(Field {
                    text: std::mem::take(&mut field),
                    quoted,
                });
                quoted = false;
                at_field_start = true;
                if !(fields.len() == 1 && fields[0].text.is_empty() && !fields[0].quoted) {
                    records.push(Record {
                        line: start_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            _ => {
                if quoted {
                    return Err(PlotsError::Csv {
                        path: path.to_path_buf(),
                        line,
                        problem: "text after a closing quote".into(),
                    });
                }
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(PlotsError::Csv {
            path: path.to_path_buf(),
            line: start_line,
            problem: "a quoted cell is never closed".into(),
        });
    }
    if !fields.is_empty() || !field.is_empty() || quoted {
        fields.push(Field {
            text: field,
            quoted,
        });
        records.push(Record {
            line: start_line,
            fields,
        });
    }
    Ok(records)
}

/// Quotes a cell when it holds a comma, a quote, a line break, or is empty (so an empty string
/// is told apart from a missing value).
pub(crate) fn quote(text: &str) -> String {
    if text.is_empty() || text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(text: &str) -> Vec<Vec<String>> {
        parse(text, Path::new("t.csv"))
            .unwrap()
            .into_iter()
            .map(|r| r.fields.into_iter().map(|f| f.text).collect())
            .collect()
    }

    #[test]
    fn quoted_cells_hold_commas_quotes_and_newlines() {
        let text = "a,b\r\n\"x, \"\"y\"\"\",\"two\nlines\"\n\n1,\n";
        assert_eq!(
            cells(text),
            vec![
                vec!["a", "b"],
                vec!["x, \"y\"", "two\nlines"],
                vec!["1", ""]
            ]
        );
        let records = parse(text, Path::new("t.csv")).unwrap();
        assert_eq!(records[2].line, 5);
        assert!(!records[2].fields[1].quoted);
    }

    #[test]
    fn a_last_line_without_newline_is_read() {
        assert_eq!(cells("a\n1"), vec![vec!["a"], vec!["1"]]);
    }

    #[test]
    fn malformed_quotes_name_the_line() {
        let err = parse("a\nx\"y\n", Path::new("m.csv")).unwrap_err();
        assert!(err.to_string().starts_with("m.csv:2:"), "{err}");
        assert!(parse("\"open\n", Path::new("m.csv")).is_err());
    }

    #[test]
    fn quote_round_trips() {
        for s in ["plain", "", "a,b", "say \"hi\"", "two\nlines"] {
            let line = format!("{}\n", quote(s));
            assert_eq!(cells(&line), vec![vec![s.to_string()]]);
        }
    }
}
