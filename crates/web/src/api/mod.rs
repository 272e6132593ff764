//! The JSON API under `/api/v1`, for scripts: bearer token or browser session, answers and
//! errors in JSON.

pub(crate) mod audit;
pub(crate) mod dashboard;
pub(crate) mod inventory;
pub(crate) mod openapi;
pub(crate) mod orders;
pub(crate) mod sync;
pub(crate) mod users;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_core::LoginError;
use javelin_core::accounts::DEFAULT_TOKEN_LIFETIME;
use javelin_core::connections::{
    AmazonManualInput, AmazonOAuthInput, ConnectionView, CredentialsUpdate, FieldErrors, FlipkartInput, PlatformCard,
    TestResult,
};
use javelin_marketplaces::Platform;
use javelin_storage::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Acting, Identity, Via};
use crate::error::{ApiError, ApiErrorBody};
use crate::extract::ConnectionId;

#[derive(Deserialize, ToSchema)]
pub(crate) struct TokenRequest {
    email: String,
    password: String,
    /// What the token is for, to recognise it later.
    label: Option<String>,
    /// How many days the token works: 1 to 3650; 90 when not sent.
    #[schema(minimum = 1, maximum = 3650)]
    expires_in_days: Option<u32>,
}

/// The longest lifetime a token may ask for, in days (ten years).
const MAX_TOKEN_DAYS: u32 = 3650;

#[derive(Serialize, ToSchema)]
struct TokenResponse {
    /// Send it as `Authorization: Bearer <token>`.
    token: String,
    /// When the token stops working.
    expires_at: Timestamp,
}

/// `POST /api/v1/auth/token` with `{"email","password"}` → `{"token": "…", "expires_at": "…"}`.
#[utoipa::path(post, path = "/auth/token", tag = "auth", request_body = TokenRequest, responses(
    (status = 200, description = "A new API token.", body = TokenResponse),
    (status = 401, description = "Wrong email or password.", body = ApiErrorBody),
    (status = 429, description = "Too many failed sign-ins from this address.", body = ApiErrorBody,
        headers(("Retry-After" = u64, description = "Seconds to wait."))),
))]
pub(crate) async fn create_token(
    State(state): State<AppState>,
    Acting(actor): Acting,
    body: Result<Json<TokenRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(request) = body?;
    let lifetime = match request.expires_in_days {
        None => DEFAULT_TOKEN_LIFETIME,
        Some(days @ 1..=MAX_TOKEN_DAYS) => time::Duration::days(i64::from(days)),
        Some(_) => {
            let mut fields = FieldErrors::default();
            fields.add(
                "expires_in_days",
                format!("expires_in_days must be a number of days from 1 to {MAX_TOKEN_DAYS}."),
            );
            return Err(ApiError::invalid(fields));
        }
    };
    let user = state
        .accounts
        .verify_login(&actor, &request.email, &request.password)
        .await
        .map_err(|err| match err {
            LoginError::InvalidCredentials | LoginError::Deactivated => ApiError::unauthorized(err.to_string()),
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
    let (token, expires_at) = state
        .accounts
        .issue_api_token(&actor.as_user(user), label, lifetime)
        .await?;
    Ok(Json(TokenResponse { token, expires_at }))
}

/// `DELETE /api/v1/auth/token` revokes the bearer token it is sent with.
#[utoipa::path(delete, path = "/auth/token", tag = "auth", responses(
    (status = 204, description = "The token no longer works."),
    (status = 400, description = "The call was signed in by a browser session, not a token.", body = ApiErrorBody),
))]
pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
) -> Result<StatusCode, ApiError> {
    let Via::Bearer { token } = identity.via else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "Send the token to revoke as 'Authorization: Bearer <token>'.",
        ));
    };
    state.accounts.revoke_api_token(&actor, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/platforms`: every platform with its status and connections.
#[utoipa::path(get, path = "/platforms", tag = "connections", responses(
    (status = 200, description = "Every platform, in display order.", body = Vec<PlatformCard>),
))]
pub(crate) async fn platforms(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.connections.cards().await?))
}

/// What `POST /api/v1/connections` takes: the platform, and that platform's credentials.
#[derive(Deserialize, ToSchema)]
#[serde(tag = "platform", rename_all = "lowercase")]
enum NewConnection {
    Amazon(AmazonManualInput),
    Flipkart(FlipkartInput),
}

/// `POST /api/v1/connections`: `{"platform":"amazon", …}` or `{"platform":"flipkart", …}`.
#[utoipa::path(post, path = "/connections", tag = "connections", request_body = NewConnection, responses(
    (status = 201, description = "Connected, and tested unless it is incomplete.", body = ConnectionBody),
    (status = 422, description = "A field needs attention (`fields` says which), or the body does not parse.", body = ApiErrorBody),
))]
pub(crate) async fn create_connection(
    State(state): State<AppState>,
    Acting(actor): Acting,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    // The platform first, so that a missing or unknown one is named as a field.
    let known = body
        .get("platform")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|code| code.parse::<Platform>().is_ok());
    if !known {
        let codes: Vec<String> = Platform::ALL.iter().map(|p| format!("\"{}\"", p.code())).collect();
        let mut fields = FieldErrors::default();
        fields.add("platform", format!("Give one of {}.", codes.join(", ")));
        return Err(ApiError::invalid(fields));
    }
    let (view, test) = match parse(body)? {
        NewConnection::Amazon(input) => state
            .connections
            .connect_amazon_manually(&actor, &input)
            .await
            .map(|(view, test)| (view, Some(test)))?,
        NewConnection::Flipkart(input) => state.connections.connect_flipkart(&actor, &input).await?,
    };
    state.sync.connected(view.id, view.platform, true).await;
    let body = ConnectionBody { connection: view, test };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Serialize, ToSchema)]
#[schema(as = CreatedConnection)]
struct ConnectionBody {
    #[serde(flatten)]
    connection: ConnectionView,
    /// The test run at once; absent for an incomplete connection, which cannot be tested.
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

#[derive(Serialize, ToSchema)]
#[schema(as = AuthorizeUrl)]
struct AuthorizeBody {
    /// Amazon's consent page, for the seller.
    #[schema(format = "uri")]
    authorize_url: String,
}

/// `POST /api/v1/connections/amazon/oauth/start` → `{"authorize_url": "…"}`. The callback must
/// carry the same bearer token (or session) as this request.
#[utoipa::path(post, path = "/connections/amazon/oauth/start", tag = "connections", request_body = AmazonOAuthInput, responses(
    (status = 200, description = "Send the seller to `authorize_url`; Amazon sends them back to the callback.", body = AuthorizeBody),
    (status = 422, description = "A field needs attention: `fields` says which.", body = ApiErrorBody),
))]
pub(crate) async fn start_amazon_oauth(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    body: Result<Json<AmazonOAuthInput>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(input) = body?;
    let url = state
        .connections
        .start_amazon_oauth(&actor, identity.token(), &input)
        .await?;
    Ok(Json(AuthorizeBody {
        authorize_url: url.to_string(),
    }))
}

/// `POST /api/v1/connections/{id}/test` → `{"ok": …, "message": "…"}`.
#[utoipa::path(post, path = "/connections/{id}/test", tag = "connections", params(ConnectionId), responses(
    (status = 200, description = "What the platform answered, in words for the seller.", body = TestResult),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
))]
pub(crate) async fn test_connection(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.connections.test(&actor, id).await?))
}

/// `PUT /api/v1/connections/{id}/credentials` with any of the platform's credential fields →
/// 200 `{"ok": true, "message"}` once the marketplace accepted them (they replace the stored
/// ones), 422 `{"ok": false, "message"}` when it did not (nothing changed).
#[utoipa::path(put, path = "/connections/{id}/credentials", tag = "connections", params(ConnectionId),
    request_body = CredentialsUpdate, responses(
    (status = 200, description = "Tested and stored.", body = TestResult),
    (status = 422, description = "The marketplace refused them (`ok` false, nothing changed), or a field needs attention (`fields`).", body = TestResult),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
))]
pub(crate) async fn update_credentials(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId<ApiError>,
    body: Result<Json<CredentialsUpdate>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(update) = body?;
    let result = state.connections.update_credentials(&actor, id, &update).await?;
    let status = if result.ok {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(result)).into_response())
}

/// `DELETE /api/v1/connections/{id}` → 204.
#[utoipa::path(delete, path = "/connections/{id}", tag = "connections", params(ConnectionId), responses(
    (status = 204, description = "Its credentials deleted, the connection deactivated."),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
))]
pub(crate) async fn delete_connection(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<StatusCode, ApiError> {
    state.connections.disconnect(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unknown routes under `/api/v1`.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "There is no such API route.")
}
