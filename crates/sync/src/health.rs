//! What a seller sees of a connection's sync: for each kind, the last success, the next run,
//! the job under way and the last error.

use javelin_storage::{ConnectionMarketplace, JobState, Schedule, StorageError, SyncJob, SyncKind};

use crate::Sync;

/// A connection's sync, as its card shows it.
#[derive(Clone, Debug)]
pub struct Health {
    /// Orders first.
    pub kinds: Vec<KindHealth>,
    /// The marketplaces of the account, each with its switch.
    pub marketplaces: Vec<ConnectionMarketplace>,
    /// The history import under way, or the last one.
    pub history: Option<SyncJob>,
    /// The reconciliation under way, or the last one.
    pub reconciliation: Option<SyncJob>,
    /// How many days back a reconciliation of this connection looks.
    pub reconcile_days: i64,
}

#[derive(Clone, Debug)]
pub struct KindHealth {
    pub kind: SyncKind,
    pub schedule: Schedule,
    pub last_success: Option<SyncJob>,
    /// The job queued or running now.
    pub active: Option<SyncJob>,
    /// The last job that ended, if it failed.
    pub failure: Option<SyncJob>,
}

impl Health {
    /// Whether a job is queued or running, so the page keeps watching.
    pub fn is_busy(&self) -> bool {
        self.kinds.iter().any(|kind| kind.active.is_some())
            || [&self.history, &self.reconciliation]
                .into_iter()
                .flatten()
                .any(|job| matches!(job.state, JobState::Queued | JobState::Running))
    }
}

/// Recent jobs looked at for the job under way and the last error: a few runs of each kind.
const RECENT: u32 = 12;

impl Sync {
    pub async fn health(&self, connection_id: i64) -> Result<Health, StorageError> {
        let storage = &self.inner.storage;
        let recent = storage.list_jobs(connection_id, RECENT).await?;
        let successes = storage.last_successes(connection_id).await?;
        let kinds = self
            .schedules(connection_id)
            .await?
            .into_iter()
            .map(|schedule| {
                let kind = schedule.kind;
                let of_kind = || recent.iter().filter(move |job| job.kind == kind);
                let active = of_kind()
                    .find(|job| matches!(job.state, JobState::Queued | JobState::Running))
                    .cloned();
                let failure = of_kind()
                    .find(|job| job.finished_at.is_some())
                    .filter(|job| job.state == JobState::Failed)
                    .cloned();
                KindHealth {
                    kind,
                    schedule,
                    last_success: successes.iter().find(|job| job.kind == kind).cloned(),
                    active,
                    failure,
                }
            })
            .collect();
        let reconciliation = storage.latest_job(connection_id, SyncKind::Reconcile).await?;
        // The panel is loaded often: the platform is read only when there is one to describe.
        let reconcile_days = match &reconciliation {
            Some(_) => storage
                .get_connection(connection_id)
                .await?
                .and_then(|connection| connection.platform.parse().ok())
                .map_or(0, crate::runner::days_checked),
            None => 0,
        };
        Ok(Health {
            kinds,
            marketplaces: storage.connection_marketplaces(connection_id).await?,
            history: storage.latest_job(connection_id, SyncKind::History).await?,
            reconciliation,
            reconcile_days,
        })
    }
}
