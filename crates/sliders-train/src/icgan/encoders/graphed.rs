//! One encoder iteration as functions of its networks, and the same iteration captured as one
//! CUDA graph (docs/gpu.md#cuda-graphs): the z encoder `Ez` (IND, IND-COND) or the SNG encoder on
//! a generated batch, then `Ey` on a real batch when the layout has it. Inputs in order: the
//! generated `x'`, `z`, `y'`, then the real `x`, `y` (IND, IND-COND); outputs: the z and y MSEs.

use crate::driver::Trained;
use crate::graphed::{CaptureError, StaticStep, require_multi_tensor};
use crate::optim::{Adam, Update};
use sliders_nets::{IcganEncoder, SngEncoder};
use tch::{Reduction, Tensor};

/// The mean squared error every encoder regression uses.
pub(super) fn mse(a: &Tensor, b: &Tensor) -> Tensor {
    a.mse_loss(b, Reduction::Mean)
}

/// One `Ez` update (train mode) on generated `(x', z)`, given `y'` for IND-COND. Returns the z
/// MSE, detached.
pub(crate) fn ez_update(
    ez: &mut Trained<IcganEncoder>,
    x: &Tensor,
    z: &Tensor,
    y: Option<&Tensor>,
) -> Tensor {
    let loss = mse(&ez.net.forward_t(x, y, true), z);
    ez.opt.backward_step_clip(&loss, 0.0);
    loss.detach()
}

/// One `Ey` update (train mode) on real `(x, y)`. Returns the y MSE, detached.
pub(crate) fn ey_update(ey: &mut Trained<IcganEncoder>, x: &Tensor, y: &Tensor) -> Tensor {
    let loss = mse(&ey.net.forward_t(x, None, true), y);
    ey.opt.backward_step_clip(&loss, 0.0);
    loss.detach()
}

/// One SNG update (train mode) on generated `(x', z, y')`: `MSE(z) + MSE(y')`. Returns
/// `(z MSE, y MSE)`, detached.
pub(crate) fn sng_update(
    sng: &mut Trained<SngEncoder>,
    x: &Tensor,
    z: &Tensor,
    y: &Tensor,
) -> (Tensor, Tensor) {
    let (zp, yp) = sng.net.forward_t(x, true);
    let (lz, ly) = (mse(&zp, z), mse(&yp, y));
    sng.opt.backward_step_clip(&(&lz + &ly), 0.0);
    (lz.detach(), ly.detach())
}

/// The networks one iteration updates, borrowed for it.
pub(crate) struct EncoderParts<'a> {
    /// `Ez` (IND, IND-COND).
    pub ez: Option<&'a mut Trained<IcganEncoder>>,
    /// `Ey` (IND, IND-COND).
    pub ey: Option<&'a mut Trained<IcganEncoder>>,
    /// The SNG encoder.
    pub sng: Option<&'a mut Trained<SngEncoder>>,
    /// Whether `Ez` gets `y'` (IND-COND).
    pub conditioned: bool,
}

impl EncoderParts<'_> {
    fn optimisers(&self) -> Vec<&Adam> {
        let ez = self.ez.as_deref().map(|t| &t.opt);
        let ey = self.ey.as_deref().map(|t| &t.opt);
        let sng = self.sng.as_deref().map(|t| &t.opt);
        [ez, ey, sng].into_iter().flatten().collect()
    }

    /// Whether every optimiser takes the multi-tensor update (a graph needs it).
    pub fn multi_tensor(&self) -> bool {
        self.optimisers()
            .iter()
            .all(|o| o.update() == Update::MultiTensor)
    }

    /// The updates made so far by the first network's optimiser (read from the device).
    fn progress(&self) -> i64 {
        self.optimisers().first().map_or(0, |o| o.steps_taken())
    }

    /// The iteration on `i` (see the module): returns `[z MSE, y MSE]` (the y MSE is `Ey`'s, or
    /// SNG's own); a layout without a y term returns only the z MSE.
    pub fn update(&mut self, i: &[&Tensor]) -> Vec<Tensor> {
        let (xg, zg, yg) = (i[0], i[1], i[2]);
        let mut out = Vec::with_capacity(2);
        if let Some(sng) = self.sng.as_deref_mut() {
            let (lz, ly) = sng_update(sng, xg, zg, yg);
            out.extend([lz, ly]);
        } else if let Some(ez) = self.ez.as_deref_mut() {
            let cond = self.conditioned.then_some(yg);
            out.push(ez_update(ez, xg, zg, cond));
        }
        if let (Some(ey), [_, _, _, x, y]) = (self.ey.as_deref_mut(), i) {
            out.push(ey_update(ey, x, y));
        }
        out
    }
}

const WHAT: &str = "the encoder iteration";

/// Captures the iteration on `inputs` (the module's order). The warm-up is this step; returns
/// the step and its values.
pub(crate) fn capture_encoders(
    mut p: EncoderParts,
    inputs: &[&Tensor],
) -> Result<(StaticStep, Vec<Tensor>), CaptureError> {
    require_multi_tensor(WHAT, &p.optimisers()).map_err(CaptureError::before_warm_up)?;
    let before = p.progress();
    let device = inputs[0].device();
    let mut body = |i: &[Tensor], _: &[Tensor]| p.update(&i.iter().collect::<Vec<_>>());
    StaticStep::capture(WHAT, device, inputs, &[], &mut body).map_err(|error| CaptureError {
        error,
        updated: p.progress() != before,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Layout;
    use super::super::setup::build_encoders;
    use super::*;
    use crate::graphed::max_abs_diff;
    use crate::optim::AdamConfig;
    use sliders_config::nets::{EncoderKind, IcganEncoderConfig};
    use tch::{Device, Kind};

    const KINDS: [EncoderKind; 3] = [EncoderKind::Ind, EncoderKind::Sng, EncoderKind::IndCond];

    fn layout(kind: EncoderKind, dev: Device) -> Layout {
        tch::manual_seed(9);
        let cfg = IcganEncoderConfig {
            kind,
            img_sz: 16,
            nz: 8,
            ny: 3,
            nf: 8,
            n_conv_layers: 2,
            fc_y: 16,
            ..IcganEncoderConfig::default()
        };
        build_encoders(kind, &cfg, AdamConfig::fader(), dev).unwrap()
    }

    fn parts(l: &mut Layout, kind: EncoderKind) -> EncoderParts<'_> {
        EncoderParts {
            ez: l.0.as_mut(),
            ey: l.1.as_mut(),
            sng: l.2.as_mut(),
            conditioned: kind == EncoderKind::IndCond,
        }
    }

    /// Generated `x', z, y'`, then a real `x, y` for the layouts with `Ey`.
    fn inputs(kind: EncoderKind, dev: Device, seed: i64) -> Vec<Tensor> {
        tch::manual_seed(seed);
        let images = || Tensor::rand([4, 3, 16, 16], (Kind::Float, dev)) * 2.0 - 1.0;
        let labels = || Tensor::randint(2, [4, 3], (Kind::Float, dev)) * 2.0 - 1.0;
        let mut v = vec![
            images(),
            Tensor::randn([4, 8], (Kind::Float, dev)),
            labels(),
        ];
        if kind != EncoderKind::Sng {
            v.extend([images(), labels()]);
        }
        v
    }

    #[test]
    fn each_layout_updates_every_network_once_and_returns_both_errors() {
        let _rng = crate::rng_lock();
        for kind in KINDS {
            let mut l = layout(kind, Device::Cpu);
            let mut p = parts(&mut l, kind);
            let i = inputs(kind, Device::Cpu, 1);
            let out = p.update(&i.iter().collect::<Vec<_>>());
            assert_eq!(out.len(), 2, "{kind:?}");
            assert!(out.iter().all(|v| v.double_value(&[]) > 0.0), "{kind:?}");
            let steps: Vec<i64> = p.optimisers().iter().map(|o| o.steps_taken()).collect();
            assert!(steps.iter().all(|&s| s == 1), "{kind:?}: {steps:?}");
        }
    }

    #[test]
    fn capture_is_refused_before_any_update_for_a_per_tensor_adam() {
        let _rng = crate::rng_lock();
        let mut l = layout(EncoderKind::Ind, Device::Cpu);
        let i = inputs(EncoderKind::Ind, Device::Cpu, 2);
        let refs: Vec<&Tensor> = i.iter().collect();
        let err = capture_encoders(parts(&mut l, EncoderKind::Ind), &refs)
            .err()
            .expect("a per-tensor Adam cannot be captured");
        assert!(!err.updated);
        assert!(err.error.message.contains("multi-tensor"), "{}", err.error);
        assert_eq!(parts(&mut l, EncoderKind::Ind).progress(), 0);
    }

    /// Each layout's replayed iteration against the eager one over three steps (deterministic
    /// cuDNN): run with `--ignored` on a GPU machine.
    #[test]
    #[ignore = "needs a CUDA device"]
    fn the_replayed_encoder_iteration_is_the_eager_one() {
        let _rng = crate::rng_lock();
        let dev = crate::graphed::deterministic_cuda();
        for kind in KINDS {
            let (mut eager, mut graphed) = (layout(kind, dev), layout(kind, dev));
            let mut step: Option<StaticStep> = None;
            for t in 0..3 {
                let i = inputs(kind, dev, 50 + t);
                let refs: Vec<&Tensor> = i.iter().collect();
                let e = parts(&mut eager, kind).update(&refs);
                let g = match &step {
                    None => {
                        let made = capture_encoders(parts(&mut graphed, kind), &refs);
                        let (made, warm) = made.unwrap_or_else(|e| panic!("{}", e.error));
                        step = Some(made);
                        warm
                    }
                    Some(s) => s.step(&refs, &[]).unwrap(),
                };
                for (a, b) in e.iter().zip(&g) {
                    assert!(max_abs_diff(a, b) < 1e-5, "{kind:?} step {t}");
                }
            }
            assert_eq!(parts(&mut graphed, kind).progress(), 3, "{kind:?}");
        }
    }
}
