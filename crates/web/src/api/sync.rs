//! The API of sync: starting a sync, its jobs and the schedules. Contract: scripts rely on these names and shapes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_storage::{JobState, Schedule, SyncJob, SyncKind, Timestamp};
use javelin_sync::StartError;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiError;
use crate::extract::ConnectionId;

/// A job as the API shows it.
#[derive(Serialize)]
pub(crate) struct JobBody {
    id: i64,
    connection_id: i64,
    kind: SyncKind,
    status: JobState,
    progress: Progress,
    fetched: i64,
    created: i64,
    updated: i64,
    skipped: i64,
    skipped_reasons: Vec<String>,
    error: Option<String>,
    queued_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
}

#[derive(Serialize)]
struct Progress {
    pages: i64,
    /// What the job is doing now, when it is worth saying.
    note: Option<String>,
}

impl From<SyncJob> for JobBody {
    fn from(job: SyncJob) -> Self {
        Self {
            id: job.id,
            connection_id: job.connection_id,
            kind: job.kind,
            status: job.state,
            progress: Progress {
                pages: job.pages,
                note: Some(job.note).filter(|note| !note.is_empty()),
            },
            fetched: job.fetched,
            created: job.created,
            updated: job.updated,
            skipped: job.skipped,
            skipped_reasons: job.skipped_reasons.lines().map(str::to_owned).collect(),
            error: job.error,
            queued_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct SyncRequest {
    kind: String,
    /// For orders: read every order updated since this date (`YYYY-MM-DD`, UTC) again.
    from: Option<String>,
}

#[derive(Serialize)]
struct Queued {
    job_id: i64,
    job_ids: Vec<i64>,
}

/// The kinds a `"kind"` names: `orders`, `inventory`, or `all`.
pub(crate) fn kinds(kind: &str) -> Option<&'static [SyncKind]> {
    match kind {
        "orders" => Some(&[SyncKind::Orders]),
        "inventory" => Some(&[SyncKind::Inventory]),
        "all" => Some(&SyncKind::ALL),
        _ => None,
    }
}

impl From<StartError> for ApiError {
    fn from(err: StartError) -> Self {
        match err {
            StartError::NoSuchConnection => ApiError::no_such_connection(),
            StartError::Incomplete(_) | StartError::BadDate => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, err.to_string())
            }
            StartError::Storage(err) => err.into(),
        }
    }
}

/// `POST /api/v1/connections/{id}/sync` with `{"kind": "orders" | "inventory" | "all"}` and,
/// optionally, `"from": "YYYY-MM-DD"` → 202.
pub(crate) async fn start(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
    body: Result<Json<SyncRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let kinds = kinds(&request.kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "\"kind\" must be \"orders\", \"inventory\" or \"all\".",
        )
    })?;
    if let Some(from) = &request.from {
        if !kinds.contains(&SyncKind::Orders) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "\"from\" applies to orders: give \"kind\": \"orders\" or \"all\".",
            ));
        }
        state.sync.read_orders_from(id, from).await?;
    }
    let job_ids: Vec<i64> = state.sync.start(id, kinds).await?.iter().map(|job| job.id).collect();
    let body = Queued {
        // `kinds` names at least one kind, and `start` returns a job for each.
        job_id: job_ids[0],
        job_ids,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

/// `GET /api/v1/sync-jobs/{job_id}`.
pub(crate) async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobBody>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "There is no such sync job.");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let job = state.storage.get_job(id).await?.ok_or_else(not_found)?;
    Ok(Json(job.into()))
}

/// `GET /api/v1/connections/{id}/sync-jobs`: recent jobs, newest first.
pub(crate) async fn jobs(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<Json<Vec<JobBody>>, ApiError> {
    state
        .connections
        .get(id)
        .await?
        .ok_or_else(ApiError::no_such_connection)?;
    let jobs = state.storage.list_jobs(id, 50).await?;
    Ok(Json(jobs.into_iter().map(JobBody::from).collect()))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct Schedules {
    orders: ScheduleBody,
    inventory: ScheduleBody,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ScheduleBody {
    interval_minutes: i64,
    enabled: bool,
    #[serde(default, skip_deserializing)]
    next_run_at: Option<Timestamp>,
}

fn schedules_body(schedules: Vec<Schedule>) -> Schedules {
    let body = |kind| {
        schedules.iter().find(|s| s.kind == kind).map(|s| ScheduleBody {
            interval_minutes: s.interval_minutes,
            enabled: s.enabled,
            next_run_at: s.enabled.then_some(s.next_run_at),
        })
    };
    let default = || ScheduleBody {
        interval_minutes: 0,
        enabled: false,
        next_run_at: None,
    };
    Schedules {
        orders: body(SyncKind::Orders).unwrap_or_else(default),
        inventory: body(SyncKind::Inventory).unwrap_or_else(default),
    }
}

/// `GET /api/v1/connections/{id}/schedule`.
pub(crate) async fn schedule(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<Json<Schedules>, ApiError> {
    state
        .connections
        .get(id)
        .await?
        .ok_or_else(ApiError::no_such_connection)?;
    Ok(Json(schedules_body(state.sync.schedules(id).await?)))
}

/// The longest interval a schedule may have: a week.
pub(crate) const MAX_INTERVAL_MINUTES: i64 = 7 * 24 * 60;

/// `PUT /api/v1/connections/{id}/schedule` with both kinds' `interval_minutes` and `enabled`.
pub(crate) async fn set_schedule(
    State(state): State<AppState>,
    ConnectionId(id, _): ConnectionId<ApiError>,
    body: Result<Json<Schedules>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Schedules>, ApiError> {
    let Json(wanted) = body?;
    state
        .connections
        .get(id)
        .await?
        .ok_or_else(ApiError::no_such_connection)?;
    for (kind, body) in [
        (SyncKind::Orders, &wanted.orders),
        (SyncKind::Inventory, &wanted.inventory),
    ] {
        if !(1..=MAX_INTERVAL_MINUTES).contains(&body.interval_minutes) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "{}.interval_minutes must be between 1 and {MAX_INTERVAL_MINUTES} (a week).",
                    kind.code()
                ),
            ));
        }
    }
    for (kind, body) in [
        (SyncKind::Orders, &wanted.orders),
        (SyncKind::Inventory, &wanted.inventory),
    ] {
        state
            .sync
            .set_schedule(id, kind, body.interval_minutes, body.enabled)
            .await?;
    }
    Ok(Json(schedules_body(state.sync.schedules(id).await?)))
}
