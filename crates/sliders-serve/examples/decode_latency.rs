//! The cost of one slider move on the CPU with a quick-profile-sized Fader model (64 px,
//! n_layers 5, init_fm 32, max_fm 512, as `experiments/quick/fader.toml`; random weights, which
//! cost the same as trained ones): the decoder pass alone, and a whole `POST .../edit` request
//! through the router (checking, decoder, PNG encoding), each after one encoder pass per photo.
//!
//! ```text
//! cargo run -p sliders-serve --example decode_latency [-- ROUNDS]
//! ```

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use sliders_config::nets::FaderConfig;
use sliders_nets::FaderAutoEncoder;
use sliders_nets::checkpoint;
use std::sync::Arc;
use std::time::Instant;
use tch::{Device, nn::VarStore};
use tower::ServiceExt;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(what: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{what}: median {:.1} ms, p90 {:.1} ms, min {:.1} ms ({} moves)",
        percentile(&ms, 0.5),
        percentile(&ms, 0.9),
        ms[0],
        ms.len()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("fader-smiling");
    let cfg = FaderConfig {
        img_sz: 64,
        n_layers: 5,
        init_fm: 32,
        max_fm: 512,
        n_attr: 2,
        ..FaderConfig::default()
    };
    let vs = VarStore::new(Device::Cpu);
    let ae = FaderAutoEncoder::new(&vs.root(), &cfg).unwrap();
    checkpoint::save_with_metadata(
        &vs,
        &ae,
        run.join("best_accu_ae.safetensors"),
        &[
            ("sliders.attributes", "[\"Smiling\"]"),
            ("sliders.framing", "fader"),
            ("sliders.image_size", "64"),
        ],
    )
    .unwrap();
    let opts = sliders_serve::ServeOptions {
        models: vec![run],
        ..Default::default()
    };
    let state = Arc::new(sliders_serve::state(&opts).unwrap());
    println!(
        "Fader 64 px, n_layers 5, init_fm 32, max_fm 512 on the CPU ({} torch threads)",
        tch::get_num_threads()
    );

    // A photo: a synthetic face at CelebA's shape.
    let w = 178;
    let img = sliders_celeba::synthetic::render(
        &sliders_celeba::synthetic::faces(1, 3)[0],
        w,
        sliders_celeba::synthetic::height_for(w),
    );
    let png = sliders_serve::upload::png(&img).unwrap();
    let t = Instant::now();
    let resp = sliders_serve::router(state.clone())
        .oneshot(
            Request::post("/api/sessions")
                .header("content-type", "image/png")
                .body(Body::from(png))
                .unwrap(),
        )
        .await
        .unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    println!(
        "upload (decode, frame, one encoder pass): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let session: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let id = session["session"].as_str().unwrap().to_string();

    // The decoder alone, on the session's cached latent.
    let model = &state.models.list()[0];
    let session = state.sessions.get(&id).unwrap();
    let ms = {
        let guard = session.lock().unwrap();
        let latent = &guard.latents[0];
        (0..rounds)
            .map(|i| {
                let alpha = -1.0 + 4.0 * i as f64 / rounds as f64;
                let edit = sliders_edit::Edit(vec![(0, alpha)]);
                let t = Instant::now();
                let _ = model.decode(latent, &edit).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect::<Vec<_>>()
    };
    report("decoder pass", ms);

    // A whole slider move through the router.
    let mut ms = Vec::new();
    for i in 0..rounds {
        let alpha = -1.0 + 4.0 * i as f64 / rounds as f64;
        let body = serde_json::json!({"models": [{"model": 0, "values": {"Smiling": alpha}}]});
        let t = Instant::now();
        let resp = sliders_serve::router(state.clone())
            .oneshot(
                Request::post(format!("/api/sessions/{id}/edit"))
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let _ = resp.into_body().collect().await.unwrap();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    report("POST /api/sessions/{id}/edit (decoder + PNG)", ms);
    println!(
        "encoder passes: {} (one per photo), decoder passes: {}",
        model.encodes(),
        model.decodes()
    );
}
