//! Hostile requests against the router (issue #22): every hostile image upload gets a 4xx JSON
//! answer and the server answers the next normal request (findings 1-3: header bombs, the RGBA
//! giant, truncated files); the memory budget answers 503 with `Retry-After` instead of queueing;
//! a `Host` that is not loopback is refused (DNS rebinding); the page never sees an absolute path;
//! slider values go through sliders-edit's one range check.

#[path = "../../sliders-celeba/tests/hostile_files/mod.rs"]
mod hostile;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sliders_config::nets::FaderConfig;
use sliders_nets::{FaderAutoEncoder, checkpoint};
use sliders_serve::{AppState, ServeOptions, router};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tch::{Device, nn::VarStore};
use tower::ServiceExt;

/// A Fader run folder `dir/name` with a random 16 px autoencoder for Smiling.
fn fader_run(dir: &Path, name: &str) -> PathBuf {
    let run = dir.join(name);
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 16,
        n_attr: 2,
        ..FaderConfig::small(16)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        run.join("best_accu_ae.safetensors"),
        &[
            ("sliders.attributes", r#"["Smiling"]"#),
            ("sliders.framing", "fader"),
            ("sliders.image_size", "16"),
        ],
    )
    .unwrap();
    run
}

struct Fixture {
    tmp: tempfile::TempDir,
    state: Arc<AppState>,
}

fn fixture(memory_budget_mb: u64) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let faces = tmp.path().join("faces");
    std::fs::create_dir_all(&faces).unwrap();
    std::fs::write(faces.join("a.png"), hostile::good_png()).unwrap();
    let opts = ServeOptions {
        models: vec![fader_run(tmp.path(), "fader-smiling")],
        faces: Some(faces),
        memory_budget_mb,
        ..Default::default()
    };
    let state = Arc::new(sliders_serve::state(&opts).unwrap());
    Fixture { tmp, state }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_string()
    }
}

async fn call(state: &Arc<AppState>, req: Request<Body>) -> Answer {
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn upload(bytes: Vec<u8>) -> Request<Body> {
    Request::post("/api/sessions")
        .header("content-type", "image/png")
        .body(Body::from(bytes))
        .unwrap()
}

async fn normal_request_works(state: &Arc<AppState>) {
    let a = call(state, upload(hostile::good_png())).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.error());
    let id = a.json()["session"].as_str().unwrap().to_string();
    let req = Request::post(format!("/api/sessions/{id}/edit"))
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"models": [{"model": 0, "values": {"Smiling": 1.5}}]}"#,
        ))
        .unwrap();
    let a = call(state, req).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["content-type"], "image/png");
}

/// Findings 1-3 through the router: bombs and the giant 413 (naming the limit), truncated,
/// empty and wrong-magic files 422, each as JSON; then a normal upload and edit still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_upload_is_a_json_4xx_and_the_server_goes_on() {
    let f = fixture(1024);
    for (name, bytes) in hostile::all_cases() {
        let a = call(&f.state, upload(bytes)).await;
        let err = a.error();
        let (want, says) = if name.contains("bomb") || name.contains("giant") {
            (StatusCode::PAYLOAD_TOO_LARGE, "--max-image-")
        } else if name.starts_with("truncated") {
            (StatusCode::UNPROCESSABLE_ENTITY, "cut short")
        } else if name.starts_with("empty") {
            (StatusCode::UNPROCESSABLE_ENTITY, "empty")
        } else {
            (StatusCode::UNPROCESSABLE_ENTITY, "not a JPEG or PNG")
        };
        assert_eq!(a.status, want, "{name}: {err}");
        assert!(err.contains(says), "{name}: `{err}` does not say `{says}`");
    }
    normal_request_works(&f.state).await;
}

/// Concurrent hostile uploads (bombs and giants at once) all get their 4xx; nothing is queued
/// without bound and the budget is whole again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bombs_and_giants_are_refused_and_the_budget_comes_back() {
    let f = fixture(256);
    let giant = hostile::rgba_giant(12_000, 12_000);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let body = match i % 3 {
            0 => hostile::png_bomb(100_000, 100_000),
            1 => hostile::jpeg_bomb(60_000, 60_000),
            _ => giant.clone(),
        };
        let st = f.state.clone();
        tasks.push(tokio::spawn(async move { call(&st, upload(body)).await }));
    }
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.error());
    }
    assert_eq!(f.state.guard.memory_free_mb(), 256);
    normal_request_works(&f.state).await;
}

/// A photo within the limits that does not fit the budget now is answered 503 with
/// `Retry-After` at once; once the budget is free it is accepted. One that can never fit is 413.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_budget_answers_503_with_retry_after() {
    let f = fixture(100);
    let held = f.state.guard.acquire(90).await.unwrap();
    let a = call(&f.state, upload(hostile::good_png())).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.error());
    assert_eq!(a.headers["retry-after"], "2");
    assert!(a.error().contains("memory budget"), "{}", a.error());
    drop(held);
    normal_request_works(&f.state).await;
    // 5000x5000 RGBA: about 180 MB at the decode's peak, more than the whole 100 MB budget.
    let a = call(&f.state, upload(hostile::rgba_giant(5_000, 5_000))).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.error());
    assert!(a.error().contains("--memory-budget-mb"), "{}", a.error());
}

/// DNS rebinding: on loopback, a `Host` that is not this machine gets 421; loopback names with
/// any port pass.
#[tokio::test]
async fn a_foreign_host_header_is_refused_on_loopback() {
    let f = fixture(1024);
    let get = |host: &str| {
        Request::get("/api/models")
            .header("host", host)
            .body(Body::empty())
            .unwrap()
    };
    for host in ["evil.example", "evil.example:8080", "127.0.0.1.nip.io"] {
        let a = call(&f.state, get(host)).await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(a.error().contains("not this machine"), "{}", a.error());
    }
    for host in ["localhost:8080", "127.0.0.1:1234", "[::1]:80", "localhost"] {
        assert_eq!(
            call(&f.state, get(host)).await.status,
            StatusCode::OK,
            "{host}"
        );
    }
}

/// The page is told model and folder names, never paths on the server's disk.
#[tokio::test]
async fn no_absolute_path_reaches_the_page() {
    let f = fixture(1024);
    let abs = f.tmp.path().display().to_string();
    for uri in ["/api/models", "/api/faces"] {
        let a = call(&f.state, Request::get(uri).body(Body::empty()).unwrap()).await;
        let text = String::from_utf8_lossy(&a.body).into_owned();
        assert_eq!(a.status, StatusCode::OK);
        assert!(!text.contains(&abs), "{uri} shows {abs}: {text}");
    }
    let a = call(
        &f.state,
        Request::get("/api/models").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.json()["models"][0]["name"], "fader-smiling");
}

/// The slider range check is sliders-edit's `check_alpha`, the one `sliders edit --set` uses.
#[tokio::test]
async fn slider_values_go_through_the_shared_range_check() {
    let f = fixture(1024);
    let a = call(&f.state, upload(hostile::good_png())).await;
    let id = a.json()["session"].as_str().unwrap().to_string();
    let req = Request::post(format!("/api/sessions/{id}/edit"))
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"models": [{"model": 0, "values": {"Smiling": 1e30}}]}"#,
        ))
        .unwrap();
    let a = call(&f.state, req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let shared = sliders_edit::model::check_alpha("Smiling", 1e30, (-1.0, 3.0))
        .unwrap_err()
        .to_string();
    assert!(a.error().ends_with(&shared), "{} vs {shared}", a.error());
}
