//! sliders-torch-ext: libtorch operations that tch 0.24 does not bind, through a small C++ bridge
//! (docs/gpu.md#the-c-bridge): the multi-tensor Adam step and gradient clipping ([`multi`]) that
//! `torch.optim.Adam(fused=True)` uses, CUDA graph capture and replay ([`graph`]) and the CUDA
//! allocator's peak memory ([`memory`]), the last two compiled only where the build finds CUDA;
//! and global switches tch lacks ([`settings`]).
//!
//! This is the one crate of the workspace with `unsafe` code: every call hands tch's tensor
//! handles (`at::Tensor*`) to C++ functions that catch every exception and return it as a message.
#![allow(unsafe_code)]

mod ffi;
pub mod graph;
pub mod memory;
pub mod multi;
pub mod settings;

/// A failure reported by libtorch through the bridge.
#[derive(Debug, thiserror::Error)]
#[error("libtorch ({op}): {message}")]
pub struct ExtError {
    /// The bridge operation that failed.
    pub op: &'static str,
    /// libtorch's message.
    pub message: String,
}
