//! Logging for the binary: `tracing` events to stderr (info by default, `RUST_LOG` to change) and,
//! for runs, to a log file in the run folder. Only the binary installs a subscriber.

use anyhow::{Context, Result};
use std::path::Path;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

/// Installs the subscriber; with `file`, every line is also appended there.
pub fn init(file: Option<&Path>) -> Result<()> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match file {
        Some(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the log file {}", path.display()))?;
            let writer = std::io::stderr.and(std::sync::Mutex::new(f));
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(writer)
                .try_init();
        }
        None => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(std::io::stderr)
                .try_init();
        }
    }
    Ok(())
}
