//! The audit log: appended to, read newest first, never changed (the schema's triggers refuse
//! updates and deletes; nothing here tries one).

use crate::db::{PushLimit, with_pool};
use crate::{Result, Storage, Timestamp};

/// An event to record. `actor_id` is `None` for the system (schedules, start-up).
#[derive(Clone, Debug, Default)]
pub struct NewAuditEvent {
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: i64,
    pub at: Timestamp,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<String>,
}

/// Which events a page of the log holds; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// An email, or "system".
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub to: Option<Timestamp>,
}

impl Storage {
    /// Appends an event, at `at`; returns its id.
    pub async fn append_audit(&self, event: &NewAuditEvent, at: Timestamp) -> Result<i64> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "INSERT INTO audit_events (occurred_at, actor_id, actor, action, target, ip, user_agent, detail)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(at)
            .bind(event.actor_id)
            .bind(&event.actor)
            .bind(&event.action)
            .bind(&event.target)
            .bind(&event.ip)
            .bind(&event.user_agent)
            .bind(&event.detail)
            .fetch_one(pool)
            .await?)
        })
    }

    /// The events `filter` lets through, newest first, `limit` at a time after the event `before`.
    pub async fn list_audit(&self, filter: &AuditFilter, limit: u32, before: Option<i64>) -> Result<Vec<AuditEvent>> {
        with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT id, occurred_at AS at, actor_id, actor, action, target, ip, user_agent, detail FROM audit_events WHERE TRUE",
            );
            if let Some(actor) = &filter.actor {
                query.push(" AND actor = ").push_bind(actor.clone());
            }
            if let Some(action) = &filter.action {
                query.push(" AND action = ").push_bind(action.clone());
            }
            if let Some(from) = filter.from {
                query.push(" AND occurred_at >= ").push_bind(from);
            }
            if let Some(to) = filter.to {
                query.push(" AND occurred_at < ").push_bind(to);
            }
            if let Some(before) = before {
                query.push(" AND id < ").push_bind(before);
            }
            query.push(" ORDER BY id DESC").push_limit(limit);
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }
}
