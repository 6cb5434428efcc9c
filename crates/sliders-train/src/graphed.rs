//! A training iteration captured as one CUDA graph with static input and output tensors, and
//! where a trainer stands with its own (docs/gpu.md#cuda-graphs): the part the Fader, cGAN and
//! encoder graphed iterations share. The iterations themselves are in `fader::graphed`,
//! `icgan::cgan_step` and `icgan::encoders::graphed`; the capture and replay are
//! sliders-torch-ext's [`CudaGraph`].

use crate::optim::{Adam, Update};
use sliders_torch_ext::ExtError;
use sliders_torch_ext::graph::CudaGraph;
use tch::{Device, Tensor};

/// The body of a captured iteration: given the static batch tensors and the static 0-d scalars,
/// queues the iteration's kernels and returns the tensors it computes (losses, detached).
pub type Body<'a> = dyn FnMut(&[Tensor], &[Tensor]) -> Vec<Tensor> + 'a;

/// A captured iteration: its graph, the static tensors it reads and those it writes.
pub struct StaticStep {
    what: &'static str,
    graph: CudaGraph,
    /// Batch tensors: each call's inputs are copied in (same shapes and kinds as at capture).
    inputs: Vec<Tensor>,
    /// 0-d float tensors on the device (a loss weight that follows a schedule): filled per call.
    scalars: Vec<Tensor>,
    /// What the captured kernels write: the body's returned tensors.
    outputs: Vec<Tensor>,
}

fn refuse(what: &'static str, message: String) -> ExtError {
    ExtError { op: what, message }
}

/// Refuses a capture unless every optimiser takes the multi-tensor update, whose step count lives
/// on the device (a per-tensor Adam's count is a host number, which a replay cannot advance).
pub fn require_multi_tensor(what: &'static str, opts: &[&Adam]) -> Result<(), ExtError> {
    if opts.iter().all(|o| o.update() == Update::MultiTensor) {
        return Ok(());
    }
    Err(refuse(
        what,
        "a captured step needs the multi-tensor Adam (its step count lives on the device)".into(),
    ))
}

impl StaticStep {
    /// Copies `inputs` into new static buffers and `scalars` into 0-d tensors on `device`, runs
    /// `body` on them once for real (the warm-up, on a side stream), then captures it. Returns the
    /// captured step and copies of the warm-up's outputs: the warm-up is this training step.
    pub fn capture(
        what: &'static str,
        device: Device,
        inputs: &[&Tensor],
        scalars: &[f64],
        body: &mut Body,
    ) -> Result<(Self, Vec<Tensor>), ExtError> {
        let inputs: Vec<Tensor> = inputs.iter().map(|t| t.to_device(device).copy()).collect();
        let scalars: Vec<Tensor> = scalars
            .iter()
            .map(|&s| Tensor::from(s as f32).to_device(device))
            .collect();
        let mut outs: Vec<Vec<Tensor>> = Vec::new();
        let graph = CudaGraph::capture(device, 1, &mut || outs.push(body(&inputs, &scalars)))?;
        let mut outs = outs.into_iter();
        let warm = outs.next().expect("the warm-up ran");
        let outputs = outs.next().expect("the captured call ran");
        let warm = warm.iter().map(Tensor::copy).collect();
        let step = Self {
            what,
            graph,
            inputs,
            scalars,
            outputs,
        };
        Ok((step, warm))
    }

    /// One iteration on new inputs (the captured shapes and kinds) and scalars: copies them into
    /// the static tensors and replays. Returns copies of the outputs.
    pub fn step(&self, inputs: &[&Tensor], scalars: &[f64]) -> Result<Vec<Tensor>, ExtError> {
        if inputs.len() != self.inputs.len() || scalars.len() != self.scalars.len() {
            return Err(refuse(
                self.what,
                format!(
                    "{} inputs and {} scalars for a graph captured with {} and {}",
                    inputs.len(),
                    scalars.len(),
                    self.inputs.len(),
                    self.scalars.len()
                ),
            ));
        }
        for (dst, src) in self.inputs.iter().zip(inputs) {
            let (want, got) = ((dst.size(), dst.kind()), (src.size(), src.kind()));
            if want != got {
                return Err(refuse(
                    self.what,
                    format!("an input of {got:?} for a graph captured with {want:?}"),
                ));
            }
            dst.shallow_clone().copy_(src);
        }
        for (dst, &s) in self.scalars.iter().zip(scalars) {
            let _ = dst.shallow_clone().fill_(s);
        }
        self.graph.replay()?;
        Ok(self.outputs.iter().map(Tensor::copy).collect())
    }
}

/// Where a trainer stands with its captured iteration.
#[derive(Default)]
pub enum GraphState {
    /// Not captured yet: the next eligible step captures.
    #[default]
    Untried,
    /// Captured: steps replay it.
    Captured(StaticStep),
    /// Capture or a replay failed (logged once): steps run eagerly.
    Eager,
}

/// A failed capture: why, and whether its warm-up made this step's updates anyway.
pub struct CaptureError {
    /// Why.
    pub error: ExtError,
    /// Whether the warm-up ran (the optimisers' device step count moved).
    pub updated: bool,
}

impl CaptureError {
    /// A capture refused before anything ran.
    pub fn before_warm_up(error: ExtError) -> Self {
        Self {
            error,
            updated: false,
        }
    }
}

/// Why a graphed step did not give its outputs; the trainer then runs the eager update unless
/// `updated`.
pub struct Fallback {
    /// Whether this step's updates were made anyway (the capture's warm-up ran).
    pub updated: bool,
}

impl GraphState {
    /// Whether steps replay a captured graph.
    pub fn is_captured(&self) -> bool {
        matches!(self, Self::Captured(_))
    }

    /// Whether an earlier capture or replay failed (steps run eagerly from then on).
    pub fn failed(&self) -> bool {
        matches!(self, Self::Eager)
    }

    /// One graphed step: replays the captured iteration on `inputs` and `scalars`, or, not yet
    /// captured, calls `capture` (whose warm-up is this step). On failure, logs why once and
    /// stays eager from then on: a later call returns the fallback without trying again.
    pub fn run(
        &mut self,
        inputs: &[&Tensor],
        scalars: &[f64],
        capture: impl FnOnce() -> Result<(StaticStep, Vec<Tensor>), CaptureError>,
    ) -> Result<Vec<Tensor>, Fallback> {
        let result = match self {
            Self::Eager => return Err(Fallback { updated: false }),
            Self::Captured(step) => step
                .step(inputs, scalars)
                .map_err(CaptureError::before_warm_up),
            Self::Untried => capture().map(|(step, warm)| {
                tracing::info!("CUDA graph: {} is captured; steps replay it", step.what);
                *self = Self::Captured(step);
                warm
            }),
        };
        result.map_err(|CaptureError { error, updated }| {
            tracing::warn!("CUDA graph: {error}; training this run with the eager update");
            *self = Self::Eager;
            Fallback { updated }
        })
    }
}

/// What a trainer with a captured iteration lends [`iterate`]: its [`GraphState`], which is
/// taken out around a capture or replay that borrows the whole trainer.
pub trait HasGraph {
    /// The trainer's graph state.
    fn graph_state(&mut self) -> &mut GraphState;
}

/// One training iteration of `trainer` (docs/gpu.md#cuda-graphs): when `eligible` and no earlier
/// capture failed, a replay of its captured graph on `inputs` and `scalars`, or the capture
/// (whose warm-up is this iteration); else, or when capture fails, `eager`. Returns the
/// iteration's values in the order both paths give them, or `None` when a failed capture's
/// warm-up already made the updates (their values are not known).
pub fn iterate<T: HasGraph>(
    trainer: &mut T,
    eligible: bool,
    (inputs, scalars): (&[&Tensor], &[f64]),
    capture: impl FnOnce(&mut T) -> Result<(StaticStep, Vec<Tensor>), CaptureError>,
    eager: impl FnOnce(&mut T) -> Vec<Tensor>,
) -> Option<Vec<Tensor>> {
    if !eligible || trainer.graph_state().failed() {
        return Some(eager(trainer));
    }
    let mut graph = std::mem::take(trainer.graph_state());
    let result = graph.run(inputs, scalars, || capture(trainer));
    *trainer.graph_state() = graph;
    match result {
        Ok(values) => Some(values),
        Err(fallback) if fallback.updated => None,
        Err(_) => Some(eager(trainer)),
    }
}

/// The CUDA device for a test comparing a graphed step with the eager one, with deterministic
/// cuDNN so both pick the same kernels; fails the test where there is no CUDA device.
#[cfg(test)]
pub(crate) fn deterministic_cuda() -> Device {
    assert!(tch::Cuda::is_available(), "no CUDA device here");
    sliders_torch_ext::settings::set_deterministic_cudnn(true).unwrap();
    Device::Cuda(0)
}

/// The largest absolute difference of two tensors (the tests compare graphed and eager steps).
#[cfg(test)]
pub(crate) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b)
        .abs()
        .max()
        .to_kind(tch::Kind::Double)
        .double_value(&[])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::AdamConfig;
    use tch::Kind;
    use tch::nn::VarStore;

    #[test]
    fn capture_is_refused_off_cuda_with_its_reason() {
        let x = Tensor::ones([2, 3], (Kind::Float, Device::Cpu));
        let mut body = |i: &[Tensor], _: &[Tensor]| vec![i[0].sum(Kind::Float)];
        let err = StaticStep::capture("test step", Device::Cpu, &[&x], &[], &mut body)
            .err()
            .expect("no CUDA graph on the CPU");
        assert!(err.message.contains("CUDA"), "{err}");
    }

    #[test]
    fn a_failed_capture_falls_back_once_and_says_whether_it_updated() {
        let x = Tensor::ones([2], (Kind::Float, Device::Cpu));
        for updated in [false, true] {
            let mut state = GraphState::Untried;
            let fail = || {
                Err(CaptureError {
                    error: refuse("test step", "cannot".into()),
                    updated,
                })
            };
            let fallback = state.run(&[&x], &[], fail).err().unwrap();
            assert_eq!(fallback.updated, updated);
            assert!(state.failed() && !state.is_captured());
            let again = state.run(&[&x], &[], || {
                panic!("an eager state does not capture again")
            });
            assert!(!again.err().unwrap().updated);
        }
    }

    #[test]
    fn per_tensor_adam_is_refused_for_capture() {
        let vs = VarStore::new(Device::Cpu);
        let _ = vs.root().zeros("w", &[3]);
        let per = Adam::with_update(&vs, AdamConfig::fader(), Update::PerTensor);
        let multi = Adam::with_update(&vs, AdamConfig::fader(), Update::MultiTensor);
        assert!(require_multi_tensor("t", &[&multi]).is_ok());
        let err = require_multi_tensor("t", &[&multi, &per]).unwrap_err();
        assert!(err.message.contains("multi-tensor"), "{err}");
    }
}
