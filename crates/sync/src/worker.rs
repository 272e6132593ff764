//! Workers: each claims a due job (or one whose worker's lease ran out), keeps its lease alive
//! while running it, and records how it ended. Stopping gives a running job back to the queue,
//! to be resumed from its last stored page.

use javelin_storage::{ConnectionStatus, JobOrigin, StorageError, SyncJob};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::runner::{self, Outcome};
use crate::{Inner, Sync};

impl Sync {
    /// Runs this instance's workers and its scheduler until `stopping` is cancelled.
    pub async fn run(&self, stopping: CancellationToken) {
        let mut tasks = JoinSet::new();
        for _ in 0..self.inner.settings.workers.max(1) {
            let (sync, stopping) = (self.clone(), stopping.clone());
            tasks.spawn(async move { sync.work(stopping).await });
        }
        if self.inner.settings.schedules {
            let (sync, stop_scheduling) = (self.clone(), stopping.clone());
            tasks.spawn(async move { sync.schedule(stop_scheduling).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn work(&self, stopping: CancellationToken) {
        let inner = &self.inner;
        loop {
            // Listen before looking, so that a job queued in between is not missed.
            let queued = inner.queued.notified();
            tokio::pin!(queued);
            queued.as_mut().enable();
            let idle = match self.run_next(&stopping).await {
                Ok(Some(_)) => false,
                Ok(None) => true,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot claim sync jobs");
                    true
                }
            };
            if stopping.is_cancelled() {
                return;
            }
            if idle {
                tokio::select! {
                    _ = stopping.cancelled() => return,
                    _ = &mut queued => {}
                    _ = tokio::time::sleep(inner.settings.poll) => {}
                }
            }
        }
    }

    /// Claims the next due job and runs it to its end, or until `stopping`; `None` when no job
    /// is due. Returns the job as it ended.
    pub async fn run_next(&self, stopping: &CancellationToken) -> Result<Option<SyncJob>, StorageError> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let Some(job) = inner.storage.claim_job(&inner.owner, now, lease_end(inner)).await? else {
            return Ok(None);
        };
        tracing::info!(job = job.id, connection = job.connection_id, kind = ?job.kind, attempt = job.attempts, "sync job started");
        inner.emit(&job);
        // Cancelled when the instance stops or the lease is lost.
        let stop = stopping.child_token();
        let heartbeat = tokio::spawn(keep_lease(self.clone(), job.id, stop.clone()));
        let outcome = runner::run(inner, &job, &stop).await;
        heartbeat.abort();
        let now = inner.clock.now();
        match outcome {
            Outcome::Succeeded { again } => {
                self.finish(&job, None, false).await?;
                if again {
                    self.request(job.connection_id, job.kind, JobOrigin::Seller).await?;
                }
            }
            Outcome::Failed { message, credentials } => self.finish(&job, Some(&message), credentials).await?,
            Outcome::Stopped if stopping.is_cancelled() => {
                inner.storage.release_job(job.id, &inner.owner, now).await?;
                tracing::info!(job = job.id, "sync job given back for another worker");
            }
            Outcome::Stopped => tracing::warn!(job = job.id, "sync job taken over by another worker"),
        }
        let ended = inner.storage.get_job(job.id).await?;
        if let Some(ended) = &ended {
            inner.emit(ended);
        }
        Ok(ended)
    }

    async fn finish(&self, job: &SyncJob, error: Option<&str>, credentials: bool) -> Result<(), StorageError> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let mut tx = inner.storage.begin().await?;
        if !tx.finish_job(job.id, &inner.owner, error, now).await? {
            return Ok(());
        }
        if let (Some(message), true) = (error, credentials) {
            tx.set_connection_status(job.connection_id, ConnectionStatus::Error, message, now)
                .await?;
        }
        tx.commit().await?;
        match error {
            Some(message) => tracing::warn!(job = job.id, %message, "sync job failed"),
            None => tracing::info!(job = job.id, "sync job succeeded"),
        }
        Ok(())
    }
}

fn lease_end(inner: &Inner) -> javelin_storage::Timestamp {
    let lease = time::Duration::try_from(inner.settings.lease).unwrap_or(time::Duration::minutes(2));
    inner.clock.now() + lease
}

/// Renews a job's lease every third of its length; a renewal refused (another worker took the
/// job over) stops the job.
async fn keep_lease(sync: Sync, job_id: i64, stop: CancellationToken) {
    let inner = &*sync.inner;
    let every = inner.settings.lease / 3;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match inner.storage.renew_lease(job_id, &inner.owner, lease_end(inner)).await {
            Ok(true) => {}
            Ok(false) => {
                stop.cancel();
                return;
            }
            Err(err) => tracing::warn!(job = job_id, error = %err, "cannot renew a sync job's lease"),
        }
    }
}
