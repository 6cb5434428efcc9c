//! sliders-config: serde types for every knob of the pipeline (data, networks, training,
//! evaluation), each documented with the paper's symbol and default; the experiment as a header
//! plus its kind's sections; layered loading through the `config` crate (defaults, experiment
//! file, profile, `SLIDERS__SECTION__KEY` environment variables) and validation into checked
//! types; what a run folder records about itself (provenance, `metrics.csv`), read back
//! without tch; the evaluation's `results.csv` (`results`), written and read as one type; the run layout and the pipeline description of a profile (run folders, model
//! files, stages; docs/architecture.md#run-folders).

pub mod data;
pub mod eval;
pub mod layout;
pub mod load;
pub mod nets;
pub mod paper;
pub mod pipeline;
pub mod restart;
pub mod results;
pub mod run_record;
pub mod train;
pub mod validate;
pub mod wall_clock;
