//! What keeps `sliders serve` alive under hostile requests: a memory budget counted in MB from
//! an upload's header before it is decoded (a request that does not fit now gets 503 with
//! `Retry-After`, never an unbounded queue), a bounded pool of worker slots for model passes, panics
//! in request work caught and answered 500, and `Host` checking when bound to loopback (DNS
//! rebinding: a page on another site that resolves its own name to 127.0.0.1 must not reach the
//! models).
//!
//! Memory of an upload (see `sliders_celeba::decode`): its peak decode size (decoder buffer or
//! RGB8 image, plus a copy when an EXIF orientation rotates it) and [`REQUEST_OVERHEAD_MB`] for
//! framing, the model passes and the PNG answer, and with the face detector its pyramid
//! ([`detect_cost_mb`]). The full-size photo is dropped as soon as the face is framed and
//! resized to the models' side `S`; sessions keep `S`x`S` faces and the upload's bytes. A
//! download decodes those again and counts [`download_cost_mb`].

use crate::error::{Result, ServeError};
use axum::extract::{Request, State};
use axum::http::header::HOST;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// MB counted per request on top of the decode (framing, model passes at `S` px, the PNG).
pub const REQUEST_OVERHEAD_MB: u64 = 16;
/// Seconds a client is told to wait when the budget or the workers are busy.
pub const RETRY_AFTER_S: u64 = 2;
/// Longest a request waits for a worker slot before it is answered 503.
pub const WORKER_WAIT: Duration = Duration::from_secs(20);

/// The memory budget and the worker slots of one server.
#[derive(Debug)]
pub struct Limits {
    memory: Arc<Semaphore>,
    memory_mb: u64,
    workers: Arc<Semaphore>,
    worker_count: usize,
}

/// What a running request holds; dropping it returns the memory and the worker slot.
#[derive(Debug)]
pub struct Permit {
    _memory: Option<OwnedSemaphorePermit>,
    _worker: OwnedSemaphorePermit,
}

impl Limits {
    /// A budget of `memory_mb` MB (at least 1) shared by at most `workers` concurrent passes (at
    /// least 1).
    pub fn new(memory_mb: u64, workers: usize) -> Self {
        let memory_mb = memory_mb.clamp(1, u64::from(u32::MAX));
        let workers = workers.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            memory: Arc::new(Semaphore::new(memory_mb as usize)),
            memory_mb,
            workers: Arc::new(Semaphore::new(workers)),
            worker_count: workers,
        }
    }

    /// The whole budget in MB.
    pub fn memory_mb(&self) -> u64 {
        self.memory_mb
    }

    /// The number of worker slots.
    pub fn workers(&self) -> usize {
        self.worker_count
    }

    /// MB free in the budget now.
    pub fn memory_free_mb(&self) -> u64 {
        self.memory.available_permits() as u64
    }

    /// Takes `cost_mb` of the budget at once (503 when it is in use, 413 when it can never fit)
    /// and then a worker slot (waiting up to [`WORKER_WAIT`], then 503).
    pub async fn acquire(&self, cost_mb: u64) -> Result<Permit> {
        let memory = if cost_mb == 0 {
            None
        } else if cost_mb > self.memory_mb {
            return Err(ServeError::ImageTooLarge(format!(
                "decoding this photo needs about {cost_mb} MB, more than the server's whole \
                 memory budget of {} MB; fix: send a smaller photo, or start the server with a \
                 larger --memory-budget-mb",
                self.memory_mb
            )));
        } else {
            Some(
                self.memory
                    .clone()
                    .try_acquire_many_owned(cost_mb as u32)
                    .map_err(|_| ServeError::Busy {
                        what: format!(
                            "the server is decoding other photos: this one needs about {cost_mb} \
                             MB of the {} MB memory budget ({} MB free now)",
                            self.memory_mb,
                            self.memory_free_mb()
                        ),
                        retry_after_s: RETRY_AFTER_S,
                    })?,
            )
        };
        let worker = tokio::time::timeout(WORKER_WAIT, self.workers.clone().acquire_owned())
            .await
            .ok()
            .and_then(|r| r.ok())
            .ok_or_else(|| ServeError::Busy {
                what: format!(
                    "all {} workers stayed busy for {} s",
                    self.worker_count,
                    WORKER_WAIT.as_secs()
                ),
                retry_after_s: RETRY_AFTER_S,
            })?;
        Ok(Permit {
            _memory: memory,
            _worker: worker,
        })
    }
}

/// The budget an upload needs, in MB, from its header's peak decode size.
pub fn cost_mb(probe: &sliders_celeba::decode::Probe) -> u64 {
    probe.peak_bytes().div_ceil(1 << 20) + REQUEST_OVERHEAD_MB
}

/// Bytes the face detector holds per pixel of the photo it searches (a copy at most
/// `sliders_edit::faces::DETECT_SIDE` = 1600 px a side): P-Net's first pyramid level is that
/// photo at scale 0.6 (0.36 of its pixels) with 3 input and 10 to 32 feature channels in f32,
/// about 160 bytes per cell if every layer's output were alive at once (58 per photo pixel),
/// plus the RGB copy itself; rounded up to 64.
pub const DETECT_BYTES_PER_PIXEL: u64 = 64;

/// The longest side of the copy the detector searches (`sliders_edit::faces::DETECT_SIDE`).
const DETECT_SIDE: u64 = sliders_edit::faces::DETECT_SIDE as u64;

/// MB counted on top of [`cost_mb`] when the face detector runs on the photo `probe`
/// describes: [`DETECT_BYTES_PER_PIXEL`] per pixel of its searched copy (at most 1600 px a
/// side: about 120 MB for a 4:3 photo of that size or larger, 3 MB for a 178×218 one) and the
/// working copy a `Photo` keeps for aligned faces (at most 2048 px a side, 12.6 MB).
pub fn detect_cost_mb(probe: &sliders_celeba::decode::Probe) -> u64 {
    let (w, h) = (u64::from(probe.width), u64::from(probe.height));
    let side = w.max(h).max(1);
    let searched = if side <= DETECT_SIDE {
        w * h
    } else {
        (w * DETECT_SIDE / side).max(1) * (h * DETECT_SIDE / side).max(1)
    };
    let kept = (w * h).min(2048 * 2048) * 3;
    (searched * DETECT_BYTES_PER_PIXEL + kept).div_ceil(1 << 20)
}

/// The budget a download needs, in MB: the upload decoded again, the pasted copy of it and
/// its PNG encoding (at most about its raw size).
pub fn download_cost_mb(probe: &sliders_celeba::decode::Probe) -> u64 {
    let rgb = (u64::from(probe.width) * u64::from(probe.height) * 3).div_ceil(1 << 20);
    cost_mb(probe) + 2 * rgb
}

/// Runs `f` on tokio's blocking pool holding `permit`; a panic in `f` is caught and answered
/// 500 (the process and the other requests go on).
pub async fn blocking<T: Send + 'static>(
    permit: Permit,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let joined = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await;
    match joined {
        Ok(r) => r,
        Err(e) if e.is_panic() => Err(ServeError::Internal(format!(
            "the request's work panicked ({}); the server goes on",
            panic_message(e.into_panic())
        ))),
        Err(e) => Err(ServeError::Internal(format!("worker task failed: {e}"))),
    }
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Middleware: runs the rest of the request in its own task, so that a panic anywhere in a
/// handler is answered 500 with a JSON error instead of dropping the connection.
pub async fn catch_panic(req: Request, next: Next) -> Response {
    match tokio::spawn(next.run(req)).await {
        Ok(resp) => resp,
        Err(e) => {
            let what = if e.is_panic() {
                panic_message(e.into_panic())
            } else {
                e.to_string()
            };
            axum::response::IntoResponse::into_response(ServeError::Internal(format!(
                "the request panicked ({what}); the server goes on"
            )))
        }
    }
}

/// Whether `host` (a `Host` header: name or address, optional port) names this machine's
/// loopback: `localhost`, `127.0.0.1` or `[::1]`, with any port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inner, port)) if port.is_empty() || port.starts_with(':') => inner,
            _ => return false,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            Some(_) => return false,
            None => host,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    matches!(name.as_str(), "localhost" | "127.0.0.1" | "::1")
}

/// Middleware (when bound to loopback): a request whose `Host` is not a loopback name is
/// answered 421 with a JSON error. A request without `Host` (not a browser: HTTP/1.0 clients on
/// this machine) passes.
pub async fn check_host(State(on): State<bool>, req: Request, next: Next) -> Response {
    if on && let Some(h) = req.headers().get(HOST) {
        let host = String::from_utf8_lossy(h.as_bytes()).into_owned();
        if !is_loopback_host(&host) {
            return axum::response::IntoResponse::into_response(ServeError::WrongHost(
                host.chars().take(80).collect(),
            ));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[test]
    fn loopback_hosts_with_any_port_pass_and_others_do_not() {
        for ok in [
            "localhost",
            "localhost:8080",
            "127.0.0.1",
            "127.0.0.1:1",
            "[::1]",
            "[::1]:8080",
            "LOCALHOST:80",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "localhost.evil:80",
            "[::2]:80",
            "10.0.0.1",
            "localhost:x",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_budget_refuses_at_once_when_in_use_and_frees_on_drop() {
        let l = Limits::new(100, 4);
        let a = l.acquire(60).await.unwrap();
        let e = l.acquire(60).await.unwrap_err();
        assert_eq!(e.status(), 503);
        assert!(e.to_string().contains("40 MB free"), "{e}");
        let e = l.acquire(101).await.unwrap_err();
        assert_eq!(e.status(), 413);
        assert!(e.to_string().contains("--memory-budget-mb"), "{e}");
        drop(a);
        assert!(l.acquire(100).await.is_ok());
    }

    #[tokio::test]
    async fn a_panic_in_blocking_work_is_a_500_and_the_pool_goes_on() {
        let l = Limits::new(10, 1);
        let p = l.acquire(1).await.unwrap();
        let e = blocking(p, || -> Result<()> { panic!("boom") })
            .await
            .unwrap_err();
        assert_eq!(e.status(), 500);
        assert!(e.to_string().contains("boom"), "{e}");
        // The permit came back: the one worker slot is free again.
        let p = l.acquire(10).await.unwrap();
        assert_eq!(blocking(p, || Ok(7)).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_json() {
        async fn boom() -> &'static str {
            panic!("handler bug")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/ok", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(catch_panic));
        for _ in 0..2 {
            let req = axum::http::Request::get("/boom")
                .body(Body::empty())
                .unwrap();
            let resp = app.clone().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), 500);
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            assert!(ct.contains("json"), "{ct}");
        }
        let req = axum::http::Request::get("/ok").body(Body::empty()).unwrap();
        assert_eq!(app.oneshot(req).await.unwrap().status(), 200);
    }
}
