//! The function-length check of `cargo xtask tidy` (issue #21): every non-test function under
//! `crates/*/src/` and `xtask/src/` longer than [`MAX_FN_LINES`], found by a small lexer that
//! blanks comments, strings and character literals and counts braces. Items marked
//! `#[cfg(test)]` or `#[test]` are skipped; examples, benches and integration tests are not
//! scanned.

use std::path::{Path, PathBuf};

/// The longest a non-test function may be, in lines from its `fn` line to its closing brace;
/// `cargo xtask tidy` (and so `cargo xtask test`) fails on a longer one.
pub const MAX_FN_LINES: usize = 80;

/// A function over the limit.
#[derive(Debug, PartialEq, Eq)]
pub struct LongFn {
    /// The file, relative to the repository root.
    pub file: String,
    /// 1-based line of its `fn` line.
    pub line: usize,
    pub name: String,
    /// Lines from the `fn` line to the closing brace, both included.
    pub lines: usize,
}

/// Fails listing the functions over [`MAX_FN_LINES`] (file:line, name, length), if any.
pub fn check(root: &Path) -> anyhow::Result<()> {
    let long = long_functions(root);
    if long.is_empty() {
        println!("==> tidy: no function is over {MAX_FN_LINES} lines");
        return Ok(());
    }
    let list: Vec<String> = long
        .iter()
        .map(|f| format!("    {}:{}  {}  ({} lines)", f.file, f.line, f.name, f.lines))
        .collect();
    anyhow::bail!(
        "{} functions are over {MAX_FN_LINES} lines:\n{}\nFix: split each into named helpers \
         (one responsibility each, a `///` line on what it does)",
        long.len(),
        list.join("\n")
    )
}

/// The non-test functions over [`MAX_FN_LINES`] in `crates/*/src/` and `xtask/src/`, sorted by
/// file and line.
pub fn long_functions(root: &Path) -> Vec<LongFn> {
    let mut stack: Vec<PathBuf> = vec![root.join("xtask").join("src")];
    if let Ok(entries) = std::fs::read_dir(root.join("crates")) {
        stack.extend(entries.flatten().map(|e| e.path().join("src")));
    }
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            for (line, name, lines) in functions(&text) {
                if lines > MAX_FN_LINES {
                    out.push(LongFn {
                        file: file.clone(),
                        line,
                        name,
                        lines,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out
}

/// Every function with a body in `text` outside test items, as (1-based `fn` line, name, lines).
fn functions(text: &str) -> Vec<(usize, String, usize)> {
    let code = blank_literals(text);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if t.starts_with("#[cfg(test)]") || t.starts_with("#[test]") {
            // Skip the item the attribute is on (its other attributes and blank lines first).
            let mut j = i + 1;
            while j < lines.len()
                && (lines[j].trim().is_empty() || lines[j].trim().starts_with("#["))
            {
                j += 1;
            }
            i = item_end(&lines, j).unwrap_or(j) + 1;
            continue;
        }
        if let Some(name) = fn_name(t)
            && let Some(end) = item_end(&lines, i)
        {
            out.push((i + 1, name.to_string(), end - i + 1));
        }
        i += 1;
    }
    out
}

/// The name of the function a (trimmed) line declares, if it starts with a `fn` item.
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line;
    if let Some(r) = rest.strip_prefix("pub") {
        rest = match r.strip_prefix('(') {
            Some(r) => &r[r.find(')')? + 1..],
            None => r,
        };
        rest = rest.trim_start();
    }
    loop {
        let before = rest;
        for kw in ["const ", "async ", "unsafe ", "default ", "extern \"\" "] {
            if let Some(r) = rest.strip_prefix(kw) {
                rest = r.trim_start();
            }
        }
        if rest == before {
            break;
        }
    }
    let rest = rest.strip_prefix("fn ")?.trim_start();
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    (len > 0).then(|| &rest[..len])
}

/// The 0-based line where the item starting at `start` closes its outermost brace; `None` when
/// a `;` outside parentheses and brackets ends it first (a declaration without a body).
fn item_end(lines: &[&str], start: usize) -> Option<usize> {
    let (mut braces, mut nest, mut opened) = (0i64, 0i64, false);
    for (j, line) in lines.iter().enumerate().skip(start) {
        for c in line.chars() {
            match c {
                '{' => {
                    braces += 1;
                    opened = true;
                }
                '}' => braces -= 1,
                '(' | '[' => nest += 1,
                ')' | ']' => nest -= 1,
                ';' if !opened && nest == 0 => return None,
                _ => {}
            }
            if opened && braces == 0 {
                return Some(j);
            }
        }
    }
    None
}

/// `text` with comments, string literals (raw ones too) and character literals replaced by
/// spaces, their line breaks kept (so braces in them do not count and line numbers hold).
fn blank_literals(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|&ch| if ch == '\n' { '\n' } else { ' ' }));
    };
    let mut i = 0;
    while i < c.len() {
        let ident_before = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        let end = if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len())
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            block_comment_end(&c, i)
        } else if c[i] == '"' {
            string_end(&c, i + 1)
        } else if c[i] == 'r' && !ident_before && matches!(c.get(i + 1), Some('"' | '#')) {
            let hashes = c[i + 1..].iter().take_while(|&&ch| ch == '#').count();
            if c.get(i + 1 + hashes) == Some(&'"') {
                raw_string_end(&c, i + 2 + hashes, hashes)
            } else {
                i + 1
            }
        } else if c[i] == '\'' {
            char_literal_end(&c, i).unwrap_or(i + 1)
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        blank(&mut out, &c[i..end]);
        i = end;
    }
    out
}

/// The end (exclusive) of a block comment starting at `i` (nested ones included).
fn block_comment_end(c: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < c.len() {
        if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    c.len()
}

/// The end (exclusive) of a string whose text starts at `i` (escapes skipped).
fn string_end(c: &[char], mut i: usize) -> usize {
    while i < c.len() {
        match c[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    c.len()
}

/// The end (exclusive) of a raw string whose text starts at `i`, closed by `"` and `hashes` `#`.
fn raw_string_end(c: &[char], mut i: usize, hashes: usize) -> usize {
    while i < c.len() {
        if c[i] == '"'
            && c[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&ch| ch == '#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        i += 1;
    }
    c.len()
}

/// The end (exclusive) of a character literal at `i`, `None` for a lifetime or label.
fn char_literal_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        let close = (i + 3..c.len().min(i + 12)).find(|&j| c[j] == '\'')?;
        return Some(close + 1);
    }
    (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_functions_are_measured_and_tests_skipped() {
        let body = "    let x = 1;\n".repeat(85);
        let text = format!(
            "/// A short one.\npub(crate) fn short(a: [u8; 4]) -> u8 {{\n    a[0]\n}}\n\n\
             pub async fn long() {{\n    let s = \"}}\";\n    let c = '{{';\n    \
             let r = r#\"}}\"#; // }}\n    /* {{ */\n{body}}}\n\n\
             trait T {{\n    fn declared(&self);\n}}\n\n\
             #[cfg(test)]\nmod tests {{\n    fn also_long() {{\n{body}    }}\n}}\n\n\
             #[test]\nfn a_long_test() {{\n{body}}}\n\nfn after<'a>(s: &'a str) -> &'a str {{\n    s\n}}\n"
        );
        assert_eq!(
            functions(&text),
            vec![
                (2, "short".to_string(), 3),
                (6, "long".to_string(), 91),
                (282, "after".to_string(), 3),
            ]
        );
    }

    #[test]
    fn only_the_long_ones_are_listed_with_their_file() {
        let dir = std::env::temp_dir().join(format!("xtask-fn-lines-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("crates/x/src/m")).unwrap();
        let long = format!(
            "fn long() {{\n{}}}\n",
            "    f();\n".repeat(MAX_FN_LINES - 1)
        );
        let short = format!(
            "fn short() {{\n{}}}\n",
            "    f();\n".repeat(MAX_FN_LINES - 2)
        );
        std::fs::write(dir.join("crates/x/src/m/a.rs"), format!("{short}{long}")).unwrap();
        assert_eq!(
            long_functions(&dir),
            vec![LongFn {
                file: "crates/x/src/m/a.rs".to_string(),
                line: MAX_FN_LINES + 1,
                name: "long".to_string(),
                lines: MAX_FN_LINES + 1,
            }]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
