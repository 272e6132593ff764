//! What a seller asks of sync: "Sync now" for a connection, and reading its orders again from
//! a date of their choosing.

use javelin_core::{Actor, AuditAction, Forbidden, Permission};
use javelin_marketplaces::Platform;
use javelin_storage::{ConnectionStatus, JobOrigin, Schedule, StorageError, SyncJob, SyncKind, Timestamp};
use time::{Date, Duration, Time, macros::format_description};

use crate::Sync;

/// The furthest back a seller can ask orders to be read from.
pub const MAX_HISTORY_DAYS: i64 = 730;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("There is no such connection.")]
    NoSuchConnection,
    /// The connection cannot sync until it is completed; the message says how.
    #[error("{0}")]
    Incomplete(String),
    #[error("Give the date as YYYY-MM-DD, no later than today and at most two years back.")]
    BadDate,
    #[error("Keep at least one marketplace switched on, or disconnect the account.")]
    NoMarketplace,
    #[error(
        "History is imported through Amazon's order reports; a Flipkart account reads older orders with \"Read orders from a date\"."
    )]
    NotAmazon,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Sync {
    /// Queues a sync of each kind for a connection ("Sync now"); a kind already queued or
    /// running keeps its job. Returns the jobs, in the order of `kinds`.
    pub async fn start(
        &self,
        actor: &Actor,
        connection_id: i64,
        kinds: &[SyncKind],
    ) -> Result<Vec<SyncJob>, StartError> {
        self.usable(connection_id).await?;
        let mut jobs = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            let (job, new) = self.request(connection_id, kind, JobOrigin::Seller).await?;
            if new {
                self.record_start(actor, &job, None).await;
            }
            jobs.push(job);
        }
        Ok(jobs)
    }

    /// Records who started a sync job.
    pub(crate) async fn record_start(&self, actor: &Actor, job: &SyncJob, detail: Option<String>) {
        let detail = detail.unwrap_or_else(|| format!("{} sync", job.kind.code()));
        self.inner
            .audit
            .record(
                actor,
                AuditAction::SyncStarted,
                Some(format!("connection {}", job.connection_id)),
                Some(format!("{detail}, job {}", job.id)),
            )
            .await;
    }

    /// Changes a schedule: the next run comes one interval from now.
    pub async fn set_schedule(
        &self,
        actor: &Actor,
        connection_id: i64,
        kind: SyncKind,
        interval_minutes: i64,
        enabled: bool,
    ) -> Result<Schedule, StartError> {
        actor.require(Permission::ManageSchedules)?;
        let schedule = Schedule {
            connection_id,
            kind,
            interval_minutes,
            enabled,
            next_run_at: self.inner.clock.now() + Duration::minutes(interval_minutes),
        };
        self.inner.storage.put_schedule(&schedule).await?;
        let detail = format!(
            "{} every {interval_minutes} minutes, {}",
            kind.code(),
            if enabled { "on" } else { "off" }
        );
        self.inner
            .audit
            .record(
                actor,
                AuditAction::ScheduleChanged,
                Some(format!("connection {connection_id}")),
                Some(detail),
            )
            .await;
        Ok(schedule)
    }

    /// Which of a connection's marketplaces sync: those in `wanted`, at least one.
    pub async fn set_marketplaces(&self, actor: &Actor, connection_id: i64, wanted: &[&str]) -> Result<(), StartError> {
        actor.require(Permission::ManageConnections)?;
        if wanted.is_empty() {
            return Err(StartError::NoMarketplace);
        }
        let storage = &self.inner.storage;
        let mut changes = Vec::new();
        for marketplace in storage.connection_marketplaces(connection_id).await? {
            let on = wanted.contains(&marketplace.marketplace_id.as_str());
            if on != marketplace.sync_enabled {
                storage
                    .set_marketplace_sync(connection_id, &marketplace.marketplace_id, on)
                    .await?;
                changes.push(format!(
                    "{} {}",
                    marketplace.marketplace_id,
                    if on { "on" } else { "off" }
                ));
            }
        }
        if !changes.is_empty() {
            self.inner
                .audit
                .record(
                    actor,
                    AuditAction::ConnectionMarketplacesChanged,
                    Some(format!("connection {connection_id}")),
                    Some(changes.join(", ")),
                )
                .await;
        }
        Ok(())
    }

    /// Has the next orders sync read every order updated since the start of `from` (a UTC
    /// date, `YYYY-MM-DD`) again, and queues it. A sync running now keeps its own start; the
    /// next one reads from `from`.
    pub async fn read_orders_from(&self, actor: &Actor, connection_id: i64, from: &str) -> Result<SyncJob, StartError> {
        actor.require(Permission::ManageSchedules)?;
        let inner = &*self.inner;
        let now = inner.clock.now();
        let from = parse_from(from, now).ok_or(StartError::BadDate)?;
        let platform = self.usable(connection_id).await?;
        let streams = inner.connectors.get(platform).order_streams();
        inner
            .storage
            .rewind_watermarks(connection_id, SyncKind::Orders, &streams, from, now)
            .await?;
        let (job, _) = self.request(connection_id, SyncKind::Orders, JobOrigin::Seller).await?;
        let detail = format!("orders sync from {}", from.to_rfc3339());
        self.record_start(actor, &job, Some(detail)).await;
        Ok(job)
    }

    /// Imports an Amazon account's orders placed since the start of `from` (a UTC date,
    /// `YYYY-MM-DD`, at most two years back) through Amazon's order reports, 30 days a report.
    /// An import under way keeps going; it is returned instead, with `false`.
    pub async fn import_history(
        &self,
        actor: &Actor,
        connection_id: i64,
        from: &str,
    ) -> Result<(SyncJob, bool), StartError> {
        actor.require(Permission::ManageSchedules)?;
        let inner = &*self.inner;
        let now = inner.clock.now();
        let from = parse_from(from, now).ok_or(StartError::BadDate)?;
        if self.usable(connection_id).await? != Platform::Amazon {
            return Err(StartError::NotAmazon);
        }
        let plan = crate::runner::Plan::new(from, now);
        let detail = format!("history import from {}", from.to_rfc3339());
        Ok(self.queue_history(actor, connection_id, &plan, detail).await?)
    }

    /// Queues a history import with its plan, unless one is under way (then that one, `false`).
    async fn queue_history(
        &self,
        actor: &Actor,
        connection_id: i64,
        plan: &crate::runner::Plan,
        detail: String,
    ) -> Result<(SyncJob, bool), StorageError> {
        let inner = &*self.inner;
        let cursor = plan.to_cursor();
        let (job, new) = inner
            .storage
            .enqueue_job_from(
                connection_id,
                SyncKind::History,
                JobOrigin::Seller,
                Some(&cursor),
                inner.clock.now(),
            )
            .await?;
        if new {
            inner.queued.notify_waiters();
            inner.emit(&job);
            self.record_start(actor, &job, Some(detail)).await;
        }
        Ok((job, new))
    }

    /// A new Amazon connection: its history through reports (open orders first), and its
    /// first orders sync reading only the last two hours, which the reports do not reach.
    pub(crate) async fn import_on_connect(&self, connection_id: i64, span: Duration) -> Result<(), StorageError> {
        let inner = &*self.inner;
        let now = inner.clock.now();
        let streams = inner.connectors.get(Platform::Amazon).order_streams();
        inner
            .storage
            .rewind_watermarks(connection_id, SyncKind::Orders, &streams, now - Duration::hours(2), now)
            .await?;
        let plan = crate::runner::Plan::new(now - span, now).open_orders_first(now - inner.settings.history);
        let detail = format!("history import of {} days on connect", span.whole_days());
        self.queue_history(&Actor::system(), connection_id, &plan, detail)
            .await?;
        Ok(())
    }

    /// Queues a reconciliation of a connection's recent orders with the marketplace's (the one
    /// under way, if any, is returned with `false`).
    pub async fn reconcile(&self, actor: &Actor, connection_id: i64) -> Result<(SyncJob, bool), StartError> {
        self.usable(connection_id).await?;
        let (job, new) = self
            .request(connection_id, SyncKind::Reconcile, JobOrigin::Seller)
            .await?;
        if new {
            self.record_start(actor, &job, Some("reconciliation".into())).await;
        }
        Ok((job, new))
    }

    /// The platform of a connection that can sync.
    async fn usable(&self, connection_id: i64) -> Result<Platform, StartError> {
        let connection = self
            .inner
            .storage
            .get_connection(connection_id)
            .await?
            .filter(|connection| connection.active)
            .ok_or(StartError::NoSuchConnection)?;
        if connection.status == ConnectionStatus::Incomplete {
            return Err(StartError::Incomplete(connection.status_message));
        }
        connection.platform.parse().map_err(|_| StartError::NoSuchConnection)
    }
}

/// The start of a UTC date no later than today and at most [`MAX_HISTORY_DAYS`] back.
fn parse_from(text: &str, now: Timestamp) -> Option<Timestamp> {
    let date = Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    let at = Timestamp::from_datetime(date.with_time(Time::MIDNIGHT).assume_utc());
    (at <= now && at >= now - Duration::days(MAX_HISTORY_DAYS)).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_read_as_the_start_of_a_utc_day_within_two_years() {
        let now = Timestamp::parse_rfc3339("2026-11-27T12:00:00Z").expect("time");
        let at = |text| Timestamp::parse_rfc3339(text).expect("time");
        assert_eq!(parse_from("2026-10-01", now), Some(at("2026-10-01T00:00:00Z")));
        assert_eq!(parse_from(" 2026-11-27 ", now), Some(at("2026-11-27T00:00:00Z")));
        assert_eq!(parse_from("2024-11-28", now), Some(at("2024-11-28T00:00:00Z")));
        for bad in [
            "2026-11-28",
            "2024-11-26",
            "2026-13-01",
            "01/10/2026",
            "",
            "2026-10-01T00:00:00Z",
        ] {
            assert_eq!(parse_from(bad, now), None, "{bad}");
        }
    }
}
