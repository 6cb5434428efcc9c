//! The default Fader iteration, one latent-discriminator update then one autoencoder update,
//! captured as one CUDA graph and replayed with static input buffers (docs/gpu.md#cuda-graphs):
//! one launch per iteration instead of hundreds. λ is a 0-d device tensor so the graph follows
//! its schedule; both optimisers must use the multi-tensor update, whose step count is on the
//! device. Built on [`crate::graphed::StaticStep`]; the trainer falls back to the eager update
//! when capture fails.

use super::update::{Weight, autoencoder_loss_weighted, lat_dis_loss};
use crate::graphed::{CaptureError, StaticStep, require_multi_tensor};
use crate::optim::{Adam, Update};
use sliders_nets::{FaderAutoEncoder, LatentDiscriminator};
use tch::Tensor;

/// What one Fader iteration updates, borrowed for the capture.
pub struct FaderParts<'a> {
    /// The autoencoder.
    pub ae: &'a FaderAutoEncoder,
    /// The latent discriminator.
    pub lat: &'a LatentDiscriminator,
    /// The autoencoder's optimiser (multi-tensor update).
    pub ae_opt: &'a mut Adam,
    /// The latent discriminator's optimiser (multi-tensor update).
    pub lat_opt: &'a mut Adam,
    /// Gradient clipping per network.
    pub clip: f64,
    /// The reconstruction term's weight.
    pub lambda_ae: f64,
}

/// A batch: images and attributes, on the device.
pub type Pair<'a> = (&'a Tensor, &'a Tensor);

const WHAT: &str = "the Fader iteration";

/// Captures the iteration (inputs: the latent discriminator's batch, then the autoencoder's;
/// scalar: λ_lat_dis). The warm-up is this step; returns the step and its losses (latent
/// discriminator, reconstruction).
pub fn capture_fader(
    parts: FaderParts,
    (x1, y1): Pair,
    (x2, y2): Pair,
    lambda: f64,
) -> Result<(StaticStep, Vec<Tensor>), CaptureError> {
    require_multi_tensor(WHAT, &[&*parts.ae_opt, &*parts.lat_opt])
        .map_err(CaptureError::before_warm_up)?;
    let FaderParts {
        ae,
        lat,
        ae_opt,
        lat_opt,
        clip,
        lambda_ae,
    } = parts;
    let before = ae_opt.steps_taken();
    let mut body = |i: &[Tensor], s: &[Tensor]| {
        let loss = lat_dis_loss(ae, lat, &i[0], &i[1]);
        lat_opt.backward_step_clip(&loss, clip);
        let lat_w = Some((lat, Weight::Device(&s[0])));
        let (_, rec, total) = autoencoder_loss_weighted(ae, lat_w, &i[2], &i[3], lambda_ae);
        ae_opt.backward_step_clip(&total, clip);
        vec![loss.detach(), rec.detach()]
    };
    StaticStep::capture(WHAT, x1.device(), &[x1, y1, x2, y2], &[lambda], &mut body).map_err(
        |error| CaptureError {
            error,
            updated: ae_opt.steps_taken() != before,
        },
    )
}

impl super::FaderTrainer {
    /// Whether this run's steps replay a captured CUDA graph (docs/gpu.md#cuda-graphs).
    pub fn iteration_is_graphed(&self) -> bool {
        self.graph.is_captured()
    }

    /// Whether this run's iteration can be captured: CUDA, `cuda_graph` on, the default
    /// iteration (one latent-discriminator step, no patch or classifier discriminator, a latent
    /// term), multi-tensor optimisers, and no earlier failure.
    pub(super) fn graph_eligible(&self) -> bool {
        let c = &self.cfg;
        matches!(self.core.device, tch::Device::Cuda(_))
            && c.cuda_graph
            && c.n_lat_dis == 1
            && c.n_ptc_dis == 0
            && c.n_clf_dis == 0
            && c.lambda_lat_dis > 0.0
            && self.ae.opt.update() == Update::MultiTensor
            && self.lat.opt.update() == Update::MultiTensor
            && !self.graph.failed()
    }

    /// The step of [`Self::graph_eligible`] runs: the same two batches as the eager step, then a
    /// replay, or the capture (whose warm-up is this step), or, when capture fails, the eager
    /// updates on the same batches (unless the warm-up already made them).
    pub(super) fn graphed_step(
        &mut self,
        stream: &sliders_celeba::Prefetcher,
        t: u64,
        losses: &mut crate::progress::IntervalMeans,
    ) {
        let (x1, y1) = self.on_device(&stream.next_batch());
        let (x2, y2) = self.on_device(&stream.next_batch());
        let lambda = self.lambdas(t)[0];
        let inputs: [&Tensor; 4] = [&x1, &y1, &x2, &y2];
        let values = crate::graphed::iterate(
            self,
            true,
            (&inputs, &[lambda]),
            |s| capture_fader(s.parts(), (&x1, &y1), (&x2, &y2), lambda),
            |s| {
                let lat_loss = s.lat_dis_step(&x1, &y1);
                vec![lat_loss, s.autoencoder_step(&x2, &y2, s.lambdas(t))]
            },
        );
        self.core.counters.batches_drawn += self.batches_per_step();
        // None: a failed capture's warm-up made this step's updates; its losses are not known.
        let Some(values) = values else { return };
        let (lat_loss, rec) = (&values[0], &values[1]);
        losses.add(super::LAT, lat_loss);
        losses.add(super::REC, rec);
    }

    /// What one graphed iteration updates.
    fn parts(&mut self) -> FaderParts<'_> {
        FaderParts {
            ae: &self.ae.net,
            lat: &self.lat.net,
            ae_opt: &mut self.ae.opt,
            lat_opt: &mut self.lat.opt,
            clip: self.cfg.clip_grad_norm,
            lambda_ae: self.cfg.lambda_ae,
        }
    }
}

impl crate::graphed::HasGraph for super::FaderTrainer {
    fn graph_state(&mut self) -> &mut crate::graphed::GraphState {
        &mut self.graph
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fader::{autoencoder_update, lat_dis_update};
    use crate::graphed::max_abs_diff;
    use crate::optim::AdamConfig;
    use sliders_config::nets::FaderConfig;
    use tch::nn::VarStore;
    use tch::{Device, Kind};

    struct Models {
        ae_vs: VarStore,
        ae: FaderAutoEncoder,
        lat: LatentDiscriminator,
        ae_opt: Adam,
        lat_opt: Adam,
    }

    impl Models {
        /// The iteration's parts with the default clipping and reconstruction weight.
        fn parts(&mut self) -> FaderParts<'_> {
            FaderParts {
                ae: &self.ae,
                lat: &self.lat,
                ae_opt: &mut self.ae_opt,
                lat_opt: &mut self.lat_opt,
                clip: 5.0,
                lambda_ae: 1.0,
            }
        }
    }

    fn models(dev: Device, cfg: &FaderConfig) -> Models {
        tch::manual_seed(21);
        let ae_vs = VarStore::new(dev);
        let ae = FaderAutoEncoder::new(&ae_vs.root(), cfg).unwrap();
        let lat_vs = VarStore::new(dev);
        let lat = LatentDiscriminator::new(&lat_vs.root(), cfg).unwrap();
        let ae_opt = Adam::new(&ae_vs, AdamConfig::fader());
        let lat_opt = Adam::new(&lat_vs, AdamConfig::fader());
        Models {
            ae_vs,
            ae,
            lat,
            ae_opt,
            lat_opt,
        }
    }

    fn batch(dev: Device, seed: i64) -> (Tensor, Tensor) {
        tch::manual_seed(seed);
        let x = Tensor::rand([8, 3, 32, 32], (Kind::Float, dev)) * 2.0 - 1.0;
        let y = Tensor::randint(2, [8], (Kind::Int64, dev))
            .one_hot(2)
            .to_kind(Kind::Float);
        (x, y)
    }

    /// The graphed iteration against the eager one, four steps with λ changing every step
    /// (no dropout, so both draw nothing at random; deterministic cuDNN on both): run with `--ignored` on a GPU machine.
    #[test]
    #[ignore = "needs a CUDA device"]
    fn the_replayed_iteration_is_the_eager_one() {
        let _rng = crate::rng_lock();
        let dev = crate::graphed::deterministic_cuda();
        let cfg = FaderConfig {
            lat_dis_dropout: 0.0,
            ..FaderConfig::small(32)
        };
        let (mut eager, mut graphed) = (models(dev, &cfg), models(dev, &cfg));
        let batches: Vec<_> = (0..8).map(|i| batch(dev, 100 + i)).collect();
        let lambdas = [0.0, 1e-4, 0.5, 2.0];
        let mut graph = None;
        for (t, &lambda) in lambdas.iter().enumerate() {
            let ((x1, y1), (x2, y2)) = (&batches[2 * t], &batches[2 * t + 1]);
            let m = &mut eager;
            let l = lat_dis_update(&m.ae, &m.lat, &mut m.lat_opt, x1, y1, 5.0);
            let r = autoencoder_update(
                &m.ae,
                Some((&m.lat, lambda)),
                &mut m.ae_opt,
                x2,
                y2,
                1.0,
                5.0,
            );
            let g = &mut graphed;
            let out = match &graph {
                None => {
                    let made = capture_fader(g.parts(), (x1, y1), (x2, y2), lambda);
                    let (made, losses) = made.unwrap_or_else(|e| panic!("{}", e.error));
                    graph = Some(made);
                    losses
                }
                Some(made) => made.step(&[x1, y1, x2, y2], &[lambda]).unwrap(),
            };
            assert!(
                max_abs_diff(&l, &out[0]) < 1e-5,
                "step {t}: discriminator loss"
            );
            assert!(max_abs_diff(&r, &out[1]) < 1e-5, "step {t}: reconstruction");
        }
        let mut worst: f64 = 0.0;
        let graphed_vars = graphed.ae_vs.variables();
        for (name, a) in eager.ae_vs.variables() {
            let b = &graphed_vars[&name];
            worst = worst.max(max_abs_diff(&a, b));
        }
        assert!(worst < 1e-5, "parameters differ by {worst}");
        assert_eq!(graphed.ae_opt.steps_taken(), 4);
        assert_eq!(graphed.lat_opt.steps_taken(), 4);
    }

    #[test]
    fn per_tensor_adam_cannot_be_captured() {
        let _rng = crate::rng_lock();
        let dev = Device::Cpu;
        let mut m = models(dev, &FaderConfig::small(32));
        let (x, y) = batch(dev, 1);
        let err = capture_fader(m.parts(), (&x, &y), (&x, &y), 0.0)
            .err()
            .unwrap();
        assert!(!err.updated, "refused before the warm-up");
        assert!(err.error.message.contains("multi-tensor"), "{}", err.error);
    }
}
