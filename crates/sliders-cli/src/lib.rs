//! sliders-cli: the library half of the `sliders` binary (the commands' logic, testable without
//! spawning the binary). Only this crate installs a logger or draws progress bars.

pub mod bench;
pub mod digits;
pub mod edit;
pub mod eval;
pub mod info;
pub mod logging;
pub mod report;
pub mod run_folder;
pub mod serve;
pub mod train;
