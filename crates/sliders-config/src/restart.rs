//! Restarting a run folder: which settings may differ between the runs that share one folder, and
//! the list of those that do ([`restart_changes`]).
//!
//! A run folder holds one run. A restart may change only what sets how long the run goes and how
//! often it reports or saves ([`LENGTH_KEYS`] in the `*_train` sections, and `step_scale`, which
//! scales them), and what sets where and how fast it runs (`device`, `run_dir`, `data.threads`,
//! `data.cache_dir`, `data.sampler.prefetch`): these change no weight a resumed run computes
//! differently from an uninterrupted one of the new length. Every other key of the sections the
//! run's kind reads ([`sections_of`]) counts, the seeds and learning rates among them. Sections
//! the kind does not read (e.g. `[eval]` for a Fader run) are not compared, so an edit or a new
//! default there does not block a resume.

use crate::train::{Experiment, ExperimentKind};
use std::collections::BTreeMap;
use toml::Value;

/// Keys of the `*_train` sections that only set a run's length or how often it logs, evaluates
/// and saves (the keys `step_scale` scales, plus `log_every`).
pub const LENGTH_KEYS: &[&str] = &[
    "total_steps",
    "epoch_size",
    "epochs",
    "lambda_schedule",
    "log_every",
    "checkpoint_every",
];

/// Keys anywhere in the config that set where or how fast a run goes, not what it computes.
pub const PLACE_KEYS: &[&str] = &[
    "device",
    "run_dir",
    "step_scale",
    "step_scale_applied",
    "data.threads",
    "data.cache_dir",
    "data.sampler.prefetch",
];

/// The top-level sections (and keys) a run of `kind` reads; `None` for the evaluation, which
/// starts over at every run and is never compared.
pub fn sections_of(kind: ExperimentKind) -> Option<&'static [&'static str]> {
    use ExperimentKind::*;
    Some(match kind {
        Fader => &["kind", "seed", "data", "fader", "fader_train"],
        Classifier => &["kind", "seed", "data", "classifier", "classifier_train"],
        Cgan => &["kind", "seed", "data", "icgan", "cgan_train"],
        Encoders => &["kind", "seed", "data", "icgan_encoder", "encoder_train"],
        Digits => &[
            "kind",
            "seed",
            "data",
            "icgan",
            "cgan_train",
            "icgan_encoder",
            "encoder_train",
            "classifier",
            "classifier_train",
            "digits",
        ],
        Eval => return None,
    })
}

/// Whether dotted `key` may differ between two runs of one folder.
pub fn is_free_key(key: &str) -> bool {
    if PLACE_KEYS.contains(&key) {
        return true;
    }
    match key.split_once('.') {
        Some((section, leaf)) => section.ends_with("_train") && LENGTH_KEYS.contains(&leaf),
        None => false,
    }
}

/// One setting that differs: its dotted key and both values as TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Dotted key, e.g. `fader_train.ae_optimizer.lr`.
    pub key: String,
    /// The saved run's value (`(absent)` when it had none).
    pub old: String,
    /// This run's value (`(absent)` when it has none).
    pub new: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} → {}", self.key, self.old, self.new)
    }
}

/// The settings of `new` that differ from the `saved` run's in the sections its kind reads,
/// apart from the free keys ([`is_free_key`]); both are compared as deserialised configs, so
/// defaults count as written. A changed `kind` is reported alone.
pub fn restart_changes(saved: &Experiment, new: &Experiment) -> Vec<Change> {
    let show = |v: &Value| v.to_string();
    if saved.kind != new.kind {
        let kind = |e: &Experiment| show(&Value::try_from(e.kind).expect("kind serialises"));
        return vec![Change {
            key: "kind".into(),
            old: kind(saved),
            new: kind(new),
        }];
    }
    let Some(sections) = sections_of(new.kind) else {
        return vec![];
    };
    let (a, b) = (flatten(saved, sections), flatten(new, sections));
    let absent = || "(absent)".to_string();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| !is_free_key(k))
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| Change {
            key: k.clone(),
            old: a.get(k).map(show).unwrap_or_else(absent),
            new: b.get(k).map(show).unwrap_or_else(absent),
        })
        .collect()
}

/// `exp`'s leaves under `sections`, by dotted key (arrays are leaves).
fn flatten(exp: &Experiment, sections: &[&str]) -> BTreeMap<String, Value> {
    let Value::Table(table) = Value::try_from(exp).expect("an experiment serialises") else {
        unreachable!("an experiment serialises to a table")
    };
    let mut out = BTreeMap::new();
    for (k, v) in table {
        if sections.contains(&k.as_str()) {
            leaves(&k, v, &mut out);
        }
    }
    out
}

fn leaves(prefix: &str, v: Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Table(t) => {
            for (k, v) in t {
                leaves(&format!("{prefix}.{k}"), v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other);
        }
    }
}

/// Parses a `resolved.toml` back into the experiment it recorded, dropping its `[run]`
/// provenance table (returned apart).
pub fn parse_resolved(text: &str) -> Result<(Experiment, Option<toml::Table>), String> {
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let run = table.remove("run").and_then(|v| match v {
        Value::Table(t) => Some(t),
        _ => None,
    });
    let exp: Experiment = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.to_string())?;
    Ok((exp, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fader() -> Experiment {
        Experiment::new(ExperimentKind::Fader, "data/runs/x".into())
    }

    #[test]
    fn seeds_rates_and_shapes_count_lengths_and_places_do_not() {
        let old = fader();
        let mut new = fader();
        new.seed = 7;
        new.fader_train.ae_optimizer.lr = 1e-3;
        new.fader.n_layers = 5;
        new.data.sampler.seed = 3;
        // Free: lengths, intervals, the step scale, the device and the folder's spelling.
        new.fader_train.total_steps = 10;
        new.fader_train.epoch_size = 64;
        new.fader_train.lambda_schedule = 5;
        new.fader_train.checkpoint_every = 2;
        new.step_scale = 0.1;
        new.step_scale_applied = true;
        new.device = crate::train::DeviceChoice::Cpu;
        new.run_dir = "/abs/data/runs/x".into();
        new.data.threads = 2;
        // Not read by a Fader run.
        new.cgan_train.g_optimizer.lr = 1.0;
        new.eval.grid_alphas = vec![0.0];
        let keys: Vec<String> = restart_changes(&old, &new)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "data.sampler.seed: 0 → 3",
                "fader.n_layers: 6 → 5",
                "fader_train.ae_optimizer.lr: 0.0002 → 0.001",
                "seed: 0 → 7",
            ]
        );
        assert!(restart_changes(&old, &old.clone()).is_empty());
    }

    #[test]
    fn another_kind_is_one_change_and_a_resolved_file_parses_back() {
        let other = Experiment::new(ExperimentKind::Classifier, "data/runs/x".into());
        let c = restart_changes(&fader(), &other);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), "kind: \"fader\" → \"classifier\"");
        let text = format!(
            "{}\n[run]\nseed = 0\ndevice = \"cpu\"\n",
            toml::to_string(&fader()).unwrap()
        );
        let (exp, run) = parse_resolved(&text).unwrap();
        assert_eq!(exp, fader());
        assert_eq!(run.unwrap()["device"].as_str(), Some("cpu"));
        assert!(parse_resolved("kind = \"fader\"\n").is_err());
    }
}
