//! A trained model opened as a self-describing editor: which files of a run folder are used, the
//! attribute names (in `y` order), image size and framing read from the checkpoints' metadata, and
//! the edits of a batch, run by the one inference layer [`crate::infer`] (Fader: encode, decode
//! with the new `y`, Fader Networks §3 / docs/fader-networks.md#sliding; IcGAN: `z = Ez(x)`,
//! `y = threshold(Ey(x))`, set the edited attributes, `G(z, y')`, docs/icgan.md#editing).
//!
//! Attribute values are given on one scale for both models, the Fader slider `α`: 0 = absent,
//! 1 = present, any real value (below 0 or above 1 exaggerates). Fader's one-hot pair is
//! `[1 − α, α]`; IcGAN's `y` is `2α − 1`, so α = 0 / 1 are IcGAN's −1 / +1.

use crate::error::{EditError, Result};
use crate::infer::{FaderModel, Generator, IcganEncoders, threshold};
use sliders_config::data::Framing;
use sliders_config::eval::FaderCheckpoint;
use sliders_config::layout::{Checkpoint, FaderNet};
use sliders_config::nets::{IcganConfig, IcganEncoderConfig};
use sliders_nets::checkpoint::{self, CheckpointInfo};
use sliders_nets::{EncoderRole, FaderAutoEncoder, IcganGenerator, SngEncoder};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tch::{Device, Kind, Tensor};

mod files;
use files::{check_encoder, check_size, encoders_best, framed, generator_path, parent};

pub use crate::infer::META_ATTRIBUTES;
/// Metadata key: the framing (`fader` or `icgan`).
pub const META_FRAMING: &str = "sliders.framing";
/// Metadata key: the square image side in pixels.
pub const META_IMAGE_SIZE: &str = "sliders.image_size";

/// Fader autoencoders of a run folder, in the order a folder is searched: the best swap accuracy
/// (the edits the classifier agrees with), then the best reconstruction, then the last step.
pub const FADER_CHOICES: [&str; 3] = [
    Checkpoint::Fader(FaderCheckpoint::BestAccu, FaderNet::Ae).file_name(),
    Checkpoint::Fader(FaderCheckpoint::BestRec, FaderNet::Ae).file_name(),
    Checkpoint::LAST_AE.file_name(),
];

/// Which paper's model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Fader Networks autoencoder.
    Fader,
    /// IcGAN: generator plus encoders.
    Icgan,
}

/// What an opened model is: read from its checkpoints, never from the user.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Fader or IcGAN.
    pub kind: ModelKind,
    /// Attribute names in `y` order.
    pub attributes: Vec<String>,
    /// Square input/output side in pixels.
    pub image_size: u32,
    /// The CelebA crop the model was trained on.
    pub framing: Framing,
    /// The checkpoint files in use (Fader: the autoencoder; IcGAN: G, then the encoders).
    pub files: Vec<PathBuf>,
}

impl ModelInfo {
    /// One line for the user: kind, files, attributes, size, framing.
    pub fn describe(&self) -> String {
        format!(
            "{} model {} ({} px, {} framing; attributes {})",
            match self.kind {
                ModelKind::Fader => "Fader",
                ModelKind::Icgan => "IcGAN",
            },
            self.files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            self.image_size,
            framing_name(self.framing),
            self.attributes.join(", ")
        )
    }

    /// Index of attribute `name` in `y`, or an error listing the valid names.
    pub fn attribute_index(&self, name: &str) -> Result<usize> {
        self.attributes
            .iter()
            .position(|a| a == name)
            .or_else(|| {
                // Forgive case only when it is unambiguous ("smiling" for "Smiling").
                let m: Vec<usize> = (0..self.attributes.len())
                    .filter(|&i| self.attributes[i].eq_ignore_ascii_case(name))
                    .collect();
                (m.len() == 1).then(|| m[0])
            })
            .ok_or_else(|| EditError::UnknownAttribute {
                name: name.to_string(),
                valid: self.attributes.join(", "),
            })
    }
}

/// The name of a framing as stored in the metadata.
pub fn framing_name(f: Framing) -> &'static str {
    match f {
        Framing::Fader => "fader",
        Framing::Icgan => "icgan",
    }
}

pub use crate::setting::{Edit, Setting, check_alpha};

/// Value Fader gives attributes the user did not set (see `Editor::fader_alphas`).
pub const FADER_UNSET_ALPHA: f64 = 0.5;

/// The loaded networks ([`crate::infer`], the one inference layer).
enum Net {
    Fader(Box<FaderModel>),
    Icgan {
        g: Box<Generator>,
        enc: Box<IcganEncoders>,
    },
}

/// A trained model ready to edit batches of framed faces, in eval mode on one device.
pub struct Editor {
    /// Unique per opened editor, so a [`Latent`] is only decoded by the model that encoded it.
    id: u64,
    info: ModelInfo,
    device: Device,
    net: Net,
}

static NEXT_EDITOR_ID: AtomicU64 = AtomicU64::new(0);

fn next_id() -> u64 {
    NEXT_EDITOR_ID.fetch_add(1, Ordering::Relaxed)
}

/// What [`Editor::encode`] made of a batch: decode it with any edit, as often as needed, by the
/// same editor ([`Editor::decode`]). Holds tensors on the editor's device.
pub struct Latent {
    editor: u64,
    batch: i64,
    inner: LatentInner,
}

enum LatentInner {
    /// Fader: the encoder outputs `[x, h_1, …, h_n]`.
    Fader(Vec<Tensor>),
    /// IcGAN: `z = Ez(x)` `[B, nz]` and the thresholded `Ey(x)` `[B, k]` in {−1, +1} (CPU).
    Icgan { z: Tensor, y: Tensor },
}

impl std::fmt::Debug for Latent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Latent")
            .field("batch", &self.batch)
            .field(
                "kind",
                &match self.inner {
                    LatentInner::Fader(_) => "fader",
                    LatentInner::Icgan { .. } => "icgan",
                },
            )
            .finish()
    }
}

impl Latent {
    /// Number of encoded images.
    pub fn len(&self) -> usize {
        self.batch as usize
    }

    /// Whether no image was encoded.
    pub fn is_empty(&self) -> bool {
        self.batch == 0
    }

    /// IcGAN: `Ey`'s estimate of image `i`'s attributes on the α scale (0 absent, 1 present), in
    /// `y` order: the value a slider starts from. Fader has no attribute estimate: `None`.
    pub fn estimate(&self, i: usize) -> Option<Vec<f64>> {
        match &self.inner {
            LatentInner::Fader(_) => None,
            LatentInner::Icgan { y, .. } => {
                let row = Vec::<f32>::try_from(y.get(i as i64)).ok()?;
                Some(
                    row.into_iter()
                        .map(|v| (f64::from(v) + 1.0) / 2.0)
                        .collect(),
                )
            }
        }
    }
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("info", &self.info)
            .field("device", &self.device)
            .finish()
    }
}

impl Editor {
    /// Opens a run folder or a checkpoint file.
    ///
    /// - A Fader run folder: the first of [`FADER_CHOICES`] present; a Fader `*_ae.safetensors`
    ///   file: that file.
    /// - An IcGAN encoders run folder: `best_ez`/`best_ey` (or `best_sng`) when present, else
    ///   `ez`/`ey` (`sng`); the generator is the `G.safetensors` of the cGAN run its
    ///   `resolved.toml` names (`encoder_train.cgan_run`). An encoder file: its folder, with the
    ///   file's `best_` prefix or not.
    /// - Anything else (a cGAN run alone, a discriminator, a classifier) is an error that says
    ///   what to pass instead.
    pub fn open(path: &Path, device: Device) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|source| EditError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            if let Some(f) = FADER_CHOICES
                .iter()
                .map(|n| path.join(n))
                .find(|p| p.is_file())
            {
                return Self::open_fader(&f, device);
            }
            if let Some(best) = encoders_best(path) {
                return Self::open_icgan(path, best, device);
            }
            if Checkpoint::Generator.in_run(path).is_file() {
                return Err(EditError::ModelFolder {
                    path: path.to_path_buf(),
                    what: "this is an IcGAN cGAN run; editing a photo also needs the encoders \
                           Ez/Ey that invert it"
                        .into(),
                    fix: "train them (e.g. `sliders train --config experiments/smoke/data.toml \
                          --config experiments/smoke/encoders.toml`, which writes \
                          data/runs/smoke/encoders-ind) and pass that encoders run folder"
                        .into(),
                });
            }
            return Err(EditError::ModelFolder {
                path: path.to_path_buf(),
                what: "no model in this folder (looked for best_accu_ae, best_rec_ae, last_ae, \
                       ez/ey, sng .safetensors)"
                    .into(),
                fix: "pass a finished `sliders train` run folder of a Fader model or of IcGAN \
                      encoders"
                    .into(),
            });
        }
        let info = checkpoint::read_info(path)?;
        match info.kind.as_deref() {
            Some(FaderAutoEncoder::KIND) => Self::open_fader(path, device),
            Some(k) if EncoderRole::from_kind(k).is_some() || k == SngEncoder::KIND => {
                let dir = parent(path);
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                Self::open_icgan(&dir, name.starts_with("best_"), device)
            }
            Some(IcganGenerator::KIND) => Err(EditError::ModelFolder {
                path: path.to_path_buf(),
                what: "an IcGAN generator alone cannot edit a photo: it needs the encoders \
                       Ez/Ey that invert it"
                    .into(),
                fix: "pass the encoders run folder (it names its cGAN run)".into(),
            }),
            Some(other) => Err(EditError::WrongModel {
                path: path.to_path_buf(),
                found: other.to_string(),
            }),
            None => Err(EditError::WrongModel {
                path: path.to_path_buf(),
                found: "(no sliders.kind metadata: not written by sliders)".into(),
            }),
        }
    }

    fn open_fader(path: &Path, device: Device) -> Result<Self> {
        let net = FaderModel::load(path, device)?;
        let (framing, image_size) = framed(&net.info)?;
        check_size(path, image_size, net.config.img_sz)?;
        Ok(Self {
            id: next_id(),
            info: ModelInfo {
                kind: ModelKind::Fader,
                attributes: net.attributes.clone(),
                image_size,
                framing,
                files: vec![path.to_path_buf()],
            },
            device,
            net: Net::Fader(Box::new(net)),
        })
    }

    fn open_icgan(dir: &Path, best: bool, device: Device) -> Result<Self> {
        let g_path = generator_path(dir)?;
        let g = Generator::load(&g_path, device)?;
        let (framing, image_size) = framed(&g.info)?;
        check_size(&g_path, image_size, g.config.img_sz)?;
        let enc = IcganEncoders::load(dir, best, device)?;
        for (path, cfg) in &enc.files {
            check_encoder(path, cfg, &g.config, &g.attributes)?;
        }
        let files = std::iter::once(g_path)
            .chain(enc.files.iter().map(|(p, _)| p.clone()))
            .collect();
        Ok(Self {
            id: next_id(),
            info: ModelInfo {
                kind: ModelKind::Icgan,
                attributes: g.attributes.clone(),
                image_size,
                framing,
                files,
            },
            device,
            net: Net::Icgan {
                g: Box::new(g),
                enc: Box::new(enc),
            },
        })
    }

    /// What the model is.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The device it runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Checks `settings` against the model: known attribute names (a wrong name lists the valid
    /// ones) and values inside [`slider_range`](Self::slider_range) ([`check_alpha`], the check
    /// `sliders serve` applies to every slider request too).
    pub fn resolve(&self, settings: &[Setting]) -> Result<Edit> {
        settings
            .iter()
            .map(|s| {
                let i = self.info.attribute_index(&s.name)?;
                check_alpha(&s.name, s.alpha, self.slider_range())?;
                Ok((i, s.alpha))
            })
            .collect::<Result<Vec<_>>>()
            .map(Edit)
    }

    /// Edits a batch in eval mode without gradients: `x` is `[B, 3, S, S]` in [−1, 1] (any
    /// device), `edits[i]` applies to image `i`. Returns `[B, 3, S, S]` in [−1, 1] on the CPU.
    ///
    /// Fader attributes not set by an edit take α = [`FADER_UNSET_ALPHA`]; IcGAN attributes not
    /// set keep `Ey`'s thresholded estimate. The same as [`decode`](Self::decode) of
    /// [`encode`](Self::encode).
    pub fn edit_batch(&self, x: &Tensor, edits: &[Edit]) -> Result<Tensor> {
        assert_eq!(x.size()[0] as usize, edits.len(), "one edit per image");
        let latent = self.encode(x)?;
        self.decode(&latent, edits)
    }

    /// Runs the encoder once (eval mode, no gradients) and keeps what the decoder needs, so that
    /// any number of edits of the same photos cost one decoder pass each (a slider UI): Fader: the
    /// encoder outputs `[x, h_1, …, h_n]` (docs/fader-networks.md#autoencoder); IcGAN: `z = Ez(x)`
    /// and `y = threshold(Ey(x))` (docs/icgan.md#inference). `x` is `[B, 3, S, S]` in [−1, 1], any
    /// device.
    pub fn encode(&self, x: &Tensor) -> Result<Latent> {
        let b = x.size()[0];
        let x = x.to_device(self.device).to_kind(Kind::Float);
        let inner = tch::no_grad(|| match &self.net {
            Net::Fader(m) => LatentInner::Fader(m.encode(&x)),
            Net::Icgan { enc, .. } => {
                let (z, y) = enc.encode(&x);
                LatentInner::Icgan {
                    z,
                    y: threshold(&y).to_device(Device::Cpu),
                }
            }
        });
        Ok(Latent {
            editor: self.id,
            batch: b,
            inner,
        })
    }

    /// Runs the decoder on a [`Latent`] of this editor: `edits[i]` applies to image `i` (one
    /// edit per encoded image). Returns `[B, 3, S, S]` in [−1, 1] on the CPU. A latent of another
    /// editor, or a count of edits that differs from the batch, is an error.
    pub fn decode(&self, latent: &Latent, edits: &[Edit]) -> Result<Tensor> {
        if latent.editor != self.id {
            return Err(EditError::LatentMismatch {
                what: "it was encoded by another model".into(),
            });
        }
        if latent.batch as usize != edits.len() {
            return Err(EditError::LatentMismatch {
                what: format!(
                    "it holds {} image(s) but {} edit(s) were given",
                    latent.batch,
                    edits.len()
                ),
            });
        }
        let k = self.info.attributes.len();
        if let Some(&(i, _)) = edits.iter().flat_map(|e| &e.0).find(|(i, _)| *i >= k) {
            return Err(EditError::LatentMismatch {
                what: format!("attribute index {i} is out of range (the model has {k})"),
            });
        }
        let out = tch::no_grad(|| -> Result<Tensor> {
            Ok(match (&self.net, &latent.inner) {
                (Net::Fader(m), LatentInner::Fader(enc)) => {
                    m.decode(enc, &m.code(&self.fader_alphas(edits), self.device))
                }
                (Net::Icgan { g, .. }, LatentInner::Icgan { z, y }) => {
                    g.generate(z, &set_plus_minus(y, edits).to_device(self.device))
                }
                _ => {
                    return Err(EditError::LatentMismatch {
                        what: "it was encoded by another kind of model".into(),
                    });
                }
            })
        })?;
        Ok(out.to_device(Device::Cpu))
    }

    /// The slider range a user is offered for every attribute, on the α scale of the module
    /// docs: Fader −1 … 3 (the project's sliding-attribute grids, beyond [0, 1] as Fader
    /// Networks §4 shows), IcGAN −0.5 … 1.5 (`y` = −2 … 2, twice the ±1 it was trained on).
    pub fn slider_range(&self) -> (f64, f64) {
        match self.info.kind {
            ModelKind::Fader => (-1.0, 3.0),
            ModelKind::Icgan => (-0.5, 1.5),
        }
    }

    /// The range `sliders interpolate --from/--to` may sweep: Fader −9 … 10 (the Fader README
    /// slides Young, Narrow_Eyes and Pointy_Nose with `--alpha_min 10 --alpha_max 10`, i.e. α
    /// from −9 to 10; the report's grid does the same), IcGAN its slider range.
    pub fn sweep_range(&self) -> (f64, f64) {
        match self.info.kind {
            ModelKind::Fader => (-9.0, 10.0),
            ModelKind::Icgan => self.slider_range(),
        }
    }

    /// Fader's slider values for a batch, one α per attribute (the code `y` is
    /// [`FaderModel::code`] of them).
    // Deviation: the paper slides one attribute and keeps the others at the image's true labels;
    // a user's photo has no labels, so attributes the user does not set sit at α = 0.5, halfway
    // between absent and present (a warning says so).
    fn fader_alphas(&self, edits: &[Edit]) -> Vec<Vec<f64>> {
        let k = self.info.attributes.len();
        edits
            .iter()
            .map(|edit| {
                let mut alpha = vec![FADER_UNSET_ALPHA; k];
                for &(i, a) in &edit.0 {
                    alpha[i] = a;
                }
                alpha
            })
            .collect()
    }
}

/// Replaces the edited columns of a ±1 `y` (`[B, k]`, CPU) by `2α − 1`.
fn set_plus_minus(y: &Tensor, edits: &[Edit]) -> Tensor {
    let size = y.size();
    let k = size[1] as usize;
    let mut v: Vec<f32> = Vec::<f32>::try_from(y.flatten(0, -1)).expect("float tensor");
    for (r, edit) in edits.iter().enumerate() {
        for &(i, a) in &edit.0 {
            v[r * k + i] = (2.0 * a - 1.0) as f32;
        }
    }
    Tensor::from_slice(&v).view([size[0], size[1]])
}
