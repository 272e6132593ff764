//! Users for administrators (`/api/v1/users`), and each user's own tokens and password
//! (`/api/v1/me/…`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_core::connections::FieldErrors;
use javelin_storage::{ApiTokenInfo, Timestamp, User, UserChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Acting, Identity};
use crate::error::{ApiError, ApiErrorBody};

/// A user as the API shows them: never a password or its hash.
#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserBody {
    id: i64,
    email: String,
    #[schema(pattern = "^(admin|member)$")]
    role: &'static str,
    /// False once deactivated: no sign-in, no session, no token.
    active: bool,
    created_at: Timestamp,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            role: javelin_core::accounts::role_name(user.role),
            email: user.email,
            active: user.active,
            created_at: user.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Users)]
pub(crate) struct UsersBody {
    users: Vec<UserBody>,
}

/// `GET /api/v1/users`.
#[utoipa::path(get, path = "/users", tag = "users", responses(
    (status = 200, description = "Every user, by email.", body = UsersBody),
))]
pub(crate) async fn list(State(state): State<AppState>, Acting(actor): Acting) -> Result<Json<UsersBody>, ApiError> {
    let users = state.accounts.list_users(&actor).await?;
    Ok(Json(UsersBody {
        users: users.into_iter().map(UserBody::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct NewUserRequest {
    email: String,
    #[schema(pattern = "^(admin|member)$")]
    role: String,
    /// Their first password, which they can change; at least 8 characters, not a common one.
    password: Option<String>,
}

fn role_field(name: &str) -> Result<javelin_storage::Role, ApiError> {
    javelin_core::accounts::role_named(name).ok_or_else(|| {
        let mut fields = FieldErrors::default();
        fields.add("role", "role must be admin or member.");
        ApiError::invalid(fields)
    })
}

/// `POST /api/v1/users` `{"email","role","password"}` → 201 with the user.
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUserRequest, responses(
    (status = 201, description = "The user can sign in.", body = UserBody),
    (status = 422, description = "A field needs attention: `fields` says which.", body = ApiErrorBody),
))]
pub(crate) async fn create(
    State(state): State<AppState>,
    Acting(actor): Acting,
    body: Result<Json<NewUserRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let role = role_field(&request.role)?;
    let Some(password) = request.password else {
        let mut fields = FieldErrors::default();
        fields.add("password", "Give the user's first password.");
        return Err(ApiError::invalid(fields));
    };
    let user = state
        .accounts
        .create_user(&actor, &request.email, &password, role)
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody::from(user))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserChangeRequest {
    #[schema(pattern = "^(admin|member)$")]
    role: Option<String>,
    /// False deactivates the user and ends their sessions and tokens at once.
    active: Option<bool>,
}

/// `PATCH /api/v1/users/{id}` `{"role"?,"active"?}` → the user as changed.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = UserChangeRequest,
    params(("id" = i64, Path, description = "The user's id.")), responses(
    (status = 200, description = "The user as changed.", body = UserBody),
    (status = 404, description = "No such user.", body = ApiErrorBody),
    (status = 409, description = "It would leave no active administrator.", body = ApiErrorBody),
))]
pub(crate) async fn change(
    State(state): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
    body: Result<Json<UserChangeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<UserBody>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "There is no such user."))?;
    let Json(request) = body?;
    let role = request.role.as_deref().map(role_field).transpose()?;
    let change = UserChange {
        role,
        active: request.active,
    };
    Ok(Json(state.accounts.change_user(&actor, id, change).await?.into()))
}

/// An API token of the caller's: never the token itself.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiToken)]
pub(crate) struct TokenBody {
    id: i64,
    /// The label given when it was made.
    name: String,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ApiTokens)]
pub(crate) struct TokensBody {
    tokens: Vec<TokenBody>,
}

impl From<ApiTokenInfo> for TokenBody {
    fn from(token: ApiTokenInfo) -> Self {
        Self {
            id: token.id,
            name: token.label,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
        }
    }
}

/// `GET /api/v1/me/tokens`: the caller's tokens that still work.
#[utoipa::path(get, path = "/me/tokens", tag = "users", responses(
    (status = 200, description = "Newest first.", body = TokensBody),
))]
pub(crate) async fn my_tokens(
    State(state): State<AppState>,
    Acting(actor): Acting,
) -> Result<Json<TokensBody>, ApiError> {
    let tokens = state.accounts.api_tokens(&actor).await?;
    Ok(Json(TokensBody {
        tokens: tokens.into_iter().map(TokenBody::from).collect(),
    }))
}

/// `DELETE /api/v1/me/tokens/{id}` → 204.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "users",
    params(("id" = i64, Path, description = "The token's id.")), responses(
    (status = 204, description = "The token no longer works."),
    (status = 404, description = "No such live token of the caller's.", body = ApiErrorBody),
))]
pub(crate) async fn revoke_my_token(
    State(state): State<AppState>,
    Acting(actor): Acting,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "There is no such API token of yours."))?;
    state.accounts.revoke_api_token_id(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct PasswordRequest {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/me/password` `{"current_password","new_password"}` → 204; the caller's
/// browser sessions end (but the one making the call).
#[utoipa::path(post, path = "/me/password", tag = "users", request_body = PasswordRequest, responses(
    (status = 204, description = "Changed; other sessions signed out."),
    (status = 422, description = "Wrong current password or a weak new one: `fields` says which.", body = ApiErrorBody),
))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    body: Result<Json<PasswordRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(request) = body?;
    let session = identity.session_token();
    state
        .accounts
        .change_password(&actor, &request.current_password, &request.new_password, session)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
