//! Network configuration: the shape knobs of the Fader Networks models (autoencoder, latent and
//! patch discriminators, classifier; docs/fader-networks.md#networks, #hyper-parameters) and of the
//! IcGAN models (conditional generator and discriminator, encoders IND / SNG / IND-COND;
//! docs/icgan.md#conditional-gan, #encoders), each
//! field documented with the reference's flag or symbol and its default, plus `validate()`.
//!
//! Defaults are the reference *code* defaults (Fader: 256 px, 6 layers, `init_fm` 32; IcGAN:
//! 64 px, nz 100, 18 attributes, ngf = ndf = 64). The Fader paper's configuration (7 layers,
//! `init_fm` 16) and the small sizes used for quick runs (32 and 64 px) are plain values of the
//! same fields; see [`FaderConfig::paper`] and [`FaderConfig::small`].

use serde::{Deserialize, Serialize};

/// A network configuration that cannot be built, with the field, the value and the fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetConfigError {
    /// An image size that is not a power of two (every network halves it per layer).
    #[error(
        "{field} = {value} is not a power of 2: the networks halve the image at every layer; use 32, 64, 128 or 256"
    )]
    NotPowerOfTwo {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: i64,
    },
    /// A value outside its allowed range.
    #[error("{field} = {value} is out of range: {expected}")]
    OutOfRange {
        /// The offending field.
        field: &'static str,
        /// Its value, as written.
        value: String,
        /// What the field accepts.
        expected: String,
    },
    /// Two fields that contradict each other.
    #[error("{message}")]
    Inconsistent {
        /// What is wrong and how to fix it.
        message: String,
    },
}

fn positive(field: &'static str, value: i64) -> Result<(), NetConfigError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(NetConfigError::OutOfRange {
            field,
            value: value.to_string(),
            expected: "a positive integer (>= 1)".into(),
        })
    }
}

fn power_of_two(field: &'static str, value: i64) -> Result<(), NetConfigError> {
    if value >= 1 && (value & (value - 1)) == 0 {
        Ok(())
    } else {
        Err(NetConfigError::NotPowerOfTwo { field, value })
    }
}

/// `img_sz`: a power of 2 of at least `min` (`why`: where the minimum comes from).
fn image_size(value: i64, min: i64, why: &str) -> Result<(), NetConfigError> {
    power_of_two("img_sz", value)?;
    if value < min {
        return Err(NetConfigError::OutOfRange {
            field: "img_sz",
            value: value.to_string(),
            expected: format!("a power of 2 of at least {min} ({why})"),
        });
    }
    Ok(())
}

/// Feature maps grow from `init_fm` and are capped at `max_fm`.
fn feature_maps(init_fm: i64, max_fm: i64) -> Result<(), NetConfigError> {
    positive("init_fm", init_fm)?;
    positive("max_fm", max_fm)?;
    if init_fm > max_fm {
        return Err(NetConfigError::Inconsistent {
            message: format!(
                "init_fm = {init_fm} is larger than max_fm = {max_fm}: raise max_fm or lower init_fm"
            ),
        });
    }
    Ok(())
}

fn dropout(field: &'static str, value: f64) -> Result<(), NetConfigError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(NetConfigError::OutOfRange {
            field,
            value: value.to_string(),
            expected: "a dropout probability in [0, 1)".into(),
        })
    }
}

/// `log2(n)` for a power of two `n`.
pub fn log2(n: i64) -> i64 {
    63 - i64::from(n.leading_zeros())
}

// ------------------------------------------------------------------------------------------------
// Fader Networks
// ------------------------------------------------------------------------------------------------

/// How a Fader decoder layer doubles the resolution (`--deconv_method`, default `convtranspose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeconvMethod {
    /// `ConvTranspose2d(in, out, 4, 2, 1, bias=False)` (reference default).
    #[default]
    ConvTranspose,
    /// `UpsamplingNearest2d(2)` then `Conv2d(in, out, 3, 1, 1)` with bias.
    Upsampling,
    /// `Conv2d(in, 4·out, 3, 1, 1)` with bias then `PixelShuffle(2)`.
    PixelShuffle,
}

/// The normalisation layer of the Fader autoencoder (`--instance_norm`, default batch norm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NormKind {
    /// `BatchNorm2d(n, affine=True)`, eps 1e-5, momentum 0.1 (reference default).
    #[default]
    Batch,
    /// `InstanceNorm2d(n, affine=True)` (`--instance_norm True`).
    Instance,
}

/// Shape of a Fader Networks model: the autoencoder, its latent discriminator and the optional
/// patch discriminator (docs/fader-networks.md#networks, flags of #hyper-parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaderConfig {
    /// Square image side in pixels (`--img_sz`, default 256); a power of 2.
    pub img_sz: i64,
    /// Image channels (`--img_fm`, default 3).
    pub img_fm: i64,
    /// Filters of the first encoder layer (`--init_fm`, default 32; the paper uses 16).
    pub init_fm: i64,
    /// Cap on the number of filters (`--max_fm`, default 512).
    pub max_fm: i64,
    /// Encoder/decoder depth (`--n_layers`, default 6; the paper uses 7); at most `log2(img_sz)`.
    /// The latent is `min(init_fm·2^(n_layers-1), max_fm) × img_sz/2^n_layers × same`.
    pub n_layers: i64,
    /// U-Net-like skip connections (`--n_skip`, default 0); at most `n_layers - 1`.
    pub n_skip: i64,
    /// Decoder upsampling (`--deconv_method`, default `convtranspose`).
    pub deconv_method: DeconvMethod,
    /// Normalisation of the autoencoder (`--instance_norm`, default `batch`). The latent
    /// discriminator always uses batch norm, as in the reference.
    pub norm: NormKind,
    /// Dropout in the 3 deepest decoder layers, between norm and ReLU (`--dec_dropout`, default 0).
    pub dec_dropout: f64,
    /// Size of the attribute vector `y`: 2 per binary attribute, one-hot (`n_attr`, default 2,
    /// i.e. one attribute).
    pub n_attr: i64,
    /// Hidden size of the latent discriminator's MLP (`--hid_dim`, default 512).
    pub hid_dim: i64,
    /// Dropout after each conv block of the latent discriminator (`--lat_dis_dropout`, default 0.3).
    pub lat_dis_dropout: f64,
    /// Strided conv blocks of the patch discriminator (`n_patch_dis_layers`, default 3; the last
    /// has stride 1).
    pub n_patch_dis_layers: i64,
}

impl Default for FaderConfig {
    fn default() -> Self {
        Self {
            img_sz: 256,
            img_fm: 3,
            init_fm: 32,
            max_fm: 512,
            n_layers: 6,
            n_skip: 0,
            deconv_method: DeconvMethod::ConvTranspose,
            norm: NormKind::Batch,
            dec_dropout: 0.0,
            n_attr: 2,
            hid_dim: 512,
            lat_dis_dropout: 0.3,
            n_patch_dis_layers: 3,
        }
    }
}

impl FaderConfig {
    /// The paper's configuration: 256 px, 7 layers, `init_fm` 16, so the latent is 512×2×2 and
    /// the latent discriminator is "C512 + FC512 + FCn".
    pub fn paper() -> Self {
        Self {
            n_layers: 7,
            init_fm: 16,
            ..Self::default()
        }
    }

    /// A small configuration for quick runs at `img_sz` (32 or 64 px): `init_fm` 32, `max_fm`
    /// 512 and `log2(img_sz) - 1` layers, so the latent is 2×2 as in the paper (64 px: 5 layers,
    /// latent 512×2×2, the calibration run of docs/architecture.md#calibration-run).
    pub fn small(img_sz: i64) -> Self {
        Self {
            img_sz,
            n_layers: (log2(img_sz) - 1).max(1),
            ..Self::default()
        }
    }

    /// Channels of encoder output `h_i` (1-based `i`, `h_0` is the image).
    pub fn enc_fm(&self, i: i64) -> i64 {
        if i == 0 {
            self.img_fm
        } else {
            (self.init_fm << (i - 1).min(40)).min(self.max_fm)
        }
    }

    /// Shape `[C, H, W]` of the latent `E(x)` (the last encoder output).
    pub fn latent_shape(&self) -> [i64; 3] {
        let s = self.img_sz >> self.n_layers;
        [self.enc_fm(self.n_layers), s, s]
    }

    /// Checks the reference's asserts (`build_layers`, `train.py`): `init_fm ≤ max_fm`,
    /// `n_skip ≤ n_layers − 1`, `img_sz` a power of 2, `n_layers ≤ log2(img_sz)`, dropouts in [0,1).
    pub fn validate(&self) -> Result<(), NetConfigError> {
        power_of_two("img_sz", self.img_sz)?;
        positive("img_fm", self.img_fm)?;
        feature_maps(self.init_fm, self.max_fm)?;
        positive("n_layers", self.n_layers)?;
        positive("n_attr", self.n_attr)?;
        positive("hid_dim", self.hid_dim)?;
        positive("n_patch_dis_layers", self.n_patch_dis_layers)?;
        if self.n_layers > log2(self.img_sz) {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "n_layers = {} is more than log2(img_sz) = {} (img_sz = {}): each layer halves \
                     the image; use at most {} layers or a larger image",
                    self.n_layers,
                    log2(self.img_sz),
                    self.img_sz,
                    log2(self.img_sz)
                ),
            });
        }
        if self.n_skip < 0 || self.n_skip >= self.n_layers {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "n_skip = {} must be in 0..n_layers (n_layers = {}): there are only {} \
                     encoder outputs to skip from",
                    self.n_skip,
                    self.n_layers,
                    self.n_layers - 1
                ),
            });
        }
        dropout("dec_dropout", self.dec_dropout)?;
        dropout("lat_dis_dropout", self.lat_dis_dropout)?;
        Ok(())
    }

    /// Checks the patch discriminator fits the image: its `n_patch_dis_layers` convs before the
    /// two last stride-1 convs (k4, p1, each one pixel smaller) must leave a map of at least
    /// 1×1, i.e. `img_sz / 2^n_patch_dis_layers − 2 ≥ 1`. Called by the patch discriminator
    /// only, so small autoencoders without one stay valid.
    pub fn validate_patch_dis(&self) -> Result<(), NetConfigError> {
        self.validate()?;
        let patch = (self.img_sz >> self.n_patch_dis_layers.min(40)) - 2;
        if patch < 1 {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "n_patch_dis_layers = {} leaves no patch at img_sz = {}: use fewer layers",
                    self.n_patch_dis_layers, self.img_sz
                ),
            });
        }
        Ok(())
    }
}

/// Shape of the Fader attribute classifier (docs/fader-networks.md#classifier, `classifier.py`):
/// the encoder layers down to 1×1 (`log2(img_sz)` convs), then `Linear → LReLU(0.2) → Linear`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClassifierConfig {
    /// Square image side (`--img_sz`, default 256); a power of 2.
    pub img_sz: i64,
    /// Image channels (`--img_fm`, default 3).
    pub img_fm: i64,
    /// Filters of the first conv (`--init_fm`, default 32).
    pub init_fm: i64,
    /// Cap on the number of filters (`--max_fm`, default 512).
    pub max_fm: i64,
    /// Hidden size of the MLP (`--hid_dim`, default 512).
    pub hid_dim: i64,
    /// Number of logits: 2 per binary attribute (default 2; 80 for all 40 attributes).
    pub n_attr: i64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            img_sz: 256,
            img_fm: 3,
            init_fm: 32,
            max_fm: 512,
            hid_dim: 512,
            n_attr: 2,
        }
    }
}

impl ClassifierConfig {
    /// Checks `img_sz` is a power of 2, `init_fm ≤ max_fm` and that sizes are positive.
    pub fn validate(&self) -> Result<(), NetConfigError> {
        image_size(self.img_sz, 2, "each conv layer halves it")?;
        positive("img_fm", self.img_fm)?;
        feature_maps(self.init_fm, self.max_fm)?;
        positive("hid_dim", self.hid_dim)?;
        positive("n_attr", self.n_attr)
    }
}

// ------------------------------------------------------------------------------------------------
// IcGAN
// ------------------------------------------------------------------------------------------------

/// Shape of the IcGAN conditional GAN, generator and discriminator (docs/icgan.md#generator,
/// #discriminator, `cfg/mainConfig.lua`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcganConfig {
    /// Square image side (`fineSize`, default 64); a power of 2, at least 8. G has
    /// `log2(img_sz) − 3` middle layers.
    pub img_sz: i64,
    /// Image channels (`nc`, default 3; 1 for MNIST).
    pub nc: i64,
    /// Size of the noise `z ~ N(0, I)` (`nz`, default 100).
    pub nz: i64,
    /// Size of the attribute vector `y ∈ {−1, +1}^ny` (`ny`, default 18; 10 for MNIST).
    pub ny: i64,
    /// Generator filters of the last hidden layer (`ngf`, default 64).
    pub ngf: i64,
    /// Discriminator filters of the first layer (`ndf`, default 64).
    pub ndf: i64,
}

impl Default for IcganConfig {
    fn default() -> Self {
        Self {
            img_sz: 64,
            nc: 3,
            nz: 100,
            ny: 18,
            ngf: 64,
            ndf: 64,
        }
    }
}

impl IcganConfig {
    /// Checks `img_sz` is a power of 2 ≥ 8 and the sizes are positive.
    pub fn validate(&self) -> Result<(), NetConfigError> {
        image_size(self.img_sz, 8, "G starts at 4×4 and doubles")?;
        positive("nc", self.nc)?;
        positive("nz", self.nz)?;
        positive("ny", self.ny)?;
        positive("ngf", self.ngf)?;
        positive("ndf", self.ndf)?;
        Ok(())
    }

    /// Number of middle (stride-2) layers of G and D: `log2(img_sz) − 3` (3 at 64 px).
    pub fn n_mid_layers(&self) -> i64 {
        log2(self.img_sz) - 3
    }
}

/// Which IcGAN encoder layout (docs/icgan.md#ind, #sng, #ind-cond, #figure-4a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncoderKind {
    /// Two independent encoders `Ez` (image → z) and `Ey` (image → y); the released layout.
    #[default]
    Ind,
    /// One encoder with a shared first conv block and two branches (z and y).
    Sng,
    /// Independent encoders, `Ez` also gets `y` replicated as constant maps at its input.
    IndCond,
}

/// Shape of the IcGAN encoders (docs/icgan.md#ind): `n_conv_layers × [Conv 5×5/2, BN, ReLU]` with
/// `nf, 2nf, 4nf, …` filters, flatten, `Linear → BN1d → ReLU → Linear` (linear output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IcganEncoderConfig {
    /// Layout: `ind`, `sng` or `ind-cond` (default `ind`).
    pub kind: EncoderKind,
    /// Square image side (default 64); a power of 2.
    pub img_sz: i64,
    /// Image channels (`nc`, default 3; 1 for MNIST).
    pub nc: i64,
    /// Size of z, the output of `Ez` (`nz`, default 100).
    pub nz: i64,
    /// Size of y, the output of `Ey` (`ny`, default 18).
    pub ny: i64,
    /// Filters of the first conv (`nf`, default 32).
    pub nf: i64,
    /// Number of conv blocks (`nConvLayers`, default 4, giving 256×4×4 = 4096 at 64 px).
    pub n_conv_layers: i64,
    /// Hidden FC size of `Ez` and of both SNG branches (`FCsz`, default `null` = the flattened
    /// size, 4096 at 64 px).
    pub fc_z: Option<i64>,
    /// Hidden FC size of `Ey` (`FCsz`, default 512).
    pub fc_y: i64,
}

impl Default for IcganEncoderConfig {
    fn default() -> Self {
        Self {
            kind: EncoderKind::Ind,
            img_sz: 64,
            nc: 3,
            nz: 100,
            ny: 18,
            nf: 32,
            n_conv_layers: 4,
            fc_z: None,
            fc_y: 512,
        }
    }
}

impl IcganEncoderConfig {
    /// Size of the flattened conv output: `nf·2^(n−1) × (img_sz/2^n)²` (4096 at the defaults).
    pub fn flat_size(&self) -> i64 {
        let s = self.img_sz >> self.n_conv_layers;
        (self.nf << (self.n_conv_layers - 1)) * s * s
    }

    /// Hidden FC size of the z encoder (`fc_z`, or the flattened size).
    pub fn fc_z_size(&self) -> i64 {
        self.fc_z.unwrap_or_else(|| self.flat_size())
    }

    /// Checks `img_sz` is a power of 2 with `n_conv_layers ≤ log2(img_sz)` and sizes positive.
    pub fn validate(&self) -> Result<(), NetConfigError> {
        power_of_two("img_sz", self.img_sz)?;
        positive("nc", self.nc)?;
        positive("nz", self.nz)?;
        positive("ny", self.ny)?;
        positive("nf", self.nf)?;
        positive("n_conv_layers", self.n_conv_layers)?;
        positive("fc_y", self.fc_y)?;
        if let Some(fc) = self.fc_z {
            positive("fc_z", fc)?;
        }
        if self.n_conv_layers > log2(self.img_sz) {
            return Err(NetConfigError::Inconsistent {
                message: format!(
                    "n_conv_layers = {} is more than log2(img_sz) = {}: each conv halves the image; \
                     use fewer layers or a larger image",
                    self.n_conv_layers,
                    log2(self.img_sz)
                ),
            });
        }
        if self.n_conv_layers > 40 || self.nf << (self.n_conv_layers - 1) > 1 << 20 {
            return Err(NetConfigError::OutOfRange {
                field: "nf",
                value: self.nf.to_string(),
                expected: "nf·2^(n_conv_layers−1) of at most 2^20 filters".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
