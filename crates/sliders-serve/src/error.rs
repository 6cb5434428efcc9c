//! Errors of sliders-serve: one `thiserror` enum for startup (a model that does not load, models
//! that cannot share a page, a port in use) and for requests, where every variant maps to an
//! HTTP status and a JSON body `{"error": "..."}` (4xx for the client's mistakes, 503 with
//! `Retry-After` when busy, 500 for a fault or a caught panic, never a crash).

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::PathBuf;
use thiserror::Error;

/// Everything that can go wrong while starting the server or answering a request.
#[derive(Debug, Error)]
pub enum ServeError {
    /// A `--model` that sliders-edit cannot open.
    #[error("model {path}: {source}")]
    Model {
        /// The run folder or checkpoint given.
        path: PathBuf,
        /// Why it failed (names the fix).
        source: sliders_edit::EditError,
    },
    /// Models that cannot be applied in sequence on one page.
    #[error("{what}; fix: {fix}")]
    Models {
        /// What does not fit.
        what: String,
        /// How to fix it.
        fix: String,
    },
    /// The `--faces` folder cannot be read, or holds no image.
    #[error("faces folder {path}: {what}; fix: pass a folder of .jpg/.png faces to --faces")]
    Faces {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The address cannot be bound (port in use, bad host).
    #[error("cannot listen on {addr}: {source}; fix: choose another --port (0 picks a free one)")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A server I/O failure after startup, or writing an upload asked for with `--save-uploads`.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },

    // ---- request errors (4xx) ----
    /// A malformed request: bad JSON, unknown attribute, slider value out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The request's `Content-Type` is not what the route accepts.
    #[error("unsupported content type `{found}`; fix: send {expected}")]
    UnsupportedType {
        /// The type sent (`(none)` when absent).
        found: String,
        /// What the route accepts.
        expected: &'static str,
    },
    /// The upload (or any request body) is larger than `--max-upload-mb`.
    #[error("the request body is larger than the {limit_mb} MB limit (--max-upload-mb)")]
    TooLarge {
        /// The limit in MB.
        limit_mb: u64,
    },
    /// The upload does not decode, or its face is too small for the model.
    #[error("{0}")]
    BadImage(String),
    /// An unknown or expired session id.
    #[error(
        "unknown session `{0}` (expired or never created); upload the photo again (POST \
         /api/sessions)"
    )]
    UnknownSession(String),
    /// An unknown test face or route.
    #[error("{0}")]
    NotFound(String),
    /// A photo whose header asks for more than the decode limits or the memory budget allow.
    #[error("{0}")]
    ImageTooLarge(String),
    /// A `Host` header that is not this machine's loopback while the server is bound to it
    /// (DNS rebinding).
    #[error(
        "Host `{0}` is not this machine; a server on loopback answers only localhost, 127.0.0.1 \
         and [::1] (fix: open the page at http://127.0.0.1:PORT/, or bind another --host)"
    )]
    WrongHost(String),
    /// A method the route does not accept.
    #[error("method not allowed on this route")]
    MethodNotAllowed,

    // ---- server faults (5xx) ----
    /// The memory budget or the workers are in use: retry later (503 with `Retry-After`).
    #[error("busy: {what}; retry in {retry_after_s} s")]
    Busy {
        /// What is busy.
        what: String,
        /// Seconds to wait (the `Retry-After` header).
        retry_after_s: u64,
    },
    /// The model failed while running (libtorch), or a worker task died.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServeError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::UnsupportedType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BadImage(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::UnknownSession(_) | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::ImageTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::WrongHost(_) => StatusCode::MISDIRECTED_REQUEST,
            Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ServeError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry = match &self {
            Self::Busy { retry_after_s, .. } => Some(retry_after_s.to_string()),
            _ => None,
        };
        if status.is_server_error() && retry.is_none() {
            tracing::error!("{self}");
        } else {
            tracing::debug!("{status}: {self}");
        }
        let mut resp = (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response();
        if let Some(secs) = retry.and_then(|s| HeaderValue::from_str(&s).ok()) {
            resp.headers_mut().insert(RETRY_AFTER, secs);
        }
        resp
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ServeError> = std::result::Result<T, E>;
