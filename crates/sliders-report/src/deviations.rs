//! The deviations from the papers, read from `docs/deviations.list`: the list that
//! `cargo xtask tidy --write` collects from the `// Deviation:` comments of the sources (and
//! `cargo xtask tidy` checks is up to date), so the report never scans the source tree.

use crate::ReportError;
use std::path::Path;

/// The checked-in list, relative to the repository root.
pub const LIST: &str = "docs/deviations.list";

/// One marked deviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deviation {
    /// The file the comment is in.
    pub at: String,
    /// The comment's text, continuation lines joined.
    pub text: String,
}

/// Reads the list under `root`; a missing file is an error naming the command that writes it.
pub fn read(root: &Path) -> Result<Vec<Deviation>, ReportError> {
    let path = root.join(LIST);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        ReportError::format(
            &path,
            format!("{e}; it is generated: run `cargo xtask tidy --write` in the repository"),
        )
    })?;
    parse(&path.display().to_string(), &text)
}

/// Parses the list: `#` lines are comments, every other line `file<TAB>text`.
pub fn parse(origin: &str, text: &str) -> Result<Vec<Deviation>, ReportError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let Some((at, text)) = line.split_once('\t') else {
            return Err(ReportError::Format {
                path: format!("{origin}:{}", i + 1),
                message: "expected `file<TAB>text`; regenerate it with `cargo xtask tidy \
                          --write`"
                    .into(),
            });
        };
        out.push(Deviation {
            at: at.to_string(),
            text: text.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_read_line_by_line_and_a_bad_line_is_named() {
        let list = "# header\n# more\ncrates/a.rs\tone: two\ncrates/c.toml\tthree\n";
        assert_eq!(
            parse("d.list", list).unwrap(),
            vec![
                Deviation {
                    at: "crates/a.rs".into(),
                    text: "one: two".into()
                },
                Deviation {
                    at: "crates/c.toml".into(),
                    text: "three".into()
                },
            ]
        );
        let err = parse("d.list", "# h\nno tab here\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("d.list:2:"), "{err}");
    }
}
