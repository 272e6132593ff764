//! Errors as responses: an HTML page for browsers, a JSON body for the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use javelin_core::connections::{ConnectError, FieldErrors};
use javelin_core::orders::QueryError;
use javelin_core::{AccountError, Forbidden, LoginError};
use javelin_storage::StorageError;

use crate::assets;

const INTERNAL: &str = "Something went wrong on our side. It has been logged; try again, and if it keeps \
                        happening, check the server log.";

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    asset_version: &'a str,
    title: &'a str,
    message: &'a str,
    link_href: &'a str,
    link_label: &'a str,
}

/// An error page.
#[derive(Debug)]
pub(crate) enum PageError {
    NotFound,
    /// A state-changing form arrived without its token, or with a stale one.
    FormExpired,
    /// Input no handler could take, said in words for people.
    Unprocessable(String),
    /// The user's role does not allow this; the message says who may.
    Forbidden(String),
    Internal(String),
}

impl From<StorageError> for PageError {
    fn from(err: StorageError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<AccountError> for PageError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Forbidden(forbidden) => forbidden.into(),
            AccountError::UserNotFound | AccountError::TokenNotFound => Self::NotFound,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<Forbidden> for PageError {
    fn from(err: Forbidden) -> Self {
        Self::Forbidden(err.to_string())
    }
}

impl From<LoginError> for PageError {
    fn from(err: LoginError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<ConnectError> for PageError {
    /// Field errors are shown on their form by the handler; what reaches here is a missing
    /// connection or a failure of Javelin's own.
    fn from(err: ConnectError) -> Self {
        match err {
            ConnectError::NotFound => Self::NotFound,
            ConnectError::Forbidden(forbidden) => forbidden.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message, link_href, link_label) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is no page at this address. It may have moved, or the link may be mistyped.",
                "/",
                "Go to the dashboard",
            ),
            Self::FormExpired => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your security, forms only work from the page that showed them, with cookies allowed \
                 for this site. Go back, reload the page and submit it again.",
                "/",
                "Go to the dashboard",
            ),
            Self::Unprocessable(message) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "This input was refused",
                message.as_str(),
                "/",
                "Go to the dashboard",
            ),
            Self::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                message.as_str(),
                "/",
                "Go to the dashboard",
            ),
            Self::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    INTERNAL,
                    "/",
                    "Go to the dashboard",
                )
            }
        };
        let page = ErrorPage {
            asset_version: assets::version(),
            title,
            message,
            link_href,
            link_label,
        };
        (status, page).into_response()
    }
}

/// An API error: `{"error": "…"}`, with `"fields": {"name": "…"}` for invalid input.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    fields: Option<FieldErrors>,
    retry_after: Option<u64>,
}

/// Every error answer of the API.
#[derive(Serialize, ToSchema)]
#[schema(as = ApiError)]
pub(crate) struct ApiErrorBody<'a> {
    /// What went wrong, in words for people.
    error: &'a str,
    /// For invalid input (422): what is wrong with each field or parameter, by its name.
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            fields: None,
            retry_after: None,
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub(crate) fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
        }
    }

    pub(crate) fn invalid(fields: FieldErrors) -> Self {
        Self {
            fields: Some(fields),
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Some fields need attention.")
        }
    }

    pub(crate) fn no_such_connection() -> Self {
        Self::new(StatusCode::NOT_FOUND, "There is no such connection.")
    }

    pub(crate) fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "API request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ApiErrorBody {
            error: &self.message,
            fields: self.fields.as_ref(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::new(rejection.status(), rejection.body_text())
    }
}

impl From<QueryError> for ApiError {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::BadCursor => {
                let mut fields = FieldErrors::default();
                fields.add("cursor", format!("cursor: {err}"));
                Self::invalid(fields)
            }
            QueryError::Storage(err) => err.into(),
        }
    }
}

impl From<Forbidden> for ApiError {
    fn from(err: Forbidden) -> Self {
        Self::forbidden(err.to_string())
    }
}

impl From<AccountError> for ApiError {
    /// Input errors name the field they are about.
    fn from(err: AccountError) -> Self {
        let field = match &err {
            AccountError::InvalidEmail | AccountError::EmailTaken => "email",
            AccountError::Password(_) => "password",
            AccountError::WrongCurrentPassword => "current_password",
            AccountError::Forbidden(forbidden) => return (*forbidden).into(),
            AccountError::UserNotFound | AccountError::TokenNotFound => {
                return Self::new(StatusCode::NOT_FOUND, err.to_string());
            }
            AccountError::LastAdmin => return Self::new(StatusCode::CONFLICT, err.to_string()),
            AccountError::AlreadySetUp | AccountError::Storage(_) | AccountError::Hashing(_) => {
                return Self::internal(err);
            }
        };
        let mut fields = FieldErrors::default();
        fields.add(field, err.to_string());
        Self::invalid(fields)
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        Self::internal(err)
    }
}

impl From<ConnectError> for ApiError {
    fn from(err: ConnectError) -> Self {
        match err {
            ConnectError::Invalid(fields) => Self::invalid(fields),
            ConnectError::NotFound => Self::no_such_connection(),
            ConnectError::Forbidden(forbidden) => forbidden.into(),
            other => Self::internal(other),
        }
    }
}

/// The "no such thing" answer of each kind of response, for extractors shared by pages and API.
pub(crate) trait NotFound: IntoResponse {
    fn not_found() -> Self;
}

impl NotFound for PageError {
    fn not_found() -> Self {
        Self::NotFound
    }
}

impl NotFound for ApiError {
    fn not_found() -> Self {
        Self::no_such_connection()
    }
}
