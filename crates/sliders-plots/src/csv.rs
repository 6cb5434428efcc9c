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
    let mut reader = Reader {
        path,
        records: Vec::new(),
        fields: Vec::new(),
        field: String::new(),
        quoted: false,
        in_quotes: false,
        line: 1,
        start_line: 1,
        at_field_start: true,
    };
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if reader.in_quotes {
            reader.quoted_char(c, &mut chars);
        } else {
            reader.plain_char(c, &mut chars)?;
        }
    }
    reader.finish()
}

/// The characters still to read.
type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// [`parse`]'s state between characters.
struct Reader<'a> {
    path: &'a Path,
    records: Vec<Record>,
    fields: Vec<Field>,
    field: String,
    quoted: bool,
    in_quotes: bool,
    line: usize,
    start_line: usize,
    at_field_start: bool,
}

impl Reader<'_> {
    /// A character inside a quoted cell: a doubled quote is one quote, a single one closes it.
    fn quoted_char(&mut self, c: char, chars: &mut Chars) {
        match c {
            '"' if chars.peek() == Some(&'"') => {
                chars.next();
                self.field.push('"');
            }
            '"' => self.in_quotes = false,
            '\n' => {
                self.line += 1;
                self.field.push(c);
            }
            _ => self.field.push(c),
        }
    }

    /// A character outside quotes: an opening quote, a comma, a line end or cell text.
    fn plain_char(&mut self, c: char, chars: &mut Chars) -> Result<()> {
        match c {
            '"' if self.at_field_start => {
                self.in_quotes = true;
                self.quoted = true;
                self.at_field_start = false;
            }
            '"' => {
                return Err(self.error(
                    self.line,
                    "a quote inside an unquoted cell (quote the whole cell)",
                ));
            }
            ',' => self.end_field(),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => self.end_record(),
            _ => {
                if self.quoted {
                    return Err(self.error(self.line, "text after a closing quote"));
                }
                self.field.push(c);
                self.at_field_start = false;
            }
        }
        Ok(())
    }

    /// Ends the current cell.
    fn end_field(&mut self) {
        self.fields.push(Field {
            text: std::mem::take(&mut self.field),
            quoted: self.quoted,
        });
        self.quoted = false;
        self.at_field_start = true;
    }

    /// Ends the current cell and record at a line break; a blank line makes no record.
    fn end_record(&mut self) {
        self.end_field();
        let fields = &self.fields;
        if !(fields.len() == 1 && fields[0].text.is_empty() && !fields[0].quoted) {
            self.records.push(Record {
                line: self.start_line,
                fields: std::mem::take(&mut self.fields),
            });
        }
        self.fields.clear();
        self.line += 1;
        self.start_line = self.line;
    }

    /// The records at the end of the text (the last one may lack its line break).
    fn finish(mut self) -> Result<Vec<Record>> {
        if self.in_quotes {
            return Err(self.error(self.start_line, "a quoted cell is never closed"));
        }
        if !self.fields.is_empty() || !self.field.is_empty() || self.quoted {
            self.fields.push(Field {
                text: self.field,
                quoted: self.quoted,
            });
            self.records.push(Record {
                line: self.start_line,
                fields: self.fields,
            });
        }
        Ok(self.records)
    }

    /// A CSV error at `line`.
    fn error(&self, line: usize, problem: &str) -> PlotsError {
        PlotsError::Csv {
            path: self.path.to_path_buf(),
            line,
            problem: problem.into(),
        }
    }
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
