//! The evaluation classifier's training loop (`classifier.py`,
//! docs/fader-networks.md#classifier-training): one classifier on the training split, `Σ_attr
//! CE(clf(x), y)` with Adam (lr 1e-3, β1 0.5) and clipping; after each "epoch" the mean validation
//! accuracy selects `best_classifier`. It is both the Fader loop's model-selection judge and the
//! results table's accuracy judge.

use crate::common::{self, as_pairs, eval_limit};
use crate::device;
use crate::driver::{self, Cadence, LoopCore, Metrics, TrainLoop};
use crate::error::TrainError;
use crate::events::Event;
use crate::losses::{attr_correct, attr_cross_entropy};
use crate::optim::{Adam, AdamConfig};
use crate::progress::IntervalMeans;
use crate::run_dir::RunDir;
use crate::state::{Counters, Slot};
use crate::tensors::to_device;
use sliders_celeba::{BatchSource, Part, Prefetcher, Prepared, SequentialBatches};
use sliders_config::data::AttributeEncoding;
use sliders_config::nets::ClassifierConfig;
use sliders_config::train::{ClassifierTrainConfig, Experiment};
use sliders_nets::{FaderClassifier, checkpoint};
use std::sync::Arc;
use tch::{Kind, Tensor, nn::VarStore};

/// A classifier training run, resumable from its run folder.
pub struct ClassifierTrainer {
    cfg: ClassifierTrainConfig,
    core: LoopCore,
    attr_names: Vec<String>,
    meta: Vec<(String, String)>,
    vs: VarStore,
    net: FaderClassifier,
    opt: Adam,
    train: Arc<BatchSource>,
    valid: Arc<BatchSource>,
}

impl ClassifierTrainer {
    /// Builds the classifier (seeded) for the data's image size and attributes, and restores a
    /// saved state from the run folder if there is one.
    pub fn new(exp: &Experiment, data: &Prepared) -> Result<Self, TrainError> {
        let cfg = exp.classifier_train().clone();
        cfg.validate(exp.data.sampler.batch_size)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        if data.encoding != AttributeEncoding::OneHot {
            return Err(TrainError::Config(
                "the classifier needs data.encoding = \"one_hot\" (2 columns per attribute)"
                    .to_string(),
            ));
        }
        let model = ClassifierConfig {
            img_sz: data.cache.size() as i64,
            n_attr: data.attr_width() as i64,
            ..exp.classifier().clone()
        };
        model
            .validate()
            .map_err(|e| TrainError::Config(format!("[classifier]: {e}")))?;
        if data.split.indices(Part::Train).is_empty() || data.split.indices(Part::Valid).is_empty()
        {
            return Err(TrainError::Config(format!(
                "the split {} has an empty train or valid part; use more images or other data.split fractions",
                data.split_path.display()
            )));
        }
        let device = device::resolve(exp.device)?;
        let run = RunDir::create(&exp.run_dir)?;
        tch::manual_seed(exp.seed as i64);
        let vs = VarStore::new(device);
        let net = FaderClassifier::new(&vs.root(), &model)?;
        let opt = Adam::new(&vs, AdamConfig::from(&cfg.optimizer));
        let mut trainer = Self {
            cfg,
            core: LoopCore::new(run, device, exp.seed, exp.data.sampler.clone()),
            attr_names: data.selection.names().to_vec(),
            meta: common::model_metadata(data),
            vs,
            net,
            opt,
            train: data.batch_source(Part::Train),
            valid: data.batch_source(Part::Valid),
        };
        driver::resume(&mut trainer)?;
        Ok(trainer)
    }

    /// Counters (steps done, best accuracy).
    pub fn counters(&self) -> &Counters {
        &self.core.counters
    }

    /// The classifier.
    pub fn classifier(&self) -> (&VarStore, &FaderClassifier) {
        (&self.vs, &self.net)
    }

    /// Trains until `total_steps`, emitting events, and returns the final counters. Safe to call
    /// again after an interruption ([`driver::drive`]).
    pub fn run(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Counters, TrainError> {
        driver::drive(self, on_event)
    }

    /// Mean and per-attribute accuracy on (at most `eval_max_images` of) the validation split.
    pub fn evaluate(&self) -> Vec<(String, f64)> {
        tch::no_grad(|| {
            let limit = eval_limit(self.valid.len(), self.cfg.eval_max_images);
            let k = self.attr_names.len() as i64;
            let mut correct = Tensor::zeros([k], (Kind::Float, self.core.device));
            let mut images = 0usize;
            for batch in SequentialBatches::new(self.valid.clone(), self.cfg.eval_batch_size) {
                if images >= limit {
                    break;
                }
                let (x, y) = to_device(&batch, self.core.device);
                let take = (limit - images).min(batch.len()) as i64;
                let (x, y) = (x.narrow(0, 0, take), y.narrow(0, 0, take));
                correct += attr_correct(&self.net.forward_t(&x, false), &y);
                images += take as usize;
            }
            let acc: Vec<f64> = Vec::<f32>::try_from(correct)
                .unwrap_or_default()
                .iter()
                .map(|&c| f64::from(c) / images.max(1) as f64)
                .collect();
            let mut out = vec![(
                "val_accu".to_string(),
                acc.iter().sum::<f64>() / acc.len().max(1) as f64,
            )];
            for (name, a) in self.attr_names.iter().zip(&acc) {
                out.push((format!("val_accu_{name}"), *a));
            }
            out
        })
    }

    /// Saves the classifier as `<name>.safetensors` in the run folder, with its attribute names.
    pub fn save_model(&self, name: &str) -> Result<(), TrainError> {
        let path = self.core.run.path(&format!("{name}.safetensors"));
        checkpoint::save_with_metadata(&self.vs, &self.net, path, &as_pairs(&self.meta))?;
        Ok(())
    }
}

impl TrainLoop for ClassifierTrainer {
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
            images_per_step: self.core.sampler.batch_size as u64,
        }
    }

    fn columns(&self) -> Vec<String> {
        let mut columns = vec![
            "loss".to_string(),
            "images_per_sec".to_string(),
            "val_accu".to_string(),
        ];
        columns.extend(self.attr_names.iter().map(|a| format!("val_accu_{a}")));
        columns
    }

    fn loss_names(&self) -> &'static [&'static str] {
        &["loss"]
    }

    fn slots(&mut self) -> Vec<Slot<'_>> {
        vec![Slot {
            name: "classifier",
            vs: &mut self.vs,
            opt: &mut self.opt,
        }]
    }

    fn open_data(&mut self) -> Result<Prefetcher, TrainError> {
        self.core.stream(self.train.clone())
    }

    fn step(&mut self, stream: &Prefetcher, t: u64, losses: &mut IntervalMeans) {
        self.core.seed_step(t);
        let (x, y) = to_device(&stream.next_batch(), self.core.device);
        let loss = attr_cross_entropy(&self.net.forward_t(&x, true), &y, false);
        self.opt.backward_step_clip(&loss, self.cfg.clip_grad_norm);
        losses.add(0, &loss.detach());
        self.core.counters.batches_drawn += 1;
    }

    /// Evaluates and keeps `best_classifier` by the mean validation accuracy.
    fn epoch_end(&mut self, _step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let values = self.evaluate();
        let mean = values[0].1;
        let mut improved = Vec::new();
        if self.core.counters.best_accu.is_none_or(|b| mean > b) {
            self.core.counters.best_accu = Some(mean);
            self.save_model("best_classifier")?;
            improved.push("best_classifier".to_string());
        }
        Ok(Some((values, improved)))
    }

    fn finish(&mut self, _trained: bool) -> Result<(), TrainError> {
        self.save_model("last_classifier")
    }
}
