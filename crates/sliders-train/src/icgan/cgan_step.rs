//! One cGAN iteration as a function of its networks and its random draws
//! (docs/icgan.md#loss-and-iteration): the D update, then the G update on the same fake batch;
//! and the same iteration captured as one CUDA graph (docs/gpu.md#cuda-graphs). The draws (the
//! mismatched labels, `y'`, `z`) are made eagerly before each step and copied into the graph's
//! static inputs, so a replayed step computes exactly the eager one.

use crate::graphed::{CaptureError, StaticStep, require_multi_tensor};
use crate::optim::Adam;
use sliders_nets::{IcganDiscriminator, IcganGenerator};
use tch::{Kind, Reduction, Tensor};

/// What one cGAN iteration updates, borrowed for it.
pub struct CganParts<'a> {
    /// The generator.
    pub g: &'a IcganGenerator,
    /// The discriminator.
    pub d: &'a IcganDiscriminator,
    /// G's optimiser.
    pub g_opt: &'a mut Adam,
    /// D's optimiser.
    pub d_opt: &'a mut Adam,
    /// Gradient clipping per network (0 = off).
    pub clip: f64,
    /// Weight of the mismatched-label term of D's loss (0 leaves it out).
    pub wrong_y_weight: f64,
}

/// One iteration's inputs: the real batch and the draws.
pub struct Draws {
    /// Real images `[B, nc, S, S]`.
    pub x: Tensor,
    /// Their labels `[B, ny]` (±1).
    pub y: Tensor,
    /// Mismatched labels for the real images.
    pub y_wrong: Tensor,
    /// `y'`, the fake batch's labels.
    pub y_fake: Tensor,
    /// `z ~ N(0, I)`, `[B, nz, 1, 1]`.
    pub z: Tensor,
}

impl Draws {
    /// The five tensors in field order (a captured step's static inputs).
    pub fn list(&self) -> [&Tensor; 5] {
        [&self.x, &self.y, &self.y_wrong, &self.y_fake, &self.z]
    }
}

/// Detached per-step values (on the device) of one cGAN iteration.
#[derive(Debug)]
pub struct CganLosses {
    /// D's loss `L_real + w·L_wrong + 0.5·L_fake`.
    pub loss_d: Tensor,
    /// G's loss `BCE(D(G(z,y'),y'), 1)` (after the D update).
    pub loss_g: Tensor,
    /// Mean `D(x, y)` on the real batch.
    pub d_real: Tensor,
    /// Mean `D(G(z, y'), y')` in the D step.
    pub d_fake: Tensor,
}

impl CganLosses {
    /// The four values in `metrics.csv`'s order.
    pub fn list(&self) -> [&Tensor; 4] {
        [&self.loss_d, &self.loss_g, &self.d_real, &self.d_fake]
    }

    /// From the four values in [`Self::list`]'s order.
    pub fn from_list(v: &[Tensor]) -> Self {
        Self {
            loss_d: v[0].shallow_clone(),
            loss_g: v[1].shallow_clone(),
            d_real: v[2].shallow_clone(),
            d_fake: v[3].shallow_clone(),
        }
    }
}

/// BCE against a constant target from logits.
// Deviation: BCE is computed from D's logits (`binary_cross_entropy_with_logits`) instead of the
// Sigmoid output followed by BCE; the value and gradient are the same away from saturation, and
// it avoids log(0) clamping (Torch clamps at 1e-12, PyTorch at −100).
fn bce(logits: &Tensor, target: f64) -> Tensor {
    logits.binary_cross_entropy_with_logits::<Tensor>(
        &logits.full_like(target),
        None,
        None,
        Reduction::Mean,
    )
}

/// One eager iteration on `draws` ([`losses`]).
pub fn cgan_update(p: &mut CganParts, draws: &Draws) -> CganLosses {
    CganLosses::from_list(&cgan_values(p, draws))
}

/// [`cgan_update`]'s values as a list in [`CganLosses::list`]'s order (what a replayed
/// iteration returns too).
pub fn cgan_values(p: &mut CganParts, draws: &Draws) -> Vec<Tensor> {
    let [x, y, yw, yf, z] = draws.list();
    losses(p, x, y, yw, yf, z)
}

/// One D update (train mode; `x_fake` detached, so G gets no gradient) on
/// `BCE(D(x,y),1) + w·BCE(D(x,y_wrong),0) + 0.5·BCE(D(x_fake,y'),0)`: three forwards, so three
/// BN batches. Returns `(loss_d, mean D(x,y), mean D(x_fake,y'))`, detached.
pub fn d_update(
    p: &mut CganParts,
    (x, y, y_wrong): (&Tensor, &Tensor, &Tensor),
    x_fake: &Tensor,
    y_fake: &Tensor,
) -> (Tensor, Tensor, Tensor) {
    let real = p.d.logits_t(x, y, true);
    let mut loss = bce(&real, 1.0);
    if p.wrong_y_weight > 0.0 {
        let wrong = p.d.logits_t(x, y_wrong, true);
        loss += bce(&wrong, 0.0) * p.wrong_y_weight;
    }
    let fake = p.d.logits_t(&x_fake.detach(), y_fake, true);
    loss += bce(&fake, 0.0) * 0.5;
    p.d_opt.backward_step_clip(&loss, p.clip);
    (
        loss.detach(),
        real.detach().sigmoid().mean(Kind::Float),
        fake.detach().sigmoid().mean(Kind::Float),
    )
}

/// One G update on `BCE(D(x_fake, y'), 1)` with D in train mode, as the reference. Only G's
/// variables get gradients (`backward_step_clip`), so D's weights stay. Returns the loss,
/// detached.
pub fn g_update(p: &mut CganParts, x_fake: &Tensor, y_fake: &Tensor) -> Tensor {
    let loss = bce(&p.d.logits_t(x_fake, y_fake, true), 1.0);
    p.g_opt.backward_step_clip(&loss, p.clip);
    loss.detach()
}

/// The iteration's updates: `G(z, y')` in train mode, [`d_update`], then [`g_update`] reusing
/// the same `G(z, y')` graph. Returns its four values ([`CganLosses::list`]'s order).
fn losses(
    p: &mut CganParts,
    x: &Tensor,
    y: &Tensor,
    y_wrong: &Tensor,
    y_fake: &Tensor,
    z: &Tensor,
) -> Vec<Tensor> {
    let x_fake = p.g.forward_t(z, y_fake, true);
    let (loss_d, d_real, d_fake) = d_update(p, (x, y, y_wrong), &x_fake, y_fake);
    let loss_g = g_update(p, &x_fake, y_fake);
    vec![loss_d, loss_g, d_real, d_fake]
}

const WHAT: &str = "the cGAN iteration";

/// Captures the iteration on `draws` (its static inputs, in [`Draws`]' order). The warm-up is
/// this step; returns the step and its values ([`CganLosses::from_list`] reads them).
pub fn capture_cgan(
    mut p: CganParts,
    draws: &Draws,
) -> Result<(StaticStep, Vec<Tensor>), CaptureError> {
    require_multi_tensor(WHAT, &[&*p.g_opt, &*p.d_opt]).map_err(CaptureError::before_warm_up)?;
    let before = p.g_opt.steps_taken();
    let device = draws.x.device();
    let mut body = |i: &[Tensor], _: &[Tensor]| losses(&mut p, &i[0], &i[1], &i[2], &i[3], &i[4]);
    StaticStep::capture(WHAT, device, &draws.list(), &[], &mut body).map_err(|error| CaptureError {
        error,
        updated: p.g_opt.steps_taken() != before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphed::max_abs_diff;
    use crate::optim::{AdamConfig, Update};
    use sliders_config::nets::IcganConfig;
    use tch::Device;
    use tch::nn::VarStore;

    struct Models {
        g_vs: VarStore,
        g: IcganGenerator,
        d: IcganDiscriminator,
        g_opt: Adam,
        d_opt: Adam,
    }

    const CFG: IcganConfig = IcganConfig {
        img_sz: 16,
        nc: 3,
        nz: 8,
        ny: 3,
        ngf: 8,
        ndf: 8,
    };

    fn models(dev: Device, update: Update) -> Models {
        tch::manual_seed(5);
        let g_vs = VarStore::new(dev);
        let g = IcganGenerator::new(&g_vs.root(), &CFG).unwrap();
        let d_vs = VarStore::new(dev);
        let d = IcganDiscriminator::new(&d_vs.root(), &CFG).unwrap();
        let g_opt = Adam::with_update(&g_vs, AdamConfig::fader(), update);
        let d_opt = Adam::with_update(&d_vs, AdamConfig::fader(), update);
        Models {
            g_vs,
            g,
            d,
            g_opt,
            d_opt,
        }
    }

    impl Models {
        fn parts(&mut self) -> CganParts<'_> {
            CganParts {
                g: &self.g,
                d: &self.d,
                g_opt: &mut self.g_opt,
                d_opt: &mut self.d_opt,
                clip: 5.0,
                wrong_y_weight: 0.5,
            }
        }
    }

    fn draws(dev: Device, seed: i64) -> Draws {
        tch::manual_seed(seed);
        let b = 8;
        let labels = || Tensor::randint(2, [b, CFG.ny], (Kind::Float, dev)) * 2.0 - 1.0;
        Draws {
            x: Tensor::rand([b, 3, 16, 16], (Kind::Float, dev)) * 2.0 - 1.0,
            y: labels(),
            y_wrong: labels(),
            y_fake: labels(),
            z: Tensor::randn([b, CFG.nz, 1, 1], (Kind::Float, dev)),
        }
    }

    #[test]
    fn capture_is_refused_before_any_update_off_cuda_and_for_a_per_tensor_adam() {
        let _rng = crate::rng_lock();
        let d = draws(Device::Cpu, 1);
        for update in [Update::PerTensor, Update::MultiTensor] {
            let mut m = models(Device::Cpu, update);
            let err = capture_cgan(m.parts(), &d).err().expect("no capture here");
            assert!(!err.updated, "{update:?}: nothing ran");
            assert_eq!(m.g_opt.steps_taken(), 0);
            let why = &err.error.message;
            let expected = match update {
                Update::PerTensor => "multi-tensor",
                Update::MultiTensor => "CUDA",
            };
            assert!(why.contains(expected), "{update:?}: {why}");
        }
    }

    #[test]
    fn the_iteration_updates_both_networks_and_reports_probabilities() {
        let _rng = crate::rng_lock();
        let mut m = models(Device::Cpu, Update::PerTensor);
        let before: std::collections::HashMap<String, Tensor> = (m.g_vs.variables().into_iter())
            .map(|(k, v)| (k, v.copy()))
            .collect();
        let l = cgan_update(&mut m.parts(), &draws(Device::Cpu, 2));
        assert_eq!((m.g_opt.steps_taken(), m.d_opt.steps_taken()), (1, 1));
        let moved = m
            .g_vs
            .variables()
            .iter()
            .any(|(k, v)| max_abs_diff(v, &before[k]) > 0.0);
        assert!(moved, "G did not train");
        for p in [&l.d_real, &l.d_fake] {
            let p = p.double_value(&[]);
            assert!((0.0..=1.0).contains(&p), "{p}");
        }
        assert!(l.loss_d.double_value(&[]) > 0.0 && l.loss_g.double_value(&[]) > 0.0);
    }

    /// The graphed iteration against the eager one over four steps with new draws each step
    /// (deterministic cuDNN on both): run with `--ignored` on a GPU machine.
    #[test]
    #[ignore = "needs a CUDA device"]
    fn the_replayed_cgan_iteration_is_the_eager_one() {
        let _rng = crate::rng_lock();
        let dev = crate::graphed::deterministic_cuda();
        let mut eager = models(dev, Update::MultiTensor);
        let mut graphed = models(dev, Update::MultiTensor);
        let mut step: Option<StaticStep> = None;
        for t in 0..4 {
            let d = draws(dev, 100 + t);
            let e = cgan_update(&mut eager.parts(), &d);
            let out = match &step {
                None => {
                    let made = capture_cgan(graphed.parts(), &d);
                    let (made, warm) = made.unwrap_or_else(|e| panic!("{}", e.error));
                    step = Some(made);
                    warm
                }
                Some(s) => s.step(&d.list(), &[]).unwrap(),
            };
            for (i, (a, b)) in e.list().into_iter().zip(&out).enumerate() {
                assert!(max_abs_diff(a, b) < 1e-5, "step {t}, value {i}");
            }
        }
        let graphed_vars = graphed.g_vs.variables();
        for (name, a) in eager.g_vs.variables() {
            let diff = max_abs_diff(&a, &graphed_vars[&name]);
            assert!(diff < 1e-5, "G's {name} differs by {diff}");
        }
        assert_eq!(graphed.g_opt.steps_taken(), 4);
        assert_eq!(graphed.d_opt.steps_taken(), 4);
    }
}
