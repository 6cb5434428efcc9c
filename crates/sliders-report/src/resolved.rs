//! A run folder's `resolved.toml` read typed: the configuration into sliders-config's
//! [`Experiment`] (unknown keys are errors naming the key) and the `[run]` table into its
//! [`Provenance`]; the keys the report reads for the run's `kind` must be present (a file
//! edited by hand or written by another version is an error naming the file and key, never a
//! silent default). Also what each kind of run trained for (the header's "training length").

use crate::ReportError;
use sliders_config::run_record::Provenance;
use sliders_config::train::{Experiment, ExperimentKind, drop_foreign_sections};
use std::path::Path;

/// A run's resolved configuration and provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRun {
    /// The configuration the run used.
    pub experiment: Experiment,
    /// Where it came from (commit, device, data).
    pub provenance: Provenance,
}

/// The keys of `resolved.toml` the report reads for a run of `kind` (dotted paths).
pub fn used_keys(kind: ExperimentKind) -> &'static [&'static str] {
    match kind {
        ExperimentKind::Fader => &[
            "data.split.mode",
            "step_scale",
            "fader_train.total_steps",
            "fader_train.lambda_lat_dis",
            "fader_train.lambda_schedule",
        ],
        ExperimentKind::Classifier => &[
            "data.split.mode",
            "step_scale",
            "classifier_train.total_steps",
        ],
        ExperimentKind::Cgan => &["data.split.mode", "step_scale", "cgan_train.total_steps"],
        ExperimentKind::Encoders => &["data.split.mode", "step_scale", "encoder_train.epochs"],
        ExperimentKind::Eval => &["data.split.mode"],
        ExperimentKind::Digits => &[
            "step_scale",
            "cgan_train.total_steps",
            "icgan.ngf",
            "encoder_train.epochs",
            "encoder_train.dataset_size",
            "classifier_train.total_steps",
        ],
    }
}

impl ResolvedRun {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Self, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses the text of a `resolved.toml`; `origin` names the file in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, ReportError> {
        let format = |message: String| ReportError::Format {
            path: origin.to_string(),
            message,
        };
        let key_error = |key: &str, message: String| ReportError::Key {
            path: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let mut table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| format(format!("not TOML: {e}")))?;
        let run = table
            .remove("run")
            .ok_or_else(|| key_error("run", "no [run] provenance table".into()))?;
        let provenance: Provenance = serde_path_to_error::deserialize(run)
            .map_err(|e| key_error(&format!("run.{}", e.path()), e.inner().to_string()))?;
        // A run folder written before experiments held only their kind's sections records every
        // section; the report reads the kind's own.
        drop_foreign_sections(&mut table);
        let experiment: Experiment =
            serde_path_to_error::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
                let mut key = e.path().to_string();
                let inner = e.inner().to_string();
                let message = inner.lines().next().unwrap_or("").trim().to_string();
                // For an unknown key the path may stop at its table: name the key too.
                if let Some(field) = message
                    .strip_prefix("unknown field `")
                    .and_then(|s| s.split('`').next())
                    && key.rsplit('.').next() != Some(field)
                {
                    key = if key == "." {
                        field.to_string()
                    } else {
                        format!("{key}.{field}")
                    };
                }
                key_error(&key, message)
            })?;
        for key in used_keys(experiment.kind()) {
            let mut value = Some(&table);
            let mut found = None;
            for part in key.split('.') {
                found = value.and_then(|t| t.get(part));
                value = found.and_then(|v| v.as_table());
            }
            if found.is_none() {
                return Err(key_error(
                    key,
                    format!(
                        "missing; the report reads it for a `{}` run (a resolved.toml written by \
                         sliders has every key: was it edited, or written by another version?)",
                        kind_name(experiment.kind())
                    ),
                ));
            }
        }
        Ok(Self {
            experiment,
            provenance,
        })
    }

    /// What the run trained for, e.g. `1200 steps (λ_lat_dis 0.01, reached after 600 steps)`,
    /// and its step scale (`reproduce --step-scale`; 1 for a full-length run).
    pub fn length(&self) -> (String, f64) {
        let e = &self.experiment;
        let length = match e.kind() {
            // The adversarial weight and its ramp decide whether a short run learns to use y.
            ExperimentKind::Fader => format!(
                "{} steps (λ_lat_dis {}, reached after {} steps)",
                e.fader_train().total_steps,
                e.fader_train().lambda_lat_dis,
                e.fader_train().lambda_schedule
            ),
            ExperimentKind::Classifier => format!("{} steps", e.classifier_train().total_steps),
            ExperimentKind::Cgan => format!("{} steps", e.cgan_train().total_steps),
            ExperimentKind::Encoders => format!("{} epochs", e.encoder_train().epochs),
            ExperimentKind::Digits => format!(
                "cGAN {} steps (ngf {}), encoders {} epochs over {} generated triples, \
                 classifier {} steps",
                e.cgan_train().total_steps,
                e.icgan().ngf,
                e.encoder_train().epochs,
                e.encoder_train().dataset_size,
                e.classifier_train().total_steps
            ),
            ExperimentKind::Eval => "unknown".to_string(),
        };
        (length, e.step_scale)
    }

    /// The split mode as written in the file (`auto`, `official`, `random`).
    pub fn split_mode(&self) -> String {
        toml::Value::try_from(self.experiment.data.split.mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// The kind as written in the file (`fader`, `encoders`, …).
pub fn kind_name(kind: ExperimentKind) -> String {
    toml::Value::try_from(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sliders_config::train::Spec;

    /// A complete resolved.toml of `kind`, as sliders writes it.
    pub(crate) fn resolved_text(kind: ExperimentKind) -> String {
        let exp = Experiment::new(kind, "data/runs/x".into());
        format!(
            "# The configuration this run used.\n{}\n[run]\ngit_commit = \"abc\"\nseed = 0\n\
             device = \"cpu\"\nsliders_version = \"0.1.0\"\nlibtorch_version = \"2.11.0\"\n\
             data_source = \"celeba ../shared/celeba\"\n",
            toml::to_string(&exp).unwrap()
        )
    }

    #[test]
    fn every_key_the_report_reads_exists_in_the_config_types() {
        for kind in [
            ExperimentKind::Fader,
            ExperimentKind::Classifier,
            ExperimentKind::Cgan,
            ExperimentKind::Encoders,
            ExperimentKind::Eval,
            ExperimentKind::Digits,
        ] {
            let run = ResolvedRun::parse("resolved.toml", &resolved_text(kind)).unwrap();
            assert_eq!(run.experiment.kind(), kind);
            assert_eq!(run.provenance.device, "cpu");
        }
    }

    #[test]
    fn a_renamed_key_is_an_error_naming_the_file_and_key() {
        let text = resolved_text(ExperimentKind::Fader);
        let (head, fader_train) = text.split_at(text.find("[fader_train]").unwrap());
        let text = format!(
            "{head}{}",
            fader_train.replacen("total_steps =", "total_stepz =", 1)
        );
        let err = ResolvedRun::parse("runs/fader-x/resolved.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("runs/fader-x/resolved.toml: key `fader_train.total_stepz`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_key_is_an_error_naming_the_file_and_key() {
        let text = resolved_text(ExperimentKind::Fader).replace("lambda_schedule = ", "# was: ");
        let err = ResolvedRun::parse("runs/fader-x/resolved.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "runs/fader-x/resolved.toml: key `fader_train.lambda_schedule`: missing"
            ),
            "{err}"
        );
        let no_run = resolved_text(ExperimentKind::Cgan);
        let no_run = &no_run[..no_run.find("[run]").unwrap()];
        let err = ResolvedRun::parse("r.toml", no_run)
            .unwrap_err()
            .to_string();
        assert!(err.contains("key `run`"), "{err}");
    }

    /// Issue #21: a resolved.toml written before experiments held only their kind's sections
    /// (every section, the foreign ones at their defaults) still reads, to the same experiment.
    #[test]
    fn an_old_resolved_file_with_every_section_still_reads() {
        let fixtures =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sliders-config/fixtures");
        for (kind, steps) in [(ExperimentKind::Fader, 1200), (ExperimentKind::Digits, 300)] {
            let path = fixtures.join(format!("old-resolved-{}.toml", kind_name(kind)));
            let run = ResolvedRun::read(&path).unwrap();
            assert_eq!(run.experiment.kind(), kind);
            let total = match kind {
                ExperimentKind::Fader => run.experiment.fader_train().total_steps,
                _ => run.experiment.cgan_train().total_steps,
            };
            assert_eq!(total, steps);
            assert_eq!(run.provenance.git_commit, "10e8bcd");
        }
    }

    #[test]
    fn each_kind_states_its_own_length() {
        let mut run = ResolvedRun::parse("r", &resolved_text(ExperimentKind::Fader)).unwrap();
        run.experiment.fader_train_mut().total_steps = 1200;
        run.experiment.fader_train_mut().lambda_lat_dis = 0.01;
        run.experiment.fader_train_mut().lambda_schedule = 600;
        assert_eq!(
            run.length(),
            (
                "1200 steps (λ_lat_dis 0.01, reached after 600 steps)".to_string(),
                1.0
            )
        );
        run.experiment.spec = Spec::new(ExperimentKind::Encoders);
        run.experiment.encoder_train_mut().epochs = 2;
        run.experiment.step_scale = 0.3;
        assert_eq!(run.length(), ("2 epochs".to_string(), 0.3));
        assert_eq!(run.split_mode(), "auto");
        assert_eq!(kind_name(ExperimentKind::Encoders), "encoders");
    }
}
