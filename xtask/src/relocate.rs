//! Moving a profile's run folders under another runs root (`cargo xtask reproduce --runs-root`):
//! every setting of a stage's experiment files that names a path under `data/runs/<profile>`
//! (a run folder, the evaluation's classifier and model runs, a Fader's judge, the encoders'
//! cGAN) becomes a `SLIDERS__SECTION__KEY` override pointing at the same place under the new root.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Value;

/// The runs root the experiment files of `profile` name (relative to the workspace).
pub fn default_runs(profile: &str) -> PathBuf {
    PathBuf::from("data/runs").join(profile)
}

/// The overrides that move every path under `from` named in `files` (layered in order: a later
/// file's value wins) to the same place under `to`. None when `from == to`.
pub fn overrides(
    root: &Path,
    files: &[PathBuf],
    from: &Path,
    to: &Path,
) -> Result<Vec<(String, String)>> {
    if from == to {
        return Ok(vec![]);
    }
    let mut merged = BTreeMap::new();
    for file in files {
        let path = root.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {} to move its run paths", path.display()))?;
        let table: toml::Table = text
            .parse()
            .with_context(|| format!("parsing {} to move its run paths", path.display()))?;
        flatten(&table, &mut Vec::new(), &mut merged);
    }
    let mut out = Vec::new();
    for (key, value) in merged {
        if let Some(moved) = moved(&value, from, to) {
            let name = format!("SLIDERS__{}", key.join("__").to_ascii_uppercase());
            out.push((name, moved.to_string()));
        }
    }
    Ok(out)
}

/// Every non-table value of `table` by its key path.
fn flatten(table: &toml::Table, prefix: &mut Vec<String>, out: &mut BTreeMap<Vec<String>, Value>) {
    for (k, v) in table {
        prefix.push(k.clone());
        match v {
            Value::Table(inner) => flatten(inner, prefix, out),
            other => {
                out.insert(prefix.clone(), other.clone());
            }
        }
        prefix.pop();
    }
}

/// `value` with its paths under `from` moved under `to` (a string, or an array of strings), or
/// `None` when it names no such path.
fn moved(value: &Value, from: &Path, to: &Path) -> Option<Value> {
    let one = |s: &str| {
        Path::new(s)
            .strip_prefix(from)
            .ok()
            .map(|rest| to.join(rest).display().to_string())
    };
    match value {
        Value::String(s) => one(s).map(Value::String),
        Value::Array(items) => {
            let mut any = false;
            let out = items
                .iter()
                .map(|item| match item {
                    Value::String(s) => match one(s) {
                        Some(m) => {
                            any = true;
                            Value::String(m)
                        }
                        None => item.clone(),
                    },
                    other => other.clone(),
                })
                .collect();
            any.then_some(Value::Array(out))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sliders_config::load::{Layer, load};
    use sliders_config::train::Experiment;

    #[test]
    fn strings_and_arrays_under_the_old_root_move_and_others_stay() {
        let from = Path::new("data/runs/smoke");
        let to = Path::new("/tmp/chaos/runs");
        let s = |v: &str| Value::String(v.into());
        assert_eq!(
            moved(&s("data/runs/smoke/cgan"), from, to),
            Some(s("/tmp/chaos/runs/cgan"))
        );
        assert_eq!(moved(&s("data/cache"), from, to), None);
        assert_eq!(moved(&s("data/runs/smokey/x"), from, to), None);
        let arr = Value::Array(vec![s("data/runs/smoke/a"), s("elsewhere/b")]);
        assert_eq!(
            moved(&arr, from, to),
            Some(Value::Array(vec![s("/tmp/chaos/runs/a"), s("elsewhere/b")]))
        );
        assert_eq!(moved(&Value::Integer(3), from, to), None);
    }

    #[test]
    fn a_runs_root_moves_every_run_path_of_every_stage() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let to = Path::new("/tmp/chaos-root");
        for profile in crate::reproduce::PROFILES {
            let from = default_runs(profile);
            for stage in crate::reproduce::stages(root, profile, to).unwrap() {
                let mut merged = BTreeMap::new();
                for file in &stage.files {
                    let text = std::fs::read_to_string(root.join(file)).unwrap();
                    flatten(&text.parse().unwrap(), &mut Vec::new(), &mut merged);
                }
                let moved = overrides(root, &stage.files, &from, to).unwrap();
                let set: BTreeMap<&str, &str> = moved
                    .iter()
                    .chain(&stage.env)
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                for (key, value) in &merged {
                    let var = format!("SLIDERS__{}", key.join("__").to_ascii_uppercase());
                    let names_old = value.to_string().contains(&from.display().to_string());
                    assert!(
                        !names_old
                            || set
                                .get(var.as_str())
                                .is_some_and(|v| v.contains("/tmp/chaos-root/")),
                        "{profile}/{}: {var} = {value} is not moved ({set:?})",
                        stage.name
                    );
                }
                let run_dir = set["SLIDERS__RUN_DIR"];
                assert!(
                    run_dir.starts_with("\"/tmp/chaos-root/"),
                    "{}: {run_dir}",
                    stage.name
                );
            }
        }
        // The evaluation's judged runs follow its run folder (the run layout beside it).
        let eval = crate::reproduce::stages(root, "smoke", to)
            .unwrap()
            .into_iter()
            .find(|s| s.name == "eval")
            .unwrap();
        let moved = overrides(root, &eval.files, &default_runs("smoke"), to).unwrap();
        let mut layers: Vec<Layer> = eval
            .files
            .iter()
            .map(|f| Layer::from_file(&root.join(f)).unwrap())
            .collect();
        layers.push(Layer::from_env_vars(moved.into_iter().chain(eval.env)).unwrap());
        let mut exp: Experiment = load(&layers).unwrap().0;
        exp.fill_eval_defaults();
        assert!(
            exp.eval().fader_runs.contains(&to.join("fader-male")),
            "{:?}",
            exp.eval().fader_runs
        );
        assert_eq!(
            exp.eval().classifier,
            to.join("classifier/best_classifier.safetensors")
        );
    }
}
