//! sliders-serve's HTTP API end to end on tiny random models (16 px, saved with the metadata
//! `sliders train` writes): uploads and test faces, edits that change pixels, the encoder run
//! once per photo, the chain of two models, every malformed request answered with a 4xx and a
//! JSON error, two concurrent sessions that never mix their images, and a real server on an
//! ephemeral loopback port.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use sliders_nets::checkpoint;
use sliders_serve::{AppState, LoadedModel, Models, ServeOptions, router};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tch::{Device, nn::VarStore};
use tower::ServiceExt;

const SIZE: i64 = 16;
/// Gain on the random convolution weights (see `fader_run`).
const WEIGHT_GAIN: f64 = 4.0;

/// A Fader run folder `dir/name` with a random 16 px autoencoder for `attrs`.
fn fader_run(dir: &Path, name: &str, attrs: &[&str], size: i64) -> PathBuf {
    let run = dir.join(name);
    let cfg = FaderConfig {
        init_fm: 8,
        max_fm: 32,
        n_attr: 2 * attrs.len() as i64,
        ..FaderConfig::small(size)
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    // Random convolutions at the reference's N(0, 0.02) init shrink the signal at every layer
    // (batch norm in eval mode does not renormalise it), so the output of an untrained model
    // barely depends on its input. Larger weights make each photo decode to its own image.
    tch::no_grad(|| {
        for (name, mut t) in vs.variables() {
            if name.ends_with("weight") && t.dim() == 4 {
                let _ = t.f_mul_scalar_(WEIGHT_GAIN).unwrap();
            }
        }
    });
    let names = serde_json::to_string(attrs).unwrap();
    let size = size.to_string();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        run.join("best_accu_ae.safetensors"),
        &[
            ("sliders.attributes", names.as_str()),
            ("sliders.framing", "fader"),
            ("sliders.image_size", size.as_str()),
        ],
    )
    .unwrap();
    run
}

/// A synthetic face (aligned-CelebA shape) as PNG bytes; `seed` picks the face.
fn face_png(seed: u64) -> Vec<u8> {
    let w = 64;
    let h = sliders_celeba::synthetic::height_for(w);
    let p = &sliders_celeba::synthetic::faces(1, seed)[0];
    let img = sliders_celeba::synthetic::render(p, w, h);
    sliders_serve::upload::png(&img).unwrap()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    state: Arc<AppState>,
}

/// Two Fader models (Smiling, then Male) and a folder of two test faces.
fn fixture(max_upload_mb: u64) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let a = fader_run(tmp.path(), "fader-smiling", &["Smiling"], SIZE);
    let b = fader_run(tmp.path(), "fader-male", &["Male"], SIZE);
    let faces = tmp.path().join("faces");
    std::fs::create_dir_all(&faces).unwrap();
    for i in 0..2 {
        std::fs::write(faces.join(format!("face{i}.png")), face_png(i)).unwrap();
    }
    let opts = ServeOptions {
        models: vec![a, b],
        max_upload_mb,
        faces: Some(faces),
        ..Default::default()
    };
    let state = Arc::new(sliders_serve::state(&opts).unwrap());
    Fixture { _tmp: tmp, state }
}

async fn call(state: &Arc<AppState>, req: Request<Body>) -> (StatusCode, String, Vec<u8>) {
    let resp = router(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, ct: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", ct)
        .body(body.into())
        .unwrap()
}

async fn upload(state: &Arc<AppState>, png: Vec<u8>) -> String {
    let (status, _, body) = call(state, post("/api/sessions", "image/png", png)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["session"].as_str().unwrap().to_string()
}

async fn edit(state: &Arc<AppState>, session: &str, body: serde_json::Value) -> Vec<u8> {
    let (status, ct, bytes) = call(
        state,
        post(
            &format!("/api/sessions/{session}/edit"),
            "application/json",
            body.to_string(),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(ct, "image/png");
    bytes
}

fn pixels(png: &[u8]) -> image::RgbImage {
    image::load_from_memory(png).unwrap().to_rgb8()
}

fn smiling(v: f64) -> serde_json::Value {
    serde_json::json!({"models": [{"model": 0, "values": {"Smiling": v}}]})
}

#[tokio::test]
async fn the_page_models_and_faces_are_served() {
    let f = fixture(10);
    let (status, ct, body) = call(&f.state, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(ct.starts_with("text/html"));
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("data-testid=\"edited\"")
    );
    let (status, _, body) = call(&f.state, get("/api/models")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["models"][0]["name"], "fader-smiling");
    assert_eq!(v["models"][0]["attributes"][0], "Smiling");
    assert_eq!(v["models"][1]["attributes"][0], "Male");
    assert_eq!(v["models"][0]["min"], -1.0);
    assert_eq!(v["models"][0]["max"], 3.0);
    assert!(v["combine"].as_str().unwrap().contains("in sequence"));
    let (_, _, body) = call(&f.state, get("/api/faces")).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["faces"].as_array().unwrap().len(), 2);
    let (status, ct, body) = call(&f.state, get("/api/faces/1")).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    assert_eq!(body, face_png(1));
}

#[tokio::test]
async fn an_upload_is_framed_and_moving_a_slider_changes_the_edit() {
    let f = fixture(10);
    let s = upload(&f.state, face_png(3)).await;
    let (status, ct, original) =
        call(&f.state, get(&format!("/api/sessions/{s}/original.png"))).await;
    assert_eq!((status, ct.as_str()), (StatusCode::OK, "image/png"));
    assert_eq!(pixels(&original).dimensions(), (16, 16));
    let low = pixels(&edit(&f.state, &s, smiling(-1.0)).await);
    let high = pixels(&edit(&f.state, &s, smiling(3.0)).await);
    assert_eq!(low.dimensions(), (16, 16));
    let changed = low
        .pixels()
        .zip(high.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(changed > 0, "Smiling -1 and 3 decode to the same image");
    // The same setting gives the same image (a cached latent, deterministic eval mode).
    assert_eq!(low, pixels(&edit(&f.state, &s, smiling(-1.0)).await));
    // No model applied: the framed face itself.
    let none = edit(&f.state, &s, serde_json::json!({"models": []})).await;
    assert_eq!(pixels(&none), pixels(&original));
    // A test face opens a session the same way.
    let (status, _, body) = call(&f.state, post("/api/sessions/from-face/0", "", "")).await;
    assert_eq!(status, StatusCode::CREATED);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["defaults"], serde_json::json!([[0.5], [0.5]]));
}

#[tokio::test]
async fn the_encoder_runs_once_per_photo_and_the_decoder_per_slider_move() {
    let f = fixture(10);
    let [a, b] = [&f.state.models.list()[0], &f.state.models.list()[1]];
    let s = upload(&f.state, face_png(4)).await;
    assert_eq!(
        (a.encodes(), b.encodes()),
        (1, 1),
        "one encoder pass per model"
    );
    for i in 0..8 {
        edit(&f.state, &s, smiling(-1.0 + 0.5 * f64::from(i))).await;
    }
    assert_eq!(
        (a.encodes(), b.encodes()),
        (1, 1),
        "slider moves re-encoded"
    );
    assert_eq!(a.decodes(), 8);
    // Both models applied: the second re-encodes the first's output once per setting of the
    // first, and moving only the second's slider costs one decoder pass.
    let both = |smile: f64, male: f64| {
        serde_json::json!({"models": [
            {"model": 1, "values": {"Male": male}},
            {"model": 0, "values": {"Smiling": smile}},
        ]})
    };
    edit(&f.state, &s, both(1.0, 0.0)).await;
    assert_eq!(b.encodes(), 2);
    for male in [0.25, 0.5, 1.5, 2.0] {
        edit(&f.state, &s, both(1.0, male)).await;
    }
    assert_eq!(
        (a.encodes(), b.encodes()),
        (1, 2),
        "moving the last model re-encoded"
    );
    edit(&f.state, &s, both(2.0, 2.0)).await;
    assert_eq!(
        (a.encodes(), b.encodes()),
        (1, 3),
        "the chain re-encodes after a change upstream"
    );
    // A chained edit differs from the first model's edit alone.
    let alone = pixels(&edit(&f.state, &s, smiling(2.0)).await);
    let chained = pixels(&edit(&f.state, &s, both(2.0, 2.0)).await);
    assert_ne!(alone, chained);
    // A second photo: one more encoder pass per model.
    upload(&f.state, face_png(5)).await;
    assert_eq!((a.encodes(), b.encodes()), (2, 4));
}

/// Every malformed request: a 4xx status and a JSON `{"error": ...}` naming the problem.
#[tokio::test]
async fn malformed_requests_get_4xx_and_a_json_error() {
    let f = fixture(1);
    let s = upload(&f.state, face_png(6)).await;
    let edit_uri = format!("/api/sessions/{s}/edit");
    let json = "application/json";
    let big = vec![0u8; (1 << 20) + 1];
    let text = |v: serde_json::Value| v.to_string();
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "bad JSON",
            post(&edit_uri, json, "{\"models\": [}"),
            StatusCode::BAD_REQUEST,
            "bad edit request",
        ),
        (
            "JSON of the wrong shape",
            post(&edit_uri, json, text(serde_json::json!({"model": 0}))),
            StatusCode::BAD_REQUEST,
            "bad edit request",
        ),
        (
            "unknown attribute",
            post(
                &edit_uri,
                json,
                text(serde_json::json!({"models": [{"model": 0, "values": {"Smilng": 1}}]})),
            ),
            StatusCode::BAD_REQUEST,
            "unknown attribute `Smilng`",
        ),
        (
            "attribute of the other model",
            post(
                &edit_uri,
                json,
                text(serde_json::json!({"models": [{"model": 0, "values": {"Male": 1}}]})),
            ),
            StatusCode::BAD_REQUEST,
            "it has: Smiling",
        ),
        (
            "value above the range",
            post(&edit_uri, json, text(smiling(3.5))),
            StatusCode::BAD_REQUEST,
            "outside the slider range",
        ),
        (
            "value below the range",
            post(&edit_uri, json, text(smiling(-7.0))),
            StatusCode::BAD_REQUEST,
            "outside the slider range",
        ),
        (
            "NaN",
            post(
                &edit_uri,
                json,
                "{\"models\": [{\"model\": 0, \"values\": {\"Smiling\": NaN}}]}",
            ),
            StatusCode::BAD_REQUEST,
            "bad edit request",
        ),
        (
            "infinite number",
            post(
                &edit_uri,
                json,
                "{\"models\": [{\"model\": 0, \"values\": {\"Smiling\": 1e999}}]}",
            ),
            StatusCode::BAD_REQUEST,
            "bad edit request",
        ),
        (
            "a string value",
            post(
                &edit_uri,
                json,
                "{\"models\": [{\"model\": 0, \"values\": {\"Smiling\": \"high\"}}]}",
            ),
            StatusCode::BAD_REQUEST,
            "bad edit request",
        ),
        (
            "unknown model",
            post(
                &edit_uri,
                json,
                text(serde_json::json!({"models": [{"model": 7, "values": {}}]})),
            ),
            StatusCode::BAD_REQUEST,
            "unknown model 7",
        ),
        (
            "model twice",
            post(
                &edit_uri,
                json,
                text(
                    serde_json::json!({"models": [{"model": 0, "values": {}}, {"model": 0, "values": {}}]}),
                ),
            ),
            StatusCode::BAD_REQUEST,
            "listed twice",
        ),
        (
            "edit without JSON content type",
            post(&edit_uri, "text/plain", text(smiling(1.0))),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "application/json",
        ),
        (
            "unknown session",
            post(
                "/api/sessions/0123456789abcdef/edit",
                json,
                text(smiling(1.0)),
            ),
            StatusCode::NOT_FOUND,
            "unknown session",
        ),
        (
            "original of an unknown session",
            get("/api/sessions/nope/original.png"),
            StatusCode::NOT_FOUND,
            "unknown session",
        ),
        (
            "upload as text",
            post("/api/sessions", "text/plain", face_png(1)),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "image/jpeg or image/png",
        ),
        (
            "upload without content type",
            Request::post("/api/sessions")
                .body(Body::from(face_png(1)))
                .unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "(none)",
        ),
        (
            "oversized upload",
            post("/api/sessions", "image/png", big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "1 MB limit",
        ),
        (
            "oversized edit request",
            post(&edit_uri, json, vec![b' '; (1 << 20) + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "1 MB limit",
        ),
        (
            "undecodable upload",
            post("/api/sessions", "image/jpeg", "this is not a JPEG"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not a JPEG or PNG",
        ),
        (
            "truncated PNG",
            post("/api/sessions", "image/png", face_png(1)[..100].to_vec()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "cut short",
        ),
        (
            "empty upload",
            post("/api/sessions", "image/png", ""),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty",
        ),
        (
            "a photo smaller than the model",
            post(
                "/api/sessions",
                "image/png",
                sliders_serve::upload::png(&image::RgbImage::new(8, 8)).unwrap(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "smaller than the model",
        ),
        (
            "unknown test face",
            post("/api/sessions/from-face/99", "", ""),
            StatusCode::NOT_FOUND,
            "no test face",
        ),
        (
            "test face that is not a number",
            get("/api/faces/x"),
            StatusCode::NOT_FOUND,
            "no test face",
        ),
        (
            "unknown route",
            get("/api/nothing"),
            StatusCode::NOT_FOUND,
            "no such route",
        ),
        (
            "wrong method",
            get(&edit_uri),
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ),
    ];
    for (name, req, want, says) in cases {
        let (status, ct, body) = call(&f.state, req).await;
        let body = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, want, "{name}: {body}");
        assert_eq!(ct, "application/json", "{name}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let err = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: {body}"));
        assert!(err.contains(says), "{name}: `{err}` does not say `{says}`");
    }
    // The server still works after all that.
    edit(&f.state, &s, smiling(1.0)).await;
}

/// Two users at once: interleaved concurrent edits of two sessions each get their own photo.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sessions_never_mix_their_images() {
    let f = fixture(10);
    let s1 = upload(&f.state, face_png(7)).await;
    let s2 = upload(&f.state, face_png(8)).await;
    let values = [-1.0, 0.0, 1.0, 2.5];
    let mut expected = Vec::new();
    for s in [&s1, &s2] {
        let mut per = Vec::new();
        for v in values {
            per.push(edit(&f.state, s, smiling(v)).await);
        }
        expected.push(per);
    }
    assert_ne!(expected[0][0], expected[1][0], "the two photos edit alike");
    let mut tasks = Vec::new();
    for round in 0..6 {
        for (k, s) in [&s1, &s2].into_iter().enumerate() {
            for (j, v) in values.into_iter().enumerate() {
                let state = f.state.clone();
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    ((k, j, round), edit(&state, &s, smiling(v)).await)
                }));
            }
        }
    }
    for t in tasks {
        let ((k, j, round), png) = t.await.unwrap();
        assert!(
            png == expected[k][j],
            "session {k}, value {j}, round {round}: got another image"
        );
    }
}

#[test]
fn models_of_different_sizes_cannot_share_a_page() {
    let tmp = tempfile::tempdir().unwrap();
    let open = |p: &Path| LoadedModel::new(p, sliders_edit::Editor::open(p, Device::Cpu).unwrap());
    let a = fader_run(tmp.path(), "a", &["Smiling"], 16);
    let b = fader_run(tmp.path(), "b", &["Male"], 32);
    let err = Models::new(vec![open(&a), open(&b)]).unwrap_err();
    assert!(err.to_string().contains("32 px"), "{err}");
    assert!(err.to_string().contains("fix:"), "{err}");
    let err = Models::new(vec![]).unwrap_err();
    assert!(err.to_string().contains("--model"), "{err}");
}

/// Test faces from a run's `resolved.toml`: the test split of its synthetic data.
#[test]
fn test_faces_come_from_the_runs_test_split() {
    let tmp = tempfile::tempdir().unwrap();
    let run = fader_run(tmp.path(), "fader-smiling", &["Smiling"], SIZE);
    let synth = tmp.path().join("synthetic");
    sliders_celeba::synthetic::ensure(&synth, 60, 64, 0).unwrap();
    std::fs::write(
        run.join("resolved.toml"),
        format!(
            "kind = \"fader\"\n[data]\nceleba_dir = \"{}\"\n[data.synthetic]\ndir = \"{}\"\n",
            tmp.path().join("no-celeba").display(),
            synth.display()
        ),
    )
    .unwrap();
    let faces = sliders_serve::faces::from_run(&run);
    assert!(!faces.faces.is_empty(), "{}", faces.source);
    assert!(faces.source.contains("test split"), "{}", faces.source);
    assert!(faces.source.contains("synthetic"), "{}", faces.source);
    assert!(faces.faces.len() <= sliders_serve::faces::MAX_FACES);
}

/// A real server: binds 127.0.0.1 by default on an ephemeral port and answers HTTP.
#[tokio::test]
async fn a_real_server_binds_loopback_on_an_ephemeral_port() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = ServeOptions {
        models: vec![fader_run(tmp.path(), "m", &["Smiling"], SIZE)],
        port: 0,
        ..Default::default()
    };
    let state = sliders_serve::state(&opts).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        sliders_serve::serve(state, &opts.host, opts.port, |url| {
            tx.send(url.to_string()).unwrap()
        })
        .await
        .unwrap()
    });
    let url = rx.await.unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(":0/"), "{url}");
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /api/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"Smiling\""), "{answer}");
}

/// Uploads stay in memory unless `--save-uploads DIR` asks; then each is written whole under its
/// session's name.
#[tokio::test]
async fn uploads_are_written_to_disk_only_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let model = fader_run(tmp.path(), "m", &["Smiling"], SIZE);
    let before: Vec<_> = walk(tmp.path());
    let state = Arc::new(
        sliders_serve::state(&ServeOptions {
            models: vec![model.clone()],
            ..Default::default()
        })
        .unwrap(),
    );
    upload(&state, face_png(9)).await;
    assert_eq!(
        walk(tmp.path()),
        before,
        "an upload was written without --save-uploads"
    );
    let saved = tmp.path().join("saved");
    let state = Arc::new(
        sliders_serve::state(&ServeOptions {
            models: vec![model],
            save_uploads: Some(saved.clone()),
            ..Default::default()
        })
        .unwrap(),
    );
    let s = upload(&state, face_png(9)).await;
    assert_eq!(
        std::fs::read(saved.join(format!("{s}.png"))).unwrap(),
        face_png(9)
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out.sort();
    out
}
