//! IcGAN's conditional-GAN loop (docs/icgan.md#loss-and-iteration, `trainGAN.lua`): per
//! iteration a real batch `(x, y)` (per-image flips from the sampler), a mismatched `y_wrong` of
//! other training label rows (redrawn while identical to `y`), `y'` drawn from the training label
//! rows independently and `z ~ N(0, I)`; one D update on
//! `BCE(D(x,y),1) + 0.5·BCE(D(x,y_wrong),0) + 0.5·BCE(D(G(z,y').detach(),y'),0)` (three separate
//! forwards, so three BN batches), then one G update on `BCE(D(G(z,y'),y'),1)` reusing the same
//! `G(z,y')` graph, every network in train mode. After the last iteration G's BN statistics are
//! refreshed (docs/icgan.md#bn-refresh) and `G.safetensors` / `D.safetensors` are written for
//! eval-mode use. Resumable like the Fader loop: state folder, sampler fast-forward, per-step
//! seeding.

use crate::common::{self, as_pairs, mix};
use crate::device;
use crate::driver::{self, Cadence, LoopCore, Metrics, TrainLoop, Trained};
use crate::error::TrainError;
use crate::events::Event;
use crate::graphed::GraphState;
use crate::icgan::cgan_step::{
    CganLosses, CganParts, Draws, capture_cgan, cgan_update, cgan_values, d_update, g_update,
};
use crate::icgan::{grid_labels, label_matrix, model_config, sample_label_rows, write_grid_png};
use crate::optim::{Adam, AdamConfig, Update};
use crate::progress::IntervalMeans;
use crate::run_dir::RunDir;
use crate::state::{Counters, Slot};
use crate::tensors::to_device;
use sliders_celeba::{BatchSource, Part, Prefetcher, Prepared};
use sliders_config::layout::Checkpoint;
use sliders_config::nets::IcganConfig;
use sliders_config::train::{CganTrainConfig, Experiment};
use sliders_nets::{IcganDiscriminator, IcganGenerator, checkpoint};
use std::sync::Arc;
use tch::{Device, Kind, Tensor, nn::VarStore};

/// Seed salt of the sample grid's fixed z and label rows.
const GRID_SALT: u64 = 0x6121_D000;
/// Seed salt of the BN refresh.
const REFRESH_SALT: u64 = 0xB4_4EF5;

/// For one-hot ±1 class rows `y` (`[B, ny]`), one-hot ±1 rows of a uniformly random other
/// class (docs/icgan.md#digits: a uniformly random class other than the true one).
pub fn wrong_classes(y: &Tensor) -> Tensor {
    let (b, ny) = (y.size()[0], y.size()[1]);
    let class = y.argmax(1, false);
    let shift = Tensor::randint_low(1, ny, [b], (Kind::Int64, y.device()));
    let wrong = (class + shift).remainder(ny);
    wrong.one_hot(ny).to_kind(y.kind()) * 2.0 - 1.0
}

/// One-hot ±1 rows for a class grid of `rows` rows: class 0, then classes `0..ny`, per row
/// (`[rows·(1+ny), ny]`).
pub fn class_grid_labels(rows: i64, ny: i64, device: Device) -> Tensor {
    let mut classes = Vec::new();
    for _ in 0..rows {
        classes.push(0i64);
        classes.extend(0..ny);
    }
    Tensor::from_slice(&classes)
        .to_device(device)
        .one_hot(ny)
        .to_kind(Kind::Float)
        * 2.0
        - 1.0
}

/// An IcGAN cGAN training run, resumable from its run folder.
pub struct CganTrainer {
    cfg: CganTrainConfig,
    model: IcganConfig,
    core: LoopCore,
    meta: Vec<(String, String)>,
    g: Trained<IcganGenerator>,
    d: Trained<IcganDiscriminator>,
    train: Arc<BatchSource>,
    labels: Tensor,
    conditioning: Conditioning,
    /// The captured iteration on CUDA (docs/gpu.md#cuda-graphs).
    graph: GraphState,
}

/// What `y` means, which decides how mismatched labels and the sample grid are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditioning {
    /// Independent ±1 attributes (CelebA, docs/icgan.md#attributes): wrong labels are other
    /// training rows, the grid sets one attribute to +1 per column.
    Attributes,
    /// One class as one-hot ±1 (MNIST, docs/icgan.md#digits): a wrong label is a uniformly random
    /// other class, the grid shows every class per row.
    Classes,
}

impl CganTrainer {
    /// Builds G and D (seeded), opens the run folder and restores a saved state if it holds one.
    pub fn new(exp: &Experiment, data: &Prepared) -> Result<Self, TrainError> {
        let model = model_config(exp.icgan(), data)?;
        if data.split.indices(Part::Train).is_empty() {
            return Err(TrainError::Config(format!(
                "the split {} has an empty train part; use more images or other data.split fractions",
                data.split_path.display()
            )));
        }
        Self::from_source(
            exp,
            model,
            data.batch_source(Part::Train),
            common::model_metadata(data),
            Conditioning::Attributes,
        )
    }

    /// As [`new`](Self::new) for any training source (e.g. the in-memory digits): `model` must
    /// match its channels, size and label width; `meta` goes into the saved models.
    pub fn from_source(
        exp: &Experiment,
        model: IcganConfig,
        train: Arc<BatchSource>,
        meta: Vec<(String, String)>,
        conditioning: Conditioning,
    ) -> Result<Self, TrainError> {
        let cfg = exp.cgan_train().clone();
        cfg.validate(exp.data.sampler.batch_size)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        if train.is_empty() {
            return Err(TrainError::Config(
                "the training part holds no image".to_string(),
            ));
        }
        if train.channels() as i64 != model.nc
            || train.size() as i64 != model.img_sz
            || train.attr_width() as i64 != model.ny
        {
            return Err(TrainError::Config(format!(
                "[icgan] makes {}-channel {} px images with {} labels, the data has {}-channel {} px images with {}",
                model.nc,
                model.img_sz,
                model.ny,
                train.channels(),
                train.size(),
                train.attr_width()
            )));
        }
        let device = device::resolve(exp.device)?;
        let run = RunDir::create(&exp.run_dir)?;
        tch::manual_seed(exp.seed as i64);
        let g = {
            let vs = VarStore::new(device);
            let net = IcganGenerator::new(&vs.root(), &model)?;
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.g_optimizer));
            Trained { vs, net, opt }
        };
        let d = {
            let vs = VarStore::new(device);
            let net = IcganDiscriminator::new(&vs.root(), &model)?;
            let opt = Adam::new(&vs, AdamConfig::from(&cfg.d_optimizer));
            Trained { vs, net, opt }
        };
        let labels = label_matrix(&train, device);
        let mut trainer = Self {
            cfg,
            model,
            core: LoopCore::new(run, device, exp.seed, exp.data.sampler.clone()),
            meta,
            g,
            d,
            train,
            labels,
            conditioning,
            graph: GraphState::Untried,
        };
        driver::resume(&mut trainer)?;
        Ok(trainer)
    }

    /// The run folder.
    pub fn run_dir(&self) -> &RunDir {
        &self.core.run
    }

    /// The model shape.
    pub fn model_config(&self) -> &IcganConfig {
        &self.model
    }

    /// Counters (steps done).
    pub fn counters(&self) -> &Counters {
        &self.core.counters
    }

    /// The generator.
    pub fn generator(&self) -> (&VarStore, &IcganGenerator) {
        (&self.g.vs, &self.g.net)
    }

    /// The discriminator.
    pub fn discriminator(&self) -> (&VarStore, &IcganDiscriminator) {
        (&self.d.vs, &self.d.net)
    }

    /// The training label rows `[N, ny]` (`p_y`).
    pub fn labels(&self) -> &Tensor {
        &self.labels
    }

    /// The metric columns of `metrics.csv`.
    pub fn metric_columns() -> Vec<String> {
        ["loss_d", "loss_g", "d_real", "d_fake", "images_per_sec"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// Mismatched labels for `y` (`[B, ny]`): a uniform training label row that differs from
    /// its row of `y` in some attribute ([`super::wrong_label_rows`], docs/icgan.md#batches), or
    /// for classes a uniformly random other class.
    // Deviation: the first draw is a uniform training row rather than `randIdx[B+i]` of the same
    // permutation as the real batch; both are uniformly random other rows.
    pub fn wrong_labels(&self, y: &Tensor) -> Tensor {
        if self.conditioning == Conditioning::Classes {
            return wrong_classes(y);
        }
        super::wrong_label_rows(&self.labels, y)
    }

    /// `G(z, y')` in train mode, with its graph.
    pub fn generate(&self, z: &Tensor, y_fake: &Tensor) -> Tensor {
        self.g.net.forward_t(z, y_fake, true)
    }

    /// The iteration's draws for the real batch `(x, y)`, from libtorch's generator in this
    /// order: `y_wrong`, `y'`, `z`.
    pub fn draws(&self, x: &Tensor, y: &Tensor) -> Draws {
        let b = x.size()[0];
        let y_wrong = self.wrong_labels(y);
        let y_fake = sample_label_rows(&self.labels, b);
        let z = Tensor::randn([b, self.model.nz, 1, 1], (Kind::Float, self.core.device));
        Draws {
            x: x.shallow_clone(),
            y: y.shallow_clone(),
            y_wrong,
            y_fake,
            z,
        }
    }

    /// The networks and optimisers one iteration updates.
    fn parts(&mut self) -> CganParts<'_> {
        CganParts {
            g: &self.g.net,
            d: &self.d.net,
            g_opt: &mut self.g.opt,
            d_opt: &mut self.d.opt,
            clip: self.cfg.clip_grad_norm,
            wrong_y_weight: self.cfg.wrong_y_weight,
        }
    }

    /// One D update ([`d_update`]). Returns `(loss_d, mean D(x,y), mean D(x_fake,y'))`.
    pub fn d_step(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        y_wrong: &Tensor,
        x_fake: &Tensor,
        y_fake: &Tensor,
    ) -> (Tensor, Tensor, Tensor) {
        d_update(&mut self.parts(), (x, y, y_wrong), x_fake, y_fake)
    }

    /// One G update ([`g_update`]). Returns the loss.
    pub fn g_step(&mut self, x_fake: &Tensor, y_fake: &Tensor) -> Tensor {
        g_update(&mut self.parts(), x_fake, y_fake)
    }

    /// One full eager iteration on the real batch `(x, y)`: the draws ([`Self::draws`]), then
    /// the D and G updates ([`cgan_update`]).
    pub fn train_step(&mut self, x: &Tensor, y: &Tensor) -> CganLosses {
        let draws = self.draws(x, y);
        cgan_update(&mut self.parts(), &draws)
    }

    /// Whether this run's steps replay a captured CUDA graph (docs/gpu.md#cuda-graphs).
    pub fn iteration_is_graphed(&self) -> bool {
        self.graph.is_captured()
    }

    /// The iteration as a CUDA graph when `cuda_graph` is on, the device is CUDA, both
    /// optimisers take the multi-tensor update and no capture failed; else eagerly. The draws
    /// are the eager step's either way.
    fn step_on(&mut self, x: &Tensor, y: &Tensor) -> Option<CganLosses> {
        let draws = self.draws(x, y);
        let eligible = self.cfg.cuda_graph
            && self.core.device.is_cuda()
            && self.g.opt.update() == Update::MultiTensor
            && self.d.opt.update() == Update::MultiTensor;
        let values = crate::graphed::iterate(
            self,
            eligible,
            (&draws.list(), &[]),
            |s| capture_cgan(s.parts(), &draws),
            |s| cgan_values(&mut s.parts(), &draws),
        )?;
        Some(CganLosses::from_list(&values))
    }

    /// Trains until `total_steps`, writes a sample grid after each epoch, then refreshes G's BN
    /// statistics and saves `G.safetensors` / `D.safetensors`. Safe to call again after an
    /// interruption: it continues from the saved state ([`driver::drive`]).
    pub fn run(&mut self, on_event: &mut dyn FnMut(Event)) -> Result<Counters, TrainError> {
        driver::drive(self, on_event)
    }

    /// The sample grid's images `[rows·(1+ny), nc, S, S]`: row `r` has a fixed z and a fixed
    /// training label row; column 0 uses that row, column `1+j` the row with attribute `j` set to
    /// +1 (docs/icgan.md#editing, training-time display); for classes, column `1+j` is class `j`
    /// and column 0 class 0 again. The same z and rows every call.
    pub fn sample_grid(&self, train_mode: bool) -> Tensor {
        tch::manual_seed(mix(self.core.seed, GRID_SALT) as i64 & i64::MAX);
        let rows = self.cfg.sample_rows as i64;
        let base = sample_label_rows(&self.labels, rows);
        let z = Tensor::randn([rows, self.model.nz], (Kind::Float, self.core.device));
        let cols = 1 + self.model.ny;
        let z = z
            .unsqueeze(1)
            .expand([rows, cols, self.model.nz], false)
            .reshape([rows * cols, self.model.nz]);
        let y = match self.conditioning {
            Conditioning::Attributes => grid_labels(&base),
            Conditioning::Classes => class_grid_labels(rows, self.model.ny, self.core.device),
        };
        tch::no_grad(|| self.g.net.forward_t(&z, &y, train_mode))
    }

    /// Writes `samples/<name>.png` (see [`sample_grid`](Self::sample_grid)).
    // Deviation: during training the grid is generated in train mode (batch statistics of the
    // grid itself), since G's running statistics are only meaningful after the BN refresh; this
    // also moves the running statistics, which training never reads and the refresh overwrites.
    fn write_samples(&self, name: &str, train_mode: bool) -> Result<(), TrainError> {
        let images = self.sample_grid(train_mode);
        let cols = 1 + self.model.ny as usize;
        let path = self.core.run.samples().join(format!("{name}.png"));
        write_grid_png(&path, &images, self.cfg.sample_rows, cols)
    }

    /// The BN refresh (docs/icgan.md#bn-refresh): `bn_refresh_steps` train-mode forwards of G under
    /// no_grad with fresh `z ~ N(0, I)` and fresh training label rows, batch `bn_refresh_batch`.
    // Deviation: each pass draws fresh label rows instead of the reference's overlapping windows
    // `i..i+255` of one permutation (which only use ~355 distinct rows); fresh draws are the
    // cleaner choice (docs/icgan.md#bn-refresh).
    pub fn refresh_batch_norm(&mut self) {
        tch::manual_seed(mix(self.core.seed, REFRESH_SALT) as i64 & i64::MAX);
        let b = self.cfg.bn_refresh_batch as i64;
        tch::no_grad(|| {
            for _ in 0..self.cfg.bn_refresh_steps {
                let y = sample_label_rows(&self.labels, b);
                let z = Tensor::randn([b, self.model.nz], (Kind::Float, self.core.device));
                let _ = self.g.net.forward_t(&z, &y, true);
            }
        });
    }

    /// Saves `G.safetensors` (after the refresh) and `D.safetensors` with self-describing
    /// metadata (attributes, framing, image size, `sliders.bn_refreshed`).
    pub fn save_models(&self) -> Result<(), TrainError> {
        let mut g_meta = self.meta.clone();
        g_meta.push((
            "sliders.bn_refreshed".to_string(),
            (self.cfg.bn_refresh_steps > 0).to_string(),
        ));
        // D first: `G.safetensors` marks a finished cGAN (`cargo xtask reproduce`, the digits
        // pipeline), so a kill between the two files must not leave G without D.
        let meta = as_pairs(&self.meta);
        checkpoint::save_with_metadata(
            &self.d.vs,
            &self.d.net,
            self.core.run.path(Checkpoint::Discriminator.file_name()),
            &meta,
        )?;
        checkpoint::save_with_metadata(
            &self.g.vs,
            &self.g.net,
            self.core.run.path(Checkpoint::Generator.file_name()),
            &as_pairs(&g_meta),
        )?;
        Ok(())
    }
}

impl crate::graphed::HasGraph for CganTrainer {
    fn graph_state(&mut self) -> &mut GraphState {
        &mut self.graph
    }
}

impl TrainLoop for CganTrainer {
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
        Self::metric_columns()
    }

    fn loss_names(&self) -> &'static [&'static str] {
        &["loss_d", "loss_g", "d_real", "d_fake"]
    }

    fn slots(&mut self) -> Vec<Slot<'_>> {
        vec![
            Slot {
                name: "G",
                vs: &mut self.g.vs,
                opt: &mut self.g.opt,
            },
            Slot {
                name: "D",
                vs: &mut self.d.vs,
                opt: &mut self.d.opt,
            },
        ]
    }

    fn open_data(&mut self) -> Result<Prefetcher, TrainError> {
        self.core.stream(self.train.clone())
    }

    fn step(&mut self, stream: &Prefetcher, t: u64, losses: &mut IntervalMeans) {
        self.core.seed_step(t);
        let (x, y) = to_device(&stream.next_batch(), self.core.device);
        if let Some(l) = self.step_on(&x, &y) {
            for (slot, v) in l.list().into_iter().enumerate() {
                losses.add(slot, v);
            }
        }
        self.core.counters.batches_drawn += 1;
    }

    /// Writes the epoch's sample grid (no evaluation row).
    fn epoch_end(&mut self, step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let epoch = step.div_ceil(self.cfg.steps_per_epoch(self.core.sampler.batch_size));
        self.write_samples(&format!("epoch_{epoch:03}"), true)?;
        Ok(None)
    }

    /// The BN refresh, the final grid and the saved models, unless both models are there.
    fn finish(&mut self, _trained: bool) -> Result<(), TrainError> {
        let file = |c: Checkpoint| self.core.run.path(c.file_name());
        if !file(Checkpoint::Generator).is_file() || !file(Checkpoint::Discriminator).is_file() {
            self.refresh_batch_norm();
            self.write_samples("final", false)?;
            self.save_models()?;
        }
        Ok(())
    }
}
