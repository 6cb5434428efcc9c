//! The run layout (docs/architecture.md#run-folders): the one place that names the run folders
//! of a profile (`classifier/`, `fader-<attribute in lower case>/`, `cgan/`,
//! `encoders-<layout>/`, `eval/`, `digits-<source>/`), the sub-folders of a digits run, and the
//! model files training writes and evaluation, editing and `reproduce` read ([`Checkpoint`]),
//! the other files of a run folder ([`file`]), and what `reproduce` keeps beside the runs
//! (timings, wall clock, stage logs).
//! Training, evaluation, editing, the report and xtask all go through it, so a folder or file
//! name is spelt once.

use crate::data::DataSource;
use crate::eval::FaderCheckpoint;
use crate::nets::EncoderKind;
use crate::pipeline::StageName;
use std::path::{Path, PathBuf};

/// The run folders of one profile under `root` (`data/runs/<profile>` or a `--runs-root`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunLayout {
    /// The folder holding every run of the profile.
    pub root: PathBuf,
}

impl RunLayout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The layout an evaluation run folder belongs to: the evaluation is `eval/` beside the
    /// model runs, so the root is its parent (`data/runs/smoke/eval` → `data/runs/smoke`).
    pub fn of_eval_run(eval_run_dir: &Path) -> Self {
        Self::new(eval_run_dir.parent().unwrap_or(Path::new("")))
    }

    /// The evaluation classifier's run.
    pub fn classifier(&self) -> PathBuf {
        self.root.join(folder::CLASSIFIER)
    }

    /// The Fader run of `attribute` (`fader-smiling` for `Smiling`).
    pub fn fader(&self, attribute: &str) -> PathBuf {
        self.root.join(folder::fader(attribute))
    }

    /// The cGAN run.
    pub fn cgan(&self) -> PathBuf {
        self.root.join(folder::CGAN)
    }

    /// The run of one IcGAN encoder layout (`encoders-ind-cond`).
    pub fn encoders(&self, kind: EncoderKind) -> PathBuf {
        self.root.join(folder::encoders(kind))
    }

    /// The evaluation run.
    pub fn eval(&self) -> PathBuf {
        self.root.join(folder::EVAL)
    }

    /// The digits run of `source` (`digits-fashion_mnist`).
    pub fn digits(&self, source: DataSource) -> PathBuf {
        self.root.join(folder::digits(source))
    }

    /// `reproduce`'s wall time per stage.
    pub fn timings(&self) -> PathBuf {
        self.root.join("timings.json")
    }

    /// `reproduce`'s wall clock per invocation ([`crate::wall_clock::WallClock`]).
    pub fn wall_clock(&self) -> PathBuf {
        self.root.join("wall_clock.json")
    }

    /// The log of one stage's process under `reproduce --jobs N` with N > 1
    /// (`logs/fader-Smiling.log`; with one job the stages write to the console).
    pub fn stage_log(&self, stage: &StageName) -> PathBuf {
        self.root.join("logs").join(format!("{stage}.log"))
    }
}

/// Run folder names, relative to a [`RunLayout`]'s root.
pub mod folder {
    use super::{DataSource, EncoderKind};

    /// The evaluation classifier's run folder.
    pub const CLASSIFIER: &str = "classifier";
    /// The cGAN's run folder.
    pub const CGAN: &str = "cgan";
    /// The evaluation's run folder.
    pub const EVAL: &str = "eval";
    /// Inside a training run: the resumable state.
    pub const CHECKPOINTS: &str = "checkpoints";
    /// Inside a training run: sample images.
    pub const SAMPLES: &str = "samples";

    /// `fader-<attribute in lower case>`.
    pub fn fader(attribute: &str) -> String {
        format!("fader-{}", attribute.to_lowercase())
    }

    /// `encoders-<layout>`.
    pub fn encoders(kind: EncoderKind) -> String {
        format!("encoders-{}", encoder_slug(kind))
    }

    /// `digits-<source>`.
    pub fn digits(source: DataSource) -> String {
        format!("digits-{}", source.as_str())
    }

    /// `ind`, `sng`, `ind-cond`: the layout's name in folders, stage names and config files.
    pub fn encoder_slug(kind: EncoderKind) -> &'static str {
        match kind {
            EncoderKind::Ind => "ind",
            EncoderKind::Sng => "sng",
            EncoderKind::IndCond => "ind-cond",
        }
    }
}

/// The sub-folders of one digits run (IcGAN on MNIST or Fashion-MNIST, docs/icgan.md#digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitsLayout {
    /// The digits experiment's run folder.
    pub root: PathBuf,
}

impl DigitsLayout {
    /// The sub-folders of `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }
    /// The cGAN run (`G.safetensors`).
    pub fn cgan(&self) -> PathBuf {
        self.root.join(folder::CGAN)
    }
    /// The run of one encoder layout.
    pub fn encoders(&self, kind: EncoderKind) -> PathBuf {
        self.root.join(folder::encoders(kind))
    }
    /// The digit classifier's run.
    pub fn classifier(&self) -> PathBuf {
        self.root.join(folder::CLASSIFIER)
    }
    /// The digits evaluation.
    pub fn eval(&self) -> PathBuf {
        self.root.join(folder::EVAL)
    }
}

/// A network of a Fader run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaderNet {
    /// The autoencoder (`ae`).
    Ae,
    /// The latent discriminator (`lat_dis`).
    LatDis,
}

/// A network of an IcGAN encoders run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderNet {
    /// `Ez`, image → z (IND, IND-COND).
    Ez,
    /// `Ey`, image → y (IND, IND-COND).
    Ey,
    /// The shared-trunk encoder (SNG).
    Sng,
}

/// A model file in a run folder (docs/architecture.md#run-folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// A Fader network at one of its snapshots (`best_accu_ae`, `last_lat_dis`, …).
    Fader(FaderCheckpoint, FaderNet),
    /// The evaluation classifier with the best validation accuracy.
    BestClassifier,
    /// The evaluation classifier at the end of training (marks the run complete).
    LastClassifier,
    /// The cGAN's generator `G` (marks the run complete).
    Generator,
    /// The cGAN's discriminator `D`.
    Discriminator,
    /// An encoder at the end of training (`ez`, `ey`, `sng`).
    Encoder(EncoderNet),
    /// An encoder with the best validation reconstruction (`best_ez`, …).
    BestEncoder(EncoderNet),
    /// The generated (x', z, y') set the encoders train on.
    EncoderDataset,
    /// The digit classifier of a digits run.
    DigitClassifier,
}

impl Checkpoint {
    /// The autoencoder at the end of training, which marks a Fader run complete.
    pub const LAST_AE: Checkpoint = Checkpoint::Fader(FaderCheckpoint::Last, FaderNet::Ae);

    /// The file's name (`best_accu_ae.safetensors`).
    pub const fn file_name(self) -> &'static str {
        use EncoderNet::{Ey, Ez, Sng};
        use FaderCheckpoint::{BestAccu, BestRec, Last};
        use FaderNet::{Ae, LatDis};
        match self {
            Checkpoint::Fader(BestAccu, Ae) => "best_accu_ae.safetensors",
            Checkpoint::Fader(BestAccu, LatDis) => "best_accu_lat_dis.safetensors",
            Checkpoint::Fader(BestRec, Ae) => "best_rec_ae.safetensors",
            Checkpoint::Fader(BestRec, LatDis) => "best_rec_lat_dis.safetensors",
            Checkpoint::Fader(Last, Ae) => "last_ae.safetensors",
            Checkpoint::Fader(Last, LatDis) => "last_lat_dis.safetensors",
            Checkpoint::BestClassifier => "best_classifier.safetensors",
            Checkpoint::LastClassifier => "last_classifier.safetensors",
            Checkpoint::Generator => "G.safetensors",
            Checkpoint::Discriminator => "D.safetensors",
            Checkpoint::Encoder(Ez) => "ez.safetensors",
            Checkpoint::Encoder(Ey) => "ey.safetensors",
            Checkpoint::Encoder(Sng) => "sng.safetensors",
            Checkpoint::BestEncoder(Ez) => "best_ez.safetensors",
            Checkpoint::BestEncoder(Ey) => "best_ey.safetensors",
            Checkpoint::BestEncoder(Sng) => "best_sng.safetensors",
            Checkpoint::EncoderDataset => "encoder_dataset.safetensors",
            Checkpoint::DigitClassifier => "classifier.safetensors",
        }
    }

    /// An encoder file, the best-validation one when `best` (`best_ez`) else the final one.
    pub const fn encoder(net: EncoderNet, best: bool) -> Checkpoint {
        if best {
            Checkpoint::BestEncoder(net)
        } else {
            Checkpoint::Encoder(net)
        }
    }

    /// The file in run folder `run`.
    pub fn in_run(self, run: &Path) -> PathBuf {
        run.join(self.file_name())
    }

    /// The file whose presence marks an encoders run of `kind` complete (`sng` or `ey`, the
    /// last one written).
    pub fn encoders_done(kind: EncoderKind) -> Checkpoint {
        match kind {
            EncoderKind::Sng => Checkpoint::Encoder(EncoderNet::Sng),
            EncoderKind::Ind | EncoderKind::IndCond => Checkpoint::Encoder(EncoderNet::Ey),
        }
    }
}

/// `best_rec`, `best_accu` or `last`: the prefix of a Fader snapshot's files.
pub fn fader_prefix(pick: FaderCheckpoint) -> &'static str {
    match pick {
        FaderCheckpoint::BestAccu => "best_accu",
        FaderCheckpoint::BestRec => "best_rec",
        FaderCheckpoint::Last => "last",
    }
}

/// The files sliders writes in a run folder (docs/architecture.md#run-folders), beside the
/// model files of [`Checkpoint`].
pub mod file {
    /// The run's whole configuration as it ran (every training and evaluation run).
    pub const RESOLVED: &str = "resolved.toml";
    /// A training run's metric rows, one per log interval and evaluation.
    pub const METRICS_CSV: &str = "metrics.csv";
    /// The lock that keeps a second process out of a run folder.
    pub const LOCK: &str = ".lock";
    /// An evaluation's result cells (sliders-config's `results`).
    pub const RESULTS_CSV: &str = "results.csv";
    /// An evaluation's tables as Markdown.
    pub const TABLES_MD: &str = "tables.md";
    /// An evaluation's gated values (key → value); also the report's. Written last.
    pub const METRICS_JSON: &str = "metrics.json";
}

/// An evaluation's (or a digits evaluation's) last written file, which marks it complete.
pub const EVAL_DONE: &str = file::METRICS_JSON;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_of_the_runs_written_so_far_are_kept() {
        let l = RunLayout::new("data/runs/quick");
        assert_eq!(
            l.fader("Mouth_Slightly_Open"),
            Path::new("data/runs/quick/fader-mouth_slightly_open")
        );
        assert_eq!(l.classifier(), Path::new("data/runs/quick/classifier"));
        assert_eq!(l.cgan(), Path::new("data/runs/quick/cgan"));
        assert_eq!(
            l.encoders(EncoderKind::IndCond),
            Path::new("data/runs/quick/encoders-ind-cond")
        );
        assert_eq!(
            l.digits(DataSource::FashionMnist),
            Path::new("data/runs/quick/digits-fashion_mnist")
        );
        assert_eq!(RunLayout::of_eval_run(&l.eval()), l);
        assert_eq!(l.timings(), Path::new("data/runs/quick/timings.json"));
        assert_eq!(
            l.stage_log(&StageName::fader("Smiling")),
            Path::new("data/runs/quick/logs/fader-Smiling.log")
        );
        let names: Vec<String> = [
            Checkpoint::LAST_AE,
            Checkpoint::Fader(FaderCheckpoint::BestAccu, FaderNet::Ae),
            Checkpoint::Fader(FaderCheckpoint::BestRec, FaderNet::LatDis),
            Checkpoint::BestClassifier,
            Checkpoint::LastClassifier,
            Checkpoint::Generator,
            Checkpoint::Discriminator,
            Checkpoint::encoders_done(EncoderKind::Sng),
            Checkpoint::encoders_done(EncoderKind::Ind),
            Checkpoint::BestEncoder(EncoderNet::Ez),
            Checkpoint::EncoderDataset,
            Checkpoint::DigitClassifier,
        ]
        .into_iter()
        .map(|c| c.file_name().to_string())
        .collect();
        assert_eq!(
            names,
            [
                "last_ae.safetensors",
                "best_accu_ae.safetensors",
                "best_rec_lat_dis.safetensors",
                "best_classifier.safetensors",
                "last_classifier.safetensors",
                "G.safetensors",
                "D.safetensors",
                "sng.safetensors",
                "ey.safetensors",
                "best_ez.safetensors",
                "encoder_dataset.safetensors",
                "classifier.safetensors",
            ]
        );
    }
}
