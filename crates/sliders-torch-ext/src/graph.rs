//! CUDA graphs (docs/gpu.md#cuda-graphs): capture one call of a training step, forward, backward
//! and optimiser updates, into a graph of kernels and replay it with one launch, through
//! libtorch's `at::cuda::CUDAGraph`. The step must read its inputs from static tensors (copy each
//! new batch into them before [`CudaGraph::replay`]), keep anything that changes per step on the
//! device, and never wait for the host. Built only where the build found CUDA ([`BUILT`]);
//! elsewhere [`CudaGraph::capture`] returns an error and callers run the step eagerly.

use crate::ExtError;
use tch::Device;

/// Whether this build has the CUDA graph bridge.
pub const BUILT: bool = cfg!(sliders_cuda_graph);

/// A captured step, replayed on the device's current stream.
pub struct CudaGraph {
    #[cfg(sliders_cuda_graph)]
    raw: *mut crate::ffi::RawGraph,
    #[cfg(not(sliders_cuda_graph))]
    _never: std::convert::Infallible,
}

fn unavailable(message: String) -> ExtError {
    ExtError {
        op: "cuda_graph",
        message,
    }
}

impl CudaGraph {
    /// Runs `step` `warmup` times on a side stream (libtorch's allocator and cuDNN settle there,
    /// as `torch.cuda.graph` recommends), then captures one more call of it. The captured call's
    /// kernels do not run until the first [`CudaGraph::replay`].
    pub fn capture(
        device: Device,
        warmup: usize,
        step: &mut dyn FnMut(),
    ) -> Result<Self, ExtError> {
        let Device::Cuda(index) = device else {
            return Err(unavailable(format!(
                "CUDA graphs need a CUDA device, not {device:?}"
            )));
        };
        capture_on(index, warmup, step)
    }
}

#[cfg(not(sliders_cuda_graph))]
fn capture_on(_: usize, _: usize, _: &mut dyn FnMut()) -> Result<CudaGraph, ExtError> {
    Err(unavailable(
        "this build has no CUDA graph bridge: sliders-torch-ext was compiled where no CUDA \
         runtime headers or libtorch_cuda were found (docs/gpu.md#cuda-graphs)"
            .into(),
    ))
}

#[cfg(not(sliders_cuda_graph))]
impl CudaGraph {
    /// Launches the captured kernels (never reached: no graph exists in this build).
    pub fn replay(&self) -> Result<(), ExtError> {
        match self._never {}
    }
}

#[cfg(sliders_cuda_graph)]
fn capture_on(index: usize, warmup: usize, step: &mut dyn FnMut()) -> Result<CudaGraph, ExtError> {
    use crate::ffi::{self, check};
    let mut raw = std::ptr::null_mut();
    // SAFETY: `raw` receives a new graph object owned by the returned CudaGraph (freed in Drop).
    check("graph_new", unsafe {
        ffi::sliders_ext_graph_new(index as i32, &mut raw)
    })?;
    let graph = CudaGraph { raw };
    // SAFETY (all calls below): `graph.raw` is the live object made above.
    check("graph_enter_stream", unsafe {
        ffi::sliders_ext_graph_enter_stream(raw)
    })?;
    // A libtorch error inside the step (an operation that cannot be captured) panics in tch;
    // it becomes this capture's error, and the stream is restored either way.
    let mut run = |what: &'static str| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(&mut *step)).map_err(|e| {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the step panicked".into());
            ExtError { op: what, message }
        })
    };
    let captured = (|| {
        for _ in 0..warmup {
            run("warm-up step")?;
        }
        check("capture_begin", unsafe {
            ffi::sliders_ext_graph_capture_begin(raw)
        })?;
        let stepped = run("captured step");
        let ended = check("capture_end", unsafe {
            ffi::sliders_ext_graph_capture_end(raw)
        });
        stepped.and(ended)
    })();
    let left = check("graph_leave_stream", unsafe {
        ffi::sliders_ext_graph_leave_stream(raw)
    });
    captured.and(left).map(|()| graph)
}

#[cfg(sliders_cuda_graph)]
impl CudaGraph {
    /// Launches the captured kernels once on the current stream (asynchronous, like the eager
    /// step it replaces).
    pub fn replay(&self) -> Result<(), ExtError> {
        // SAFETY: `raw` is live until Drop.
        crate::ffi::check("replay", unsafe {
            crate::ffi::sliders_ext_graph_replay(self.raw)
        })
    }
}

#[cfg(sliders_cuda_graph)]
impl Drop for CudaGraph {
    fn drop(&mut self) {
        // SAFETY: made by sliders_ext_graph_new, freed once.
        unsafe { crate::ffi::sliders_ext_graph_free(self.raw) }
    }
}
