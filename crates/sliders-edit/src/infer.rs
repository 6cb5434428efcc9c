//! The one inference layer: the only code that loads a trained Fader autoencoder, IcGAN
//! generator or IcGAN encoders from `sliders train` checkpoints and runs them (eval mode, no
//! gradients). The editor ([`Editor`](crate::Editor): `sliders edit`, `interpolate`, `serve`) and
//! the evaluation (`sliders-eval`) both go through it, so both apply the same networks the same
//! way: Fader's code `y` for slider values α (`[1 − α, α]` per attribute for one-hot models,
//! `2α − 1` otherwise; docs/fader-networks.md#sliding), IcGAN's encoders `(z, y) = (Ez(x), Ey(x))`
//! and the threshold of `y` to ±1 (docs/icgan.md#inference), the generator `G(z, y)`.
//!
//! Only what every user needs is checked here (the checkpoint kind, the attribute names, the
//! shape of `y`, the encoder roles); the editor's framing and image-size metadata, and its checks
//! of encoders against their generator, are in [`model`](crate::model).

use crate::error::{EditError, Result};
use sliders_config::eval::FaderCheckpoint;
use sliders_config::layout::{Checkpoint, FaderNet};
use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use sliders_nets::checkpoint::{self, CheckpointInfo};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn::VarStore};

mod icgan;
pub use icgan::{Generator, IcganEncoders, kind_name};

/// Metadata key: attribute names in `y` order (JSON list), written by `sliders train`.
pub const META_ATTRIBUTES: &str = "sliders.attributes";

/// Attribute names in `y` order from a checkpoint's metadata: a non-empty JSON list.
pub fn attributes(ck: &CheckpointInfo) -> Result<Vec<String>> {
    let bad = |what: String| EditError::Metadata {
        path: ck.path.clone(),
        key: META_ATTRIBUTES.into(),
        what,
    };
    let text = ck
        .metadata
        .get(META_ATTRIBUTES)
        .ok_or_else(|| bad("is missing".into()))?;
    let names: Vec<String> = serde_json::from_str(text)
        .map_err(|e| bad(format!("is not a JSON list of names ({e})")))?;
    if names.is_empty() {
        return Err(bad("is an empty list".into()));
    }
    Ok(names)
}

/// The first of `names` present in `dir`, or an error naming them with `fix`.
pub(crate) fn existing(dir: &Path, names: &[&str], fix: &str) -> Result<PathBuf> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| EditError::ModelFolder {
            path: dir.to_path_buf(),
            what: format!("none of {} is there", names.join(", ")),
            fix: fix.to_string(),
        })
}

/// The autoencoder file of a Fader run for the evaluation's checkpoint choice: `best_accu_ae`
/// falls back to `best_rec_ae` (a run trained without a judge has no swap accuracy).
pub fn fader_file(run: &Path, which: FaderCheckpoint) -> Result<PathBuf> {
    let ae = |pick| Checkpoint::Fader(pick, FaderNet::Ae).file_name();
    let order: &[&str] = match which {
        FaderCheckpoint::BestAccu => &[ae(FaderCheckpoint::BestAccu), ae(FaderCheckpoint::BestRec)],
        pick => &[ae(pick)],
    };
    existing(
        run,
        order,
        "train the Fader model first (sliders train with a kind = \"fader\" experiment)",
    )
}

/// A Fader autoencoder in eval mode.
pub struct FaderModel {
    _vs: VarStore,
    net: FaderAutoEncoder,
    /// Its attributes, in the order of its `y` columns.
    pub attributes: Vec<String>,
    /// Whether `y` has two columns per attribute (`[1 − α, α]`, the reference's one-hot code)
    /// rather than one (`2α − 1`).
    pub one_hot: bool,
    /// The network's configuration (image size, `n_attr`, …).
    pub config: FaderConfig,
    /// The checkpoint file.
    pub path: PathBuf,
    /// The checkpoint's metadata.
    pub info: CheckpointInfo,
}

impl FaderModel {
    /// Loads a Fader autoencoder checkpoint onto `device`: its kind must be the autoencoder's,
    /// and its attribute list must match the decoder's `n_attr` (`k` or `2k` columns).
    pub fn load(path: &Path, device: Device) -> Result<Self> {
        let info = checkpoint::read_info(path)?;
        if info.kind.as_deref() != Some(FaderAutoEncoder::KIND) {
            return Err(EditError::WrongModel {
                path: path.to_path_buf(),
                found: info
                    .kind
                    .unwrap_or_else(|| "(no sliders.kind metadata)".into()),
            });
        }
        let attributes = attributes(&info)?;
        let (vs, net, config) = checkpoint::restore(path, device, FaderAutoEncoder::new)?;
        let config: FaderConfig = config;
        let k = attributes.len() as i64;
        let one_hot = if config.n_attr == 2 * k {
            true
        } else if config.n_attr == k {
            false
        } else {
            return Err(EditError::Metadata {
                path: path.to_path_buf(),
                key: META_ATTRIBUTES.into(),
                what: format!(
                    "lists {k} attributes but the decoder takes n_attr = {}",
                    config.n_attr
                ),
            });
        };
        Ok(Self {
            _vs: vs,
            net,
            attributes,
            one_hot,
            config,
            path: path.to_path_buf(),
            info,
        })
    }

    /// Loads the chosen checkpoint of a Fader run folder ([`fader_file`]).
    pub fn load_run(run: &Path, which: FaderCheckpoint, device: Device) -> Result<Self> {
        Self::load(&fader_file(run, which)?, device)
    }

    /// The code `y` on `device` for slider values `values[i][a]` of image `i` and attribute `a`
    /// (0 = absent, 1 = present; any real number slides beyond): per attribute `[1 − α, α]`
    /// (one-hot models, as the reference's interpolation builds them) or `2α − 1`.
    pub fn code(&self, values: &[Vec<f64>], device: Device) -> Tensor {
        let k = self.attributes.len();
        let width = if self.one_hot { 2 * k } else { k };
        let mut rows = vec![0f32; values.len() * width];
        for (row, v) in rows.chunks_mut(width).zip(values) {
            assert_eq!(v.len(), k, "one value per attribute");
            for (i, &a) in v.iter().enumerate() {
                if self.one_hot {
                    row[2 * i] = (1.0 - a) as f32;
                    row[2 * i + 1] = a as f32;
                } else {
                    row[i] = (2.0 * a - 1.0) as f32;
                }
            }
        }
        Tensor::from_slice(&rows)
            .view([values.len() as i64, width as i64])
            .to_device(device)
    }

    /// The latent code of `x` (the encoder outputs `[x, h_1, …, h_n]`), to decode several times.
    pub fn encode(&self, x: &Tensor) -> Vec<Tensor> {
        tch::no_grad(|| self.net.encode(x, false))
    }

    /// Decodes a latent code with `y` (from [`code`](Self::code)).
    pub fn decode(&self, enc: &[Tensor], y: &Tensor) -> Tensor {
        tch::no_grad(|| self.net.decode(enc, y, false))
    }
}

/// Ey's output thresholded at 0 to ±1 (docs/icgan.md#inference, every editing script).
pub fn threshold(y: &Tensor) -> Tensor {
    y.ge(0.0).to_kind(Kind::Float) * 2.0 - 1.0
}
