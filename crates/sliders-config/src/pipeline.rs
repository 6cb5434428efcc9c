//! The pipeline description of a profile (docs/architecture.md#the-pipeline-description): its
//! attributes (the `[data] attributes` list of `experiments/<profile>/data.toml`, the one place
//! an attribute is added), its encoder layouts and digit datasets
//! (`experiments/<profile>/pipeline.toml`), and the stage graph built from them: each stage's
//! name, kind, run folder ([`crate::layout`]), done marker and the stages it is built from,
//! judged by or waits for (which decide what `reproduce --jobs N` may run at once).
//! `cargo xtask reproduce` runs this graph; the evaluation's defaults and the report's stage
//! names come from the same functions.

use crate::data::{AttributeSpec, DataSource};
use crate::eval::TABLE_ATTRIBUTES;
use crate::layout::{Checkpoint, EVAL_DONE, RunLayout, folder};
use crate::nets::EncoderKind;
use crate::train::{EvalSpec, Experiment, ExperimentKind, Spec};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file beside a profile's experiment files that lists its encoder layouts and digit sets.
pub const PIPELINE_FILE: &str = "pipeline.toml";

/// A pipeline description that cannot be read; the message names the file and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct PipelineError {
    /// The file (or "pipeline description").
    pub origin: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// `pipeline.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    encoders: Vec<EncoderKind>,
    digits: Vec<DataSource>,
}

/// What a profile runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// One Fader per attribute, in the table's order ([`table_order`] of data.toml's list).
    pub attributes: Vec<String>,
    /// The IcGAN encoder layouts compared.
    pub encoders: Vec<EncoderKind>,
    /// The digit datasets IcGAN also runs on.
    pub digits: Vec<DataSource>,
}

/// `attributes` in the order of the Fader paper's table and then the mission's
/// ([`TABLE_ATTRIBUTES`]), any other attribute after them in the order given.
pub fn table_order(attributes: &[String]) -> Vec<String> {
    let rank = |a: &String| {
        TABLE_ATTRIBUTES
            .iter()
            .position(|t| t == a)
            .unwrap_or(TABLE_ATTRIBUTES.len())
    };
    let mut out = attributes.to_vec();
    out.sort_by_key(rank);
    out
}

impl Pipeline {
    /// Reads `<profile_dir>/data.toml` and `<profile_dir>/pipeline.toml`.
    pub fn load(profile_dir: &Path) -> Result<Self, PipelineError> {
        let read = |name: &str| {
            let path = profile_dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| PipelineError {
                origin: path.display().to_string(),
                message: format!("cannot read it ({e})"),
            })
        };
        Self::parse(
            &profile_dir.display().to_string(),
            &read("data.toml")?,
            &read(PIPELINE_FILE)?,
        )
    }

    /// The description from the texts of a profile's `data.toml` and `pipeline.toml`
    /// (`origin`: the profile's folder, for messages).
    pub fn parse(
        origin: &str,
        data_toml: &str,
        pipeline_toml: &str,
    ) -> Result<Self, PipelineError> {
        let err = |file: &str, message: String| PipelineError {
            origin: format!("{origin}/{file}"),
            message,
        };
        let data: toml::Table = data_toml
            .parse()
            .map_err(|e| err("data.toml", format!("{e}")))?;
        let spec = data
            .get("data")
            .and_then(|d| d.get("attributes"))
            .cloned()
            .map(AttributeSpec::deserialize)
            .transpose()
            .map_err(|e| err("data.toml", format!("[data] attributes: {e}")))?;
        let names = match spec {
            Some(AttributeSpec::Names(names)) if !names.is_empty() => names,
            _ => {
                return Err(err(
                    "data.toml",
                    "[data] attributes must list the CelebA attribute names the profile trains \
                     a Fader for (one `fader-<Attribute>` stage each)"
                        .into(),
                ));
            }
        };
        let file: PipelineFile =
            toml::from_str(pipeline_toml).map_err(|e| err(PIPELINE_FILE, format!("{e}")))?;
        Ok(Self {
            attributes: table_order(&names),
            encoders: file.encoders,
            digits: file.digits,
        })
    }

    /// The stages, in the order `reproduce` runs them, with their run folders in `layout`.
    pub fn stages(&self, layout: &RunLayout) -> Vec<Stage> {
        let stage = |kind: StageKind, run_dir: PathBuf, done: &str| Stage {
            name: kind.name(),
            kind,
            run_dir,
            done_marker: PathBuf::from(done),
            built_from: vec![],
            judged_by: vec![],
            waits_for: vec![],
        };
        let mut out = vec![stage(
            StageKind::Classifier,
            layout.classifier(),
            Checkpoint::LastClassifier.file_name(),
        )];
        for attr in &self.attributes {
            let mut fader = stage(
                StageKind::Fader(attr.clone()),
                layout.fader(attr),
                Checkpoint::LAST_AE.file_name(),
            );
            // Only its `best_accu` choice used the classifier: a newer one warns, not retrains.
            fader.judged_by = vec![StageName::classifier()];
            out.push(fader);
        }
        let mut cgan = stage(
            StageKind::Cgan,
            layout.cgan(),
            Checkpoint::Generator.file_name(),
        );
        // The first face stage makes the shared face data (the synthetic faces' folder, the
        // preprocessed cache); a second process making them at the same time would replace the
        // folder under the first one's readers.
        cgan.waits_for = vec![StageName::classifier()];
        out.push(cgan);
        for &kind in &self.encoders {
            let mut enc = stage(
                StageKind::Encoders(kind),
                layout.encoders(kind),
                Checkpoint::encoders_done(kind).file_name(),
            );
            enc.built_from = vec![StageName::cgan()];
            out.push(enc);
        }
        let mut eval = stage(StageKind::Eval, layout.eval(), EVAL_DONE);
        eval.built_from = out.iter().map(|s| s.name.clone()).collect();
        out.push(eval);
        for &source in &self.digits {
            let done = Path::new(folder::EVAL).join(EVAL_DONE);
            out.push(stage(
                StageKind::Digits(source),
                layout.digits(source),
                &done.display().to_string(),
            ));
        }
        out
    }
}

/// A stage's name, as `reproduce --only/--force` take it and `timings.json` keys it
/// (`fader-Smiling`: the attribute as CelebA spells it; its folder is in lower case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StageName(String);

impl StageName {
    /// `classifier`.
    pub fn classifier() -> Self {
        Self(folder::CLASSIFIER.into())
    }
    /// `fader-<Attribute>`.
    pub fn fader(attribute: &str) -> Self {
        Self(format!("fader-{attribute}"))
    }
    /// `cgan`.
    pub fn cgan() -> Self {
        Self(folder::CGAN.into())
    }
    /// `encoders-<layout>`.
    pub fn encoders(kind: EncoderKind) -> Self {
        Self(folder::encoders(kind))
    }
    /// `eval`.
    pub fn eval() -> Self {
        Self(folder::EVAL.into())
    }
    /// `digits-<source>`.
    pub fn digits(source: DataSource) -> Self {
        Self(folder::digits(source))
    }
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stage that trains (or evaluates) what `exp` describes, from its kind and settings,
    /// never from a folder name; `None` for a Fader of several attributes (no stage trains one).
    pub fn of_experiment(exp: &Experiment) -> Option<Self> {
        Some(match exp.kind() {
            ExperimentKind::Classifier => Self::classifier(),
            ExperimentKind::Fader => match &exp.data.attributes {
                AttributeSpec::Names(names) if names.len() == 1 => Self::fader(&names[0]),
                _ => return None,
            },
            ExperimentKind::Cgan => Self::cgan(),
            ExperimentKind::Encoders => Self::encoders(exp.encoder_train().encoder_kind),
            ExperimentKind::Eval => Self::eval(),
            ExperimentKind::Digits => Self::digits(exp.data.source),
        })
    }
}

impl fmt::Display for StageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a stage runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageKind {
    /// The evaluation classifier (`sliders train`, `classifier.toml`).
    Classifier,
    /// A Fader model of one attribute (`fader.toml` with `data.attributes = [<it>]`).
    Fader(String),
    /// IcGAN's cGAN (`cgan.toml`).
    Cgan,
    /// One encoder layout (`encoders.toml` with its `encoder_train.encoder_kind`).
    Encoders(EncoderKind),
    /// The evaluation (`sliders eval`, `eval.toml`).
    Eval,
    /// IcGAN on one digit dataset (`digits.toml` with its `data.source`).
    Digits(DataSource),
}

impl StageKind {
    /// The stage's name.
    pub fn name(&self) -> StageName {
        match self {
            StageKind::Classifier => StageName::classifier(),
            StageKind::Fader(attr) => StageName::fader(attr),
            StageKind::Cgan => StageName::cgan(),
            StageKind::Encoders(kind) => StageName::encoders(*kind),
            StageKind::Eval => StageName::eval(),
            StageKind::Digits(source) => StageName::digits(*source),
        }
    }
}

/// One stage of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Its name.
    pub name: StageName,
    /// What it runs.
    pub kind: StageKind,
    /// Its run folder.
    pub run_dir: PathBuf,
    /// The file (relative to the run folder) written last, whose presence marks it complete.
    pub done_marker: PathBuf,
    /// Stages whose outputs it is built from: when one finished after it, it reruns.
    pub built_from: Vec<StageName>,
    /// Stages it only used to pick a checkpoint: a newer one gets a warning, not a rerun.
    pub judged_by: Vec<StageName>,
    /// Stages it only starts after (when they run in the same invocation) because they prepare
    /// an input it shares, such as the face data; a newer one changes nothing.
    pub waits_for: Vec<StageName>,
}

impl Stage {
    /// The stages that must have finished before it starts, when they run in the same
    /// `reproduce` invocation: what it is built from, judged by and waits for.
    pub fn needs(&self) -> impl Iterator<Item = &StageName> {
        self.built_from
            .iter()
            .chain(&self.judged_by)
            .chain(&self.waits_for)
    }

    /// Its done marker's path.
    pub fn done_path(&self) -> PathBuf {
        self.run_dir.join(&self.done_marker)
    }
}

impl Experiment {
    /// Fills what an evaluation leaves unset from the run layout its `run_dir` belongs to
    /// ([`RunLayout::of_eval_run`]): the table's columns (data.attributes in [`table_order`]),
    /// the classifier (`classifier/best_classifier.safetensors`), one Fader run per column, the
    /// cGAN run and the encoder runs that exist. Settings given in a file stay as written.
    pub fn fill_eval_defaults(&mut self) {
        let Spec::Eval(EvalSpec { eval: e }) = &mut self.spec else {
            return;
        };
        let layout = RunLayout::of_eval_run(&self.run_dir);
        if let (true, AttributeSpec::Names(names)) =
            (e.attributes.is_empty(), &self.data.attributes)
        {
            e.attributes = table_order(names);
        }
        if e.classifier.as_os_str().is_empty() {
            e.classifier = Checkpoint::BestClassifier.in_run(&layout.classifier());
        }
        if e.fader_runs.is_empty() {
            e.fader_runs = e.attributes.iter().map(|a| layout.fader(a)).collect();
        }
        if e.cgan_run.is_none() && layout.cgan().is_dir() {
            e.cgan_run = Some(layout.cgan());
        }
        if e.encoder_runs.is_empty() {
            e.encoder_runs = ENCODER_KINDS
                .iter()
                .map(|&k| layout.encoders(k))
                .filter(|d| d.is_dir())
                .collect();
        }
    }
}

/// IcGAN's encoder layouts in the order of its comparison (docs/icgan.md#figure-4a).
pub const ENCODER_KINDS: [EncoderKind; 3] =
    [EncoderKind::Sng, EncoderKind::Ind, EncoderKind::IndCond];

#[cfg(test)]
mod tests;
