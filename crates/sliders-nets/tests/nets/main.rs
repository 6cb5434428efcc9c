//! Integration tests of sliders-nets: parameter counts against the references, shapes and value
//! ranges, train/eval behaviour, determinism, checkpoints, and the PyTorch round trip. One test
//! binary (one libtorch link) with a module per topic. CPU always; CUDA when available.

mod checkpoints;
mod common;
mod counts;
mod modes;
mod mtcnn;
mod pytorch;
mod shapes;
