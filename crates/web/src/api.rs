//! The JSON API under `/api/v1`, for scripts. Bearer token or browser session.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use javelin_core::{LoginError, PlatformCard};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Identity, Via, client_address};
use crate::error::ApiError;

#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    email: String,
    password: String,
    /// What the token is for, to recognise it later.
    label: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    token: String,
}

/// `POST /api/v1/auth/token` with `{"email","password"}` → `{"token": "…"}`.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Result<Json<TokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(request) = body?;
    let client = client_address(connect_info);
    let user = state
        .accounts
        .verify_login(&request.email, &request.password, client)
        .await
        .map_err(|err| match err {
            LoginError::InvalidCredentials => ApiError::unauthorized(err.to_string()),
            LoginError::TooManyAttempts { retry_after } => {
                ApiError::too_many(err.to_string(), retry_after.as_secs().max(1))
            }
            other => ApiError::internal(other),
        })?;
    let label = request
        .label
        .as_deref()
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .unwrap_or("API token");
    let token = state.accounts.issue_api_token(&user, label).await?;
    Ok(Json(TokenResponse { token }))
}

/// `DELETE /api/v1/auth/token` revokes the bearer token it is sent with.
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    identity: Identity,
) -> Result<StatusCode, ApiError> {
    let Via::Bearer { token } = identity.via else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Send the token to revoke as 'Authorization: Bearer <token>'.",
        ));
    };
    state.accounts.revoke_api_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct PlatformBody {
    #[serde(flatten)]
    card: PlatformCard,
    connections: Vec<()>,
}

/// `GET /api/v1/platforms`: every platform with its status.
pub(crate) async fn platforms(
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let cards = javelin_core::platforms::cards(&state.storage).await?;
    let body: Vec<_> = cards
        .into_iter()
        .map(|card| PlatformBody {
            card,
            connections: Vec::new(),
        })
        .collect();
    Ok(Json(body))
}
