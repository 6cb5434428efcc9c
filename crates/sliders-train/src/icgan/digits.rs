//! IcGAN's MNIST variant (docs/icgan.md#digits) on the in-memory digit datasets of
//! [`sliders_celeba::digits`]: the cGAN at 32 px with one channel and `y` = the class as one-hot
//! ±1 ([`CganTrainer`] with [`Conditioning::Classes`]), the encoder layouts of `[digits]`
//! ([`EncoderTrainer`] on the generated set and the real digits), and a separately trained digit
//! classifier (a small CNN, the Fader classifier's layout with 10 logits and softmax
//! cross-entropy) that judges class-swapped reconstructions. Every stage writes a sub-folder of
//! the experiment's run folder (`cgan/`, `encoders-<kind>/`, `classifier/`) and is skipped when
//! its models are there, so an interrupted run continues.

use crate::common::{data_stream, eval_limit};
use crate::device;
use crate::driver::{self, Cadence, LoopCore, Metrics, TrainLoop};
use crate::error::TrainError;
use crate::events::Event;
use crate::icgan::{CganTrainer, Conditioning, EncoderTrainer};
use crate::optim::{Adam, AdamConfig};
use crate::progress::IntervalMeans;
use crate::run_dir::RunDir;
use crate::state::Slot;
use crate::tensors::to_device;
use sliders_celeba::digits::{self, DigitsData};
use sliders_celeba::{BatchSource, Part, Prefetcher, SequentialBatches};
use sliders_config::data::{FlipMode, SampleOrder, SamplerConfig};
use sliders_config::layout::Checkpoint;
use sliders_config::nets::{ClassifierConfig, EncoderKind, IcganConfig};
use sliders_config::train::{ClassifierTrainConfig, Experiment};
use sliders_nets::{FaderClassifier, checkpoint};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tch::{Device, Kind, Reduction, Tensor, nn::VarStore};

/// File name of the digit classifier in `classifier/` (the run layout's, docs/architecture.md#run-folders).
pub const CLASSIFIER_FILE: &str = Checkpoint::DigitClassifier.file_name();

/// The sub-folders of a digits run: the run layout's (sliders-config).
pub use sliders_config::layout::DigitsLayout as DigitsRun;
/// `ind`, `sng`, `ind-cond`.
pub use sliders_config::layout::folder::encoder_slug as kind_slug;

/// The cGAN shape for digits: `[icgan]` with 32 px, one channel and 10 classes.
// Deviation: 28 px digits are zero-padded to 32 px (the size) instead of the reference's
// bilinear up-scaling to 64 px (`fineSize` not overridden in its MNIST command);
// `fineSize=32` in the reference builds this same 32 px architecture.
pub fn model_config(exp: &Experiment) -> Result<IcganConfig, TrainError> {
    let cfg = IcganConfig {
        img_sz: digits::SIZE as i64,
        nc: 1,
        ny: digits::N_CLASSES as i64,
        ..exp.icgan().clone()
    };
    cfg.validate()
        .map_err(|e| TrainError::Config(format!("[icgan]: {e}")))?;
    Ok(cfg)
}

/// The digit classifier's shape: `[classifier]` with 32 px, one channel, 10 logits.
pub fn classifier_config(exp: &Experiment) -> ClassifierConfig {
    ClassifierConfig {
        img_sz: digits::SIZE as i64,
        img_fm: 1,
        n_attr: digits::N_CLASSES as i64,
        ..exp.classifier().clone()
    }
}

/// Metadata saved with every digits model: the dataset, the class names (as
/// `sliders.attributes`, the column names of `y`) and the image size.
pub fn metadata(data: &DigitsData) -> Vec<(String, String)> {
    vec![
        (
            "sliders.attributes".to_string(),
            serde_json::to_string(&data.class_names()).expect("names serialise"),
        ),
        (
            "sliders.dataset".to_string(),
            data.source.as_str().to_string(),
        ),
        ("sliders.image_size".to_string(), digits::SIZE.to_string()),
    ]
}

fn sub_experiment(exp: &Experiment, run_dir: PathBuf) -> Experiment {
    let mut e = exp.clone();
    e.run_dir = run_dir;
    // docs/icgan.md#digits: no augmentation on MNIST.
    e.data.sampler.flip = FlipMode::None;
    e
}

/// Trains (or finishes) the cGAN into `cgan/`.
pub fn train_cgan(
    exp: &Experiment,
    data: &DigitsData,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), TrainError> {
    let run = DigitsRun::new(&exp.run_dir);
    if Checkpoint::Generator.in_run(&run.cgan()).is_file() {
        tracing::info!("{}: cGAN complete, skipped", run.cgan().display());
        return Ok(());
    }
    let sub = sub_experiment(exp, run.cgan());
    // Deviation: p_y draws training label rows (classes with their empirical frequencies, without
    // replacement within a batch) instead of i.i.d. `multinomial(labelDistr)`; both follow the
    // class prior. Wrong labels are a uniformly random other class, as the reference.
    let mut t = CganTrainer::from_source(
        &sub,
        model_config(exp)?,
        data.batch_source(Part::Train),
        metadata(data),
        Conditioning::Classes,
    )?;
    t.run(on_event)?;
    Ok(())
}

/// Trains (or finishes) one encoder layout into `encoders-<kind>/` (needs the cGAN).
pub fn train_encoders(
    exp: &Experiment,
    data: &DigitsData,
    kind: EncoderKind,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), TrainError> {
    let run = DigitsRun::new(&exp.run_dir);
    let dir = run.encoders(kind);
    if Checkpoint::encoders_done(kind).in_run(&dir).is_file() {
        tracing::info!("{}: encoders complete, skipped", dir.display());
        return Ok(());
    }
    let mut sub = sub_experiment(exp, dir);
    // Deviation: the encoder set's y' is a random permutation of the training classes (the
    // CelebA path, each training row once, wrapping) rather than the reference's fixed cyclic
    // pattern `(i−1) mod 10` per batch; both give every class about equally often. Ey trains on
    // the train part and is scored on the valid part, not on a 0.66 split of all 60,000 images.
    sub.encoder_train_mut().cgan_run = run.cgan();
    sub.encoder_train_mut().encoder_kind = kind;
    let mut t = EncoderTrainer::from_sources(
        &sub,
        &model_config(exp)?,
        data.batch_source(Part::Train),
        data.batch_source(Part::Valid),
        metadata(data),
    )?;
    t.run(on_event)?;
    Ok(())
}

/// Softmax cross-entropy of 10-way logits against one-hot ±1 rows.
fn class_loss(logits: &Tensor, y_pm: &Tensor) -> Tensor {
    logits.cross_entropy_loss::<Tensor>(&y_pm.argmax(1, false), None, Reduction::Mean, -100, 0.0)
}

/// Accuracy of `net` (eval mode) on the first `max` (0 = all) images of `source`.
pub fn classifier_accuracy(
    net: &FaderClassifier,
    source: &Arc<BatchSource>,
    max: usize,
    device: Device,
) -> (u64, u64) {
    let n = eval_limit(source.len(), max);
    let (mut hits, mut seen) = (0i64, 0usize);
    for b in SequentialBatches::new(source.clone(), 256) {
        if seen >= n {
            break;
        }
        let (x, y) = to_device(&b, device);
        let take = (n - seen).min(b.len()) as i64;
        let (x, y) = (x.narrow(0, 0, take), y.narrow(0, 0, take));
        let pred = tch::no_grad(|| net.forward_t(&x, false)).argmax(1, false);
        hits += pred
            .eq_tensor(&y.argmax(1, false))
            .sum(Kind::Int64)
            .int64_value(&[]);
        seen += take as usize;
    }
    (hits as u64, seen as u64)
}

/// Trains the digit classifier into `classifier/` (`classifier.safetensors`; `metrics.csv` with
/// the training loss and the final valid and test accuracy). `classifier_train.total_steps`
/// steps of Adam (`classifier_train.optimizer`) on shuffled epochs of the train part.
pub fn train_classifier(
    exp: &Experiment,
    data: &DigitsData,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), TrainError> {
    let run_paths = DigitsRun::new(&exp.run_dir);
    let dir = run_paths.classifier();
    let file = dir.join(CLASSIFIER_FILE);
    if file.is_file() {
        tracing::info!("{}: classifier complete, skipped", dir.display());
        return Ok(());
    }
    let cfg = exp.classifier_train().clone();
    let model = classifier_config(exp);
    model
        .validate()
        .map_err(|e| TrainError::Config(format!("[classifier]: {e}")))?;
    let device = device::resolve(exp.device)?;
    let run = RunDir::create(&dir)?;
    tch::manual_seed(exp.seed as i64);
    let vs = VarStore::new(device);
    let net = FaderClassifier::new(&vs.root(), &model)?;
    let opt = Adam::new(&vs, AdamConfig::from(&cfg.optimizer));
    let sampler = SamplerConfig {
        order: SampleOrder::ShuffledEpochs,
        flip: FlipMode::None,
        ..exp.data.sampler.clone()
    };
    let mut l = DigitClassifier {
        cfg,
        core: LoopCore::new(run, device, exp.seed, sampler),
        data,
        file,
        vs,
        net,
        opt,
    };
    driver::drive(&mut l, on_event)?;
    Ok(())
}

/// The digit classifier's loop. Its cadence has no epochs and no checkpoints: the valid and test
/// accuracy are measured once, after the last step.
// Deviation: a fresh start (no resume from mid-training state) if interrupted; the
// classifier takes seconds to minutes on the digit sizes.
struct DigitClassifier<'d> {
    cfg: ClassifierTrainConfig,
    core: LoopCore,
    data: &'d DigitsData,
    file: PathBuf,
    vs: VarStore,
    net: FaderClassifier,
    opt: Adam,
}

impl TrainLoop for DigitClassifier<'_> {
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
            steps_per_epoch: None,
            checkpoint_every: None,
            images_per_step: self.core.sampler.batch_size as u64,
        }
    }

    fn columns(&self) -> Vec<String> {
        ["loss", "images_per_sec", "valid_accuracy", "test_accuracy"]
            .iter()
            .map(|c| c.to_string())
            .collect()
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
        data_stream(
            self.data.batch_source(Part::Train),
            &self.core.sampler,
            self.core.seed ^ 0xC1A5,
            0,
        )
    }

    fn step(&mut self, stream: &Prefetcher, t: u64, losses: &mut IntervalMeans) {
        self.core.seed_step(t);
        let (x, y) = to_device(&stream.next_batch(), self.core.device);
        let loss = class_loss(&self.net.forward_t(&x, true), &y);
        self.opt.backward_step_clip(&loss, self.cfg.clip_grad_norm);
        losses.add(0, &loss.detach());
        self.core.counters.batches_drawn += 1;
    }

    /// The valid and test accuracy (after the last step).
    fn epoch_end(&mut self, _step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let accuracies = [Part::Valid, Part::Test]
            .iter()
            .map(|&part| {
                let source = self.data.batch_source(part);
                let (hits, n) = classifier_accuracy(&self.net, &source, 0, self.core.device);
                (
                    format!("{}_accuracy", part.as_str()),
                    hits as f64 / n.max(1) as f64,
                )
            })
            .collect();
        Ok(Some((accuracies, vec![])))
    }

    fn finish(&mut self, _trained: bool) -> Result<(), TrainError> {
        let meta = metadata(self.data);
        let pairs: Vec<(&str, &str)> = meta.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        checkpoint::save_with_metadata(&self.vs, &self.net, &self.file, &pairs)?;
        Ok(())
    }
}

/// Loads the digit classifier saved by [`train_classifier`] (eval mode use).
pub fn load_classifier(
    run_root: &Path,
    device: Device,
) -> Result<(VarStore, FaderClassifier), TrainError> {
    let path = DigitsRun::new(run_root).classifier().join(CLASSIFIER_FILE);
    if !path.is_file() {
        return Err(TrainError::Config(format!(
            "{}: no digit classifier; run the digits experiment (it trains one)",
            path.display()
        )));
    }
    let (vs, net, _) = checkpoint::restore(&path, device, FaderClassifier::new)?;
    Ok((vs, net))
}

/// Every training stage of a digits experiment, in order: cGAN, each encoder layout, classifier.
pub fn train_all(
    exp: &Experiment,
    data: &DigitsData,
    on_stage: &mut dyn FnMut(&str),
    on_event: &mut dyn FnMut(Event),
) -> Result<(), TrainError> {
    exp.digits()
        .validate()
        .map_err(|e| TrainError::Config(e.to_string()))?;
    on_stage("cgan");
    train_cgan(exp, data, on_event)?;
    for &kind in &exp.digits().encoders {
        on_stage(&format!("encoders-{}", kind_slug(kind)));
        train_encoders(exp, data, kind, on_event)?;
    }
    on_stage("classifier");
    train_classifier(exp, data, on_event)
}
