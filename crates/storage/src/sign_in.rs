//! Failed sign-ins, counted per key (an address, or an account at an address) so that every
//! instance sharing the database sees the same counts.

use crate::db::with_pool;
use crate::{Result, Storage, Timestamp};

/// The failures counted under a key, and when the last one was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Failures {
    pub failures: i64,
    pub last_failure_at: Timestamp,
}

impl Storage {
    /// The failures under each of `keys` that happened after `since`, in the order of `keys`.
    pub async fn sign_in_failures(&self, keys: &[&str], since: Timestamp) -> Result<Vec<Option<Failures>>> {
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let row: Option<Failures> = with_pool!(self, |pool| {
                sqlx::query_as(
                    "SELECT failures, last_failure_at FROM sign_in_failures WHERE key = $1 AND last_failure_at > $2",
                )
                .bind(*key)
                .bind(since)
                .fetch_optional(pool)
                .await?
            });
            found.push(row);
        }
        Ok(found)
    }

    /// Counts one more failure under each key at `now`; a count whose last failure was at or
    /// before `forget_before` starts again from one.
    pub async fn record_sign_in_failure(&self, keys: &[&str], now: Timestamp, forget_before: Timestamp) -> Result<()> {
        for key in keys {
            with_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO sign_in_failures (key, failures, last_failure_at) VALUES ($1, 1, $2)
                     ON CONFLICT (key) DO UPDATE SET
                         failures = CASE WHEN sign_in_failures.last_failure_at <= $3 THEN 1
                                         ELSE sign_in_failures.failures + 1 END,
                         last_failure_at = excluded.last_failure_at",
                )
                .bind(*key)
                .bind(now)
                .bind(forget_before)
                .execute(pool)
                .await?;
            });
        }
        Ok(())
    }

    /// Forgets the failures under `key` (after a successful sign-in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes counts whose last failure was at or before `before`; returns how many.
    pub async fn delete_old_sign_in_failures(&self, before: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM sign_in_failures WHERE last_failure_at <= $1")
                .bind(before)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
