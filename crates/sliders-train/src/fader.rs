//! The Fader Networks training loop (docs/fader-networks.md#training-loop): per iteration,
//! `n_lat_dis` latent discriminator steps (autoencoder in eval mode, no gradient to it), optional
//! patch and classifier discriminator steps, then one autoencoder step (discriminators in eval
//! mode) on `λ_ae·MSE + λ(t)·Σ CE(lat_dis(E(x)), 1−y)` (+ optional patch/classifier terms), each
//! sub-step on its own fresh batch, per-network clipping, λ rising linearly over `lambda_schedule`
//! steps. Every "epoch" evaluates on the validation split and keeps the best checkpoints by
//! reconstruction (`best_rec_*`) and by swap accuracy (`best_accu_*`), as the reference does.
//! The two default updates are also public functions ([`lat_dis_update`], [`autoencoder_update`])
//! so that the training-step benchmark (`cargo xtask bench train`) times exactly these.

mod build;
pub mod graphed;
mod update;
use build::{Nets, load_judge};
pub use update::{
    Weight, autoencoder_loss, autoencoder_loss_weighted, autoencoder_update, lat_dis_loss,
    lat_dis_update,
};

use crate::common::{self, as_pairs, eval_limit};
use crate::device;
use crate::driver::{self, Cadence, LoopCore, TrainLoop, Trained};
use crate::error::TrainError;
use crate::events::Event;
use crate::judge::Judge;
use crate::layout;
use crate::losses::{attr_correct, attr_cross_entropy, random_attributes, set_attribute};
use crate::optim::{Adam, AdamConfig};
use crate::progress::IntervalMeans;
use crate::run_dir::RunDir;
use crate::schedule::LinearWarmup;
use crate::state::{Counters, Slot};
use crate::tensors::to_device;
use sliders_celeba::{BatchSource, Part, Prefetcher, Prepared, SequentialBatches};
use sliders_config::data::AttributeEncoding;
use sliders_config::nets::FaderConfig;
use sliders_config::train::{Experiment, FaderTrainConfig};
use sliders_nets::{
    FaderAutoEncoder, FaderClassifier, LatentDiscriminator, PatchDiscriminator, checkpoint,
};
use std::sync::Arc;
use tch::{Device, Kind, Reduction, Tensor, nn::VarStore};

/// Named metric values, in column order.
pub use crate::driver::Metrics;

/// The model shape a Fader run uses: `cfg` with `img_sz` and `n_attr` taken from the data.
pub fn model_config(exp: &Experiment, data: &Prepared) -> Result<FaderConfig, TrainError> {
    if data.encoding != AttributeEncoding::OneHot {
        return Err(TrainError::Config(
            "a Fader model needs data.encoding = \"one_hot\" (2 columns per attribute)".to_string(),
        ));
    }
    let cfg = FaderConfig {
        img_sz: data.cache.size() as i64,
        n_attr: data.attr_width() as i64,
        ..exp.fader().clone()
    };
    cfg.validate()
        .map_err(|e| TrainError::Config(format!("[fader]: {e}")))?;
    Ok(cfg)
}

/// A Fader training run, resumable from its run folder.
pub struct FaderTrainer {
    cfg: FaderTrainConfig,
    model: FaderConfig,
    core: LoopCore,
    attr_names: Vec<String>,
    meta: Vec<(String, String)>,
    ae: Trained<FaderAutoEncoder>,
    lat: Trained<LatentDiscriminator>,
    ptc: Option<Trained<PatchDiscriminator>>,
    clf: Option<Trained<FaderClassifier>>,
    judge: Option<(Judge, Vec<i64>)>,
    train: Arc<BatchSource>,
    valid: Arc<BatchSource>,
    /// The captured iteration on CUDA (docs/gpu.md#cuda-graphs).
    graph: crate::graphed::GraphState,
}

impl FaderTrainer {
    /// Builds the networks (seeded), opens the run folder and, if it holds a saved state,
    /// restores weights, optimizer moments and counters from it.
    pub fn new(exp: &Experiment, data: &Prepared) -> Result<Self, TrainError> {
        let cfg = exp.fader_train().clone();
        cfg.validate(data_batch(exp))
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let model = model_config(exp, data)?;
        let device = device::resolve(exp.device)?;
        let run = RunDir::create(&exp.run_dir)?;
        if data.split.indices(Part::Train).is_empty() || data.split.indices(Part::Valid).is_empty()
        {
            return Err(TrainError::Config(format!(
                "the split {} has an empty train or valid part; use more images or other data.split fractions",
                data.split_path.display()
            )));
        }
        tch::manual_seed(exp.seed as i64);
        let Nets { ae, lat, ptc, clf } = Nets::build(&cfg, &model, device)?;
        let attr_names = data.selection.names().to_vec();
        let judge = load_judge(
            cfg.eval_classifier.as_deref(),
            model.img_sz,
            &attr_names,
            device,
        )?;
        let mut trainer = Self {
            cfg,
            model,
            core: LoopCore::new(run, device, exp.seed, exp.data.sampler.clone()),
            attr_names,
            meta: common::model_metadata(data),
            ae,
            lat,
            ptc,
            clf,
            judge,
            train: data.batch_source(Part::Train),
            valid: data.batch_source(Part::Valid),
            graph: crate::graphed::GraphState::Untried,
        };
        driver::resume(&mut trainer)?;
        Ok(trainer)
    }

    /// A data batch on the training device, in the configured memory layout.
    fn on_device(&self, batch: &sliders_celeba::Batch) -> (Tensor, Tensor) {
        let (x, y) = to_device(batch, self.core.device);
        if self.cfg.channels_last {
            (layout::channels_last(&x), y)
        } else {
            (x, y)
        }
    }

    /// The run folder.
    pub fn run_dir(&self) -> &RunDir {
        &self.core.run
    }

    /// The model shape.
    pub fn model_config(&self) -> &FaderConfig {
        &self.model
    }

    /// Counters (steps done, best metrics).
    pub fn counters(&self) -> &Counters {
        &self.core.counters
    }

    /// The autoencoder (for tests and evaluation).
    pub fn autoencoder(&self) -> (&VarStore, &FaderAutoEncoder) {
        (&self.ae.vs, &self.ae.net)
    }

    /// The latent discriminator.
    pub fn latent_discriminator(&self) -> (&VarStore, &LatentDiscriminator) {
        (&self.lat.vs, &self.lat.net)
    }

    fn batches_per_step(&self) -> u64 {
        u64::from(self.cfg.n_lat_dis + self.cfg.n_ptc_dis + self.cfg.n_clf_dis) + 1
    }

    /// The metric columns of `metrics.csv`.
    pub fn metric_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = [
            "lambda_lat_dis",
            "rec_loss",
            "lat_dis_loss",
            "ptc_dis_loss",
            "clf_dis_loss",
            "images_per_sec",
            "val_rec_mse",
            "val_lat_dis_accu",
            "val_swap_accu",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for a in &self.attr_names {
            cols.push(format!("val_lat_dis_accu_{a}"));
            cols.push(format!("val_swap_accu_{a}_0"));
            cols.push(format!("val_swap_accu_{a}_1"));
        }
        cols
    }

    /// Trains until `total_steps`, emitting events; returns the final counters. Safe to call
    /// again after an interruption: it continues from the saved state ([`driver::drive`]).
    pub fn run(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Counters, TrainError> {
        driver::drive(self, on_event)
    }

    /// The scheduled weights `[λ_lat_dis, λ_ptc_dis, λ_clf_dis]` of autoencoder step `t`.
    fn lambdas(&self, t: u64) -> [f64; 3] {
        let warmup_steps = self.cfg.lambda_schedule;
        let schedule = |max: f64| LinearWarmup { max, warmup_steps }.value(t);
        [
            schedule(self.cfg.lambda_lat_dis),
            schedule(self.cfg.lambda_ptc_dis),
            schedule(self.cfg.lambda_clf_dis),
        ]
    }

    /// One latent-discriminator step: the autoencoder encodes in eval mode without gradient; the
    /// discriminator (train mode) learns to predict `y`. Returns the loss (detached, on device).
    pub fn lat_dis_step(&mut self, x: &Tensor, y: &Tensor) -> Tensor {
        lat_dis_update(
            &self.ae.net,
            &self.lat.net,
            &mut self.lat.opt,
            x,
            y,
            self.cfg.clip_grad_norm,
        )
    }

    /// One patch-discriminator step: real images towards `1 − smooth`, decodes with random
    /// attributes (autoencoder in eval mode, no gradient) towards `smooth`.
    fn ptc_dis_step(&mut self, x: &Tensor, y: &Tensor) -> Tensor {
        let Some(ptc) = &mut self.ptc else {
            return Tensor::zeros([], (Kind::Float, self.core.device));
        };
        let fake = tch::no_grad(|| {
            let enc = self.ae.net.encode(x, false);
            self.ae.net.decode(&enc, &random_attributes(y), false)
        });
        let s = self.cfg.smooth_label;
        let real_p = ptc.net.forward_t(x, true);
        let fake_p = ptc.net.forward_t(&fake, true);
        let loss =
            real_p.binary_cross_entropy::<Tensor>(
                &real_p.full_like(1.0 - s),
                None,
                Reduction::Mean,
            ) + fake_p.binary_cross_entropy::<Tensor>(&fake_p.full_like(s), None, Reduction::Mean);
        ptc.opt.backward_step_clip(&loss, self.cfg.clip_grad_norm);
        loss.detach()
    }

    /// One classifier-discriminator step: the classifier learns `y` on real images.
    fn clf_dis_step(&mut self, x: &Tensor, y: &Tensor) -> Tensor {
        let Some(clf) = &mut self.clf else {
            return Tensor::zeros([], (Kind::Float, self.core.device));
        };
        let loss = attr_cross_entropy(&clf.net.forward_t(x, true), y, false);
        clf.opt.backward_step_clip(&loss, self.cfg.clip_grad_norm);
        loss.detach()
    }

    /// One autoencoder step (train mode; discriminators in eval mode) with the scheduled weights
    /// `[λ_lat_dis, λ_ptc_dis, λ_clf_dis]`. Returns the reconstruction MSE (detached).
    pub fn autoencoder_step(&mut self, x: &Tensor, y: &Tensor, lambdas: [f64; 3]) -> Tensor {
        let lat = (self.cfg.lambda_lat_dis > 0.0).then_some((&self.lat.net, lambdas[0]));
        let (enc, rec, mut loss) = autoencoder_loss(&self.ae.net, lat, x, y, self.cfg.lambda_ae);
        if self.cfg.lambda_ptc_dis > 0.0 || self.cfg.lambda_clf_dis > 0.0 {
            let y_rand = random_attributes(y);
            let fake = self.ae.net.decode(&enc, &y_rand, true);
            if let (Some(ptc), true) = (&self.ptc, self.cfg.lambda_ptc_dis > 0.0) {
                let p = ptc.net.forward_t(&fake, false);
                let target = p.full_like(1.0 - self.cfg.smooth_label);
                loss +=
                    p.binary_cross_entropy::<Tensor>(&target, None, Reduction::Mean) * lambdas[1];
            }
            if let (Some(clf), true) = (&self.clf, self.cfg.lambda_clf_dis > 0.0) {
                let logits = clf.net.forward_t(&fake, false);
                loss += attr_cross_entropy(&logits, &y_rand, false) * lambdas[2];
            }
        }
        self.ae
            .opt
            .backward_step_clip(&loss, self.cfg.clip_grad_norm);
        rec.detach()
    }

    /// Evaluates on the validation split (docs/fader-networks.md#validation), saves `best_rec_*` /
    /// `best_accu_*` when improved. Returns the metrics and which checkpoints improved.
    pub fn evaluate_and_select(&mut self) -> Result<(Metrics, Vec<String>), TrainError> {
        let values = self.evaluate();
        let get = |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
        let mut improved = Vec::new();
        if let Some(rec) = get("val_rec_mse")
            && self.core.counters.best_rec.is_none_or(|b| rec < b)
        {
            self.core.counters.best_rec = Some(rec);
            self.save_models("best_rec")?;
            improved.push("best_rec".to_string());
        }
        if let Some(acc) = get("val_swap_accu")
            && self.core.counters.best_accu.is_none_or(|b| acc > b)
        {
            self.core.counters.best_accu = Some(acc);
            self.save_models("best_accu")?;
            improved.push("best_accu".to_string());
        }
        Ok((values, improved))
    }

    /// Validation metrics: reconstruction MSE (mean of per-batch means, as the reference), latent
    /// discriminator accuracy per attribute, and with a judge the swap accuracy per attribute and
    /// value (every image decoded with the attribute set to each value).
    pub fn evaluate(&self) -> Vec<(String, f64)> {
        tch::no_grad(|| {
            let limit = eval_limit(self.valid.len(), self.cfg.eval_max_images);
            let k = self.attr_names.len();
            let mut rec_sum = 0.0;
            let mut batches = 0usize;
            let mut images = 0usize;
            let mut lat_correct = Tensor::zeros([k as i64], (Kind::Float, self.core.device));
            let mut swap_correct = vec![[0.0f64; 2]; k];
            let idx = self.lat.net.input_index();
            for batch in SequentialBatches::new(self.valid.clone(), self.cfg.eval_batch_size) {
                if images >= limit {
                    break;
                }
                let (x, y) = to_device(&batch, self.core.device);
                let take = (limit - images).min(batch.len()) as i64;
                let (x, y) = (x.narrow(0, 0, take), y.narrow(0, 0, take));
                let enc = self.ae.net.encode(&x, false);
                let dec = self.ae.net.decode(&enc, &y, false);
                rec_sum += dec.mse_loss(&x, Reduction::Mean).double_value(&[]);
                lat_correct += attr_correct(&self.lat.net.forward_t(&enc[idx], false), &y);
                if let Some((judge, offsets)) = &self.judge {
                    for (a, &off) in offsets.iter().enumerate() {
                        for v in 0..2 {
                            let y2 = set_attribute(&y, a as i64, v);
                            let x2 = self.ae.net.decode(&enc, &y2, false);
                            let pred = judge.logits(&x2).narrow(1, off, 2).argmax(1, false);
                            swap_correct[a][v as usize] += pred
                                .eq(v)
                                .to_kind(Kind::Float)
                                .sum(Kind::Float)
                                .double_value(&[]);
                        }
                    }
                }
                batches += 1;
                images += take as usize;
            }
            let n = images.max(1) as f64;
            let lat: Vec<f64> = Vec::<f32>::try_from(lat_correct)
                .unwrap_or_default()
                .iter()
                .map(|&c| f64::from(c) / n)
                .collect();
            let mut out = vec![
                ("val_rec_mse".to_string(), rec_sum / batches.max(1) as f64),
                (
                    "val_lat_dis_accu".to_string(),
                    lat.iter().sum::<f64>() / k.max(1) as f64,
                ),
            ];
            for (a, name) in self.attr_names.iter().enumerate() {
                out.push((format!("val_lat_dis_accu_{name}"), lat[a]));
            }
            if self.judge.is_some() {
                let mut total = 0.0;
                for (name, counts) in self.attr_names.iter().zip(&swap_correct) {
                    for (v, count) in counts.iter().enumerate() {
                        let acc = count / n;
                        total += acc;
                        out.push((format!("val_swap_accu_{name}_{v}"), acc));
                    }
                }
                out.push(("val_swap_accu".to_string(), total / (2 * k).max(1) as f64));
            }
            out
        })
    }

    /// Saves the autoencoder and latent discriminator as `<prefix>_ae.safetensors` and
    /// `<prefix>_lat_dis.safetensors` in the run folder, with self-describing metadata.
    pub fn save_models(&self, prefix: &str) -> Result<(), TrainError> {
        let meta = as_pairs(&self.meta);
        // The autoencoder last: `last_ae` is what marks a finished run (`cargo xtask
        // reproduce`), so a kill between the two files must not leave it without its
        // discriminator.
        checkpoint::save_with_metadata(
            &self.lat.vs,
            &self.lat.net,
            self.core.run.path(&format!("{prefix}_lat_dis.safetensors")),
            &meta,
        )?;
        checkpoint::save_with_metadata(
            &self.ae.vs,
            &self.ae.net,
            self.core.run.path(&format!("{prefix}_ae.safetensors")),
            &meta,
        )?;
        Ok(())
    }
}

fn data_batch(exp: &Experiment) -> usize {
    exp.data.sampler.batch_size
}

// The losses of [`FaderTrainer`]'s interval means, by index (`loss_names`).
const REC: usize = 0;
const LAT: usize = 1;
const PTC: usize = 2;
const CLF: usize = 3;

impl TrainLoop for FaderTrainer {
    type Data = Prefetcher;

    fn core(&self) -> &LoopCore {
        &self.core
    }

    fn core_mut(&mut self) -> &mut LoopCore {
        &mut self.core
    }

    fn cadence(&self) -> Cadence {
        Cadence {
            total_steps: self.cfg.total_steps,
            log_every: self.cfg.log_every,
            steps_per_epoch: Some(self.cfg.steps_per_epoch(self.core.sampler.batch_size)),
            checkpoint_every: Some(self.cfg.checkpoint_every),
            images_per_step: self.core.sampler.batch_size as u64 * self.batches_per_step(),
        }
    }

    fn columns(&self) -> Vec<String> {
        self.metric_columns()
    }

    fn loss_names(&self) -> &'static [&'static str] {
        &["rec_loss", "lat_dis_loss", "ptc_dis_loss", "clf_dis_loss"]
    }

    fn slots(&mut self) -> Vec<Slot<'_>> {
        let mut slots = vec![
            Slot {
                name: "ae",
                vs: &mut self.ae.vs,
                opt: &mut self.ae.opt,
            },
            Slot {
                name: "lat_dis",
                vs: &mut self.lat.vs,
                opt: &mut self.lat.opt,
            },
        ];
        if let Some(p) = &mut self.ptc {
            slots.push(Slot {
                name: "ptc_dis",
                vs: &mut p.vs,
                opt: &mut p.opt,
            });
        }
        if let Some(c) = &mut self.clf {
            slots.push(Slot {
                name: "clf_dis",
                vs: &mut c.vs,
                opt: &mut c.opt,
            });
        }
        slots
    }

    fn open_data(&mut self) -> Result<Prefetcher, TrainError> {
        self.core.stream(self.train.clone())
    }

    /// `n_lat_dis`, `n_ptc_dis`, `n_clf_dis` discriminator steps, then one autoencoder step,
    /// each on its own batch.
    fn step(&mut self, stream: &Prefetcher, t: u64, losses: &mut IntervalMeans) {
        self.core.seed_step(t);
        if self.graph_eligible() {
            return self.graphed_step(stream, t, losses);
        }
        for _ in 0..self.cfg.n_lat_dis {
            let (x, y) = self.on_device(&stream.next_batch());
            losses.add(LAT, &self.lat_dis_step(&x, &y));
        }
        for _ in 0..self.cfg.n_ptc_dis {
            let (x, y) = self.on_device(&stream.next_batch());
            losses.add(PTC, &self.ptc_dis_step(&x, &y));
        }
        for _ in 0..self.cfg.n_clf_dis {
            let (x, y) = self.on_device(&stream.next_batch());
            losses.add(CLF, &self.clf_dis_step(&x, &y));
        }
        let (x, y) = self.on_device(&stream.next_batch());
        let lambdas = self.lambdas(t);
        losses.add(REC, &self.autoencoder_step(&x, &y, lambdas));
        self.core.counters.batches_drawn += self.batches_per_step();
    }

    /// The row leads with λ of the step just done.
    fn log_row(&self, step: u64, means: Metrics) -> Metrics {
        let mut row = vec![("lambda_lat_dis".to_string(), self.lambdas(step - 1)[0])];
        row.extend(means);
        row
    }

    fn epoch_end(&mut self, _step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        self.evaluate_and_select().map(Some)
    }

    /// `last_*` after training; a finished run driven again leaves them (and their times,
    /// which `cargo xtask reproduce` compares) alone unless `last_ae` is missing (a kill between
    /// the final state and the models).
    fn finish(&mut self, trained: bool) -> Result<(), TrainError> {
        if trained || !self.core.run.path("last_ae.safetensors").is_file() {
            self.save_models("last")?;
        }
        Ok(())
    }
}
