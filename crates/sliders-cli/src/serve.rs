//! `sliders serve`: resolves the device, opens the models through sliders-serve, prints the
//! page's URL on stdout (one line, `sliders serve: listening on <url>`, flushed, so scripts and
//! the browser test can read it), and serves until Ctrl-C.

use anyhow::{Context, Result};
use sliders_config::train::DeviceChoice;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The command's options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Run folders or checkpoints, applied in this order.
    pub models: Vec<PathBuf>,
    /// Port (0: any free one).
    pub port: u16,
    /// Address to bind.
    pub host: String,
    /// Upload limit in MB.
    pub max_upload_mb: u64,
    /// Test faces folder.
    pub faces: Option<PathBuf>,
    /// Device choice.
    pub device: DeviceChoice,
    /// Where to save uploads (never, by default).
    pub save_uploads: Option<PathBuf>,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Session time-to-live.
    pub session_ttl: Duration,
    /// How large an uploaded photo may be.
    pub limits: sliders_celeba::DecodeLimits,
    /// MB concurrent uploads may hold while decoded.
    pub memory_budget_mb: u64,
    /// Model passes at once (0: one per core, at most 8).
    pub workers: usize,
}

/// Runs `sliders serve` until Ctrl-C.
pub fn run(o: Options) -> Result<()> {
    let device = sliders_train::device::resolve(o.device)?;
    tracing::info!("models run on {}", sliders_train::device::name(device));
    let opts = sliders_serve::ServeOptions {
        models: o.models,
        host: o.host,
        port: o.port,
        max_upload_mb: o.max_upload_mb,
        faces: o.faces,
        device,
        save_uploads: o.save_uploads,
        max_sessions: o.max_sessions,
        session_ttl: o.session_ttl,
        limits: o.limits,
        memory_budget_mb: o.memory_budget_mb,
        workers: o.workers,
    };
    sliders_serve::run(&opts, |url| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "sliders serve: listening on {url}");
        let _ = out.flush();
    })
    .context("sliders serve")
}
