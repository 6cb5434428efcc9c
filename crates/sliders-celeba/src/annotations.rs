//! Parsing of the three official CelebA annotation files: `list_attr_celeba.txt`,
//! `list_eval_partition.txt` and `identity_CelebA.txt` (docs/fader-networks.md#files-and-split,
//! docs/icgan.md#attributes).
//!
//! Accepted: an optional count line (the number of image rows that follow, checked: a file cut
//! short or padded is an error naming both counts), the names line, then one row per image; CRLF
//! or LF; columns separated by one or more spaces or tabs; attribute values `1` or `-1`. Blank
//! lines are skipped. Every error names the file and the line.

use crate::error::{CelebaError, Result};
use crate::split::Part;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The parsed `list_attr_celeba.txt`: attribute names and one bit row per image.
#[derive(Debug, Clone)]
pub struct AttributeFile {
    /// The file it was read from.
    pub path: PathBuf,
    /// Attribute names in file order (40 for CelebA; at most 64).
    pub names: Vec<String>,
    /// Image file names in file order (`000001.jpg`, ...).
    pub images: Vec<String>,
    /// One row per image: bit `j` set when attribute `names[j]` is present (`1` in the file).
    pub bits: Vec<u64>,
}

impl AttributeFile {
    /// Position of an attribute name in [`AttributeFile::names`].
    pub fn column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Lines of an annotation file with 1-based numbers, `\r` stripped, blank lines skipped.
fn numbered_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty())
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        CelebaError::io(
            "reading",
            path,
            e,
            "put the official CelebA annotation file there (see data/README.md)",
        )
    })?;
    String::from_utf8(bytes).map_err(|e| CelebaError::Annotation {
        file: path.to_path_buf(),
        line: 0,
        what: format!("not UTF-8 text ({e})"),
        fix: "use the official annotation file as distributed".into(),
    })
}

/// Reads and parses `list_attr_celeba.txt`.
pub fn read_attributes(path: &Path) -> Result<AttributeFile> {
    parse_attributes(&read_text(path)?, path)
}

/// Parses the text of an attribute file; `path` is only used in errors.
pub fn parse_attributes(text: &str, path: &Path) -> Result<AttributeFile> {
    let err = |line: usize, what: String, fix: &str| annotation_error(path, line, what, fix);
    let mut lines = numbered_lines(text).peekable();
    // Optional count line: a single integer, the number of rows that follow.
    let mut stated = None;
    if let Some((line, first)) = lines.peek() {
        let mut toks = first.split_ascii_whitespace();
        if let (Some(t), None) = (toks.next(), toks.next())
            && let Ok(n) = t.parse::<u64>()
        {
            stated = Some((*line, n));
            lines.next();
        }
    }
    let names = parse_attribute_names(lines.next(), path)?;
    let mut images = Vec::new();
    let mut bits = Vec::new();
    for (line, row) in lines {
        let (image, b) = parse_attribute_row(line, row, &names, path)?;
        images.push(image.to_owned());
        bits.push(b);
    }
    if let Some((line, n)) = stated
        && n != images.len() as u64
    {
        return Err(err(
            line,
            format!(
                "the count line says {n} image rows, the file has {}",
                images.len()
            ),
            "the file is truncated or was edited: restore the official file, or set its first \
             line to the number of image rows",
        ));
    }
    Ok(AttributeFile {
        path: path.to_path_buf(),
        names,
        images,
        bits,
    })
}

/// An error at `line` of the annotation file `path`.
fn annotation_error(path: &Path, line: usize, what: String, fix: &str) -> CelebaError {
    CelebaError::Annotation {
        file: path.to_path_buf(),
        line,
        what,
        fix: fix.to_owned(),
    }
}

/// The attribute names line (1 to 64 names, none a number), `None` when the file ended before it.
fn parse_attribute_names(names_line: Option<(usize, &str)>, path: &Path) -> Result<Vec<String>> {
    let err = |line: usize, what: String, fix: &str| annotation_error(path, line, what, fix);
    let (names_line, names_text) = names_line.ok_or_else(|| {
        err(
            1,
            "the file has no attribute names line (empty or truncated)".into(),
            "use the complete official file: a count line, a names line, then one row per image",
        )
    })?;
    let names: Vec<String> = names_text
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect();
    if names.is_empty() || names.len() > 64 {
        return Err(err(
            names_line,
            format!("expected 1 to 64 attribute names, found {}", names.len()),
            "line 2 must list the attribute names (40 for CelebA)",
        ));
    }
    if let Some(bad) = names.iter().find(|n| n.parse::<i64>().is_ok()) {
        return Err(err(
            names_line,
            format!("expected attribute names, found the number {bad:?}"),
            "the names line must follow the count line",
        ));
    }
    Ok(names)
}

/// One image row at `line`: the image name and its attributes as bits (bit `i` set when
/// attribute `i` is 1); every value must be 1 or -1, one per name.
fn parse_attribute_row<'a>(
    line: usize,
    row: &'a str,
    names: &[String],
    path: &Path,
) -> Result<(&'a str, u64)> {
    let err = |line: usize, what: String, fix: &str| annotation_error(path, line, what, fix);
    let k = names.len();
    let mut toks = row.split_ascii_whitespace();
    let image = toks.next().unwrap_or_default();
    let mut b = 0u64;
    let mut n = 0usize;
    for tok in toks {
        if n < k {
            match tok {
                "1" => b |= 1 << n,
                "-1" => {}
                _ => {
                    return Err(err(
                        line,
                        format!(
                            "value {tok:?} for attribute {} of image {image} is not 1 or -1",
                            names[n]
                        ),
                        "attribute values must be 1 (present) or -1 (absent)",
                    ));
                }
            }
        }
        n += 1;
    }
    if n != k {
        return Err(err(
            line,
            format!("row for {image} has {n} values, expected {k} (one per attribute name)"),
            "the file is truncated or damaged; restore the official list_attr_celeba.txt",
        ));
    }
    Ok((image, b))
}

/// Reads a two-column file `name value` (partition or identity), skipping an optional leading
/// count line, and maps each value with `parse`.
fn read_two_columns<T>(
    path: &Path,
    what_value: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<HashMap<String, T>> {
    parse_two_columns(&read_text(path)?, path, what_value, parse)
}

fn parse_two_columns<T>(
    text: &str,
    path: &Path,
    what_value: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<HashMap<String, T>> {
    let mut out = HashMap::new();
    for (i, (line, row)) in numbered_lines(text).enumerate() {
        let toks: Vec<&str> = row.split_ascii_whitespace().collect();
        if i == 0 && toks.len() == 1 && toks[0].parse::<u64>().is_ok() {
            continue; // count line
        }
        if toks.len() != 2 {
            return Err(CelebaError::Annotation {
                file: path.to_path_buf(),
                line,
                what: format!(
                    "expected 2 columns (image name, {what_value}), found {}",
                    toks.len()
                ),
                fix: "restore the official file; rows are `NNNNNN.jpg value`".into(),
            });
        }
        let v = parse(toks[1]).ok_or_else(|| CelebaError::Annotation {
            file: path.to_path_buf(),
            line,
            what: format!("{:?} is not a valid {what_value}", toks[1]),
            fix: "restore the official file".into(),
        })?;
        out.insert(toks[0].to_owned(), v);
    }
    Ok(out)
}

/// Reads `list_eval_partition.txt` (0 train, 1 valid, 2 test) into a map from image name.
pub fn read_partition(path: &Path) -> Result<HashMap<String, Part>> {
    read_two_columns(path, "partition (0, 1 or 2)", parse_part)
}

/// Parses the text of a partition file; `path` is only used in errors.
pub fn parse_partition(text: &str, path: &Path) -> Result<HashMap<String, Part>> {
    parse_two_columns(text, path, "partition (0, 1 or 2)", parse_part)
}

fn parse_part(s: &str) -> Option<Part> {
    match s {
        "0" => Some(Part::Train),
        "1" => Some(Part::Valid),
        "2" => Some(Part::Test),
        _ => None,
    }
}

/// Reads `identity_CelebA.txt` into a map from image name to identity number.
pub fn read_identities(path: &Path) -> Result<HashMap<String, u32>> {
    read_two_columns(path, "identity number", |s| s.parse().ok())
}

/// Parses the text of an identity file; `path` is only used in errors.
pub fn parse_identities(text: &str, path: &Path) -> Result<HashMap<String, u32>> {
    parse_two_columns(text, path, "identity number", |s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("list_attr_celeba.txt")
    }

    #[test]
    fn parses_count_names_rows_crlf() {
        let t = "2\r\nA B  C\r\n000001.jpg  1 -1 1\r\n000002.jpg -1 -1  -1\r\n";
        let f = parse_attributes(t, p()).unwrap();
        assert_eq!(f.names, ["A", "B", "C"]);
        assert_eq!(f.images, ["000001.jpg", "000002.jpg"]);
        assert_eq!(f.bits, [0b101, 0]);
    }

    #[test]
    fn names_line_alone_and_lf() {
        let t = "A B\n000001.jpg 1 1\n\n";
        let f = parse_attributes(t, p()).unwrap();
        assert_eq!(f.bits, [0b11]);
    }

    /// Issue #22: the count line was never checked, so a file cut between rows was accepted.
    #[test]
    fn stated_count_must_match_the_rows() {
        let t = "1\nA\nx.jpg 1\n";
        assert_eq!(parse_attributes(t, p()).unwrap().images.len(), 1);
        let t = "202599\nA\nx.jpg 1\ny.jpg -1\n";
        let e = parse_attributes(t, p()).unwrap_err().to_string();
        assert!(
            e.starts_with("list_attr_celeba.txt:1:")
                && e.contains("says 202599 image rows, the file has 2")
                && e.contains("truncated"),
            "{e}"
        );
    }

    #[test]
    fn short_row_names_line() {
        let t = "2\nA B\nx.jpg 1 1\ny.jpg 1\n";
        let e = parse_attributes(t, p()).unwrap_err().to_string();
        assert!(
            e.contains(":4:") && e.contains("1 values, expected 2"),
            "{e}"
        );
    }

    #[test]
    fn bad_value_names_column() {
        let t = "A B\nx.jpg 1 2\n";
        let e = parse_attributes(t, p()).unwrap_err().to_string();
        assert!(
            e.contains(":2:") && e.contains("\"2\"") && e.contains("B"),
            "{e}"
        );
    }

    #[test]
    fn empty_file_is_error() {
        assert!(parse_attributes("", p()).is_err());
        assert!(parse_attributes("202599\r\n", p()).is_err());
    }

    #[test]
    fn partition_and_identity() {
        let part = parse_partition("a.jpg 0\r\nb.jpg 2\r\n", Path::new("p")).unwrap();
        assert_eq!(part["b.jpg"], Part::Test);
        assert!(parse_partition("a.jpg 3\n", Path::new("p")).is_err());
        let ids = parse_identities("a.jpg 2880\nb.jpg 7\n", Path::new("i")).unwrap();
        assert_eq!(ids["a.jpg"], 2880);
        let e = parse_identities("a.jpg\n", Path::new("i"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("i:1:"), "{e}");
    }
}
