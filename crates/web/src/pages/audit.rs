//! The audit log page, for administrators: who did what, filtered like the API.

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use javelin_core::AuditQuery;
use javelin_core::audit::{AuditAction, AuditError, next_cursor};
use javelin_core::connections::FieldErrors;
use javelin_storage::AuditEvent;

use crate::AppState;
use crate::auth::{Acting, Identity};
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Layout, Section};

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
pub(crate) struct AuditPage {
    layout: Layout,
    query: AuditQuery,
    errors: FieldErrors,
    events: Vec<AuditEvent>,
    next: Option<String>,
}

impl AuditPage {
    fn actions(&self) -> impl Iterator<Item = &'static str> {
        AuditAction::ALL.iter().map(|action| action.as_str())
    }

    /// The filters as a query string, with `cursor` for the next page.
    fn next_href(&self, cursor: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", &self.query.actor)
            .append_pair("action", &self.query.action)
            .append_pair("from", &self.query.from)
            .append_pair("to", &self.query.to)
            .append_pair("cursor", cursor)
            .finish();
        format!("/audit?{query}")
    }
}

impl From<AuditError> for PageError {
    fn from(err: AuditError) -> Self {
        match err {
            AuditError::Forbidden(forbidden) => forbidden.into(),
            AuditError::Storage(err) => err.into(),
        }
    }
}

/// `GET /audit`.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Acting(actor): Acting,
    Extension(flash): Extension<Flash>,
    Query(query): Query<AuditQuery>,
) -> Result<AuditPage, PageError> {
    let layout = Layout::new(Section::Audit, identity, flash);
    let (events, next, errors) = match query.parse() {
        Ok(request) => {
            let events = state
                .accounts
                .audit()
                .list(&actor, &request.filter, request.limit, request.before)
                .await?;
            let next = next_cursor(&events, request.limit);
            (events, next, FieldErrors::default())
        }
        Err(errors) => (Vec::new(), None, errors),
    };
    Ok(AuditPage {
        layout,
        query,
        errors,
        events,
        next,
    })
}
