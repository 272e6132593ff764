//! Cross-site request forgery protection, in two layers: tower-http's check of the browser's
//! `Sec-Fetch-Site`/`Origin` headers, and a synchronizer token that every state-changing
//! form or cookie-authenticated API call must carry (proxies that rewrite `Host` or drop
//! `Origin` weaken the first layer, never the second).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use subtle::ConstantTimeEq;
use tower_http::csrf::CsrfLayer;

use crate::auth::{Identity, Via};
use crate::error::{ApiError, PageError};
use crate::{AppState, WebSettings, cookies};

/// The hidden form field and the header that carry the token.
pub(crate) const FIELD: &str = "csrf_token";
pub(crate) const HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub(crate) fn cross_origin_layer(settings: &WebSettings) -> CsrfLayer {
    let origin = settings.frontend_url.origin().ascii_serialization();
    let layer = CsrfLayer::new();
    // The configured front-end URL is validated at start; fall back to same-origin only.
    layer.clone().add_trusted_origin(&origin).unwrap_or(layer)
}

/// Refuses a state-changing form whose token does not match the one bound to its session (or,
/// before sign-in, to its anonymous cookie) with the "form expired" page. Bearer-token requests
/// carry no ambient authority and need no token.
pub(crate) async fn verify_page_token(
    State(state): State<AppState>,
    jar: CookieJar,
    request: Request,
    next: Next,
) -> Response {
    match verified(&state, &jar, request).await {
        Ok(request) => next.run(request).await,
        Err(Refused::Token) => PageError::FormExpired.into_response(),
        Err(Refused::Response(response)) => response,
    }
}

/// The same for cookie-authenticated API calls, which send the token as a header.
pub(crate) async fn verify_api_token(
    State(state): State<AppState>,
    jar: CookieJar,
    request: Request,
    next: Next,
) -> Response {
    match verified(&state, &jar, request).await {
        Ok(request) => next.run(request).await,
        Err(Refused::Token) => {
            ApiError::forbidden(format!("Missing or wrong CSRF token: send the {HEADER} header.")).into_response()
        }
        Err(Refused::Response(response)) => response,
    }
}

enum Refused {
    Token,
    Response(Response),
}

async fn verified(state: &AppState, jar: &CookieJar, request: Request) -> Result<Request, Refused> {
    if request.method().is_safe() {
        return Ok(request);
    }
    let expected = match request.extensions().get::<Identity>().map(|identity| &identity.via) {
        Some(Via::Bearer { .. }) => return Ok(request),
        Some(Via::Session { csrf_token, .. }) => Some(csrf_token.clone()),
        None => jar
            .get(cookies::ANONYMOUS_CSRF.get(state.settings.secure_cookies()))
            .map(|cookie| cookie.value().to_owned()),
    };
    let (provided, request) = provided_token(request).await.map_err(Refused::Response)?;
    let matches = match (expected, provided) {
        (Some(expected), Some(provided)) => bool::from(expected.as_bytes().ct_eq(provided.as_bytes())),
        _ => false,
    };
    if matches { Ok(request) } else { Err(Refused::Token) }
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
