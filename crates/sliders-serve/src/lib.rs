//! sliders-serve: `sliders serve`, a local web page with one slider per attribute of trained
//! Fader Networks / IcGAN models ("manipulating images by sliding attributes"). Upload a photo
//! or pick a test face; the original and the edited face show side by side, and moving a slider
//! re-runs only the decoder (the encoder runs once per photo and model).
//!
//! - [`routes`]: the HTTP API and the shared state;
//! - [`sessions`]: per-user sessions (random token, cached latents, bounded count and TTL);
//! - [`models`]: the loaded models, request checking, and how several models combine (in
//!   sequence, `--model` order);
//! - [`upload`]: upload validation (type, size, header within the decode limits, decodable), in
//!   memory only;
//! - [`guard`]: the memory budget and worker slots (503 + `Retry-After` when full), panics caught
//!   as 500, `Host` checking on loopback (DNS rebinding);
//! - [`faces`]: the test faces offered on the page;
//! - [`page`]: the embedded HTML/JS/CSS page;
//! - [`error`]: errors and their JSON answers.
//!
//! ```no_run
//! let opts = sliders_serve::ServeOptions {
//!     models: vec!["data/runs/smoke/fader-smiling".into()],
//!     ..Default::default()
//! };
//! sliders_serve::run(&opts, |url| println!("{url}"))?;
//! # Ok::<(), sliders_serve::ServeError>(())
//! ```

pub mod error;
pub mod faces;
pub mod guard;
pub mod models;
pub mod page;
pub mod routes;
pub mod sessions;
pub mod upload;

pub use error::{Result, ServeError};
pub use models::{EditRequest, LoadedModel, Models};
pub use routes::{AppState, router};

use sessions::Sessions;
use sliders_celeba::DecodeLimits;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything `sliders serve` is told.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Run folders or checkpoints, applied in this order.
    pub models: Vec<PathBuf>,
    /// Address to bind (default 127.0.0.1: this machine only).
    pub host: String,
    /// Port (0: any free one; the bound URL is reported).
    pub port: u16,
    /// Upload limit in MB.
    pub max_upload_mb: u64,
    /// A folder of test faces (default: the first model's test split).
    pub faces: Option<PathBuf>,
    /// Where the models run.
    pub device: tch::Device,
    /// Save uploads into this folder (default: never written to disk).
    pub save_uploads: Option<PathBuf>,
    /// Most sessions held at once.
    pub max_sessions: usize,
    /// A session unused this long is dropped.
    pub session_ttl: Duration,
    /// How large an uploaded photo may be (`--max-image-side`, `--max-image-pixels`,
    /// `--max-image-mb`), checked from its header before it is decoded.
    pub limits: DecodeLimits,
    /// MB that concurrent uploads may hold while they are decoded (`--memory-budget-mb`); an
    /// upload that does not fit now is answered 503 with `Retry-After`.
    pub memory_budget_mb: u64,
    /// Model passes run at once (`--workers`; 0: one per core, at most 8).
    pub workers: usize,
}

/// Default `--memory-budget-mb`: two default-limit photos (40 Mpx: 120 MB as RGB8, 280 MB at
/// the decode's peak) at once, or many phone photos.
pub const DEFAULT_MEMORY_BUDGET_MB: u64 = 1024;

/// The most bytes of uploads the sessions keep (for the download's paste-back into the full
/// photo), on top of `--max-sessions`: the least recently used session goes first.
pub const SESSION_PHOTOS_MB: usize = 256;

/// The worker count `0` stands for: one per core, at most 8.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8)
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            host: "127.0.0.1".into(),
            port: 8080,
            max_upload_mb: 10,
            faces: None,
            device: tch::Device::Cpu,
            save_uploads: None,
            max_sessions: 64,
            session_ttl: Duration::from_secs(30 * 60),
            limits: DecodeLimits::default(),
            memory_budget_mb: DEFAULT_MEMORY_BUDGET_MB,
            workers: 0,
        }
    }
}

/// Opens the models and the test faces: the state a [`router`] serves.
pub fn state(opts: &ServeOptions) -> Result<AppState> {
    if opts.max_upload_mb == 0 {
        return Err(ServeError::Models {
            what: "--max-upload-mb 0 would refuse every photo".into(),
            fix: "give a limit of at least 1 MB".into(),
        });
    }
    if opts.memory_budget_mb == 0 {
        return Err(ServeError::Models {
            what: "--memory-budget-mb 0 would refuse every photo".into(),
            fix: format!("give a budget of at least 64 MB (default {DEFAULT_MEMORY_BUDGET_MB})"),
        });
    }
    let models = Models::open(&opts.models, opts.device)?;
    let faces = match &opts.faces {
        Some(dir) => faces::from_dir(dir)?,
        None => faces::from_run(&opts.models[0]),
    };
    tracing::info!("{} test faces: {}", faces.faces.len(), faces.source);
    let workers = match opts.workers {
        0 => default_workers(),
        n => n,
    };
    let loopback = opts.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    let finder = match sliders_edit::faces::FaceFinder::load() {
        Ok(f) => Some(std::sync::Mutex::new(f)),
        Err(e) => {
            tracing::warn!(
                "{e}; uploads are framed by the CelebA crop (178:218 photos) or a centred square, \
                 without face detection"
            );
            None
        }
    };
    Ok(AppState {
        limits: opts.limits,
        guard: guard::Limits::new(opts.memory_budget_mb, workers),
        check_host: loopback,
        models,
        sessions: Sessions::new(opts.max_sessions, SESSION_PHOTOS_MB << 20, opts.session_ttl),
        faces,
        max_upload: usize::try_from(opts.max_upload_mb.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        save_uploads: opts.save_uploads.clone(),
        finder,
    })
}

/// Serves `state` on `host:port` until Ctrl-C; `on_bound` gets the page's URL once listening.
pub async fn serve(
    state: AppState,
    host: &str,
    port: u16,
    on_bound: impl FnOnce(&str),
) -> Result<()> {
    let ip: IpAddr = host.parse().map_err(|e| ServeError::Bind {
        addr: host.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")),
    })?;
    if !ip.is_loopback() {
        tracing::warn!(
            "listening on {ip}: anyone who can reach this address can upload photos and use the \
             models (the default, 127.0.0.1, is this machine only)"
        );
    }
    let addr = SocketAddr::new(ip, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| ServeError::Io {
        what: "reading the bound address".into(),
        source,
    })?;
    on_bound(&format!("http://{bound}/"));
    axum::serve(listener, router(Arc::new(state)))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|source| ServeError::Io {
            what: "serving".into(),
            source,
        })
}

/// Opens everything, then serves on a new tokio runtime until Ctrl-C (the CLI's entry point).
pub fn run(opts: &ServeOptions, on_bound: impl FnOnce(&str)) -> Result<()> {
    let state = state(opts)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io {
            what: "starting the tokio runtime".into(),
            source,
        })?;
    rt.block_on(serve(state, &opts.host, opts.port, on_bound))
}
