//! The C functions of `csrc/` and the conversion of their error convention (a null pointer, or a
//! message to free) into [`ExtError`].

use crate::ExtError;
use std::ffi::{CStr, c_char};
use tch::Tensor;

/// `at::Tensor`, as tch's handles point to it.
#[repr(C)]
pub struct AtTensor {
    _opaque: [u8; 0],
}

unsafe extern "C" {
    fn sliders_ext_free_error(message: *mut c_char);
    pub fn sliders_ext_fused_adam(
        params: *const *mut AtTensor,
        grads: *const *mut AtTensor,
        exp_avgs: *const *mut AtTensor,
        exp_avg_sqs: *const *mut AtTensor,
        steps: *const *mut AtTensor,
        n: usize,
        lr: f64,
        beta1: f64,
        beta2: f64,
        eps: f64,
    ) -> *mut c_char;
    pub fn sliders_ext_foreach_clip(
        grads: *const *mut AtTensor,
        n: usize,
        max_norm: f64,
    ) -> *mut c_char;
    pub fn sliders_ext_foreach_zero(ts: *const *mut AtTensor, n: usize) -> *mut c_char;
    pub fn sliders_ext_set_deterministic_cudnn(on: std::ffi::c_int) -> *mut c_char;
    pub fn sliders_ext_deterministic_cudnn(out: *mut std::ffi::c_int) -> *mut c_char;
}

#[cfg(sliders_cuda_graph)]
pub use cuda::*;

#[cfg(sliders_cuda_graph)]
mod cuda {
    use super::*;
    use std::ffi::c_int;

    /// The bridge's graph object (`SlidersGraph` in csrc/cuda.cpp).
    #[repr(C)]
    pub struct RawGraph {
        _opaque: [u8; 0],
    }

    unsafe extern "C" {
        pub fn sliders_ext_graph_new(device: c_int, out: *mut *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_graph_free(g: *mut RawGraph);
        pub fn sliders_ext_graph_enter_stream(g: *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_graph_leave_stream(g: *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_graph_capture_begin(g: *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_graph_capture_end(g: *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_graph_replay(g: *mut RawGraph) -> *mut c_char;
        pub fn sliders_ext_cuda_peak_allocated(device: c_int, out: *mut i64) -> *mut c_char;
        pub fn sliders_ext_cuda_reset_peak(device: c_int) -> *mut c_char;
    }
}

/// The handles of `ts`, for a bridge call that reads them while `ts` is borrowed.
pub fn handles(ts: &[Tensor]) -> Vec<*mut AtTensor> {
    ts.iter().map(|t| t.as_ptr() as *mut AtTensor).collect()
}

/// `Ok` for a null result, else the message (freed here) as an error of `op`.
pub fn check(op: &'static str, result: *mut c_char) -> Result<(), ExtError> {
    if result.is_null() {
        return Ok(());
    }
    // SAFETY: a non-null result is a NUL-terminated string the bridge malloc'ed for us; it is
    // read once and freed once, by the bridge's own free.
    let message = unsafe { CStr::from_ptr(result) }
        .to_string_lossy()
        .into_owned();
    unsafe { sliders_ext_free_error(result) };
    Err(ExtError { op, message })
}
