//! Layered configuration loading: TOML layers merged in order (defaults, experiment file, profile,
//! …), then `SLIDERS__SECTION__KEY=value` environment overrides, then deserialised into a typed
//! config whose structs deny unknown fields. Errors name the file (and line) that set the bad key,
//! or the variable, and the key path.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The prefix of override variables: `SLIDERS__TRAIN__STEPS=100` sets `train.steps`.
pub const ENV_PREFIX: &str = "SLIDERS__";

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A layer file could not be read.
    #[error("{path}: cannot read the config file: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A layer file is not valid TOML.
    #[error("{path}: not valid TOML: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (it names the line and column).
        message: String,
    },
    /// An override variable has a malformed name.
    #[error(
        "environment variable {name}: expected {ENV_PREFIX}SECTION__KEY=value (upper case, sections joined by __)"
    )]
    BadVariable {
        /// The variable.
        name: String,
    },
    /// An override variable's value starts like a TOML array, table or string but does not parse.
    #[error(
        "environment variable {name}: the value `{value}` is malformed TOML ({message}); fix: close \
         its brackets and quotes, e.g. {name}='[\"Smiling\"]' for a list or {name}='\"text\"' for a string"
    )]
    BadValue {
        /// The variable.
        name: String,
        /// Its raw value.
        value: String,
        /// The TOML parser's message (first line).
        message: String,
    },
    /// The merged configuration does not fit the typed config (unknown key, wrong type, …).
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        /// Where the key was set: a file (with line) or an environment variable, or "defaults".
        origin: String,
        /// The dotted key path.
        key: String,
        /// What is wrong, from the deserializer.
        message: String,
    },
}

/// One source of settings, lowest priority first.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Where it came from (a file path, or a name such as "built-in defaults").
    pub origin: String,
    /// Its file, if it is one.
    pub path: Option<PathBuf>,
    /// Its text.
    pub text: String,
    table: Table,
}

impl Layer {
    /// A layer from TOML text (for built-in defaults).
    pub fn from_str(origin: &str, text: &str) -> Result<Self, LoadError> {
        let table = text.parse::<Table>().map_err(|e| LoadError::Parse {
            path: PathBuf::from(origin),
            message: e.to_string(),
        })?;
        Ok(Self {
            origin: origin.to_string(),
            path: None,
            text: text.to_string(),
            table,
        })
    }

    /// A layer read from a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut layer =
            Self::from_str(&path.display().to_string(), &text).map_err(|e| match e {
                LoadError::Parse { message, .. } => LoadError::Parse {
                    path: path.to_path_buf(),
                    message,
                },
                other => other,
            })?;
        layer.path = Some(path.to_path_buf());
        Ok(layer)
    }

    /// The layer of `SLIDERS__…` variables among `vars`. Values are read as TOML (`100`, `true`,
    /// `"cpu"`, `[1, 2]`) and fall back to plain strings (`cpu`, `/data/celeba`); a value that
    /// starts like a TOML array, table or quoted string (`[`, `{`, `"`, `'`) must parse, or the
    /// error names the variable.
    pub fn from_env_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, LoadError> {
        let mut table = Table::new();
        let mut text = String::new();
        for (name, raw) in vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let parts: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
            if parts.iter().any(String::is_empty) {
                return Err(LoadError::BadVariable { name });
            }
            let value = env_value(&name, &raw)?;
            insert_path(&mut table, &parts, value);
            text.push_str(&format!("{name}={raw}\n"));
        }
        Ok(Self {
            origin: "environment".to_string(),
            path: None,
            text,
            table,
        })
    }

    /// Where `key` (dotted) is set in this layer: the file and line, or the variable.
    fn locate(&self, key: &[String]) -> Option<String> {
        let mut t = &self.table;
        for (i, part) in key.iter().enumerate() {
            match t.get(part) {
                Some(Value::Table(inner)) if i + 1 < key.len() => t = inner,
                Some(_) if i + 1 == key.len() => {
                    return Some(match &self.path {
                        Some(path) => match line_of(&self.text, key) {
                            Some(line) => format!("{}:{line}", path.display()),
                            None => path.display().to_string(),
                        },
                        None if self.origin == "environment" => {
                            format!(
                                "environment variable {ENV_PREFIX}{}",
                                key.join("__").to_ascii_uppercase()
                            )
                        }
                        None => self.origin.clone(),
                    });
                }
                _ => return None,
            }
        }
        None
    }
}

/// The TOML value of variable `name` = `raw`, or `raw` as a plain string when it is not TOML and
/// does not start like a TOML array, table or string.
fn env_value(name: &str, raw: &str) -> Result<Value, LoadError> {
    match format!("v = {raw}").parse::<Table>() {
        Ok(mut t) => Ok(t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string()))),
        Err(e) if raw.trim_start().starts_with(['[', '{', '"', '\'']) => Err(LoadError::BadValue {
            name: name.to_string(),
            value: raw.to_string(),
            message: e.message().lines().next().unwrap_or("").trim().to_string(),
        }),
        Err(_) => Ok(Value::String(raw.to_string())),
    }
}

/// Where `key` (dotted parts) was last set among `layers`: a file and line, or an environment
/// variable; `None` when no layer sets it (the built-in default applies).
pub fn origin_of(layers: &[Layer], key: &[&str]) -> Option<String> {
    let key: Vec<String> = key.iter().map(|s| s.to_string()).collect();
    layers.iter().rev().find_map(|l| l.locate(&key))
}

/// The 1-based line that sets `key` in TOML `text` (its last segment under the right `[section]`).
fn line_of(text: &str, key: &[String]) -> Option<usize> {
    let (last, sections) = key.split_last()?;
    let want_section = sections.join(".");
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(name) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        let Some((k, _)) = l.split_once('=') else {
            continue;
        };
        let k = k.trim();
        let full = if section.is_empty() {
            k.to_string()
        } else {
            format!("{section}.{k}")
        };
        if full == format!("{want_section}.{last}").trim_start_matches('.')
            || (section == want_section && k == last)
        {
            return Some(i + 1);
        }
    }
    None
}

fn insert_path(table: &mut Table, path: &[String], value: Value) {
    let (first, rest) = path.split_first().expect("non-empty path");
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return;
    }
    let entry = table
        .entry(first.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    if !entry.is_table() {
        *entry = Value::Table(Table::new());
    }
    insert_path(entry.as_table_mut().expect("a table"), rest, value);
}

/// Deep merge: tables merge key by key, anything else is replaced by the higher layer.
fn merge(base: &mut Table, over: &Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Merges `layers` (lowest priority first) and deserialises the result into `T`.
pub fn load<T: DeserializeOwned>(layers: &[Layer]) -> Result<(T, Table), LoadError> {
    let mut merged = Table::new();
    for layer in layers {
        merge(&mut merged, &layer.table);
    }
    let value = Value::Table(merged.clone());
    let result: Result<T, _> = serde_path_to_error::deserialize(value);
    match result {
        Ok(t) => Ok((t, merged)),
        Err(err) => {
            let key: Vec<String> = err
                .path()
                .to_string()
                .split('.')
                .filter(|s| !s.is_empty() && *s != "?")
                .map(str::to_string)
                .collect();
            let inner = err.into_inner().to_string();
            let mut message = inner.lines().next().unwrap_or("").trim().to_string();
            // For an unknown field the path stops at its table: name the field too.
            let mut full_key = key.clone();
            if let Some(field) = message
                .strip_prefix("unknown field `")
                .and_then(|s| s.split('`').next())
                && full_key.last().map(String::as_str) != Some(field)
            {
                full_key.push(field.to_string());
            }
            let origin = layers
                .iter()
                .rev()
                .find_map(|l| l.locate(&full_key))
                .unwrap_or_else(|| "merged configuration".to_string());
            if message.contains("untagged enum AttributeSpec") {
                message =
                    "expected a list of CelebA attribute names such as [\"Male\", \"Smiling\"] \
                           or a preset name (\"icgan18\", \"all\")"
                        .to_string();
            }
            if message.starts_with("missing field") {
                message.push_str(" (add it to the experiment file)");
            }
            Err(LoadError::Invalid {
                origin,
                key: full_key.join("."),
                message,
            })
        }
    }
}

/// Loads `files` in order, then the process's `SLIDERS__…` variables, into `T`.
pub fn load_files<T: DeserializeOwned>(
    defaults: Option<Layer>,
    files: &[&Path],
) -> Result<(T, Table), LoadError> {
    let mut layers: Vec<Layer> = defaults.into_iter().collect();
    for f in files {
        layers.push(Layer::from_file(f)?);
    }
    layers.push(Layer::from_env_vars(std::env::vars())?);
    load(&layers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Train {
        steps: u64,
        lr: f64,
        device: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Exp {
        seed: u64,
        train: Train,
    }

    const DEFAULTS: &str = "seed = 0\n[train]\nsteps = 10\nlr = 2e-4\ndevice = \"auto\"\n";

    #[test]
    fn later_layers_and_variables_win() {
        let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
        let exp = Layer::from_str("exp.toml", "[train]\nsteps = 500\n").unwrap();
        let env = Layer::from_env_vars([
            ("SLIDERS__TRAIN__DEVICE".to_string(), "cpu".to_string()),
            ("SLIDERS__SEED".to_string(), "7".to_string()),
            ("HOME".to_string(), "/root".to_string()),
        ])
        .unwrap();
        let (exp, _): (Exp, _) = load(&[defaults, exp, env]).unwrap();
        assert_eq!(
            exp,
            Exp {
                seed: 7,
                train: Train {
                    steps: 500,
                    lr: 2e-4,
                    device: "cpu".to_string()
                }
            }
        );
    }

    #[test]
    fn an_unknown_key_names_the_file_and_line() {
        let dir = std::env::temp_dir().join(format!("sliders-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("exp.toml");
        std::fs::write(&file, "seed = 1\n\n[train]\nsteps = 5\nstepz = 6\n").unwrap();
        let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
        let err = load::<Exp>(&[defaults, Layer::from_file(&file).unwrap()])
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("{}:5", file.display())), "{err}");
        assert!(err.contains("train.stepz"), "{err}");
        assert!(err.contains("unknown field"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_wrong_type_from_a_variable_names_the_variable() {
        let defaults = Layer::from_str("built-in defaults", DEFAULTS).unwrap();
        let env = Layer::from_env_vars([("SLIDERS__TRAIN__STEPS".to_string(), "many".to_string())])
            .unwrap();
        let err = load::<Exp>(&[defaults, env]).unwrap_err().to_string();
        assert!(
            err.contains("environment variable SLIDERS__TRAIN__STEPS"),
            "{err}"
        );
        assert!(err.contains("train.steps"), "{err}");
    }

    #[test]
    fn malformed_toml_and_variables_are_reported() {
        let err = Layer::from_str("x.toml", "[train\nsteps=1")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("x.toml: not valid TOML"), "{err}");
        let err = Layer::from_env_vars([("SLIDERS__TRAIN____STEPS".to_string(), "1".to_string())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("SLIDERS__TRAIN____STEPS"), "{err}");
    }

    /// Issue #22: an unclosed TOML value in a variable named the untagged enum, not the variable.
    #[test]
    fn an_unclosed_toml_value_in_a_variable_names_the_variable() {
        for raw in ["[\"Smiling", "[\"Smiling\"", "\"cpu", "{a = 1"] {
            let err = Layer::from_env_vars([("SLIDERS__DATA__ATTRIBUTES".to_string(), raw.into())])
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("environment variable SLIDERS__DATA__ATTRIBUTES")
                    && err.contains("malformed TOML")
                    && err.contains(raw)
                    && !err.contains("untagged"),
                "{err}"
            );
        }
        // Plain words and paths are still strings.
        let layer = Layer::from_env_vars([
            ("SLIDERS__DEVICE".to_string(), "cpu".to_string()),
            (
                "SLIDERS__DATA__CELEBA_DIR".to_string(),
                "/no/such dir".to_string(),
            ),
        ])
        .unwrap();
        assert_eq!(layer.table["device"].as_str(), Some("cpu"));
        assert_eq!(
            origin_of(&[layer], &["data", "celeba_dir"]).as_deref(),
            Some("environment variable SLIDERS__DATA__CELEBA_DIR")
        );
    }
}
