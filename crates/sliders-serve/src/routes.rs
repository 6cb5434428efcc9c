//! The HTTP routes (axum) and the state they share. Decodes and model passes run on tokio's
//! blocking pool under the worker slots and memory budget of `guard`, so a slow decode never
//! stalls the other connections and many large uploads never exhaust memory.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /` | the page |
//! | `GET /api/models` | the models, their attributes and slider ranges, how they combine |
//! | `GET /api/faces` | the test faces (`GET /api/faces/{i}`: the image) |
//! | `POST /api/sessions` | body: a JPEG/PNG photo → `{session, defaults, size}` |
//! | `POST /api/sessions/from-face/{i}` | the same for test face `i` |
//! | `GET /api/sessions/{id}/original.png` | the framed face the models see |
//! | `POST /api/sessions/{id}/edit` | `{"models": [{"model": 0, "values": {"Smiling": 1.5}}]}` → PNG |
//! | `GET /api/sessions/{id}/photo.png?edit={…}` | the same edit pasted back into the whole photo, at its resolution (the page's download) |
//!
//! Every malformed request gets a 4xx with `{"error": "..."}`; a photo over the decode limits
//! 413, a request that does not fit the memory budget now 503 with `Retry-After`, a panic 500,
//! and, on loopback, a `Host` that is not this machine 421 (see `guard`).

use crate::error::{Result, ServeError};
use crate::faces::TestFaces;
use crate::models::{EditRequest, Models};
use crate::page::PAGE;
use crate::sessions::{Session, Sessions};
use crate::{guard, upload};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sliders_celeba::DecodeLimits;
use sliders_edit::faces::FaceFinder;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// How large an uploaded photo may be (checked from its header).
    pub limits: DecodeLimits,
    /// The memory budget and the worker slots.
    pub guard: guard::Limits,
    /// Answer only loopback `Host` names (the server is bound to loopback).
    pub check_host: bool,
    /// The loaded models.
    pub models: Models,
    /// The sessions.
    pub sessions: Sessions,
    /// The test faces.
    pub faces: TestFaces,
    /// Upload limit in bytes.
    pub max_upload: usize,
    /// Where uploads are saved (`--save-uploads`); `None`: never written to disk.
    pub save_uploads: Option<PathBuf>,
    /// The face detector (`None` when its weights are not installed: uploads are then framed
    /// by the CelebA crop or a centred square). Behind a mutex: libtorch tensors are not `Sync`.
    pub finder: Option<Mutex<FaceFinder>>,
}

/// How the page explains the combination of several models (see `models`).
pub const COMBINE: &str = "Applied models edit the photo in sequence, in the order given to \
    `sliders serve --model`: each one's output is the next one's input. A model joins the \
    sequence when you move one of its sliders (untick it to leave it out). Each model encodes \
    the uploaded photo once; a model after another re-encodes only when a slider before it moves.";

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.max_upload;
    let check_host = state.check_host;
    Router::new()
        .route("/", get(page))
        .route("/api/models", get(models))
        .route("/api/faces", get(faces))
        .route("/api/faces/{index}", get(face))
        .route("/api/sessions", post(upload_photo))
        .route("/api/sessions/from-face/{index}", post(pick_face))
        .route("/api/sessions/{id}/original.png", get(original))
        .route("/api/sessions/{id}/edit", post(edit))
        .route("/api/sessions/{id}/photo.png", get(download))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(guard::catch_panic))
        .layer(axum::middleware::from_fn_with_state(
            check_host,
            guard::check_host,
        ))
        .with_state(state)
}

async fn page() -> impl IntoResponse {
    ([(CACHE_CONTROL, "no-store")], Html(PAGE))
}

async fn not_found() -> ServeError {
    ServeError::NotFound("no such route; the page is at /".into())
}

async fn method_not_allowed() -> ServeError {
    ServeError::MethodNotAllowed
}

async fn models(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let list: Vec<_> = st
        .models
        .list()
        .iter()
        .enumerate()
        .map(|(i, m)| m.describe(i))
        .collect();
    Json(serde_json::json!({
        "models": list,
        "image_size": st.models.size(),
        "combine": COMBINE,
        "max_upload_bytes": st.max_upload,
        "max_image_pixels": st.limits.max_pixels,
    }))
}

async fn faces(State(st): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let names: Vec<_> = st.faces.faces.iter().map(|f| f.name.clone()).collect();
    Json(serde_json::json!({ "source": st.faces.source, "faces": names }))
}

fn face_index(st: &AppState, index: &str) -> Result<usize> {
    index
        .parse::<usize>()
        .ok()
        .filter(|&i| i < st.faces.faces.len())
        .ok_or_else(|| {
            ServeError::NotFound(format!(
                "no test face `{}`; there are {} (GET /api/faces)",
                index.chars().take(20).collect::<String>(),
                st.faces.faces.len()
            ))
        })
}

async fn face(State(st): State<Arc<AppState>>, Path(index): Path<String>) -> Result<Response> {
    let f = &st.faces.faces[face_index(&st, &index)?];
    Ok(([(CONTENT_TYPE, f.mime)], f.bytes.clone()).into_response())
}

/// Decodes (within the limits and the memory budget counted from the header), frames and
/// encodes a photo with every model, and opens its session.
async fn new_session(st: Arc<AppState>, bytes: Bytes) -> Result<Response> {
    let probe = upload::probe(&bytes, &st.limits)?;
    let detect = if st.finder.is_some() {
        guard::detect_cost_mb(&probe)
    } else {
        0
    };
    let permit = st.guard.acquire(guard::cost_mb(&probe) + detect).await?;
    let st2 = st.clone();
    let (id, defaults) = guard::blocking(permit, move || {
        let models = &st2.models;
        let upload::Framed { photo, placement } = upload::photo(
            &bytes,
            models.size(),
            models.framing(),
            &st2.limits,
            st2.finder.as_ref(),
        )?;
        let original = sliders_edit::photo::to_image(
            &sliders_edit::photo::to_tensor(&[&photo.face], models.size()),
            0,
        );
        let face = photo.face;
        let latents = models.encode_all(&face)?;
        let defaults: Vec<Vec<f64>> = models
            .list()
            .iter()
            .zip(&latents)
            .map(|(m, l)| m.defaults(l))
            .collect();
        let id = st2.sessions.insert(Session {
            face,
            original_png: upload::png(&original)?,
            latents,
            defaults: defaults.clone(),
            chain: Vec::new(),
            photo: bytes.clone(),
            placement,
        });
        if let Some(dir) = &st2.save_uploads {
            let p = upload::save(dir, &id, &bytes)?;
            tracing::info!("saved the upload to {} (--save-uploads)", p.display());
        }
        Ok((id, defaults))
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "session": id,
            "defaults": defaults,
            "size": st.models.size(),
        })),
    )
        .into_response())
}

async fn upload_photo(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, BytesRejection>,
) -> Result<Response> {
    upload::check_content_type(&headers)?;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ServeError::TooLarge {
                limit_mb: (st.max_upload as u64).div_ceil(1 << 20),
            }
        } else {
            ServeError::BadRequest(format!("cannot read the upload: {e}"))
        }
    })?;
    new_session(st, bytes).await
}

async fn pick_face(State(st): State<Arc<AppState>>, Path(index): Path<String>) -> Result<Response> {
    let i = face_index(&st, &index)?;
    let bytes = Bytes::from(st.faces.faces[i].bytes.clone());
    new_session(st, bytes).await
}

async fn original(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response> {
    let session = st.sessions.get(&id)?;
    let png = session
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .original_png
        .clone();
    Ok((
        [(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")],
        png,
    )
        .into_response())
}

fn headers_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(80)
                .collect()
        })
        .unwrap_or_else(|| "(none)".into())
}

/// A request's edit from its JSON body, its rejection named as the client's mistake.
fn edit_request(
    st: &AppState,
    headers: &HeaderMap,
    body: std::result::Result<Json<EditRequest>, JsonRejection>,
) -> Result<EditRequest> {
    body.map(|Json(req)| req).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => ServeError::UnsupportedType {
            found: headers_type(headers),
            expected: "the edit as JSON with Content-Type application/json",
        },
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ServeError::TooLarge {
            limit_mb: (st.max_upload as u64).div_ceil(1 << 20),
        },
        other => ServeError::BadRequest(format!("bad edit request: {}", other.body_text())),
    })
}

/// The session's face edited as `req` asks, as an `S`x`S` image (the session locked only for
/// the model passes).
fn render(st: &AppState, session: &Mutex<Session>, req: &EditRequest) -> Result<image::RgbImage> {
    let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
    let plan = st.models.plan(req, &s.defaults)?;
    let s = &mut *s;
    let out = st.models.render(&s.face, &s.latents, &mut s.chain, &plan)?;
    Ok(sliders_edit::photo::to_image(&out, 0))
}

fn png_response(png: Vec<u8>) -> Response {
    (
        [(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")],
        png,
    )
        .into_response()
}

async fn edit(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    e_headers: HeaderMap,
    body: std::result::Result<Json<EditRequest>, JsonRejection>,
) -> Result<Response> {
    let session = st.sessions.get(&id)?;
    let req = edit_request(&st, &e_headers, body)?;
    let st2 = st.clone();
    let permit = st.guard.acquire(0).await?;
    let png = guard::blocking(permit, move || upload::png(&render(&st2, &session, &req)?)).await?;
    Ok(png_response(png))
}

/// The query of the download: `edit` is the JSON body `POST …/edit` takes.
#[derive(Debug, serde::Deserialize)]
struct DownloadQuery {
    edit: Option<String>,
}

/// The edit pasted back into the uploaded photo at its full resolution (through the inverse of
/// the alignment, with a feathered border; docs/face-alignment.md). The photo is decoded again
/// from the session's upload under the memory budget (decode, pasted copy, PNG).
async fn download(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: std::result::Result<Query<DownloadQuery>, QueryRejection>,
) -> Result<Response> {
    let session = st.sessions.get(&id)?;
    let text = query
        .map_err(|e| ServeError::BadRequest(format!("bad download query: {}", e.body_text())))?
        .0
        .edit
        .unwrap_or_else(|| r#"{"models": []}"#.into());
    let req: EditRequest = serde_json::from_str(&text).map_err(|e| {
        ServeError::BadRequest(format!(
            "bad download query: `edit` must be the JSON of an edit request, \
             {{\"models\": [{{\"model\": 0, \"values\": {{…}}}}]}} ({e})"
        ))
    })?;
    let (bytes, placement) = {
        let s = session.lock().unwrap_or_else(|p| p.into_inner());
        (s.photo.clone(), s.placement)
    };
    let probe = upload::probe(&bytes, &st.limits)?;
    let permit = st.guard.acquire(guard::download_cost_mb(&probe)).await?;
    let st2 = st.clone();
    let png = guard::blocking(permit, move || {
        let edited = render(&st2, &session, &req)?;
        upload::pasted_png(&bytes, &placement, &edited, &st2.limits)
    })
    .await?;
    Ok(png_response(png))
}
