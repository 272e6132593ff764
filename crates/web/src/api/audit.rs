//! `GET /api/v1/audit`: the audit log, newest first, for administrators.

use axum::Json;
use axum::extract::{Query, State};
use javelin_core::AuditQuery;
use javelin_core::audit::{AuditError, next_cursor};
use javelin_storage::AuditEvent;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Acting;
use crate::error::{ApiError, ApiErrorBody};

/// One event of the audit log.
#[derive(Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub(crate) struct EventBody {
    id: i64,
    at: javelin_storage::Timestamp,
    /// The user's email then, or "system".
    actor: String,
    action: String,
    target: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    detail: Option<String>,
}

impl From<AuditEvent> for EventBody {
    fn from(event: AuditEvent) -> Self {
        Self {
            id: event.id,
            at: event.at,
            actor: event.actor,
            action: event.action,
            target: event.target,
            ip: event.ip,
            user_agent: event.user_agent,
            detail: event.detail,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditPage)]
pub(crate) struct AuditBody {
    events: Vec<EventBody>,
    /// Send as `cursor` for the next, older page; null on the last.
    next_cursor: Option<String>,
}

impl From<AuditError> for ApiError {
    fn from(err: AuditError) -> Self {
        match err {
            AuditError::Forbidden(forbidden) => forbidden.into(),
            AuditError::Storage(err) => err.into(),
        }
    }
}

/// `GET /api/v1/audit?actor=&action=&from=&to=&cursor=`.
#[utoipa::path(get, path = "/audit", tag = "users", params(AuditQuery), responses(
    (status = 200, description = "Events, newest first.", body = AuditBody),
    (status = 422, description = "A parameter is wrong: `fields` names it.", body = ApiErrorBody),
))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    Acting(actor): Acting,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditBody>, ApiError> {
    let request = query.parse().map_err(ApiError::invalid)?;
    let events = state
        .accounts
        .audit()
        .list(&actor, &request.filter, request.limit, request.before)
        .await?;
    let next_cursor = next_cursor(&events, request.limit);
    Ok(Json(AuditBody {
        events: events.into_iter().map(EventBody::from).collect(),
        next_cursor,
    }))
}
