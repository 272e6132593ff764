//! The JSON API under `/api/v1`, for scripts: bearer token or browser session, answers and
//! errors in JSON.

pub(crate) mod dashboard;
pub(crate) mod inventory;
pub(crate) mod orders;
pub(crate) mod sync;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use javelin_core::LoginError;
use javelin_core::connections::{AmazonOAuthInput, ConnectionView, FieldErrors, TestResult};
use javelin_marketplaces::Platform;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Identity, Via, client_address};
use crate::error::ApiError;
use crate::extract::ConnectionId;

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
pub(crate) async fn revoke_token(State(state): State<AppState>, identity: Identity) -> Result<StatusCode, ApiError> {
    let Via::Bearer { token } = identity.via else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Send the token to revoke as 'Authorization: Bearer <token>'.",
        ));
    };
    state.accounts.revoke_api_token(&token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/platforms`: every platform with its status and connections.
pub(crate) async fn platforms(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.connections.cards().await?))
}

/// `POST /api/v1/connections`: `{"platform":"amazon", …}` or `{"platform":"flipkart", …}`.
pub(crate) async fn create_connection(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let platform = body
        .get("platform")
        .and_then(serde_json::Value::as_str)
        .and_then(|code| code.parse::<Platform>().ok());
    let (view, test) = match platform {
        Some(Platform::Amazon) => state
            .connections
            .connect_amazon_manually(&identity.user, &parse(body)?)
            .await
            .map(|(view, test)| (view, Some(test)))?,
        Some(Platform::Flipkart) => {
            state
                .connections
                .connect_flipkart(&identity.user, &parse(body)?)
                .await?
        }
        None => {
            let codes: Vec<String> = Platform::ALL.iter().map(|p| format!("\"{}\"", p.code())).collect();
            let mut fields = FieldErrors::default();
            fields.add("platform", format!("Give one of {}.", codes.join(", ")));
            return Err(ApiError::invalid(fields));
        }
    };
    state.sync.connected();
    let body = ConnectionBody { connection: view, test };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Serialize)]
struct ConnectionBody {
    #[serde(flatten)]
    connection: ConnectionView,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<TestResult>,
}

fn parse<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|err| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("The request body is not valid: {err}"),
        )
    })
}

#[derive(Serialize)]
struct AuthorizeBody {
    authorize_url: String,
}

/// `POST /api/v1/connections/amazon/oauth/start` → `{"authorize_url": "…"}`. The callback must
/// carry the same bearer token (or session) as this request.
pub(crate) async fn start_amazon_oauth(
    State(state): State<AppState>,
    identity: Identity,
    body: Result<Json<AmazonOAuthInput>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(input) = body?;
    let url = state
        .connections
        .start_amazon_oauth(&identity.user, identity.token(), &input)
        .await?;
    Ok(Json(AuthorizeBody {
        authorize_url: url.to_string(),
    }))
}

/// `POST /api/v1/connections/{id}/test` → `{"ok": …, "message": "…"}`.
pub(crate) async fn test_connection(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.connections.test(id).await?))
}

/// `DELETE /api/v1/connections/{id}` → 204.
pub(crate) async fn delete_connection(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<StatusCode, ApiError> {
    state.connections.disconnect(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unknown routes under `/api/v1`.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "There is no such API route.")
}
