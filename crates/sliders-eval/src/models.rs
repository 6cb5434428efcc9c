//! Trained models as the evaluation uses them, loaded from run folders in eval mode: a Fader
//! autoencoder with its attribute names, IcGAN's generator with one encoder layout (SNG, IND,
//! IND-COND; docs/icgan.md#encoders), and the evaluation classifier as a probability judge.

use crate::EvalError;
use sliders_config::eval::FaderCheckpoint;
use sliders_config::layout::{Checkpoint, EncoderNet, FaderNet};
use sliders_config::nets::EncoderKind;
use sliders_nets::checkpoint::{self, read_info};
use sliders_nets::{EncoderRole, FaderAutoEncoder, IcganEncoder, IcganGenerator, SngEncoder};
use sliders_train::judge::Judge;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor, nn::VarStore};

/// Attribute names stored in a checkpoint's `sliders.attributes` metadata.
fn attributes_of(path: &Path) -> Result<Vec<String>, EvalError> {
    let info = read_info(path)?;
    info.metadata
        .get("sliders.attributes")
        .and_then(|s| serde_json::from_str(s).ok())
        .ok_or_else(|| EvalError::Model {
            path: path.to_path_buf(),
            what: "no `sliders.attributes` metadata".into(),
            fix: "use a checkpoint written by `sliders train`".into(),
        })
}

fn existing(dir: &Path, names: &[&str], fix: &str) -> Result<PathBuf, EvalError> {
    names
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| EvalError::Model {
            path: dir.to_path_buf(),
            what: format!("none of {} is there", names.join(", ")),
            fix: fix.to_string(),
        })
}

/// A Fader autoencoder in eval mode.
pub struct FaderModel {
    _vs: VarStore,
    net: FaderAutoEncoder,
    /// Its attributes, in the order of its `y` columns (two per attribute).
    pub attributes: Vec<String>,
    /// The checkpoint file.
    pub path: PathBuf,
}

impl FaderModel {
    /// Loads the chosen checkpoint of a Fader run folder onto `device`.
    pub fn load(run: &Path, which: FaderCheckpoint, device: Device) -> Result<Self, EvalError> {
        let ae = |pick| Checkpoint::Fader(pick, FaderNet::Ae).file_name();
        let order: &[&str] = match which {
            FaderCheckpoint::BestAccu => {
                &[ae(FaderCheckpoint::BestAccu), ae(FaderCheckpoint::BestRec)]
            }
            pick => &[ae(pick)],
        };
        let path = existing(
            run,
            order,
            "train the Fader model first (sliders train with a kind = \"fader\" experiment)",
        )?;
        let attributes = attributes_of(&path)?;
        let (vs, net, _) = checkpoint::restore(&path, device, FaderAutoEncoder::new)?;
        Ok(Self {
            _vs: vs,
            net,
            attributes,
            path,
        })
    }

    /// The one-hot code `[n, 2k]` for slider values `values[i][a]` (0 = absent, 1 = present;
    /// any real number slides beyond): columns `[1 − α, α]` per attribute, as the reference's
    /// interpolation builds them.
    pub fn code(&self, values: &[Vec<f64>], device: Device) -> Tensor {
        let k = self.attributes.len();
        let flat: Vec<f32> = values
            .iter()
            .flat_map(|v| {
                assert_eq!(v.len(), k, "one value per attribute");
                v.iter().flat_map(|&a| [(1.0 - a) as f32, a as f32])
            })
            .collect();
        Tensor::from_slice(&flat)
            .view([values.len() as i64, 2 * k as i64])
            .to_device(device)
    }

    /// The latent code of `x` (eval mode), to decode several times.
    pub fn encode(&self, x: &Tensor) -> Vec<Tensor> {
        tch::no_grad(|| self.net.encode(x, false))
    }

    /// Decodes a latent code with `y` (eval mode).
    pub fn decode(&self, enc: &[Tensor], y: &Tensor) -> Tensor {
        tch::no_grad(|| self.net.decode(enc, y, false))
    }
}

/// The encoders of one IcGAN layout.
enum Encoders {
    Independent {
        ez: IcganEncoder,
        ey: IcganEncoder,
        _vs: (VarStore, VarStore),
    },
    Single {
        sng: SngEncoder,
        _vs: VarStore,
    },
}

/// One IcGAN encoder layout, loaded from its run folder.
pub struct IcganEncoders {
    /// The layout.
    pub kind: EncoderKind,
    /// The run folder.
    pub run: PathBuf,
    nets: Encoders,
}

impl IcganEncoders {
    /// Loads `sng.safetensors`, or `ez.safetensors` + `ey.safetensors` (IND or IND-COND by the
    /// checkpoint kind) from an encoder run folder.
    pub fn load(run: &Path, device: Device) -> Result<Self, EvalError> {
        let fix = "train the encoders first (sliders train with a kind = \"encoders\" experiment)";
        let sng_path = Checkpoint::Encoder(EncoderNet::Sng).in_run(run);
        if sng_path.is_file() {
            let (vs, sng, _) = checkpoint::restore(sng_path, device, SngEncoder::new)?;
            return Ok(Self {
                kind: EncoderKind::Sng,
                run: run.to_path_buf(),
                nets: Encoders::Single { sng, _vs: vs },
            });
        }
        let ez_path = existing(run, &[Checkpoint::Encoder(EncoderNet::Ez).file_name()], fix)?;
        let ey_path = existing(run, &[Checkpoint::Encoder(EncoderNet::Ey).file_name()], fix)?;
        let role = |p: &Path| -> Result<EncoderRole, EvalError> {
            read_info(p)?
                .kind
                .as_deref()
                .and_then(EncoderRole::from_kind)
                .ok_or_else(|| EvalError::Model {
                    path: p.to_path_buf(),
                    what: "not an IcGAN encoder checkpoint".into(),
                    fix: fix.into(),
                })
        };
        let (ez_role, ey_role) = (role(&ez_path)?, role(&ey_path)?);
        if ey_role != EncoderRole::Y || ez_role == EncoderRole::Y {
            return Err(EvalError::Model {
                path: run.to_path_buf(),
                what: format!("ez/ey hold {ez_role:?}/{ey_role:?} encoders"),
                fix: fix.into(),
            });
        }
        let (vz, ez, _) =
            checkpoint::restore(&ez_path, device, |p, c| IcganEncoder::new(p, c, ez_role))?;
        let (vy, ey, _) = checkpoint::restore(&ey_path, device, |p, c| {
            IcganEncoder::new(p, c, EncoderRole::Y)
        })?;
        Ok(Self {
            kind: if ez_role == EncoderRole::ZCond {
                EncoderKind::IndCond
            } else {
                EncoderKind::Ind
            },
            run: run.to_path_buf(),
            nets: Encoders::Independent {
                ez,
                ey,
                _vs: (vz, vy),
            },
        })
    }

    /// `(z, y)` for images `x` in eval mode: `y` is Ey's raw output; IND-COND's Ez gets the
    /// thresholded `y` (docs/icgan.md#ind-cond: Ey's output at inference).
    pub fn encode(&self, x: &Tensor) -> (Tensor, Tensor) {
        tch::no_grad(|| match &self.nets {
            Encoders::Single { sng, .. } => sng.forward_t(x, false),
            Encoders::Independent { ez, ey, .. } => {
                let y = ey.forward_t(x, None, false);
                let z = if self.kind == EncoderKind::IndCond {
                    ez.forward_t(x, Some(&threshold(&y)), false)
                } else {
                    ez.forward_t(x, None, false)
                };
                (z, y)
            }
        })
    }

    /// The layout's display name (`SNG`, `IND`, `IND-COND`).
    pub fn name(&self) -> &'static str {
        kind_name(self.kind)
    }
}

/// Display name of an encoder layout.
pub fn kind_name(kind: EncoderKind) -> &'static str {
    match kind {
        EncoderKind::Sng => "SNG",
        EncoderKind::Ind => "IND",
        EncoderKind::IndCond => "IND-COND",
    }
}

/// Ey's output thresholded at 0 to ±1 (docs/icgan.md#inference, every editing script).
pub fn threshold(y: &Tensor) -> Tensor {
    y.ge(0.0).to_kind(Kind::Float) * 2.0 - 1.0
}

/// IcGAN's generator in eval mode (after its BN refresh) with its attribute names.
pub struct Generator {
    _vs: VarStore,
    net: IcganGenerator,
    /// Attribute names, in the order of `y`'s columns.
    pub attributes: Vec<String>,
    /// Image side it generates.
    pub image_size: i64,
    /// Length of z.
    pub nz: i64,
}

impl Generator {
    /// Loads `G.safetensors` of a cGAN run.
    pub fn load(cgan_run: &Path, device: Device) -> Result<Self, EvalError> {
        let path = existing(
            cgan_run,
            &[Checkpoint::Generator.file_name()],
            "train the cGAN first (sliders train with a kind = \"cgan\" experiment)",
        )?;
        let attributes = attributes_of(&path)?;
        let (vs, net, cfg) = checkpoint::restore(&path, device, IcganGenerator::new)?;
        Ok(Self {
            _vs: vs,
            net,
            attributes,
            image_size: cfg.img_sz,
            nz: cfg.nz,
        })
    }

    /// `G(z, y)` in eval mode, `[n, 3, S, S]` in [−1, 1].
    pub fn generate(&self, z: &Tensor, y: &Tensor) -> Tensor {
        tch::no_grad(|| self.net.forward_t(z, y, false))
    }

    /// Column of `attr` in `y`, if G was trained on it.
    pub fn column(&self, attr: &str) -> Option<usize> {
        self.attributes.iter().position(|a| a == attr)
    }
}

/// The evaluation classifier answering `p(attribute present)`.
pub struct AttributeJudge {
    judge: Judge,
}

impl AttributeJudge {
    /// Loads the classifier checkpoint.
    pub fn load(path: &Path, device: Device) -> Result<Self, EvalError> {
        Ok(Self {
            judge: Judge::load(path, device)?,
        })
    }

    /// Attributes it knows.
    pub fn attributes(&self) -> &[String] {
        self.judge.attributes()
    }

    /// Whether it was trained on `attr`.
    pub fn knows(&self, attr: &str) -> bool {
        self.judge.attributes().iter().any(|a| a == attr)
    }

    /// `p(attr present)` for images `[n, 3, S, S]` (eval mode, batches of `batch`), on the CPU.
    pub fn probability(&self, x: &Tensor, attr: &str, batch: usize) -> Result<Vec<f64>, EvalError> {
        let off = self.judge.offsets(&[attr.to_string()])?[0];
        let n = x.size()[0];
        let mut out = Vec::with_capacity(n as usize);
        tch::no_grad(|| {
            for start in (0..n).step_by(batch.max(1)) {
                let len = (batch as i64).min(n - start);
                let logits = self.judge.logits(&x.narrow(0, start, len));
                let p = logits
                    .narrow(1, off, 2)
                    .softmax(1, Kind::Float)
                    .select(1, 1)
                    .to_device(Device::Cpu)
                    .to_kind(Kind::Double);
                out.extend(Vec::<f64>::try_from(p).expect("f64 probabilities"));
            }
        });
        Ok(out)
    }
}
