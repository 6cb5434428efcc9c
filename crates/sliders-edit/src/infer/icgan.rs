//! IcGAN's trained networks: the generator `G(z, y)` of a cGAN run and the encoders of one
//! layout (SNG, IND, IND-COND; docs/icgan.md#encoders) of an encoders run.

use super::{attributes, existing, threshold};
use crate::error::{EditError, Result};
use sliders_config::layout::{Checkpoint, EncoderNet};
use sliders_config::nets::{EncoderKind, IcganConfig, IcganEncoderConfig};
use sliders_nets::checkpoint::{self, CheckpointInfo};
use sliders_nets::{EncoderRole, IcganEncoder, IcganGenerator, SngEncoder};
use std::path::{Path, PathBuf};
use tch::{Device, Tensor, nn::VarStore};

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
    /// The network's configuration.
    pub config: IcganConfig,
    /// The checkpoint's metadata.
    pub info: CheckpointInfo,
}

impl Generator {
    /// Loads a generator checkpoint (`G.safetensors`) onto `device`.
    pub fn load(path: &Path, device: Device) -> Result<Self> {
        let info = checkpoint::read_info(path)?;
        let attributes = attributes(&info)?;
        let (vs, net, config) = checkpoint::restore(path, device, IcganGenerator::new)?;
        let config: IcganConfig = config;
        Ok(Self {
            _vs: vs,
            net,
            attributes,
            image_size: config.img_sz,
            nz: config.nz,
            config,
            info,
        })
    }

    /// Loads `G.safetensors` of a cGAN run folder.
    pub fn load_run(cgan_run: &Path, device: Device) -> Result<Self> {
        let path = existing(
            cgan_run,
            &[Checkpoint::Generator.file_name()],
            "train the cGAN first (sliders train with a kind = \"cgan\" experiment)",
        )?;
        Self::load(&path, device)
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

/// The networks of one layout.
enum Nets {
    Single(SngEncoder),
    Independent { ez: IcganEncoder, ey: IcganEncoder },
}

/// One IcGAN encoder layout, loaded from its run folder.
pub struct IcganEncoders {
    _vs: Vec<VarStore>,
    nets: Nets,
    /// The layout.
    pub kind: EncoderKind,
    /// The run folder.
    pub run: PathBuf,
    /// The checkpoint files with their configurations (SNG: one; IND, IND-COND: Ez then Ey).
    pub files: Vec<(PathBuf, IcganEncoderConfig)>,
}

impl IcganEncoders {
    /// Loads `sng.safetensors`, or `ez.safetensors` + `ey.safetensors` (IND or IND-COND by Ez's
    /// checkpoint kind) from an encoders run folder; with `best`, their `best_` versions.
    pub fn load(run: &Path, best: bool, device: Device) -> Result<Self> {
        let fix = "train the encoders first (sliders train with a kind = \"encoders\" experiment)";
        let name = |net| Checkpoint::encoder(net, best).file_name();
        let sng = Checkpoint::encoder(EncoderNet::Sng, best).in_run(run);
        if sng.is_file() {
            let (vs, net, cfg) = checkpoint::restore(&sng, device, SngEncoder::new)?;
            return Ok(Self {
                _vs: vec![vs],
                nets: Nets::Single(net),
                kind: EncoderKind::Sng,
                run: run.to_path_buf(),
                files: vec![(sng, cfg)],
            });
        }
        let ez_path = existing(run, &[name(EncoderNet::Ez)], fix)?;
        let ey_path = existing(run, &[name(EncoderNet::Ey)], fix)?;
        let ez_role = role(&ez_path, &[EncoderRole::Z, EncoderRole::ZCond], "Ez", fix)?;
        role(&ey_path, &[EncoderRole::Y], "Ey", fix)?;
        let (vz, ez, cz) =
            checkpoint::restore(&ez_path, device, |p, c| IcganEncoder::new(p, c, ez_role))?;
        let (vy, ey, cy) = checkpoint::restore(&ey_path, device, |p, c| {
            IcganEncoder::new(p, c, EncoderRole::Y)
        })?;
        Ok(Self {
            _vs: vec![vz, vy],
            nets: Nets::Independent { ez, ey },
            kind: if ez_role == EncoderRole::ZCond {
                EncoderKind::IndCond
            } else {
                EncoderKind::Ind
            },
            run: run.to_path_buf(),
            files: vec![(ez_path, cz), (ey_path, cy)],
        })
    }

    /// `(z, y)` for images `x` in eval mode: `y` is Ey's raw output (threshold it with
    /// [`threshold`](super::threshold) to edit); IND-COND's Ez gets the thresholded `y`
    /// (docs/icgan.md#ind-cond: Ey's output at inference).
    pub fn encode(&self, x: &Tensor) -> (Tensor, Tensor) {
        tch::no_grad(|| match &self.nets {
            Nets::Single(sng) => sng.forward_t(x, false),
            Nets::Independent { ez, ey } => {
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

/// The encoder role of checkpoint `path` (the `net` of its layout), which must be one of
/// `allowed`; otherwise an error naming the kind found and `fix`.
fn role(path: &Path, allowed: &[EncoderRole], net: &str, fix: &str) -> Result<EncoderRole> {
    let info = checkpoint::read_info(path)?;
    match info.kind.as_deref().and_then(EncoderRole::from_kind) {
        Some(r) if allowed.contains(&r) => Ok(r),
        _ => Err(EditError::ModelFolder {
            path: path.to_path_buf(),
            what: format!(
                "holds a `{}` checkpoint, not the IcGAN {net} encoder this file name is for",
                info.kind.as_deref().unwrap_or("(no sliders.kind metadata)")
            ),
            fix: fix.into(),
        }),
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
