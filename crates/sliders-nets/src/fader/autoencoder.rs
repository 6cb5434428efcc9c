//! The Fader Networks autoencoder (docs/fader-networks.md#autoencoder, `AutoEncoder`): a conv
//! encoder `E` and a decoder `D` that receives the attributes `y` as constant maps at every layer.

use sliders_config::nets::{DeconvMethod, FaderConfig};
use tch::Tensor;
use tch::nn::{self, Module};

use super::{EncBlock, enc_layer_fm};
use crate::NetsError;
use crate::checkpoint::Network;
use crate::layers::{self, ConvGeom, InitScheme, Norm2d};

/// How one decoder layer doubles the resolution.
#[derive(Debug)]
enum Upsample {
    /// `ConvTranspose2d(in, out, 4, 2, 1, bias=False)` at index 0.
    ConvTranspose(nn::ConvTranspose2D),
    /// `UpsamplingNearest2d(2)` (index 0) then `Conv2d(in, out, 3, 1, 1)` at index 1.
    Nearest(nn::Conv2D),
    /// `Conv2d(in, 4·out, 3, 1, 1)` at index 0 then `PixelShuffle(2)` (index 1).
    PixelShuffle(nn::Conv2D),
}

/// One decoder layer: upsampling, then `norm [+ Dropout] + ReLU`, or `Tanh` for the output layer.
#[derive(Debug)]
struct DecBlock {
    up: Upsample,
    norm: Option<Norm2d>,
    dropout: f64,
    is_output: bool,
}

impl DecBlock {
    fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let mut h = match &self.up {
            Upsample::ConvTranspose(c) => c.forward(x),
            Upsample::Nearest(c) => {
                let (_, _, hh, ww) = x.size4().expect("decoder input is [B, C, H, W]");
                c.forward(&x.upsample_nearest2d([2 * hh, 2 * ww], None, None))
            }
            Upsample::PixelShuffle(c) => c.forward(x).pixel_shuffle(2),
        };
        if self.is_output {
            return h.tanh();
        }
        if let Some(norm) = &self.norm {
            h = norm.forward_t(&h, train);
        }
        if self.dropout > 0.0 {
            h = h.dropout(self.dropout, train);
        }
        h.relu()
    }
}

/// The Fader autoencoder.
///
/// Shapes, with `S = img_sz`, `n = n_layers`, `fm(i) = min(init_fm·2^(i−1), max_fm)`:
/// - image `x`: `[B, img_fm, S, S]`, values in [−1, 1];
/// - encoder output `h_i` (`i = 1..n`): `[B, fm(i), S/2^i, S/2^i]`; the latent is `h_n`;
/// - attributes `y`: `[B, n_attr]`, any real values (one-hot `[1−α, α]` per attribute, α may lie
///   outside [0, 1] for sliding); they are never clamped;
/// - decoded image: `[B, img_fm, S, S]` in [−1, 1] (tanh).
///
/// State-dict keys (`AutoEncoder` of the reference): `enc_layers.{i}.0.{weight,bias}` (conv),
/// `enc_layers.{i}.1.*` (norm, `i ≥ 1`); `dec_layers.{k}.{c}.*` in decoding order (`k = 0` is the
/// deepest layer, `k = n−1` outputs the image), with the conv at `c = 0` (`convtranspose`,
/// `pixelshuffle`) or `c = 1` (`upsampling`, after the parameterless upsampler), and the norm at
/// `1` (`convtranspose`) or `2` (the others) for `k < n−1`. Batch norm adds `running_mean` and
/// `running_var`; instance norm stores only `weight` and `bias`.
#[derive(Debug)]
pub struct FaderAutoEncoder {
    cfg: FaderConfig,
    enc: Vec<EncBlock>,
    dec: Vec<DecBlock>,
}

impl FaderAutoEncoder {
    /// The `sliders.kind` of its checkpoints.
    pub const KIND: &'static str = "fader-autoencoder";

    /// Builds the autoencoder under `p` (the root of its own `VarStore`), initialised as the
    /// PyTorch 0.3 reference (uniform `±1/√(in·k·k)` weights and biases, norm `γ ~ U(0,1)`).
    pub fn new(p: &nn::Path, cfg: &FaderConfig) -> Result<Self, NetsError> {
        cfg.validate()?;
        let n = cfg.n_layers;
        let init = InitScheme::TorchLegacy;
        let mut enc = Vec::new();
        let mut dec = Vec::new();
        let pe = p / "enc_layers";
        let pd = p / "dec_layers";
        for i in 0..n {
            let (n_in, n_out) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, i);
            let norm = (i > 0).then_some(cfg.norm);
            enc.push(EncBlock::new(&(&pe / i), n_in, n_out, norm, 0.0));
        }
        // Decoder layers in decoding order k = 0..n; k corresponds to build index i = n-1-k.
        for k in 0..n {
            let i = n - 1 - k;
            let (n_in, n_out) = enc_layer_fm(cfg.img_fm, cfg.init_fm, cfg.max_fm, i);
            let skip = k > 0 && k <= cfg.n_skip;
            let dec_in = n_out + cfg.n_attr + if skip { n_out } else { 0 };
            let dec_out = n_in;
            let pk = &pd / k;
            let (up, norm_idx) = match cfg.deconv_method {
                DeconvMethod::ConvTranspose => (
                    Upsample::ConvTranspose(layers::conv_transpose2d(
                        &(&pk / 0),
                        dec_in,
                        dec_out,
                        ConvGeom::K4S2P1.no_bias(),
                        init,
                    )),
                    1,
                ),
                DeconvMethod::Upsampling => (
                    Upsample::Nearest(layers::conv2d(
                        &(&pk / 1),
                        dec_in,
                        dec_out,
                        ConvGeom::new(3, 1, 1),
                        init,
                    )),
                    2,
                ),
                DeconvMethod::PixelShuffle => (
                    Upsample::PixelShuffle(layers::conv2d(
                        &(&pk / 0),
                        dec_in,
                        4 * dec_out,
                        ConvGeom::new(3, 1, 1),
                        init,
                    )),
                    2,
                ),
            };
            let is_output = i == 0;
            let norm =
                (!is_output).then(|| Norm2d::new(&(&pk / norm_idx), dec_out, cfg.norm, init));
            let dropout = if !is_output && cfg.dec_dropout > 0.0 && i >= n - 3 {
                cfg.dec_dropout
            } else {
                0.0
            };
            dec.push(DecBlock {
                up,
                norm,
                dropout,
                is_output,
            });
        }
        Ok(Self {
            cfg: cfg.clone(),
            enc,
            dec,
        })
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &FaderConfig {
        &self.cfg
    }

    /// Encodes `x` (`[B, img_fm, S, S]`) into the list `[x, h_1, …, h_n]` (length `n_layers + 1`);
    /// the latent is the last element, `[B, fm(n), S/2^n, S/2^n]`.
    ///
    /// # Panics
    /// If `x` does not have shape `[B, img_fm, img_sz, img_sz]`.
    pub fn encode(&self, x: &Tensor, train: bool) -> Vec<Tensor> {
        let s = self.cfg.img_sz;
        layers::check_shape(Self::KIND, "image", x, &[-1, self.cfg.img_fm, s, s]);
        let mut outs = vec![x.shallow_clone()];
        for block in &self.enc {
            let h = block.forward_t(outs.last().expect("non-empty"), train);
            outs.push(h);
        }
        outs
    }

    /// Decodes and returns every decoder output `[h_n, d_1, …, d_n]` (length `n_layers + 1`, as
    /// the reference's `dec_outputs`); `d_k` has the shape of `h_{n−k}` and `d_n` is the image
    /// `[B, img_fm, S, S]` in [−1, 1].
    ///
    /// `enc` is the output of [`encode`](Self::encode) (only its last element is used unless
    /// `n_skip > 0`); `y` is `[B, n_attr]`, any real values.
    ///
    /// # Panics
    /// If `enc` does not have `n_layers + 1` elements or `y` is not `[B, n_attr]`.
    pub fn decode_all(&self, enc: &[Tensor], y: &Tensor, train: bool) -> Vec<Tensor> {
        let n = self.cfg.n_layers as usize;
        assert_eq!(
            enc.len(),
            n + 1,
            "{}: decode needs the {} encoder outputs [x, h1..h{n}] of encode(), got {}",
            Self::KIND,
            n + 1,
            enc.len()
        );
        let latent = &enc[n];
        let b = latent.size()[0];
        layers::check_shape(Self::KIND, "attributes y", y, &[b, self.cfg.n_attr]);
        let y = y.to_kind(latent.kind());
        let mut outs = vec![latent.shallow_clone()];
        for (k, block) in self.dec.iter().enumerate() {
            let h = outs.last().expect("non-empty");
            let s = h.size()[2];
            let mut inp = vec![h.shallow_clone(), layers::replicate(&y, s)];
            if k > 0 && k as i64 <= self.cfg.n_skip {
                inp.push(enc[n - k].shallow_clone());
            }
            outs.push(block.forward_t(&Tensor::cat(&inp, 1), train));
        }
        outs
    }

    /// Decodes to the image `[B, img_fm, S, S]` in [−1, 1]; see [`decode_all`](Self::decode_all).
    pub fn decode(&self, enc: &[Tensor], y: &Tensor, train: bool) -> Tensor {
        self.decode_all(enc, y, train)
            .pop()
            .expect("the decoder has at least one layer")
    }

    /// `encode` then `decode`: returns the encoder outputs and the reconstructed image.
    pub fn forward_t(&self, x: &Tensor, y: &Tensor, train: bool) -> (Vec<Tensor>, Tensor) {
        let enc = self.encode(x, train);
        let img = self.decode(&enc, y, train);
        (enc, img)
    }
}

impl Network for FaderAutoEncoder {
    fn kind(&self) -> String {
        Self::KIND.to_string()
    }

    fn config_json(&self) -> String {
        crate::checkpoint::config_to_json(&self.cfg)
    }
}
