//! The Fader step's two updates as free functions
//! (docs/fader-networks.md#latent-discriminator-step, #autoencoder-step): the latent
//! discriminator's, and the autoencoder's with its adversarial term; [`super::FaderTrainer`]'s
//! steps and the benchmarks call them.

use super::*;

/// The latent discriminator's loss (docs/fader-networks.md#latent-discriminator-step): `ae`
/// encodes `x` in eval mode without gradient, `lat` (train mode) predicts `y` (`[B, n_attr]`
/// one-hot), scored by `Σ_attr CE` (with its graph through `lat` only).
pub fn lat_dis_loss(
    ae: &FaderAutoEncoder,
    lat: &LatentDiscriminator,
    x: &Tensor,
    y: &Tensor,
) -> Tensor {
    let idx = lat.input_index();
    let z = tch::no_grad(|| ae.encode(x, false)[idx].shallow_clone());
    let logits = lat.forward_t(&z, true);
    attr_cross_entropy(&logits, y, false)
}

/// One latent-discriminator update: [`lat_dis_loss`], then `opt` (the discriminator's) takes the
/// loss's gradients, clips them at `clip` and steps ([`Adam::backward_step_clip`]).
/// Returns the loss (detached, on the device). [`FaderTrainer::lat_dis_step`] is this.
pub fn lat_dis_update(
    ae: &FaderAutoEncoder,
    lat: &LatentDiscriminator,
    opt: &mut Adam,
    x: &Tensor,
    y: &Tensor,
    clip: f64,
) -> Tensor {
    let loss = lat_dis_loss(ae, lat, x, y);
    opt.backward_step_clip(&loss, clip);
    loss.detach()
}

/// The autoencoder's loss (docs/fader-networks.md#autoencoder-step) without the optional patch /
/// classifier terms: `λ_ae·MSE(D(E(x), y), x) + λ·Σ_attr CE(lat(E(x)), 1 − y)` with the autoencoder
/// in train mode and `lat` in eval mode; `lat` is `None` when `lambda_lat_dis` is 0 (the term is
/// not computed). Returns the encoder outputs, the reconstruction MSE and the loss (both with their
/// graphs).
pub fn autoencoder_loss(
    ae: &FaderAutoEncoder,
    lat: Option<(&LatentDiscriminator, f64)>,
    x: &Tensor,
    y: &Tensor,
    lambda_ae: f64,
) -> (Vec<Tensor>, Tensor, Tensor) {
    autoencoder_loss_weighted(ae, lat.map(|(l, w)| (l, Weight::Host(w))), x, y, lambda_ae)
}

/// A loss term's weight: a number, or a 0-d tensor on the device, which a captured CUDA graph
/// reads when it replays (so λ can follow its schedule; docs/gpu.md#cuda-graphs).
#[derive(Clone, Copy)]
pub enum Weight<'a> {
    /// Fixed when the loss is built.
    Host(f64),
    /// Read from the device when the kernels run.
    Device(&'a Tensor),
}

/// [`autoencoder_loss`] with the adversarial term's weight a [`Weight`].
pub fn autoencoder_loss_weighted(
    ae: &FaderAutoEncoder,
    lat: Option<(&LatentDiscriminator, Weight)>,
    x: &Tensor,
    y: &Tensor,
    lambda_ae: f64,
) -> (Vec<Tensor>, Tensor, Tensor) {
    let enc = ae.encode(x, true);
    let dec = ae.decode(&enc, y, true);
    let rec = dec.mse_loss(x, Reduction::Mean);
    let mut loss = &rec * lambda_ae;
    if let Some((lat, lambda)) = lat {
        let logits = lat.forward_t(&enc[lat.input_index()], false);
        let term = attr_cross_entropy(&logits, y, true);
        loss += match lambda {
            Weight::Host(w) => term * w,
            Weight::Device(w) => term * w,
        };
    }
    (enc, rec, loss)
}

/// One autoencoder update with the latent-discriminator term only (the default configuration:
/// no patch or classifier discriminator): [`autoencoder_loss`], then `opt` (the autoencoder's)
/// takes the loss's gradients, clips them at `clip` and steps. Returns the reconstruction MSE
/// (detached). [`FaderTrainer::autoencoder_step`] computes the same update when `n_ptc_dis = n_clf_dis = 0`.
pub fn autoencoder_update(
    ae: &FaderAutoEncoder,
    lat: Option<(&LatentDiscriminator, f64)>,
    opt: &mut Adam,
    x: &Tensor,
    y: &Tensor,
    lambda_ae: f64,
    clip: f64,
) -> Tensor {
    let (_, rec, loss) = autoencoder_loss(ae, lat, x, y, lambda_ae);
    opt.backward_step_clip(&loss, clip);
    rec.detach()
}
