//! The API of sync: starting a sync, its jobs and the schedules. Contract: scripts rely on these names and shapes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_storage::{JobState, Schedule, SyncJob, SyncKind, Timestamp};
use javelin_sync::StartError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::AppState;
use crate::auth::Acting;
use crate::error::{ApiError, ApiErrorBody};
use crate::extract::ConnectionId;

/// A job as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = SyncJob)]
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

#[derive(Serialize, ToSchema)]
#[schema(as = SyncProgress)]
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

#[derive(Deserialize, ToSchema)]
pub(crate) struct SyncRequest {
    #[schema(schema_with = kind_schema)]
    kind: String,
    /// For orders: read every order updated since this date (`YYYY-MM-DD`, UTC) again.
    #[schema(format = Date)]
    from: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SyncQueued)]
struct Queued {
    /// The first of `job_ids`.
    job_id: i64,
    /// A job per kind.
    job_ids: Vec<i64>,
}

/// What a `"kind"` may name, and the kinds each starts.
const KINDS: [(&str, &[SyncKind]); 3] = [
    ("orders", &[SyncKind::Orders]),
    ("inventory", &[SyncKind::Inventory]),
    ("all", &SyncKind::ALL),
];

/// The kinds a `"kind"` names: `orders`, `inventory`, or `all`.
pub(crate) fn kinds(kind: &str) -> Option<&'static [SyncKind]> {
    KINDS.iter().find(|(name, _)| *name == kind).map(|(_, kinds)| *kinds)
}

fn kind_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(KINDS.map(|(name, _)| name)))
        .build()
}

impl From<StartError> for ApiError {
    fn from(err: StartError) -> Self {
        match err {
            StartError::NoSuchConnection => ApiError::no_such_connection(),
            StartError::Incomplete(_) | StartError::BadDate | StartError::NoMarketplace | StartError::NotAmazon => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, err.to_string())
            }
            StartError::Forbidden(forbidden) => forbidden.into(),
            StartError::Storage(err) => err.into(),
        }
    }
}

/// `POST /api/v1/connections/{id}/sync` with `{"kind": "orders" | "inventory" | "all"}` and,
/// optionally, `"from": "YYYY-MM-DD"` → 202.
#[utoipa::path(post, path = "/connections/{id}/sync", tag = "sync", operation_id = "start_sync", params(ConnectionId),
    request_body = SyncRequest, responses(
    (status = 202, description = "Queued: a job per kind.", body = Queued),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
    (status = 422, description = "A wrong `kind` or `from`, or the connection cannot sync yet.", body = ApiErrorBody),
))]
pub(crate) async fn start(
    State(state): State<AppState>,
    Acting(actor): Acting,
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
        state.sync.read_orders_from(&actor, id, from).await?;
    }
    let job_ids: Vec<i64> = state
        .sync
        .start(&actor, id, kinds)
        .await?
        .iter()
        .map(|job| job.id)
        .collect();
    let body = Queued {
        // `kinds` names at least one kind, and `start` returns a job for each.
        job_id: job_ids[0],
        job_ids,
    };
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

#[derive(Deserialize, ToSchema)]
pub(crate) struct ImportRequest {
    /// Import the orders placed since this date (`YYYY-MM-DD`, UTC, at most two years back).
    #[schema(format = Date)]
    from: String,
}

/// A job queued by itself.
#[derive(Serialize, ToSchema)]
#[schema(as = JobQueued)]
struct JobQueued {
    job_id: i64,
}

/// `POST /api/v1/connections/{id}/import` with `{"from": "YYYY-MM-DD"}` → 202: an Amazon
/// account's order history through Amazon's order reports (an import under way is returned).
#[utoipa::path(post, path = "/connections/{id}/import", tag = "sync", operation_id = "import_history",
    params(ConnectionId), request_body = ImportRequest, responses(
    (status = 202, description = "Queued (or already under way): the import's job.", body = JobQueued),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
    (status = 422, description = "A wrong `from`, a Flipkart account, or one that cannot sync yet.", body = ApiErrorBody),
))]
pub(crate) async fn import(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId<ApiError>,
    body: Result<Json<ImportRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(request) = body?;
    let (job, _) = state.sync.import_history(&actor, id, &request.from).await?;
    Ok((StatusCode::ACCEPTED, Json(JobQueued { job_id: job.id })).into_response())
}

/// `POST /api/v1/connections/{id}/reconcile` → 202: compares the connection's recent orders
/// with the marketplace's and fetches again those missing or out of date (it also runs nightly).
#[utoipa::path(post, path = "/connections/{id}/reconcile", tag = "sync", operation_id = "reconcile",
    params(ConnectionId), responses(
    (status = 202, description = "Queued (or already under way): the reconciliation's job.", body = JobQueued),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
    (status = 422, description = "The connection cannot sync yet.", body = ApiErrorBody),
))]
pub(crate) async fn reconcile(
    State(state): State<AppState>,
    Acting(actor): Acting,
    ConnectionId(id, _): ConnectionId<ApiError>,
) -> Result<Response, ApiError> {
    let (job, _) = state.sync.reconcile(&actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(JobQueued { job_id: job.id })).into_response())
}

/// `GET /api/v1/sync-jobs/{job_id}`.
#[utoipa::path(get, path = "/sync-jobs/{job_id}", tag = "sync", operation_id = "sync_job",
    params(("job_id" = i64, Path, description = "The job's id.")), responses(
    (status = 200, description = "The job.", body = JobBody),
    (status = 404, description = "No such job.", body = ApiErrorBody),
))]
pub(crate) async fn job(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<JobBody>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "There is no such sync job.");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let job = state.storage.get_job(id).await?.ok_or_else(not_found)?;
    Ok(Json(job.into()))
}

/// `GET /api/v1/connections/{id}/sync-jobs`: recent jobs, newest first.
#[utoipa::path(get, path = "/connections/{id}/sync-jobs", tag = "sync", operation_id = "sync_jobs", params(ConnectionId), responses(
    (status = 200, description = "The last 50 jobs, newest first.", body = Vec<JobBody>),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
))]
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

/// Both kinds' schedules; `PUT` takes both, without `next_run_at`.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = SyncSchedules)]
pub(crate) struct Schedules {
    orders: ScheduleBody,
    inventory: ScheduleBody,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[schema(as = SyncSchedule)]
pub(crate) struct ScheduleBody {
    /// From 1 minute to a week when set; 0 for a schedule never set.
    interval_minutes: i64,
    enabled: bool,
    /// When it runs next, while enabled.
    #[serde(default, deserialize_with = "ignored")]
    #[schema(read_only)]
    next_run_at: Option<Timestamp>,
}

/// Whatever a `PUT` sends as `next_run_at` is read past: the schedule sets it. (Not
/// `skip_deserializing`, which would leave the field out of the OpenAPI document.)
fn ignored<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Timestamp>, D::Error> {
    serde::de::IgnoredAny::deserialize(deserializer)?;
    Ok(None)
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
#[utoipa::path(get, path = "/connections/{id}/schedule", tag = "sync", operation_id = "sync_schedule", params(ConnectionId), responses(
    (status = 200, description = "The schedules of orders and of stock.", body = Schedules),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
))]
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
#[utoipa::path(put, path = "/connections/{id}/schedule", tag = "sync", operation_id = "set_sync_schedule", params(ConnectionId),
    request_body = Schedules, responses(
    (status = 200, description = "The schedules as they now are.", body = Schedules),
    (status = 404, description = "No such connection.", body = ApiErrorBody),
    (status = 422, description = "An interval out of range.", body = ApiErrorBody),
))]
pub(crate) async fn set_schedule(
    State(state): State<AppState>,
    Acting(actor): Acting,
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
            .set_schedule(&actor, id, kind, body.interval_minutes, body.enabled)
            .await?;
    }
    Ok(Json(schedules_body(state.sync.schedules(id).await?)))
}
