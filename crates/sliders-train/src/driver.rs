//! The one training driver (docs/architecture.md#training-driver): every loop (Fader, classifier,
//! cGAN, encoders, digit classifier) implements [`TrainLoop`] with its own maths (networks and
//! their slots, one step, the end-of-epoch work, the final saves), and [`drive`] owns what they
//! share: the step loop, the log / evaluation / checkpoint cadence, the skip to a resumed step,
//! the interval means of the losses, `metrics.csv` rows and [`Event`]s. [`resume`] restores a
//! saved state into a loop. What every loop keeps besides its networks (run folder, device, seed,
//! sampler, counters) is one [`LoopCore`].

use crate::common::{data_stream, seed_step};
use crate::error::TrainError;
use crate::events::Event;
use crate::progress::{IntervalMeans, Progress};
use crate::run_dir::RunDir;
use crate::state::{self, Counters, Slot};
use sliders_celeba::{BatchSource, Prefetcher};
use sliders_config::data::SamplerConfig;
use sliders_config::layout::file;
use std::sync::Arc;
use tch::Device;

/// Named metric values, in column order.
pub type Metrics = Vec<(String, f64)>;

/// When a loop logs, evaluates and saves its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// Steps in total.
    pub total_steps: u64,
    /// A `train` row every this many steps (and at every evaluation or checkpoint).
    pub log_every: u64,
    /// Steps of an "epoch": [`TrainLoop::epoch_end`] runs at each multiple and at the last step;
    /// `None`: only at the last step.
    pub steps_per_epoch: Option<u64>,
    /// The resumable state is saved every this many steps and at every epoch end; `None`: never
    /// (a loop that starts afresh when interrupted).
    pub checkpoint_every: Option<u64>,
    /// Training images one step consumes (for the throughput column).
    pub images_per_step: u64,
}

/// What the cadence asks for after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Due {
    /// Append a `train` row of the interval means.
    pub log: bool,
    /// Run the end-of-epoch work (evaluation, sample grid).
    pub epoch_end: bool,
    /// Save the resumable state.
    pub checkpoint: bool,
}

impl Cadence {
    /// What is due after `step` steps are done.
    pub fn due(&self, step: u64) -> Due {
        let epoch_end = self
            .steps_per_epoch
            .is_some_and(|spe| step.is_multiple_of(spe))
            || step == self.total_steps;
        let checkpoint_due = self
            .checkpoint_every
            .is_some_and(|every| step.is_multiple_of(every));
        Due {
            log: step.is_multiple_of(self.log_every) || epoch_end || checkpoint_due,
            epoch_end,
            checkpoint: self.checkpoint_every.is_some() && (epoch_end || checkpoint_due),
        }
    }
}

/// What every training loop keeps besides its networks and data sources.
#[derive(Debug)]
pub struct LoopCore {
    /// The run folder (`metrics.csv`, `checkpoints/`).
    pub run: RunDir,
    /// The training device.
    pub device: Device,
    /// The experiment seed: with the step, it fixes every random draw of a step.
    pub seed: u64,
    /// How training batches are drawn.
    pub sampler: SamplerConfig,
    /// Steps done, batches drawn, best scores: `step` is advanced by [`drive`], the rest by the
    /// loop.
    pub counters: Counters,
}

impl LoopCore {
    /// A loop at step 0 (its state, if any, is restored by [`resume`]).
    pub fn new(run: RunDir, device: Device, seed: u64, sampler: SamplerConfig) -> Self {
        Self {
            run,
            device,
            seed,
            sampler,
            counters: Counters::default(),
        }
    }

    /// The seeded batch stream over `source`, positioned after the batches already drawn (so a
    /// resumed run draws what the uninterrupted one would have).
    pub fn stream(&self, source: Arc<BatchSource>) -> Result<Prefetcher, TrainError> {
        data_stream(
            source,
            &self.sampler,
            self.seed,
            self.counters.batches_drawn,
        )
    }

    /// Seeds libtorch's generators for step `t` ([`crate::common::seed_step`]).
    pub fn seed_step(&self, t: u64) {
        seed_step(self.seed, t);
    }
}

/// A network with its own variables and optimizer (one `VarStore` and one Adam per network, so
/// clipping norms are never pooled).
pub(crate) struct Trained<N> {
    pub(crate) vs: tch::nn::VarStore,
    pub(crate) net: N,
    pub(crate) opt: crate::optim::Adam,
}

/// A training loop's own part: its networks, one step, its epoch-end and final work.
/// [`drive`] runs it.
pub trait TrainLoop {
    /// What the steps read from (the seeded batch stream), opened once per [`drive`] after the
    /// resume point is known, and dropped when the steps are done.
    type Data;

    /// The run folder, device, seed, sampler and counters.
    fn core(&self) -> &LoopCore;
    /// The same, to change the counters.
    fn core_mut(&mut self) -> &mut LoopCore;
    /// The run folder (`metrics.csv`, `checkpoints/`).
    fn folder(&self) -> &RunDir {
        &self.core().run
    }
    /// The training device.
    fn device(&self) -> Device {
        self.core().device
    }
    /// The loop's cadence.
    fn cadence(&self) -> Cadence;
    /// The columns of `metrics.csv` (with `images_per_sec`).
    fn columns(&self) -> Vec<String>;
    /// The step losses that [`step`](Self::step) adds to the interval means, by index.
    fn loss_names(&self) -> &'static [&'static str];
    /// The counters: `step` is advanced by [`drive`], the rest by the loop.
    fn counters_mut(&mut self) -> &mut Counters {
        &mut self.core_mut().counters
    }
    /// Every network of the resumable state, in a fixed order.
    fn slots(&mut self) -> Vec<Slot<'_>>;
    /// Opens the data of the remaining steps (called only when steps remain).
    fn open_data(&mut self) -> Result<Self::Data, TrainError>;
    /// Step `t` (counted from 0): seeds it, draws its batches (counting them in
    /// `batches_drawn`), updates the networks and adds the detached losses to `losses`.
    fn step(&mut self, data: &Self::Data, t: u64, losses: &mut IntervalMeans);
    /// The `train` row logged after `step` steps from the interval `means` (default: the means).
    fn log_row(&self, step: u64, means: Metrics) -> Metrics {
        let _ = step;
        means
    }
    /// The end-of-epoch work after `step` steps: an evaluation returns its metrics (an `eval`
    /// row) and the best checkpoints it replaced; `None` writes no row (default: nothing).
    fn epoch_end(&mut self, step: u64) -> Result<Option<(Metrics, Vec<String>)>, TrainError> {
        let _ = step;
        Ok(None)
    }
    /// The final saves, after the last step; `trained` is false when the run was already
    /// finished before this [`drive`] (nothing trained; default: nothing).
    fn finish(&mut self, trained: bool) -> Result<(), TrainError> {
        let _ = trained;
        Ok(())
    }
}

/// Restores the saved state of `l`'s run folder (weights, optimizer moments, counters) if it has
/// one, so that [`drive`] continues at the stored step.
pub fn resume<L: TrainLoop + ?Sized>(l: &mut L) -> Result<(), TrainError> {
    if let Some(dir) = state::find(&l.folder().checkpoints()) {
        let counters = state::load(&dir, &mut l.slots())?;
        tracing::info!("resuming from {} at step {}", dir.display(), counters.step);
        *l.counters_mut() = counters;
    }
    Ok(())
}

/// Runs `l` from its current step to the cadence's total, emitting events: `Started`, per step
/// the due `train` rows (`Logged`), epoch ends (`eval` rows, `Evaluated`) and state saves
/// (`Checkpointed`), then [`TrainLoop::finish`] and `Finished`. Returns the final counters.
/// Calling it again after an interruption (and [`resume`]) continues the run bit for bit.
pub fn drive<L: TrainLoop + ?Sized>(
    l: &mut L,
    on_event: &mut dyn FnMut(Event),
) -> Result<Counters, TrainError> {
    let cadence = l.cadence();
    let total = cadence.total_steps;
    let mut progress = Progress::start(
        &l.folder().path(file::METRICS_CSV),
        &l.columns(),
        l.counters_mut().step,
        total,
        l.device(),
        on_event,
    )?;
    let trained = l.counters_mut().step < total;
    if trained {
        let data = l.open_data()?;
        let mut losses = IntervalMeans::new(l.loss_names(), l.device());
        while l.counters_mut().step < total {
            let t = l.counters_mut().step;
            l.step(&data, t, &mut losses);
            l.counters_mut().step = t + 1;
            after_step(l, cadence.due(t + 1), &cadence, &mut losses, &mut progress)?;
        }
    }
    l.finish(trained)?;
    let counters = l.counters_mut().clone();
    progress.finished(counters.step);
    Ok(counters)
}

/// The bookkeeping `due` after `step` steps: log, epoch end, checkpoint, in that order.
fn after_step<L: TrainLoop + ?Sized>(
    l: &mut L,
    due: Due,
    cadence: &Cadence,
    losses: &mut IntervalMeans,
    progress: &mut Progress,
) -> Result<(), TrainError> {
    let step = l.counters_mut().step;
    if due.log {
        let row = l.log_row(step, losses.take());
        progress.log(step, cadence.images_per_step, row)?;
    }
    if due.epoch_end
        && let Some((values, improved)) = l.epoch_end(step)?
    {
        progress.evaluated(step, values, improved)?;
    }
    if due.checkpoint {
        let counters = l.counters_mut().clone();
        let checkpoints = l.folder().checkpoints();
        state::save(&checkpoints, &mut l.slots(), &counters)?;
        progress.checkpointed(step);
    }
    Ok(())
}

#[cfg(test)]
#[path = "driver_tests.rs"]
mod tests;
