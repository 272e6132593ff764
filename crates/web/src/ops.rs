//! Health, readiness, metrics, the per-request log span and its request id.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Span;

use crate::AppState;
use crate::error::ApiError;

pub(crate) async fn healthz() -> &'static str {
    "ok"
}

pub(crate) async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.storage.ping().await {
        Ok(()) => (StatusCode::OK, "ready".to_owned()),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable".to_owned())
        }
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// The span every log line of a request carries. Only the path is logged: query strings can
/// hold secrets (an OAuth callback carries an authorisation code).
pub(crate) fn request_span(request: &Request<Body>) -> Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    let method = method_name(request.method());
    tracing::info_span!("request", id, method, path = request.uri().path())
}

/// A standard method's name, `other` for any other: a client inventing methods must grow
/// neither the metrics' label set nor the log lines.
pub(crate) fn method_name(method: &Method) -> &str {
    match method.as_str() {
        name @ ("GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" | "CONNECT" | "TRACE") => name,
        _ => "other",
    }
}

/// Answers a method outside the standard ones with 501 Not Implemented (RFC 9110 §15.6.2),
/// before any other check.
pub(crate) async fn refuse_unknown_methods(request: Request<Body>, next: Next) -> Response {
    if method_name(request.method()) != "other" {
        return next.run(request).await;
    }
    let message = "This HTTP method is not supported.";
    if request.uri().path().starts_with(crate::routes::API_PREFIX) {
        ApiError::new(StatusCode::NOT_IMPLEMENTED, message).into_response()
    } else {
        (StatusCode::NOT_IMPLEMENTED, message).into_response()
    }
}

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Keeps a client's `X-Request-Id` only when it is a short safe token (`[A-Za-z0-9._-]{1,64}`):
/// it is copied into every log line and into the answer. Anything else is dropped, and a fresh
/// id is made for the request as for one that sent none.
pub(crate) async fn screen_request_id(mut request: Request<Body>, next: Next) -> Response {
    let headers = request.headers_mut();
    if !headers
        .get_all(&X_REQUEST_ID)
        .iter()
        .all(|id| is_safe_request_id(id.as_bytes()))
    {
        headers.remove(&X_REQUEST_ID);
    }
    next.run(request).await
}

fn is_safe_request_id(id: &[u8]) -> bool {
    (1..=64).contains(&id.len())
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}
