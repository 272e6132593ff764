//! Flipkart Seller API: the OAuth token endpoint (client credentials, HTTP Basic) and the
//! shipment search that Javelin's connection test reads.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::{Sandbox, basic_credentials, random_hex};

/// Flipkart's sample lifetime: about 60 days.
const TOKEN_SECONDS: i64 = 5_183_999;

#[derive(Default)]
pub(crate) struct FlipkartState {
    tokens: HashMap<String, OffsetDateTime>,
}

pub(crate) fn router() -> Router<Sandbox> {
    Router::new()
        .route("/oauth-service/oauth/token", get(token))
        .route("/sellers/v3/shipments/filter", post(filter_shipments))
        .route("/sellers/v3/shipments/filter/", post(filter_shipments))
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    grant_type: Option<String>,
}

/// `GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api`, Basic auth.
async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, Query(query): Query<TokenQuery>) -> Response {
    sandbox.count(crate::operation::FLIPKART_TOKEN);
    let Some((app_id, secret)) = basic_credentials(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Full authentication is required to access this resource",
        );
    };
    let app = &sandbox.credentials.flipkart;
    if app_id != app.api_key {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            &format!("No client with requested id: {app_id}"),
        );
    }
    if secret != app.api_secret {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials");
    }
    if query.grant_type.as_deref() != Some("client_credentials") {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        );
    }
    let access_token = random_hex(16);
    sandbox.flipkart().tokens.insert(
        access_token.clone(),
        sandbox.clock.now() + Duration::seconds(TOKEN_SECONDS),
    );
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": "Seller_Api",
    }))
    .into_response()
}

const PRE_DISPATCH_STATES: [&str; 5] = [
    "APPROVED",
    "PACKING_IN_PROGRESS",
    "PACKED",
    "FORM_FAILED",
    "READY_TO_DISPATCH",
];
const POST_DISPATCH_STATES: [&str; 3] = ["SHIPPED", "DELIVERED", "PICKUP_COMPLETE"];

/// `POST /sellers/v3/shipments/filter`: validates the filter; the sandbox seller has no
/// shipments yet (the sync issue seeds them).
async fn filter_shipments(State(sandbox): State<Sandbox>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    sandbox.count(crate::operation::FLIPKART_FILTER_SHIPMENTS);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let now = sandbox.clock.now();
    match token.and_then(|token| sandbox.flipkart().tokens.get(token).copied()) {
        None => {
            let shown = token.unwrap_or("");
            return error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                &format!("Invalid access token: {shown}"),
            );
        }
        Some(expires_at) if expires_at <= now => {
            return error(StatusCode::UNAUTHORIZED, "invalid_token", "Access token expired");
        }
        Some(_) => {}
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "The request body is not JSON");
    };
    let kind = request.pointer("/filter/type").and_then(Value::as_str);
    let allowed: &[&str] = match kind {
        Some("preDispatch") => &PRE_DISPATCH_STATES,
        Some("postDispatch") => &POST_DISPATCH_STATES,
        Some("cancelled") => &["CANCELLED"],
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "filter.type must be preDispatch, postDispatch or cancelled",
            );
        }
    };
    let states = request
        .pointer("/filter/states")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(bad) = states
        .iter()
        .find(|state| !state.as_str().is_some_and(|s| allowed.contains(&s)))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!("state {bad} is not valid for filter type {}", kind.unwrap_or("")),
        );
    }
    axum::Json(json!({"hasMore": false, "nextPageUrl": null, "shipments": []})).into_response()
}
