//! Schedules: every usable connection syncs its orders and its stock at an interval (by
//! default 15 and 60 minutes, editable, each can be switched off). Each instance checks the
//! schedules now and then; a due run is queued by whichever instance moves it on first.

use javelin_core::Actor;
use javelin_storage::{JobOrigin, Schedule, StorageError, SyncKind};
use tokio_util::sync::CancellationToken;

use crate::Sync;

/// How long the history of jobs goes back (each kind's last outcomes are always kept).
const JOB_HISTORY: time::Duration = time::Duration::days(90);

impl Sync {
    pub(crate) async fn schedule(&self, stopping: CancellationToken) {
        loop {
            if let Err(err) = self.queue_due().await {
                tracing::warn!(error = %err, "cannot check sync schedules");
            }
            tokio::select! {
                _ = stopping.cancelled() => return,
                _ = self.inner.connected.notified() => {}
                _ = tokio::time::sleep(self.inner.settings.schedule_tick) => {}
            }
        }
    }

    /// Forgets jobs older than [`JOB_HISTORY`]: schedules add about a hundred a day per
    /// connection. Run now and then; returns how many went.
    pub async fn housekeeping(&self) -> Result<u64, StorageError> {
        let inner = &*self.inner;
        inner.storage.delete_old_jobs(inner.clock.now() - JOB_HISTORY).await
    }

    /// Gives new connections their schedules and queues the runs that are due; returns how
    /// many it queued.
    pub async fn queue_due(&self) -> Result<usize, StorageError> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let storage = &inner.storage;
        storage
            .ensure_default_schedules(SyncKind::Orders, inner.settings.orders_every, now)
            .await?;
        storage
            .ensure_default_schedules(SyncKind::Inventory, inner.settings.inventory_every, now)
            .await?;
        let mut queued = 0;
        for schedule in storage.due_schedules(now).await? {
            let next = now + time::Duration::minutes(schedule.interval_minutes);
            if storage
                .advance_schedule(schedule.connection_id, schedule.kind, schedule.next_run_at, next)
                .await?
            {
                let (job, new) = self
                    .request(schedule.connection_id, schedule.kind, JobOrigin::Schedule)
                    .await?;
                if new {
                    let detail = format!("scheduled {} sync", job.kind.code());
                    self.record_start(&Actor::system(), &job, Some(detail)).await;
                }
                queued += 1;
            }
        }
        queued += self.queue_reconciliations(now).await?;
        Ok(queued)
    }

    /// A reconciliation a day for every usable connection, the first a day after it was made.
    async fn queue_reconciliations(&self, now: javelin_storage::Timestamp) -> Result<usize, StorageError> {
        let storage = &self.inner.storage;
        let day_ago = now - time::Duration::days(1);
        let mut queued = 0;
        for connection in storage.list_connections().await? {
            if !connection.active || connection.status == javelin_storage::ConnectionStatus::Incomplete {
                continue;
            }
            let last = storage
                .latest_job(connection.id, SyncKind::Reconcile)
                .await?
                .map_or(connection.created_at, |job| job.created_at);
            if last > day_ago {
                continue;
            }
            let (job, new) = self
                .request(connection.id, SyncKind::Reconcile, JobOrigin::Schedule)
                .await?;
            if new {
                self.record_start(&Actor::system(), &job, Some("scheduled reconciliation".into()))
                    .await;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// A connection's schedules; ones it does not have yet are shown with the defaults.
    pub async fn schedules(&self, connection_id: i64) -> Result<Vec<Schedule>, StorageError> {
        let inner = &*self.inner;
        let stored = inner.storage.schedules(connection_id).await?;
        let defaults = [
            (SyncKind::Orders, inner.settings.orders_every),
            (SyncKind::Inventory, inner.settings.inventory_every),
        ];
        Ok(defaults
            .into_iter()
            .map(|(kind, interval_minutes)| {
                stored.iter().find(|s| s.kind == kind).cloned().unwrap_or(Schedule {
                    connection_id,
                    kind,
                    interval_minutes,
                    enabled: true,
                    next_run_at: inner.clock.now(),
                })
            })
            .collect())
    }
}
