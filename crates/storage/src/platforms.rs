use serde::Serialize;

use crate::db::{BeginWrite, with_pool};
use crate::{Result, Storage, Timestamp};

/// A marketplace Javelin can connect to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Platform {
    pub code: String,
    pub name: String,
    pub sort_order: i64,
}

pub struct NewPlatform<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub sort_order: i64,
}

impl Storage {
    /// Inserts the given platforms, or refreshes their names and order; idempotent, run at
    /// every start so that a supported platform is always present.
    pub async fn ensure_platforms(&self, platforms: &[NewPlatform<'_>], now: Timestamp) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for platform in platforms {
                sqlx::query(
                    "INSERT INTO platforms (code, name, sort_order, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name, sort_order = excluded.sort_order",
                )
                .bind(platform.code)
                .bind(platform.name)
                .bind(platform.sort_order)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    pub async fn list_platforms(&self) -> Result<Vec<Platform>> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_as("SELECT code, name, sort_order FROM platforms ORDER BY sort_order, code")
                    .fetch_all(pool)
                    .await?,
            )
        })
    }
}
