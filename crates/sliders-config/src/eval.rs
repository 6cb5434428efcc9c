//! The evaluation's knobs (`kind = "eval"`, `[eval]`): which trained runs to judge, with which
//! judge, on how many test images (docs/fader-networks.md#evaluation-and-table-1 protocol,
//! docs/icgan.md#figure-4a encoder comparison), and the extra measurements (counterfactual error,
//! slider response).

use crate::nets::EncoderKind;
use crate::train::TrainConfigError;
use crate::validate::{at_least_one, check, finite_values, nonempty};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which checkpoint of a Fader run folder is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FaderCheckpoint {
    /// `best_accu_ae` (best validation swap accuracy; the reference's model selection), falling
    /// back to `best_rec_ae` when the run had no judge. Default.
    #[default]
    BestAccu,
    /// `best_rec_ae` (best validation reconstruction).
    BestRec,
    /// `last_ae` (end of training).
    Last,
}

/// `[eval]`: what `sliders eval` measures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// The evaluation classifier (the "Accuracy" judge): a `kind = "classifier"` checkpoint.
    /// Unset: the run layout's `classifier/best_classifier.safetensors` beside the evaluation's
    /// run folder (`Experiment::fill_eval_defaults`, docs/architecture.md#run-folders).
    pub classifier: PathBuf,
    /// Fader run folders (one per attribute, as the paper trains them; a model's attributes come
    /// from its checkpoint's metadata). Unset: the layout's `fader-<attribute>` of each column.
    pub fader_runs: Vec<PathBuf>,
    /// Which checkpoint of each Fader run (default `best_accu`).
    pub fader_checkpoint: FaderCheckpoint,
    /// The IcGAN cGAN run folder (`G.safetensors`). Unset: the layout's `cgan/` when it exists,
    /// else no IcGAN rows.
    pub cgan_run: Option<PathBuf>,
    /// IcGAN encoder run folders (any of SNG, IND, IND-COND) for the encoder comparison. Unset:
    /// the layout's `encoders-<layout>/` folders that exist.
    pub encoder_runs: Vec<PathBuf>,
    /// The encoder layout whose Ez/Ey make the table's IcGAN rows (default `ind`, the paper's).
    pub table_encoder: EncoderKind,
    /// The table's columns. Unset: `data.attributes` in the order of the paper's Mouth, Smile,
    /// Glasses and the mission's Male, Young ([`TABLE_ATTRIBUTES`]), others after them. Each
    /// needs a Fader model and the judge; IcGAN cells need it among G's attributes.
    pub attributes: Vec<String>,
    /// Test images per attribute value in the balanced protocol (default 250, so 500 per
    /// attribute; fewer when the test half has fewer, and the tables say how many).
    pub images_per_value: usize,
    /// Compute FID/KID with the Inception network (default true; `false` leaves the columns
    /// "not computed").
    pub fid: bool,
    /// FID and KID on exactly this many images of every cell (the first of its balanced set,
    /// itself balanced), so the columns compare at one n: FID is biased upwards at small n, by
    /// an amount that depends on n. 0 = every image of the cell (default).
    pub fid_images: usize,
    /// KID subsets (default 10) and subset size (default 100, capped by the set sizes).
    pub kid_subsets: usize,
    /// See `kid_subsets`.
    pub kid_subset_size: usize,
    /// Images per forward pass (default 64).
    pub batch_size: usize,
    /// Slider values of the slider-response sweep (default −1 … 2 by 0.5).
    pub alphas: Vec<f64>,
    /// Faces per figure (default 6).
    pub grid_faces: usize,
    /// Slider values of the sliding-attribute grids (default −1, 0, 0.5, 1, 1.5, 2, 3).
    pub grid_alphas: Vec<f64>,
    /// Grid values for attributes that need another range than `grid_alphas` (a TOML table,
    /// `[eval.grid_alphas_by_attribute]`, `Young = [...]`; default none). The quick and paper
    /// profiles give Young −9 … 10, the range the Fader README prescribes for Young, Narrow_Eyes
    /// and Pointy_Nose (`--alpha_min 10 --alpha_max 10`), whose change is too small to see
    /// between −1 and 3 on real faces.
    pub grid_alphas_by_attribute: BTreeMap<String, Vec<f64>>,
}

/// The mission's attributes in the table's order.
pub const TABLE_ATTRIBUTES: [&str; 5] = [
    "Mouth_Slightly_Open",
    "Smiling",
    "Eyeglasses",
    "Male",
    "Young",
];

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            classifier: PathBuf::new(),
            fader_runs: Vec::new(),
            fader_checkpoint: FaderCheckpoint::default(),
            cgan_run: None,
            encoder_runs: Vec::new(),
            table_encoder: EncoderKind::Ind,
            attributes: Vec::new(),
            images_per_value: 250,
            fid: true,
            fid_images: 0,
            kid_subsets: 10,
            kid_subset_size: 100,
            batch_size: 64,
            alphas: vec![-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0],
            grid_faces: 6,
            grid_alphas: vec![-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
            grid_alphas_by_attribute: BTreeMap::new(),
        }
    }
}

impl EvalConfig {
    /// The sliding-grid values of `attr`: its own range when `grid_alphas_by_attribute` has one,
    /// else `grid_alphas`.
    pub fn grid_alphas_for(&self, attr: &str) -> &[f64] {
        self.grid_alphas_by_attribute
            .get(attr)
            .unwrap_or(&self.grid_alphas)
    }

    /// Checks the settings can work; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), TrainConfigError> {
        let path = self.classifier.display();
        check(
            !self.classifier.as_os_str().is_empty(),
            "eval.classifier",
            format!("\"{path}\""),
            "point it at the evaluation classifier's best_classifier.safetensors",
        )?;
        let columns = "list the table's attributes (or data.attributes)";
        nonempty("eval.attributes", &self.attributes, columns)?;
        at_least_one("eval.images_per_value", self.images_per_value)?;
        at_least_one("eval.batch_size", self.batch_size)?;
        let values = "use a non-empty list of finite numbers";
        finite_values("eval.alphas", &self.alphas, values)?;
        finite_values("eval.grid_alphas", &self.grid_alphas, values)?;
        for (attr, list) in &self.grid_alphas_by_attribute {
            let key = format!("eval.grid_alphas_by_attribute.{attr}");
            let fix =
                "use a non-empty list of finite numbers (or remove it to use eval.grid_alphas)";
            finite_values(&key, list, fix)?;
        }
        at_least_one("eval.kid_subsets", self.kid_subsets)?;
        let subset = "use subsets of at least 2 images";
        check(
            self.kid_subset_size >= 2,
            "eval.kid_subset_size",
            self.kid_subset_size,
            subset,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_only_the_classifier_and_the_columns() {
        let mut c = EvalConfig::default();
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "eval.classifier");
        assert!(
            err.to_string().contains("best_classifier.safetensors"),
            "{err}"
        );
        c.classifier = "clf.safetensors".into();
        assert_eq!(c.validate().unwrap_err().field, "eval.attributes");
        c.attributes = vec!["Male".into()];
        assert!(c.validate().is_ok());
        c.alphas = vec![f64::NAN];
        let err = c.validate().unwrap_err();
        assert_eq!(err.field, "eval.alphas");
        assert!(err.fix.contains("finite"), "{err}");
        c.alphas = vec![0.0];
        c.kid_subset_size = 1;
        assert_eq!(c.validate().unwrap_err().field, "eval.kid_subset_size");
    }

    #[test]
    fn an_attribute_with_its_own_range_slides_over_it_and_others_over_the_default() {
        let mut c = EvalConfig {
            classifier: "clf.safetensors".into(),
            attributes: vec!["Male".into()],
            ..EvalConfig::default()
        };
        c.grid_alphas_by_attribute
            .insert("Young".into(), vec![-9.0, 0.0, 10.0]);
        assert_eq!(c.grid_alphas_for("Young"), [-9.0, 0.0, 10.0]);
        assert_eq!(c.grid_alphas_for("Male"), c.grid_alphas.as_slice());
        assert!(c.validate().is_ok());
        c.grid_alphas_by_attribute
            .insert("Male".into(), vec![0.0, f64::INFINITY]);
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("grid_alphas_by_attribute.Male"), "{err}");
    }

    #[test]
    fn a_toml_table_sets_one_attribute_range() {
        let c: EvalConfig =
            toml::from_str("[grid_alphas_by_attribute]\nSmiling = [0.0, 4.0]\n").unwrap();
        assert_eq!(c.grid_alphas_for("Smiling"), [0.0, 4.0]);
        assert_eq!(c.grid_alphas_for("Young"), c.grid_alphas.as_slice());
    }
}
