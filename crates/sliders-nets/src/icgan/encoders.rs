//! The IcGAN encoders (docs/icgan.md#ind, #sng, #ind-cond): `Ez` (image → z) and `Ey` (image → y)
//! as independent networks (IND), `Ez` conditioned on `y` at its input (IND-COND), or one network
//! with a shared first block and two branches (SNG).

use sliders_config::nets::{EncoderKind, IcganEncoderConfig, NetConfigError};
use tch::Tensor;
use tch::nn::{self, Module, ModuleT};

use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers::{self, ConvGeom, InitScheme};

const CONV5: ConvGeom = ConvGeom::new(5, 2, 2);
const INIT: InitScheme = InitScheme::TorchLegacy;

/// The conv stack and FC head shared by every encoder:
/// `conv_layers`: `[Conv2d(c, c', 5, 2, 2), BatchNorm2d(c'), ReLU]` per block at `3j`, `3j+1`,
/// `3j+2`; flatten (C, H, W order); `fc_layers`: `0` `Linear(flat, fc)`, `1` `BatchNorm1d(fc)`,
/// `2` ReLU, `3` `Linear(fc, out)` (linear output).
#[derive(Debug)]
struct EncoderBody {
    convs: Vec<(nn::Conv2D, nn::BatchNorm)>,
    fc1: nn::Linear,
    bn: nn::BatchNorm,
    fc2: nn::Linear,
    flat: i64,
}

impl EncoderBody {
    /// `channels` = `[c_in, c_1, …, c_n]` of the conv blocks; `in_sz` the input side.
    fn new(p: &nn::Path, channels: &[i64], in_sz: i64, fc: i64, out: i64) -> Self {
        let pc = p / "conv_layers";
        let convs = channels
            .windows(2)
            .enumerate()
            .map(|(j, w)| {
                let j = j as i64;
                (
                    layers::conv2d(&(&pc / (3 * j)), w[0], w[1], CONV5, INIT),
                    layers::batch_norm2d(&(&pc / (3 * j + 1)), w[1], INIT),
                )
            })
            .collect::<Vec<_>>();
        let s = in_sz >> convs.len();
        let flat = channels.last().copied().unwrap_or(1) * s * s;
        let pf = p / "fc_layers";
        Self {
            convs,
            fc1: layers::linear(&(&pf / 0), flat, fc),
            bn: layers::batch_norm1d(&(&pf / 1), fc, INIT),
            fc2: layers::linear(&(&pf / 3), fc, out),
            flat,
        }
    }

    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut h = x.shallow_clone();
        for (conv, bn) in &self.convs {
            h = bn.forward_t(&conv.forward(&h), train).relu();
        }
        let b = h.size()[0];
        let h = self.fc1.forward(&h.view([b, self.flat]));
        layers::check_batch_stats("icgan encoder", &h, train);
        self.fc2.forward(&self.bn.forward_t(&h, train).relu())
    }
}

/// Which independent encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderRole {
    /// `Ez`: image → z (`nz`), hidden FC `fc_z` (default the flattened size, 4096).
    Z,
    /// `Ey`: image → y (`ny`), hidden FC `fc_y` (default 512).
    Y,
    /// IND-COND `Ez`: `[image, y replicated]` (`nc + ny` channels) → z.
    ZCond,
}

impl EncoderRole {
    /// The `sliders.kind` of its checkpoints.
    pub fn kind(self) -> &'static str {
        match self {
            EncoderRole::Z => "icgan-encoder-z",
            EncoderRole::Y => "icgan-encoder-y",
            EncoderRole::ZCond => "icgan-encoder-z-cond",
        }
    }

    /// The role whose [`kind`](Self::kind) is `kind`, if any.
    pub fn from_kind(kind: &str) -> Option<Self> {
        [EncoderRole::Z, EncoderRole::Y, EncoderRole::ZCond]
            .into_iter()
            .find(|r| r.kind() == kind)
    }
}

/// An independent IcGAN encoder (IND `Ez` or `Ey`, or IND-COND `Ez`), docs/icgan.md#ind /
/// #ind-cond: `n_conv_layers × [Conv 5×5/2, BN, ReLU]` with `nf, 2nf, …` filters, flatten,
/// `Linear → BatchNorm1d → ReLU → Linear`.
///
/// State-dict keys: `conv_layers.{3j}.{weight,bias}`, `conv_layers.{3j+1}.{weight,bias,
/// running_mean,running_var}`, `fc_layers.0.*` (Linear), `fc_layers.1.*` (BatchNorm1d),
/// `fc_layers.3.*` (Linear). Init: Torch7 defaults set explicitly (weights and biases
/// `U(±1/√fan_in)`, BN `γ ~ U(0,1)`, `β = 0`).
///
/// Input: image `[B, nc, S, S]` in [−1, 1] (plus `y` `[B, ny]` for `ZCond`). Output: `[B, nz]`
/// or `[B, ny]`, unbounded (linear output; threshold `Ey` at 0 for ±1 attributes).
#[derive(Debug)]
pub struct IcganEncoder {
    cfg: IcganEncoderConfig,
    role: EncoderRole,
    body: EncoderBody,
}

impl IcganEncoder {
    /// Builds the encoder of `role` under `p`. `cfg.kind` must agree: `Z` needs `ind`, `ZCond`
    /// needs `ind-cond`, `Y` either.
    pub fn new(
        p: &nn::Path,
        cfg: &IcganEncoderConfig,
        role: EncoderRole,
    ) -> Result<Self, NetsError> {
        cfg.validate()?;
        let ok = matches!(
            (role, cfg.kind),
            (EncoderRole::Z, EncoderKind::Ind)
                | (EncoderRole::ZCond, EncoderKind::IndCond)
                | (EncoderRole::Y, EncoderKind::Ind | EncoderKind::IndCond)
        );
        if !ok {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "encoder kind {:?} has no independent {:?} encoder: use kind `ind` for Z and \
                     Y, `ind-cond` for ZCond and Y, and SngEncoder for `sng`",
                    cfg.kind, role
                ),
            }
            .into());
        }
        let c_in = match role {
            EncoderRole::ZCond => cfg.nc + cfg.ny,
            _ => cfg.nc,
        };
        let (fc, out) = match role {
            EncoderRole::Y => (cfg.fc_y, cfg.ny),
            _ => (cfg.fc_z_size(), cfg.nz),
        };
        let mut channels = vec![c_in];
        channels.extend((0..cfg.n_conv_layers).map(|j| cfg.nf << j));
        Ok(Self {
            cfg: cfg.clone(),
            role,
            body: EncoderBody::new(p, &channels, cfg.img_sz, fc, out),
        })
    }

    /// Encodes `x` (`[B, nc, S, S]`) into `[B, nz]` (`Z`, `ZCond`) or `[B, ny]` (`Y`). `y`
    /// (`[B, ny]`) is required for `ZCond`, where it is replicated as constant maps and
    /// concatenated after the image channels, and must be `None` otherwise.
    ///
    /// # Panics
    /// On wrong shapes, or `y` given to or missing from the wrong role.
    pub fn forward_t(&self, x: &Tensor, y: Option<&Tensor>, train: bool) -> Tensor {
        let s = self.cfg.img_sz;
        let kind = self.role.kind();
        layers::check_shape(kind, "image", x, &[-1, self.cfg.nc, s, s]);
        match (self.role, y) {
            (EncoderRole::ZCond, Some(y)) => {
                let b = x.size()[0];
                layers::check_shape(kind, "y", y, &[b, self.cfg.ny]);
                let y = layers::replicate(&y.to_kind(x.kind()), s);
                self.body
                    .forward_t(&Tensor::cat(&[x.shallow_clone(), y], 1), train)
            }
            (EncoderRole::ZCond, None) => panic!("{kind}: the conditioned Ez needs y"),
            (_, Some(_)) => panic!("{kind}: only the IND-COND Ez takes y"),
            (_, None) => self.body.forward_t(x, train),
        }
    }

    /// Its role.
    pub fn role(&self) -> EncoderRole {
        self.role
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &IcganEncoderConfig {
        &self.cfg
    }
}

impl Network for IcganEncoder {
    fn kind(&self) -> String {
        self.role.kind().to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}

/// The SNG encoder (docs/icgan.md#sng): a shared first block `shared.0` `Conv2d(nc, nf, 5, 2, 2)`,
/// `shared.1` `BatchNorm2d(nf)`, ReLU; then two branches of identical structure, `z_branch` and
/// `y_branch`, each with the keys of [`IcganEncoder`] (`conv_layers` from `nf` channels,
/// `fc_layers` with hidden size `fc_z`, default the flattened size 4096) and outputs `nz` and
/// `ny`.
///
/// Input: image `[B, nc, S, S]`. Output: `(z [B, nz], y [B, ny])`, linear.
#[derive(Debug)]
pub struct SngEncoder {
    cfg: IcganEncoderConfig,
    conv: nn::Conv2D,
    bn: nn::BatchNorm,
    z_branch: EncoderBody,
    y_branch: EncoderBody,
}

impl SngEncoder {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "icgan-encoder-sng";

    /// Builds it under `p`; `cfg.kind` must be `sng`.
    pub fn new(p: &nn::Path, cfg: &IcganEncoderConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        if cfg.kind != EncoderKind::Sng {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "SngEncoder needs encoder kind `sng`, the configuration says {:?}",
                    cfg.kind
                ),
            }
            .into());
        }
        let ps = p / "shared";
        let conv = layers::conv2d(&(&ps / 0), cfg.nc, cfg.nf, CONV5, INIT);
        let bn = layers::batch_norm2d(&(&ps / 1), cfg.nf, INIT);
        let channels: Vec<i64> = (0..cfg.n_conv_layers).map(|j| cfg.nf << j).collect();
        let half = cfg.img_sz / 2;
        let fc = cfg.fc_z_size();
        Ok(Self {
            cfg: cfg.clone(),
            conv,
            bn,
            z_branch: EncoderBody::new(&(p / "z_branch"), &channels, half, fc, cfg.nz),
            y_branch: EncoderBody::new(&(p / "y_branch"), &channels, half, fc, cfg.ny),
        })
    }

    /// Encodes `x` (`[B, nc, S, S]`) into `(z [B, nz], y [B, ny])`.
    ///
    /// # Panics
    /// If `x` does not have shape `[B, nc, img_sz, img_sz]`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> (Tensor, Tensor) {
        let s = self.cfg.img_sz;
        layers::check_shape(Self::KIND, "image", x, &[-1, self.cfg.nc, s, s]);
        let h = self.bn.forward_t(&self.conv.forward(x), train).relu();
        (
            self.z_branch.forward_t(&h, train),
            self.y_branch.forward_t(&h, train),
        )
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &IcganEncoderConfig {
        &self.cfg
    }
}

impl Network for SngEncoder {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
