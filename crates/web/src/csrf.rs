//! Cross-site request forgery protection, in two layers: tower-http's check of the browser's
//! `Sec-Fetch-Site`/`Origin` headers, and a synchronizer token that every state-changing
//! form or cookie-authenticated API call must carry (proxies that rewrite `Host` or drop
//! `Origin` weaken the first layer, never the second).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use subtle::ConstantTimeEq;
use tower_http::csrf::CsrfLayer;

use crate::WebSettings;
use crate::auth::{ANONYMOUS_CSRF_COOKIE, Identity, Via};
use crate::error::{ApiError, PageError};

/// The hidden form field and the header that carry the token.
pub(crate) const FIELD: &str = "csrf_token";
pub(crate) const HEADER: &str = "x-csrf-token";
/// Exchanges credentials in the body for a token in the body: no cookie is read or set.
const TOKEN_ENDPOINT: &str = "/api/v1/auth/token";
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub(crate) fn cross_origin_layer(settings: &WebSettings) -> CsrfLayer {
    let origin = settings.frontend_url.origin().ascii_serialization();
    let layer = CsrfLayer::new();
    // The configured front-end URL is validated at start; fall back to same-origin only.
    layer.clone().add_trusted_origin(&origin).unwrap_or(layer)
}

/// Refuses a state-changing request whose token does not match the one bound to its session
/// (or, before sign-in, to its anonymous cookie). Bearer-token requests carry no ambient
/// authority and need no token.
pub(crate) async fn verify_token(jar: CookieJar, request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    let expected = match request.extensions().get::<Identity>().map(|identity| &identity.via) {
        Some(Via::Bearer { .. }) => return next.run(request).await,
        Some(Via::Session { csrf_token, .. }) => Some(csrf_token.clone()),
        None if request.uri().path() == TOKEN_ENDPOINT => return next.run(request).await,
        None => jar.get(ANONYMOUS_CSRF_COOKIE).map(|cookie| cookie.value().to_owned()),
    };
    let is_api = request.uri().path().starts_with("/api/");
    let (provided, request) = match provided_token(request).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let matches = match (expected, provided) {
        (Some(expected), Some(provided)) => bool::from(expected.as_bytes().ct_eq(provided.as_bytes())),
        _ => false,
    };
    if matches {
        next.run(request).await
    } else if is_api {
        ApiError::forbidden(format!("Missing or wrong CSRF token: send the {HEADER} header.")).into_response()
    } else {
        PageError::FormExpired.into_response()
    }
}

/// Finds the token in the header or, for a form post, in the body (which is then put back).
async fn provided_token(request: Request) -> Result<(Option<String>, Request), Response> {
    if let Some(value) = request.headers().get(HEADER) {
        let token = value.to_str().ok().map(str::to_owned);
        return Ok((token, request));
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((None, request));
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| (axum::http::StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response())?;
    let token = url::form_urlencoded::parse(&bytes)
        .find(|(key, _)| key == FIELD)
        .map(|(_, value)| value.into_owned());
    Ok((token, Request::from_parts(parts, Body::from(bytes))))
}
