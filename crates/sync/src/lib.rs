//! The sync engine: it keeps every connection's orders and stock current.
//!
//! Work is a job in the database (`sync_jobs`), queued by a seller ("Sync now") or by a
//! schedule, and run by one worker at a time under a lease, so that several instances can share
//! one PostgreSQL. A job reads its connection's streams (see `Connector`) page by page, at the
//! pace the marketplace allows, and commits each page with the job's progress and place — the
//! watermark moves only with the last page of a stream — so that a job killed at any moment
//! resumes without losing or doubling anything.
//!
//! - [`pacing`]: token buckets per connection and operation;
//! - `worker`: claiming jobs, leases, shutting down;
//! - `runner`: reading a job's streams, retries, storing pages;
//! - `scheduler`: turning schedules into jobs;
//! - `health` and `requests`: what a seller sees of it and asks of it.

mod health;
pub mod pacing;
mod requests;
mod runner;
mod scheduler;
mod tokens;
mod worker;

use std::sync::Arc;
use std::time::Duration;

use javelin_core::connections::CredentialStore;
use javelin_core::{Audit, Clock};
use javelin_marketplaces::Connectors;
use javelin_storage::{JobOrigin, JobState, Storage, StorageError, SyncJob, SyncKind, Timestamp};
use tokio::sync::{Notify, broadcast};

pub use crate::health::{Health, KindHealth};
use crate::pacing::Pacer;
pub use crate::requests::{MAX_HISTORY_DAYS, StartError};
pub use crate::runner::IMPORT_BATCH;
use crate::tokens::Tokens;

/// How the engine runs.
#[derive(Clone, Debug)]
pub struct SyncSettings {
    /// Jobs run at once by this instance.
    pub workers: usize,
    /// How long a worker holds a job without renewing its lease; a job whose worker died is
    /// taken over after this.
    pub lease: Duration,
    /// How often idle workers look for jobs queued by other instances.
    pub poll: Duration,
    /// Whether this instance turns schedules into jobs (tests that queue every job themselves
    /// turn it off).
    pub schedules: bool,
    /// How often schedules are checked.
    pub schedule_tick: Duration,
    /// The first wait before retrying a marketplace that failed (doubling up to a minute).
    pub retry_delay: Duration,
    /// Failures in a row (unavailable or throttled) before a job gives up.
    pub max_failures: usize,
    /// How far back the first sync of a connection reads orders.
    pub history: time::Duration,
    /// Default intervals of new connections' schedules, in minutes.
    pub orders_every: i64,
    pub inventory_every: i64,
    /// How often a history import asks Amazon whether a report is ready.
    pub report_poll: Duration,
    /// How much history a new Amazon connection imports through reports (its open orders
    /// first); its first orders sync then reads only the last two hours through searchOrders.
    /// `None`: the first sync reads [`Self::history`] through searchOrders alone.
    pub history_on_connect: Option<time::Duration>,
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            workers: 4,
            lease: Duration::from_secs(120),
            poll: Duration::from_secs(10),
            schedules: true,
            schedule_tick: Duration::from_secs(30),
            retry_delay: Duration::from_secs(1),
            max_failures: 8,
            history: time::Duration::days(30),
            orders_every: 15,
            inventory_every: 60,
            // Amazon's reports take minutes; getReport allows 2 calls a second.
            report_poll: Duration::from_secs(30),
            history_on_connect: Some(time::Duration::days(90)),
        }
    }
}

/// A change of a job that pages may want to show at once: queued, started, a page stored
/// (`Running` again), ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobEvent {
    pub job_id: i64,
    pub connection_id: i64,
    pub state: JobState,
}

/// The sync engine of this instance. Cheap to clone.
#[derive(Clone)]
pub struct Sync {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    store: CredentialStore,
    connectors: Connectors,
    clock: Clock,
    settings: SyncSettings,
    pacer: Pacer,
    tokens: Tokens,
    /// This instance's name on the leases it holds.
    owner: String,
    /// Wakes idle workers when this instance queues a job.
    queued: Notify,
    /// Wakes the scheduler when an account was connected.
    connected: Notify,
    events: broadcast::Sender<JobEvent>,
    audit: Audit,
}

impl Sync {
    pub fn new(
        storage: Storage,
        store: CredentialStore,
        connectors: Connectors,
        clock: Clock,
        settings: SyncSettings,
    ) -> Self {
        let mut random = [0u8; 8];
        // Only jitter and the lease owner's name depend on it.
        let _ = getrandom::fill(&mut random);
        let seed = u64::from_le_bytes(random);
        let (events, _) = broadcast::channel(256);
        Self {
            inner: Arc::new(Inner {
                tokens: Tokens::new(store.clone(), clock.clone()),
                audit: Audit::new(storage.clone(), clock.clone()),
                storage,
                store,
                connectors,
                clock,
                settings,
                pacer: Pacer::new(seed),
                owner: format!("{}-{seed:016x}", std::process::id()),
                queued: Notify::new(),
                connected: Notify::new(),
                events,
            }),
        }
    }

    /// Queues a sync of `kind` for a connection, unless one is queued or running already;
    /// returns that job, and whether it is new.
    pub async fn request(
        &self,
        connection_id: i64,
        kind: SyncKind,
        origin: JobOrigin,
    ) -> Result<(SyncJob, bool), StorageError> {
        let queued = self
            .inner
            .storage
            .enqueue_job(connection_id, kind, origin, self.inner.clock.now())
            .await?;
        if queued.1 {
            self.inner.queued.notify_waiters();
            self.inner.emit(&queued.0);
        }
        Ok(queued)
    }

    /// An account was connected (`new`: not an existing one given new credentials): its first
    /// syncs start now rather than at the next check of the schedules, and a new Amazon
    /// account's history comes through reports.
    pub async fn connected(&self, connection_id: i64, platform: javelin_marketplaces::Platform, new: bool) {
        if new
            && platform == javelin_marketplaces::Platform::Amazon
            && let Some(span) = self.inner.settings.history_on_connect
            && let Err(err) = self.import_on_connect(connection_id, span).await
        {
            tracing::warn!(connection = connection_id, error = %err, "cannot start the history import");
        }
        self.inner.connected.notify_one();
    }

    /// Every change of every job this instance makes, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// The time by the engine's clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The rate the engine paces an operation of a connection at now (calls a second).
    pub fn pace_of(&self, connection_id: i64, operation: &javelin_marketplaces::Operation) -> f64 {
        self.inner.pacer.rate(connection_id, operation)
    }
}

impl Inner {
    /// A running job stored a page.
    fn emit_page(&self, job: &SyncJob) {
        let _ = self.events.send(JobEvent {
            job_id: job.id,
            connection_id: job.connection_id,
            state: JobState::Running,
        });
    }

    fn emit(&self, job: &SyncJob) {
        // Nobody listening is fine.
        let _ = self.events.send(JobEvent {
            job_id: job.id,
            connection_id: job.connection_id,
            state: job.state,
        });
    }
}
