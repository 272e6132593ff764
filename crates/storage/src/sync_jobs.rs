//! Sync jobs: queued by a seller or a schedule, held by one worker at a time through a lease
//! (so that several instances can share one database), their progress committed with the data
//! each page stores.

use serde::Serialize;

use crate::db::{with_pool, with_tx};
use crate::{Result, Storage, StorageError, Timestamp, Transaction};

/// What a job syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum SyncKind {
    Orders,
    Inventory,
    /// An Amazon account's order history, imported through reports; never scheduled.
    History,
    /// The orders a marketplace holds of the last days, compared with the stored ones, and
    /// those missing or stale fetched again; nightly.
    Reconcile,
}

impl SyncKind {
    /// The kinds that run on a schedule and that "Sync now" starts.
    pub const ALL: [SyncKind; 2] = [SyncKind::Orders, SyncKind::Inventory];

    pub fn code(self) -> &'static str {
        match self {
            Self::Orders => "orders",
            Self::Inventory => "inventory",
            Self::History => "history",
            Self::Reconcile => "reconcile",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// Who asked for a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum JobOrigin {
    Seller,
    Schedule,
}

#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SyncJob {
    pub id: i64,
    pub connection_id: i64,
    pub kind: SyncKind,
    pub state: JobState,
    pub origin: JobOrigin,
    pub run_at: Timestamp,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Timestamp>,
    pub attempts: i64,
    /// Where an interrupted job resumes; the runner's own format.
    pub cursor: Option<String>,
    pub pages: i64,
    pub fetched: i64,
    pub created: i64,
    pub updated: i64,
    pub skipped: i64,
    /// Why records were skipped, one per line.
    pub skipped_reasons: String,
    /// What the job is doing now, when it is worth saying ("Amazon is limiting requests; …").
    pub note: String,
    pub error: Option<String>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

/// What one page of a job did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageProgress {
    pub fetched: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    /// A line per skipped record: its id and why.
    pub skipped_reasons: Vec<String>,
}

/// Reasons kept per job: enough to act on, bounded however bad the data.
const MAX_REASON_LINES: usize = 100;

const JOB_COLUMNS: &str = "id, connection_id, kind, state, origin, run_at, lease_owner, lease_expires_at, attempts, \
     cursor, pages, fetched, created, updated, skipped, skipped_reasons, note, error, created_at, started_at, \
     finished_at";

/// The job is due or its lease has run out.
const CLAIMABLE: &str = "((state = 'queued' AND run_at <= $2) OR (state = 'running' AND lease_expires_at < $2))";

impl Storage {
    /// Queues a job, unless one of the same kind is queued or running for the connection
    /// already; returns the active job, and whether it is the new one.
    pub async fn enqueue_job(
        &self,
        connection_id: i64,
        kind: SyncKind,
        origin: JobOrigin,
        now: Timestamp,
    ) -> Result<(SyncJob, bool)> {
        self.enqueue_job_from(connection_id, kind, origin, None, now).await
    }

    /// [`Self::enqueue_job`], the new job starting at `cursor` (the runner's own format).
    pub async fn enqueue_job_from(
        &self,
        connection_id: i64,
        kind: SyncKind,
        origin: JobOrigin,
        cursor: Option<&str>,
        now: Timestamp,
    ) -> Result<(SyncJob, bool)> {
        // A race with a job that finishes right now can leave neither to return: try again.
        for _ in 0..3 {
            let inserted: Result<SyncJob> = with_pool!(self, |pool| {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO sync_jobs (connection_id, kind, state, origin, run_at, created_at, cursor)
                     VALUES ($1, $2, 'queued', $3, $4, $4, $5) RETURNING {JOB_COLUMNS}"
                )))
                .bind(connection_id)
                .bind(kind)
                .bind(origin)
                .bind(now)
                .bind(cursor)
                .fetch_one(pool)
                .await
                .map_err(StorageError::conflict_on("active sync job"))
            });
            match inserted {
                Ok(job) => return Ok((job, true)),
                Err(StorageError::Conflict(_)) => {
                    if let Some(active) = self.active_job(connection_id, kind).await? {
                        return Ok((active, false));
                    }
                }
                Err(err) => return Err(err),
            }
        }
        Err(StorageError::Conflict("active sync job"))
    }

    pub async fn active_job(&self, connection_id: i64, kind: SyncKind) -> Result<Option<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs
                 WHERE connection_id = $1 AND kind = $2 AND state IN ('queued', 'running')"
            )))
            .bind(connection_id)
            .bind(kind)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Takes the next job that is due, or whose worker's lease ran out, for `owner` until
    /// `lease_until`. Of several workers asking at once, each job goes to one.
    pub async fn claim_job(&self, owner: &str, now: Timestamp, lease_until: Timestamp) -> Result<Option<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE sync_jobs SET state = 'running', lease_owner = $1, lease_expires_at = $3,
                     attempts = attempts + 1, started_at = COALESCE(started_at, $2)
                 WHERE id = (SELECT id FROM sync_jobs WHERE {CLAIMABLE} ORDER BY run_at, id LIMIT 1)
                   AND {CLAIMABLE}
                 RETURNING {JOB_COLUMNS}"
            )))
            .bind(owner)
            .bind(now)
            .bind(lease_until)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Extends `owner`'s lease on a running job; `false` when the job is no longer its own.
    pub async fn renew_lease(&self, id: i64, owner: &str, until: Timestamp) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sync_jobs SET lease_expires_at = $3
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .bind(until)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Gives a running job back (its worker is stopping): queued again, due now, for any
    /// worker to resume from its cursor. `false` when it was no longer `owner`'s.
    pub async fn release_job(&self, id: i64, owner: &str, now: Timestamp) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sync_jobs SET state = 'queued', run_at = $3, lease_owner = NULL, lease_expires_at = NULL,
                     note = ''
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Says what a running job is doing now; `false` when the job is no longer `owner`'s.
    pub async fn set_job_note(&self, id: i64, owner: &str, note: &str) -> Result<bool> {
        with_pool!(self, |pool| {
            let done =
                sqlx::query("UPDATE sync_jobs SET note = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'")
                    .bind(id)
                    .bind(owner)
                    .bind(note)
                    .execute(pool)
                    .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// A connection's newest job of a kind, whatever its state.
    pub async fn latest_job(&self, connection_id: i64, kind: SyncKind) -> Result<Option<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs WHERE connection_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1"
            )))
            .bind(connection_id)
            .bind(kind)
            .fetch_optional(pool)
            .await?)
        })
    }

    pub async fn get_job(&self, id: i64) -> Result<Option<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// A connection's most recent jobs, newest first.
    pub async fn list_jobs(&self, connection_id: i64, limit: u32) -> Result<Vec<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs WHERE connection_id = $1 ORDER BY id DESC LIMIT $2"
            )))
            .bind(connection_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?)
        })
    }

    /// A connection's last successful job of each kind it has had one of.
    pub async fn last_successes(&self, connection_id: i64) -> Result<Vec<SyncJob>> {
        // One indexed lookup per kind rather than a scan of the connection's whole history.
        let last = |kind: SyncKind| {
            format!(
                "SELECT * FROM (SELECT {JOB_COLUMNS} FROM sync_jobs
                     WHERE connection_id = $1 AND kind = '{}' AND state = 'succeeded' ORDER BY id DESC LIMIT 1) AS last_{0}",
                kind.code()
            )
        };
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{} UNION ALL {}",
                last(SyncKind::Orders),
                last(SyncKind::Inventory)
            )))
            .bind(connection_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The last job of each kind of each active connection that ended as `state`.
    pub async fn last_jobs(&self, state: JobState) -> Result<Vec<SyncJob>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM sync_jobs WHERE id IN (
                     SELECT MAX(j.id) FROM sync_jobs j JOIN connections c ON c.id = j.connection_id
                     WHERE c.active = TRUE AND j.state = $1 GROUP BY j.connection_id, j.kind)
                 ORDER BY connection_id, kind"
            )))
            .bind(state)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Forgets jobs that ended and were due before `before`, except each connection's last
    /// success and last failure of each kind, which its health panel shows however old.
    pub async fn delete_old_jobs(&self, before: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "DELETE FROM sync_jobs WHERE state IN ('succeeded', 'failed') AND run_at < $1
                   AND id NOT IN (SELECT MAX(id) FROM sync_jobs WHERE state IN ('succeeded', 'failed')
                                  GROUP BY connection_id, kind, state)",
            )
            .bind(before)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Ends every queued or running job of a connection as failed (it was disconnected).
    pub async fn fail_active_jobs(&self, connection_id: i64, error: &str, now: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sync_jobs SET state = 'failed', error = $2, finished_at = $3, lease_owner = NULL,
                     lease_expires_at = NULL
                 WHERE connection_id = $1 AND state IN ('queued', 'running')",
            )
            .bind(connection_id)
            .bind(error)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }
}

impl Transaction {
    /// Adds a page's counts to a job and records where it resumes — if `owner` still holds
    /// the job. `false` means another worker has taken it over: the caller must roll back.
    pub async fn record_page(
        &mut self,
        id: i64,
        owner: &str,
        progress: &PageProgress,
        cursor: Option<&str>,
    ) -> Result<bool> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        with_tx!(self, |conn| {
            // Most pages skip nothing: then one statement, the job's reasons left as they are.
            let reasons = if progress.skipped_reasons.is_empty() {
                None
            } else {
                let stored: Option<String> = sqlx::query_scalar(
                    "SELECT skipped_reasons FROM sync_jobs WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
                )
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(stored) = stored else {
                    return Ok(false);
                };
                let kept: Vec<&str> = stored
                    .lines()
                    .chain(progress.skipped_reasons.iter().map(String::as_str))
                    .take(MAX_REASON_LINES)
                    .collect();
                Some(kept.join("\n"))
            };
            let done = sqlx::query(
                "UPDATE sync_jobs SET pages = pages + 1, fetched = fetched + $3, created = created + $4,
                     updated = updated + $5, skipped = skipped + $6,
                     skipped_reasons = COALESCE($7, skipped_reasons), cursor = $8
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .bind(count(progress.fetched))
            .bind(count(progress.created))
            .bind(count(progress.updated))
            .bind(count(progress.skipped))
            .bind(reasons)
            .bind(cursor)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Ends `owner`'s job: succeeded, or failed with `error` in the seller's words. `false`
    /// when the job is no longer its own.
    pub async fn finish_job(&mut self, id: i64, owner: &str, error: Option<&str>, now: Timestamp) -> Result<bool> {
        let state = if error.is_some() {
            JobState::Failed
        } else {
            JobState::Succeeded
        };
        with_tx!(self, |conn| {
            let done = sqlx::query(
                "UPDATE sync_jobs SET state = $3, error = $4, finished_at = $5, note = '', cursor = NULL,
                     lease_owner = NULL, lease_expires_at = NULL
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(id)
            .bind(owner)
            .bind(state)
            .bind(error)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
