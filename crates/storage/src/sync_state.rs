//! What sync keeps between runs: each connection's schedules, how far each stream has been
//! synced (watermarks), and which of an account's marketplaces are synced.

use serde::Serialize;

use crate::db::{with_pool, with_tx};
use crate::{Result, Storage, SyncKind, Timestamp, Transaction};

/// How often one kind of sync runs for a connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Schedule {
    #[serde(skip)]
    pub connection_id: i64,
    #[serde(skip)]
    pub kind: SyncKind,
    pub interval_minutes: i64,
    pub enabled: bool,
    pub next_run_at: Timestamp,
}

/// A marketplace an account sells in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ConnectionMarketplace {
    pub marketplace_id: String,
    pub name: String,
    pub sync_enabled: bool,
}

impl Storage {
    /// The schedules of a connection, orders first.
    pub async fn schedules(&self, connection_id: i64) -> Result<Vec<Schedule>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT connection_id, kind, interval_minutes, enabled, next_run_at FROM sync_schedules
                 WHERE connection_id = $1 ORDER BY kind DESC",
            )
            .bind(connection_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Creates the given schedules where the connection has none of that kind yet.
    pub async fn ensure_schedules(&self, defaults: &[Schedule]) -> Result<()> {
        for schedule in defaults {
            with_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO sync_schedules (connection_id, kind, interval_minutes, enabled, next_run_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, kind) DO NOTHING",
                )
                .bind(schedule.connection_id)
                .bind(schedule.kind)
                .bind(schedule.interval_minutes)
                .bind(schedule.enabled)
                .bind(schedule.next_run_at)
                .execute(pool)
                .await?;
            });
        }
        Ok(())
    }

    /// Gives every active, usable connection a schedule of `kind` if it has none: due at `now`,
    /// so that a new connection syncs at once.
    pub async fn ensure_default_schedules(&self, kind: SyncKind, interval_minutes: i64, now: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "INSERT INTO sync_schedules (connection_id, kind, interval_minutes, enabled, next_run_at)
                 SELECT id, $1, $2, TRUE, $3 FROM connections WHERE active = TRUE AND status <> 'incomplete'
                 ON CONFLICT (connection_id, kind) DO NOTHING",
            )
            .bind(kind)
            .bind(interval_minutes)
            .bind(now)
            .execute(pool)
            .await?;
            Ok(done.rows_affected())
        })
    }

    /// Creates or replaces a schedule.
    pub async fn put_schedule(&self, schedule: &Schedule) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sync_schedules (connection_id, kind, interval_minutes, enabled, next_run_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (connection_id, kind) DO UPDATE SET interval_minutes = excluded.interval_minutes,
                     enabled = excluded.enabled, next_run_at = excluded.next_run_at",
            )
            .bind(schedule.connection_id)
            .bind(schedule.kind)
            .bind(schedule.interval_minutes)
            .bind(schedule.enabled)
            .bind(schedule.next_run_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Enabled schedules of active connections whose next run is due at `now`.
    pub async fn due_schedules(&self, now: Timestamp) -> Result<Vec<Schedule>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT s.connection_id, s.kind, s.interval_minutes, s.enabled, s.next_run_at
                 FROM sync_schedules s JOIN connections c ON c.id = s.connection_id
                 WHERE s.enabled = TRUE AND s.next_run_at <= $1 AND c.active = TRUE
                 ORDER BY s.next_run_at",
            )
            .bind(now)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Moves a schedule's next run from `from` to `to`; `false` when another instance moved it
    /// first (then that instance queues the run).
    pub async fn advance_schedule(
        &self,
        connection_id: i64,
        kind: SyncKind,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE sync_schedules SET next_run_at = $4
                 WHERE connection_id = $1 AND kind = $2 AND next_run_at = $3",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(from)
            .bind(to)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// How far a stream has been synced.
    pub async fn watermark(&self, connection_id: i64, kind: SyncKind, stream: &str) -> Result<Option<Timestamp>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT watermark_at FROM sync_watermarks WHERE connection_id = $1 AND kind = $2 AND stream = $3",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(stream)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// Records the marketplaces an account sells in; ones seen before keep their switch.
    pub async fn set_connection_marketplaces(
        &self,
        connection_id: i64,
        marketplaces: &[(String, String)],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for (marketplace_id, name) in marketplaces {
            with_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO connection_marketplaces (connection_id, marketplace_id, name, sync_enabled, updated_at)
                     VALUES ($1, $2, $3, TRUE, $4)
                     ON CONFLICT (connection_id, marketplace_id) DO UPDATE SET name = excluded.name,
                         updated_at = excluded.updated_at",
                )
                .bind(connection_id)
                .bind(marketplace_id)
                .bind(name)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            });
        }
        tx.commit().await
    }

    /// Moves the watermarks of these streams back to `to` (never forward), so that the next
    /// sync reads them again from there.
    pub async fn rewind_watermarks(
        &self,
        connection_id: i64,
        kind: SyncKind,
        streams: &[String],
        to: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        for stream in streams {
            with_tx!(tx, |conn| {
                sqlx::query(
                    "INSERT INTO sync_watermarks (connection_id, kind, stream, watermark_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (connection_id, kind, stream) DO UPDATE SET watermark_at = excluded.watermark_at,
                         updated_at = excluded.updated_at
                     WHERE sync_watermarks.watermark_at > excluded.watermark_at",
                )
                .bind(connection_id)
                .bind(kind)
                .bind(stream)
                .bind(to)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            });
        }
        tx.commit().await
    }

    pub async fn connection_marketplaces(&self, connection_id: i64) -> Result<Vec<ConnectionMarketplace>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT marketplace_id, name, sync_enabled FROM connection_marketplaces
                 WHERE connection_id = $1 ORDER BY marketplace_id",
            )
            .bind(connection_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Switches the sync of one marketplace on or off; `false` when the account has no such
    /// marketplace.
    pub async fn set_marketplace_sync(&self, connection_id: i64, marketplace_id: &str, enabled: bool) -> Result<bool> {
        with_pool!(self, |pool| {
            let done = sqlx::query(
                "UPDATE connection_marketplaces SET sync_enabled = $3 WHERE connection_id = $1 AND marketplace_id = $2",
            )
            .bind(connection_id)
            .bind(marketplace_id)
            .bind(enabled)
            .execute(pool)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}

impl Transaction {
    /// Moves a stream's watermark to `at` after reading it from `since`; call it in the
    /// transaction that stores what it covers. A watermark moved back before `since` meanwhile
    /// (the seller chose to read from an earlier date) stays where it was put: then `false`.
    pub async fn set_watermark(
        &mut self,
        connection_id: i64,
        kind: SyncKind,
        stream: &str,
        since: Timestamp,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<bool> {
        with_tx!(self, |conn| {
            let done = sqlx::query(
                "INSERT INTO sync_watermarks (connection_id, kind, stream, watermark_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (connection_id, kind, stream) DO UPDATE SET watermark_at = excluded.watermark_at,
                     updated_at = excluded.updated_at
                 WHERE sync_watermarks.watermark_at >= $6",
            )
            .bind(connection_id)
            .bind(kind)
            .bind(stream)
            .bind(at)
            .bind(now)
            .bind(since)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
