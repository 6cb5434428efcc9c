//! IcGAN's encoder training (docs/icgan.md#encoder-training, #sng, #ind-cond; `trainEncoder.lua`
//! and `other/alternativeEncoders/`): one experiment (`kind = "encoders"`) trains one layout for a
//! trained cGAN run, after generating its encoder dataset ([`super::encoder_data`]) with the
//! BN-refreshed G in eval mode:
//! - IND: `Ez` regresses z from generated `x'`; `Ey` regresses y from real images;
//! - SNG: one network (shared first block, two branches) on generated data only,
//!   `MSE(z) + MSE(y')`;
//! - IND-COND: `Ez(x', y)` gets the stored `y'` while training and `Ey(x)` at inference; `Ey` as
//!   in IND.
//!
//! Adam lr 1e-4, β1 0.1, MSE, batch 64, per-epoch permutation of the generated training split
//! (last partial batch dropped). Test errors are computed in eval mode on the generated test
//! split and on the real validation part. Resumable like the other loops.

use crate::common::{self, as_pairs, eval_limit, mix};
use crate::device;
use crate::driver::{self, Cadence, LoopCore, Metrics, TrainLoop, Trained};
use crate::error::TrainError;
use crate::events::Event;
use crate::graphed::GraphState;
use crate::icgan::encoder_data::EncoderDataset;
use crate::icgan::model_config;
use crate::optim::AdamConfig;
use crate::progress::IntervalMeans;
use crate::run_dir::RunDir;
use crate::state::{Counters, Slot};
use crate::tensors::to_device;
use sliders_celeba::{BatchSource, Part, Prefetcher, Prepared, SequentialBatches};
use sliders_config::data::{FlipMode, SampleOrder, SamplerConfig};
use sliders_config::layout::Checkpoint;
use sliders_config::nets::{EncoderKind, IcganConfig, IcganEncoderConfig};
use sliders_config::train::{EncoderTrainConfig, Experiment};
use sliders_nets::{IcganEncoder, SngEncoder, checkpoint};
use std::sync::Arc;
use tch::{Device, Kind, Tensor, nn::VarStore};

mod graphed;
mod setup;
use graphed::{EncoderParts, capture_encoders, ey_update, ez_update, mse, sng_update};
use setup::{build_encoders, load_generator, open_dataset};

/// The networks of one layout: Ez and Ey (IND, IND-COND) or the single encoder (SNG).
pub(crate) type Layout = (
    Option<Trained<IcganEncoder>>,
    Option<Trained<IcganEncoder>>,
    Option<Trained<SngEncoder>>,
);

const PERM_SALT: u64 = 0x0E9C_0DE5;
/// File name of the generated dataset in the run folder.
pub const DATASET_FILE: &str = Checkpoint::EncoderDataset.file_name();

/// An IcGAN encoder training run (one layout), resumable from its run folder.
pub struct EncoderTrainer {
    cfg: EncoderTrainConfig,
    enc_cfg: IcganEncoderConfig,
    core: LoopCore,
    meta: Vec<(String, String)>,
    ez: Option<Trained<IcganEncoder>>,
    ey: Option<Trained<IcganEncoder>>,
    sng: Option<Trained<SngEncoder>>,
    data: EncoderDataset,
    train_real: Arc<BatchSource>,
    valid_real: Arc<BatchSource>,
    perm: Option<(u64, Tensor)>,
    /// The captured iteration on CUDA (docs/gpu.md#cuda-graphs).
    graph: GraphState,
}

impl EncoderTrainer {
    /// Loads the cGAN's `G.safetensors`, generates the encoder dataset into the run folder
    /// unless it is there, builds the encoders (seeded) and restores a saved state if any.
    pub fn new(exp: &Experiment, data: &Prepared) -> Result<Self, TrainError> {
        // An encoders experiment has no [icgan] (the shape is the saved G's): only the
        // data-derived img_sz, ny and nc of this are compared with G's.
        let data_model = model_config(&IcganConfig::default(), data)?;
        let train_real = data.batch_source(Part::Train);
        let valid_real = data.batch_source(Part::Valid);
        if train_real.is_empty() || valid_real.is_empty() {
            return Err(TrainError::Config(format!(
                "the split {} has an empty train or valid part; use more images or other data.split fractions",
                data.split_path.display()
            )));
        }
        Self::from_sources(
            exp,
            &data_model,
            train_real,
            valid_real,
            common::model_metadata(data),
        )
    }

    /// As [`new`](Self::new) for any real-image sources (e.g. the in-memory digits):
    /// `data_model` is the cGAN shape the data implies (checked against the saved G), `meta`
    /// goes into the saved encoders.
    pub fn from_sources(
        exp: &Experiment,
        data_model: &IcganConfig,
        train_real: Arc<BatchSource>,
        valid_real: Arc<BatchSource>,
        meta: Vec<(String, String)>,
    ) -> Result<Self, TrainError> {
        let cfg = exp.encoder_train().clone();
        cfg.validate()
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let device = device::resolve(exp.device)?;
        if train_real.is_empty() || valid_real.is_empty() {
            return Err(TrainError::Config(
                "the real train or valid part holds no image".to_string(),
            ));
        }
        let (_g_vs, g, g_cfg, g_path) = load_generator(&cfg, data_model, device)?;
        let enc_cfg = IcganEncoderConfig {
            kind: cfg.encoder_kind,
            img_sz: g_cfg.img_sz,
            nc: g_cfg.nc,
            nz: g_cfg.nz,
            ny: g_cfg.ny,
            ..exp.icgan_encoder().clone()
        };
        enc_cfg
            .validate()
            .map_err(|e| TrainError::Config(format!("[icgan_encoder]: {e}")))?;
        let run = RunDir::create(&exp.run_dir)?;
        let dataset = open_dataset(
            &run,
            &cfg,
            (&g, &g_path),
            &train_real,
            &enc_cfg,
            exp.seed,
            device,
        )?;
        tch::manual_seed(exp.seed as i64);
        let (ez, ey, sng) = build_encoders(
            cfg.encoder_kind,
            &enc_cfg,
            AdamConfig::from(&cfg.optimizer),
            device,
        )?;
        // Encoders see no augmentation and shuffled epochs (docs/icgan.md#encoder-training).
        let sampler = SamplerConfig {
            batch_size: cfg.batch_size,
            order: SampleOrder::ShuffledEpochs,
            flip: FlipMode::None,
            ..exp.data.sampler.clone()
        };
        let mut trainer = Self {
            cfg,
            enc_cfg,
            core: LoopCore::new(run, device, exp.seed, sampler),
            meta,
            ez,
            ey,
            sng,
            data: dataset,
            train_real,
            valid_real,
            perm: None,
            graph: GraphState::Untried,
        };
        driver::resume(&mut trainer)?;
        Ok(trainer)
    }

    /// The run folder.
    pub fn run_dir(&self) -> &RunDir {
        &self.core.run
    }

    /// The encoders' shape.
    pub fn encoder_config(&self) -> &IcganEncoderConfig {
        &self.enc_cfg
    }

    /// Counters (steps done, best test z error in `best_rec`).
    pub fn counters(&self) -> &Counters {
        &self.core.counters
    }

    /// The generated dataset.
    pub fn dataset(&self) -> &EncoderDataset {
        &self.data
    }

    /// `Ez` (IND, IND-COND).
    pub fn ez(&self) -> Option<(&VarStore, &IcganEncoder)> {
        self.ez.as_ref().map(|t| (&t.vs, &t.net))
    }

    /// `Ey` (IND, IND-COND).
    pub fn ey(&self) -> Option<(&VarStore, &IcganEncoder)> {
        self.ey.as_ref().map(|t| (&t.vs, &t.net))
    }

    /// The SNG encoder.
    pub fn sng(&self) -> Option<(&VarStore, &SngEncoder)> {
        self.sng.as_ref().map(|t| (&t.vs, &t.net))
    }

    /// Steps per epoch: whole batches of the generated training split.
    pub fn steps_per_epoch(&self) -> u64 {
        (self.data.train_len() / self.cfg.batch_size) as u64
    }

    /// Steps in total: `epochs × steps_per_epoch`.
    pub fn total_steps(&self) -> u64 {
        self.cfg.epochs * self.steps_per_epoch()
    }

    /// The metric columns of `metrics.csv`.
    pub fn metric_columns() -> Vec<String> {
        [
            "loss_z",
            "loss_y",
            "images_per_sec",
            "test_mse_z",
            "test_mse_z_ey",
            "test_mse_y_gen",
            "test_mse_y_real",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// One `Ez` update (train mode) on generated `(x', z)`; `y` is the stored `y'` for IND-COND
    /// and `None` for IND. Returns the z MSE, detached.
    // Deviation: IND-COND's Ez is trained with the stored y' used to generate x', whereas the
    // reference's dataset name ("AnetY") suggests Anet/Ey predictions on x'; the script that made
    // that dataset is not in the repository (docs/icgan.md#ind-cond). At inference it gets Ey's
    // output.
    pub fn ez_step(&mut self, x: &Tensor, z: &Tensor, y: Option<&Tensor>) -> Tensor {
        let ez = self.ez.as_mut().expect("Ez exists for ind and ind-cond");
        ez_update(ez, x, z, y)
    }

    /// One `Ey` update (train mode) on real `(x, y)`. Returns the y MSE, detached.
    pub fn ey_step(&mut self, x: &Tensor, y: &Tensor) -> Tensor {
        let ey = self.ey.as_mut().expect("Ey exists for ind and ind-cond");
        ey_update(ey, x, y)
    }

    /// One SNG update (train mode) on generated `(x', z, y')`: `MSE(z) + MSE(y')`. Returns
    /// `(z MSE, y MSE)`, detached.
    pub fn sng_step(&mut self, x: &Tensor, z: &Tensor, y: &Tensor) -> (Tensor, Tensor) {
        let sng = self.sng.as_mut().expect("SNG encoder exists for sng");
        sng_update(sng, x, z, y)
    }

    /// Whether this run's steps replay a captured CUDA graph (docs/gpu.md#cuda-graphs).
    pub fn iteration_is_graphed(&self) -> bool {
        self.graph.is_captured()
    }

    /// The networks one iteration updates.
    fn parts(&mut self) -> EncoderParts<'_> {
        EncoderParts {
            ez: self.ez.as_mut(),
            ey: self.ey.as_mut(),
            sng: self.sng.as_mut(),
            conditioned: self.enc_cfg.kind == EncoderKind::IndCond,
        }
    }

    /// The iteration on `inputs` (generated `x', z, y'`, then the real `x, y` when the layout has
    /// `Ey`): a replayed CUDA graph when `cuda_graph` is on, the device is CUDA, every optimiser
    /// takes the multi-tensor update and no capture failed; else eagerly. `None` when a failed
    /// capture's warm-up made the updates (their values are not known).
    fn iteration(&mut self, inputs: &[&Tensor]) -> Option<Vec<Tensor>> {
        let eligible =
            self.cfg.cuda_graph && self.core.device.is_cuda() && self.parts().multi_tensor();
        crate::graphed::iterate(
            self,
            eligible,
            (inputs, &[]),
            |s| capture_encoders(s.parts(), inputs),
            |s| s.parts().update(inputs),
        )
    }

    /// Row indices of the generated training split for step `t`: batch `t mod spe` of epoch
    /// `t / spe`'s permutation (seeded by the experiment seed and the epoch).
    fn generated_batch_indices(&mut self, t: u64) -> Vec<i64> {
        let spe = self.steps_per_epoch();
        let epoch = t / spe;
        if self.perm.as_ref().is_none_or(|(e, _)| *e != epoch) {
            tch::manual_seed(mix(self.core.seed ^ PERM_SALT, epoch) as i64 & i64::MAX);
            let p = Tensor::randperm(self.data.train_len() as i64, (Kind::Int64, Device::Cpu));
            self.perm = Some((epoch, p));
        }
        let (_, p) = self.perm.as_ref().expect("set above");
        let b = self.cfg.batch_size as i64;
        Vec::<i64>::try_from(p.narrow(0, (t % spe) as i64 * b, b)).expect("i64 indices")
    }

    /// Trains all epochs, evaluating after each, then saves the encoders (`ez.safetensors` and
    /// `ey.safetensors`, or `sng.safetensors`; `best_*` by the test z error). Safe to call again
    /// after an interruption ([`driver::drive`]).
    pub fn run(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Counters, TrainError> {
        driver::drive(self, on_event)
    }

    /// Test errors in eval mode (docs/icgan.md#evaluation, measure a): on the generated test split
    /// `test_mse_z` (IND-COND: with the stored y'), `test_mse_z_ey` (IND-COND: with `Ey(x')`),
    /// `test_mse_y_gen` (y' from `Ey` or SNG's y branch); on the real validation part
    /// `test_mse_y_real`. At most `eval_max_images` images per split.
    // Deviation: the reference computes its test error in train mode (updating BN statistics
    // with test batches); here it is eval mode (docs/icgan.md#bn-refresh).
    pub fn evaluate(&self) -> Vec<(String, f64)> {
        tch::no_grad(|| {
            let bs = self.cfg.batch_size;
            let start = self.data.train_len();
            let n_test = eval_limit(self.data.len() - start, self.cfg.eval_max_images);
            let (mut sz, mut szy, mut sy) = (0.0, 0.0, 0.0);
            let mut done = 0usize;
            while done < n_test {
                let b = bs.min(n_test - done);
                let idx: Vec<i64> = (start + done..start + done + b).map(|i| i as i64).collect();
                let (x, z, y) = self.data.batch(&idx, self.core.device);
                let w = b as f64;
                if let Some(sng) = &self.sng {
                    let (zp, yp) = sng.net.forward_t(&x, false);
                    sz += mse(&zp, &z).double_value(&[]) * w;
                    sy += mse(&yp, &y).double_value(&[]) * w;
                } else {
                    let ez = self.ez.as_ref().expect("Ez");
                    let ey = self.ey.as_ref().expect("Ey");
                    let yp = ey.net.forward_t(&x, None, false);
                    sy += mse(&yp, &y).double_value(&[]) * w;
                    if self.enc_cfg.kind == EncoderKind::IndCond {
                        sz += mse(&ez.net.forward_t(&x, Some(&y), false), &z).double_value(&[]) * w;
                        szy +=
                            mse(&ez.net.forward_t(&x, Some(&yp), false), &z).double_value(&[]) * w;
                    } else {
                        sz += mse(&ez.net.forward_t(&x, None, false), &z).double_value(&[]) * w;
                    }
                }
                done += b;
            }
            let n = n_test.max(1) as f64;
            let mut out = vec![
                ("test_mse_z".to_string(), sz / n),
                ("test_mse_y_gen".to_string(), sy / n),
            ];
            if self.enc_cfg.kind == EncoderKind::IndCond {
                out.push(("test_mse_z_ey".to_string(), szy / n));
            }
            let limit = eval_limit(self.valid_real.len(), self.cfg.eval_max_images);
            let (mut sr, mut images) = (0.0, 0usize);
            for batch in SequentialBatches::new(self.valid_real.clone(), bs) {
                if images >= limit {
                    break;
                }
                let (x, y) = to_device(&batch, self.core.device);
                let take = (limit - images).min(batch.len()) as i64;
                let (x, y) = (x.narrow(0, 0, take), y.narrow(0, 0, take));
                let yp = match (&self.sng, &self.ey) {
                    (Some(sng), _) => sng.net.forward_t(&x, false).1,
                    (None, Some(ey)) => ey.net.forward_t(&x, None, false),
                    (None, None) => unreachable!("every layout has a y encoder"),
                };
                sr += mse(&yp, &y).double_value(&[]) * take as f64;
                images += take as usize;
            }
            out.push(("test_mse_y_real".to_string(), sr / images.max(1) as f64));
            out
        })
    }

    /// Saves `<prefix>ez.safetensors` and `<prefix>ey.safetensors` (IND, IND-COND) or
    /// `<prefix>sng.safetensors` in the run folder, with self-describing metadata.
    pub fn save_models(&self, prefix: &str) -> Result<(), TrainError> {
        let meta = as_pairs(&self.meta);
        if let Some(t) = &self.ez {
            checkpoint::save_with_metadata(
                &t.vs,
                &t.net,
                self.core.run.path(&format!("{prefix}ez.safetensors")),
                &meta,
            )?;
        }
        if let Some(t) = &self.ey {
            checkpoint::save_with_metadata(
                &t.vs,
                &t.net,
                self.core.run.path(&format!("{prefix}ey.safetensors")),
                &meta,
            )?;
        }
        if let Some(t) = &self.sng {
            checkpoint::save_with_metadata(
                &t.vs,
                &t.net,
                self.core.run.path(&format!("{prefix}sng.safetensors")),
                &meta,
            )?;
        }
        Ok(())
    }
}

impl crate::graphed::HasGraph for EncoderTrainer {
    fn graph_state(&mut self) -> &mut GraphState {
        &mut self.graph
    }
}

impl TrainLoop for EncoderTrainer {
    /// The real-image stream of `Ey` (none for SNG, which trains on generated data only).
    type Data = Option<Prefetcher>;

    fn core(&self) -> &LoopCore {
        &self.core
    }

    fn core_mut(&mut self) -> &mut LoopCore {
        &mut self.core
    }

    fn cadence(&self) -> Cadence {
        let uses_real = self.ey.is_some();
        Cadence {
            total_steps: self.total_steps(),
            log_every: self.cfg.log_every,
            steps_per_epoch: Some(self.steps_per_epoch()),
            checkpoint_every: Some(self.cfg.checkpoint_every),
            images_per_step: self.cfg.batch_size as u64 * if uses_real { 2 } else { 1 },
        }
    }

    fn columns(&self) -> Vec<String> {
        Self::metric_columns()
    }

    fn loss_names(&self) -> &'static [&'static str] {
        &["loss_z", "loss_y"]
    }

    fn slots(&mut self) -> Vec<Slot<'_>> {
        let mut slots = Vec::new();
        if let Some(t) = &mut self.ez {
            slots.push(Slot {
                name: "ez",
                vs: &mut t.vs,
                opt: &mut t.opt,
            });
        }
        if let Some(t) = &mut self.ey {
            slots.push(Slot {
                name: "ey",
                vs: &mut t.vs,
                opt: &mut t.opt,
            });
        }
        if let Some(t) = &mut self.sng {
            slots.push(Slot {
                name: "sng",
                vs: &mut t.vs,
                opt: &mut t.opt,
            });
        }
        slots
    }

    fn open_data(&mut self) -> Result<Option<Prefetcher>, TrainError> {
        self.ey
            .is_some()
            .then(|| self.core.stream(self.train_real.clone()))
            .transpose()
    }

    /// The z encoder (or SNG) on the step's generated batch, then `Ey` on a real batch
    /// ([`Self::iteration`]).
    fn step(&mut self, stream: &Option<Prefetcher>, t: u64, losses: &mut IntervalMeans) {
        let idx = self.generated_batch_indices(t);
        self.core.seed_step(t);
        let (xg, zg, yg) = self.data.batch(&idx, self.core.device);
        let real = stream
            .as_ref()
            .map(|s| to_device(&s.next_batch(), self.core.device));
        let mut inputs = vec![&xg, &zg, &yg];
        if let Some((x, y)) = &real {
            inputs.extend([x, y]);
        }
        for (slot, v) in self.iteration(&inputs).iter().flatten().enumerate() {
            losses.add(slot, v);
        }
        if real.is_some() {
            self.core.counters.batches_drawn += 1;
        }
    }

    /// Evaluates and keeps `best_*` by the test z error.
    fn epoch_end(&mut self, _step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let values = self.evaluate();
        let get = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let mut improved = Vec::new();
        if let Some(z) = get("test_mse_z")
            && self.core.counters.best_rec.is_none_or(|b| z < b)
        {
            self.core.counters.best_rec = Some(z);
            self.save_models("best_")?;
            improved.push("best_rec".to_string());
        }
        Ok(Some((values, improved)))
    }

    fn finish(&mut self, _trained: bool) -> Result<(), TrainError> {
        self.save_models("")
    }
}
