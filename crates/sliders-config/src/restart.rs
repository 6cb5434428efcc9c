//! Restarting a run folder: which settings may differ between the runs that share one folder, and
//! the list of those that do ([`restart_changes`]).
//!
//! A run folder holds one run. A restart may change only what sets how long the run goes and how
//! often it reports or saves ([`LENGTH_KEYS`] in the `*_train` sections, and `step_scale`, which
//! scales them), and what sets where and how fast it runs (`device`, `run_dir`, `data.threads`,
//! `data.cache_dir`, `data.sampler.prefetch`): these change no weight a resumed run computes
//! differently from an uninterrupted one of the new length. Every other key of the sections the
//! run's kind reads ([`sections_of`]) counts, the seeds and learning rates among them. Sections
//! the kind does not read (e.g. `[eval]` in a Fader run folder written before experiments held
//! only their kind's sections) are dropped unread, so they never block a resume.

use crate::train::{Experiment, ExperimentKind, drop_foreign_sections};
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
pub fn sections_of(kind: ExperimentKind) -> Option<Vec<&'static str>> {
    if kind == ExperimentKind::Eval {
        return None;
    }
    Some(
        ["kind", "seed", "data"]
            .into_iter()
            .chain(kind.sections().iter().copied())
            .collect(),
    )
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
    if saved.kind() != new.kind() {
        let kind = |e: &Experiment| show(&Value::try_from(e.kind()).expect("kind serialises"));
        return vec![Change {
            key: "kind".into(),
            old: kind(saved),
            new: kind(new),
        }];
    }
    let Some(sections) = sections_of(new.kind()) else {
        return vec![];
    };
    let (a, b) = (flatten(saved, &sections), flatten(new, &sections));
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
/// provenance table (returned apart) and, in a file written before the per-kind layout, the
/// sections of other kinds ([`drop_foreign_sections`]), which no run reads.
pub fn parse_resolved(text: &str) -> Result<(Experiment, Option<toml::Table>), String> {
    let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let run = table.remove("run").and_then(|v| match v {
        Value::Table(t) => Some(t),
        _ => None,
    });
    drop_foreign_sections(&mut table);
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
        new.fader_train_mut().ae_optimizer.lr = 1e-3;
        new.fader_mut().n_layers = 5;
        new.data.sampler.seed = 3;
        // Free: lengths, intervals, the step scale, the device and the folder's spelling.
        let t = new.fader_train_mut();
        t.total_steps = 10;
        t.epoch_size = 64;
        t.lambda_schedule = 5;
        t.checkpoint_every = 2;
        new.step_scale = 0.1;
        new.step_scale_applied = true;
        new.device = crate::train::DeviceChoice::Cpu;
        new.run_dir = "/abs/data/runs/x".into();
        new.data.threads = 2;
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

    /// Issue #21: run folders written before experiments held only their kind's sections record
    /// every section. Such a `resolved.toml` still loads, equals today's load of the same files,
    /// so the run resumes, and is rewritten with its kind's sections only.
    #[test]
    fn an_old_resolved_file_with_every_section_loads_and_resumes() {
        use crate::load::{Layer, load};
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let smoke = root.join("experiments/smoke");
        for (kind, text) in [
            ("fader", include_str!("../fixtures/old-resolved-fader.toml")),
            (
                "digits",
                include_str!("../fixtures/old-resolved-digits.toml"),
            ),
        ] {
            let mut table: toml::Table = text.parse().unwrap();
            table.remove("run");
            let err = Value::Table(table).try_into::<Experiment>().unwrap_err();
            assert!(err.to_string().contains("remove ["), "{kind}: {err}");
            let (saved, run) = parse_resolved(text).unwrap();
            assert_eq!(run.unwrap()["device"].as_str(), Some("cpu"));
            let layers = [
                Layer::from_file(&smoke.join("data.toml")).unwrap(),
                Layer::from_file(&smoke.join(format!("{kind}.toml"))).unwrap(),
            ];
            let (now, _) = load::<Experiment>(&layers).unwrap();
            assert_eq!(restart_changes(&saved, &now), [], "{kind}");
            assert_eq!(saved, now, "{kind}");
            let written: toml::Table = toml::to_string(&saved).unwrap().parse().unwrap();
            let mut sections: Vec<&str> = written
                .keys()
                .map(String::as_str)
                .filter(|k| crate::train::SECTIONS.contains(k))
                .collect();
            sections.sort();
            let mut own = saved.kind().sections().to_vec();
            own.sort();
            assert_eq!(sections, own, "{kind}");
        }
    }
}
