//! Layered configuration loading: TOML layers (built-in defaults, the experiment files in order),
//! then `SLIDERS__SECTION__KEY=value` environment overrides, merged by the `config` crate and
//! deserialised into a typed config whose structs deny unknown fields. A type may refuse
//! top-level sections ([`Layered::foreign_sections`]: an experiment takes only its kind's): a file
//! that carries one is an error, a variable for one is dropped, so one set of variables serves
//! every stage of a reproduce. Errors name the file (and line) that set the bad key, or the
//! variable, the key path and the fix.
//! Each [`Layer`] keeps its own parsed table beside `config`'s merge because `config` knows
//! neither the line of a value nor where a key it was never asked for came from (serde reports an
//! unknown key as a path), and the errors above need both ([`origin_of`]).

use config::{Config, File, FileFormat};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The prefix of override variables: `SLIDERS__TRAIN__STEPS=100` sets `train.steps`.
pub const ENV_PREFIX: &str = "SLIDERS__";

/// The origin of the layer of `SLIDERS__…` variables.
const ENVIRONMENT: &str = "environment";

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
    /// The merged configuration does not fit the typed config (unknown key, wrong type, a
    /// section the experiment's kind does not use, …).
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        /// Where the key was set: a file (with line) or an environment variable, or "defaults".
        origin: String,
        /// The dotted key path.
        key: String,
        /// What is wrong, from the deserializer, with the fix where one is known.
        message: String,
    },
    /// `config` could not merge the layers (not expected: every layer parsed on its own).
    #[error("merging the configuration layers: {message}")]
    Merge {
        /// `config`'s message.
        message: String,
    },
}

/// A type the loader builds from the merged layers: serde, plus the top-level sections it
/// refuses, which depend on the merged values (an experiment's `kind`).
pub trait Layered: DeserializeOwned {
    /// The top-level keys of `merged` this type does not take, each with the message that says
    /// how to fix it. Default: none.
    fn foreign_sections(_merged: &Table) -> Vec<(String, String)> {
        Vec::new()
    }
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
            origin: ENVIRONMENT.to_string(),
            path: None,
            text,
            table,
        })
    }

    /// Whether this is the layer of `SLIDERS__…` variables.
    fn is_environment(&self) -> bool {
        self.path.is_none() && self.origin == ENVIRONMENT
    }

    /// This layer as `config` reads it: its TOML text (the variables' values rendered as TOML).
    fn source(&self) -> Result<File<config::FileSourceString, FileFormat>, LoadError> {
        let text = if self.is_environment() {
            toml::to_string(&self.table).map_err(|e| LoadError::Merge {
                message: format!("the {ENV_PREFIX} variables as TOML: {e}"),
            })?
        } else {
            self.text.clone()
        };
        Ok(File::from_str(&text, FileFormat::Toml))
    }

    /// Where `key` (dotted) is set in this layer: the file and line, or the variable (for a
    /// table, the first variable under it).
    fn locate(&self, key: &[String]) -> Option<String> {
        let (first, rest) = key.split_first()?;
        let mut value = self.table.get(first)?;
        for part in rest {
            value = value.as_table()?.get(part)?;
        }
        if self.is_environment() {
            let mut full = key.to_vec();
            while let Some((k, inner)) = value.as_table().and_then(|t| t.iter().next()) {
                full.push(k.clone());
                value = inner;
            }
            return Some(format!(
                "environment variable {ENV_PREFIX}{}",
                full.join("__").to_ascii_uppercase()
            ));
        }
        Some(match &self.path {
            Some(path) => match line_of(&self.text, key) {
                Some(line) => format!("{}:{line}", path.display()),
                None => path.display().to_string(),
            },
            None => self.origin.clone(),
        })
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

/// The 1-based line of TOML `text` that sets `key`: its `section.key = …` line, or for a table
/// the first header or dotted key inside it (`[cgan_train]`, `[cgan_train.g_optimizer]`).
fn line_of(text: &str, key: &[String]) -> Option<usize> {
    let want = key.join(".");
    let inside = |name: &str| {
        name == want
            || name
                .strip_prefix(want.as_str())
                .is_some_and(|r| r.starts_with('.'))
    };
    let mut section = String::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.starts_with('[') {
            let end = l.rfind(']').unwrap_or(l.len());
            section = l[..end].trim_matches(['[', ']', ' ']).to_string();
            if inside(&section) {
                return Some(i + 1);
            }
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
        if inside(&full) {
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

/// `layers` merged by `config`, lowest priority first: tables merge key by key, anything else
/// (arrays included) is replaced by the higher layer.
fn merge(layers: &[Layer]) -> Result<Table, LoadError> {
    let mut builder = Config::builder();
    for layer in layers {
        builder = builder.add_source(layer.source()?);
    }
    builder
        .build()
        .and_then(Config::try_deserialize::<Table>)
        .map_err(|e| LoadError::Merge {
            message: e.to_string(),
        })
}

/// Merges `layers` (lowest priority first) and deserialises the result into `T`. A section `T`
/// refuses is an error naming the file that carries it; set only by variables, it is dropped.
pub fn load<T: Layered>(layers: &[Layer]) -> Result<(T, Table), LoadError> {
    let mut merged = merge(layers)?;
    for (section, fix) in T::foreign_sections(&merged) {
        let key = [section.clone()];
        let in_file = layers
            .iter()
            .rev()
            .filter(|l| !l.is_environment())
            .find_map(|l| l.locate(&key));
        if let Some(origin) = in_file {
            return Err(LoadError::Invalid {
                origin,
                key: section,
                message: fix,
            });
        }
        merged.remove(&section);
    }
    match serde_path_to_error::deserialize(Value::Table(merged.clone())) {
        Ok(t) => Ok((t, merged)),
        Err(err) => Err(invalid(layers, err)),
    }
}

/// The error of a merged configuration that does not deserialise: the key path, the layer that
/// set it and the deserializer's message with a fix where one is known.
fn invalid(layers: &[Layer], err: serde_path_to_error::Error<toml::de::Error>) -> LoadError {
    let mut key: Vec<String> = err
        .path()
        .to_string()
        .split('.')
        .filter(|s| !s.is_empty() && *s != "?")
        .map(str::to_string)
        .collect();
    let inner = err.into_inner().to_string();
    let mut message = inner.lines().next().unwrap_or("").trim().to_string();
    // For an unknown or missing field the path stops at its table: name the field too.
    if let Some(field) = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|s| s.split('`').next())
        && key.last().map(String::as_str) != Some(field)
    {
        key.push(field.to_string());
    }
    let origin = layers
        .iter()
        .rev()
        .find_map(|l| l.locate(&key))
        .unwrap_or_else(|| "merged configuration".to_string());
    if message.contains("untagged enum AttributeSpec") {
        message = "expected a list of CelebA attribute names such as [\"Male\", \"Smiling\"] \
                   or a preset name (\"icgan18\", \"all\")"
            .to_string();
    }
    if message.starts_with("missing field") {
        message.push_str(" (add it to the experiment file)");
    }
    LoadError::Invalid {
        origin,
        key: key.join("."),
        message,
    }
}

/// Loads `files` in order, then the process's `SLIDERS__…` variables, into `T`.
pub fn load_files<T: Layered>(
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
mod tests;
