//! Slider values: a `--set Name=value` [`Setting`], the checked [`Edit`] a model runs, and
//! [`check_alpha`], the one range check of a value shared by `sliders edit` / `interpolate` and
//! `sliders serve` (α scale of `model`: 0 absent, 1 present).

use crate::error::{EditError, Result};

/// One attribute set to a slider value `α` (the α scale of `model`).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Attribute name, as the model spells it.
    pub name: String,
    /// Slider value: 0 absent, 1 present, any real number.
    pub alpha: f64,
}

impl Setting {
    /// Parses `Name=value` (the `--set` syntax), e.g. `Smiling=1.5`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| EditError::BadArgument {
            flag: "--set",
            text: text.to_string(),
            why: format!("{why}; write it as Name=value, e.g. --set Smiling=1.5"),
        };
        let (name, value) = text.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(bad("no attribute name"));
        }
        let alpha: f64 = value
            .trim()
            .parse()
            .map_err(|_| bad("the value is not a number"))?;
        if !alpha.is_finite() {
            return Err(bad("the value must be finite"));
        }
        Ok(Self {
            name: name.to_string(),
            alpha,
        })
    }
}

/// The one check of a slider value, shared by `sliders edit` / `interpolate` and `sliders serve`:
/// finite and inside `range` (inclusive). `name` is the attribute or the flag.
pub fn check_alpha(name: &str, value: f64, (lo, hi): (f64, f64)) -> Result<()> {
    if value.is_finite() && value >= lo && value <= hi {
        return Ok(());
    }
    Err(EditError::OutOfRange {
        name: name.to_string(),
        value,
        lo,
        hi,
    })
}

/// Settings checked against a model: `(attribute index, α)`, later ones overriding earlier ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit(pub Vec<(usize, f64)>);
