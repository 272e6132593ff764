use serde::Serialize;

use crate::db::{with_pool, with_tx};
use crate::{Result, Storage, Timestamp, Transaction};

/// A connection's state, and a platform's when summarised (`not_connected` is never stored).
/// Serialised by its snake-case code, as the API and the database name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum ConnectionStatus {
    Connected,
    Incomplete,
    Error,
    NotConnected,
}

/// A seller account on a platform.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Connection {
    pub id: i64,
    pub platform: String,
    pub status: ConnectionStatus,
    pub status_message: String,
    pub label: String,
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    pub selling_partner_id: Option<String>,
    pub application_id: Option<String>,
    pub active: bool,
    pub created_at: Timestamp,
    pub last_tested_at: Option<Timestamp>,
}

pub struct NewConnection<'a> {
    pub platform: &'a str,
    pub status: ConnectionStatus,
    pub status_message: &'a str,
    pub label: &'a str,
    pub region: Option<&'a str>,
    pub marketplace_id: Option<&'a str>,
    pub selling_partner_id: Option<&'a str>,
    pub application_id: Option<&'a str>,
    /// `None` for connections no user made (sample data from `javelin bench seed`).
    pub created_by: Option<i64>,
    pub now: Timestamp,
}

/// An encrypted secret as stored: the key that sealed it, the nonce, the ciphertext.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredSecret {
    pub connection_id: i64,
    pub field: String,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub expires_at: Option<Timestamp>,
    /// When the value was given; a key rotation seals it again but keeps this.
    pub set_at: Timestamp,
}

const CONNECTION_COLUMNS: &str = "id, platform, status, status_message, label, region, marketplace_id, \
     selling_partner_id, application_id, active, created_at, last_tested_at";

impl Transaction {
    /// Creates a connection; its secrets follow with [`Transaction::put_secret`], since each
    /// ciphertext is bound to the new row's id.
    pub async fn insert_connection(&mut self, new: &NewConnection<'_>) -> Result<Connection> {
        with_tx!(self, |conn| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "INSERT INTO connections (platform, status, status_message, label, region, marketplace_id,
                     selling_partner_id, application_id, active, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10, $10) RETURNING {CONNECTION_COLUMNS}"
            )))
            .bind(new.platform)
            .bind(new.status)
            .bind(new.status_message)
            .bind(new.label)
            .bind(new.region)
            .bind(new.marketplace_id)
            .bind(new.selling_partner_id)
            .bind(new.application_id)
            .bind(new.created_by)
            .bind(new.now)
            .fetch_one(&mut *conn)
            .await?)
        })
    }

    /// Inserts or replaces one secret of a connection.
    pub async fn put_secret(&mut self, secret: &StoredSecret, now: Timestamp) -> Result<()> {
        with_tx!(self, |conn| {
            sqlx::query(
                "INSERT INTO connection_secrets (connection_id, field, key_id, nonce, ciphertext, expires_at, updated_at, set_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (connection_id, field) DO UPDATE SET key_id = excluded.key_id,
                     nonce = excluded.nonce, ciphertext = excluded.ciphertext,
                     expires_at = excluded.expires_at, updated_at = excluded.updated_at, set_at = excluded.set_at",
            )
            .bind(secret.connection_id)
            .bind(&secret.field)
            .bind(&secret.key_id)
            .bind(&secret.nonce)
            .bind(&secret.ciphertext)
            .bind(secret.expires_at)
            .bind(now)
            .bind(secret.set_at)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Records the outcome of a connection test.
    pub async fn record_connection_test(
        &mut self,
        id: i64,
        status: ConnectionStatus,
        message: &str,
        label: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        with_tx!(self, |conn| {
            sqlx::query(
                "UPDATE connections SET status = $2, status_message = $3, label = COALESCE($4, label),
                     last_tested_at = $5, updated_at = $5
                 WHERE id = $1 AND active = TRUE",
            )
            .bind(id)
            .bind(status)
            .bind(message)
            .bind(label)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Sets an active connection's status and message (a sync found its credentials refused),
    /// leaving the time of its last test as it was.
    pub async fn set_connection_status(
        &mut self,
        id: i64,
        status: ConnectionStatus,
        message: &str,
        now: Timestamp,
    ) -> Result<()> {
        with_tx!(self, |conn| {
            sqlx::query(
                "UPDATE connections SET status = $2, status_message = $3, updated_at = $4 WHERE id = $1 AND active = TRUE",
            )
            .bind(id)
            .bind(status)
            .bind(message)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Deletes every secret of a connection and deactivates it; returns whether it was active.
    /// The row stays, so that orders synced from it keep their origin; its stock no longer
    /// counts.
    pub async fn deactivate_connection(&mut self, id: i64, now: Timestamp) -> Result<bool> {
        let deactivated = with_tx!(self, |conn| {
            sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            let done = sqlx::query(
                "UPDATE connections SET active = FALSE, deactivated_at = $2, updated_at = $2
                 WHERE id = $1 AND active = TRUE",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            done.rows_affected() == 1
        });
        let held: Vec<String> = with_tx!(self, |conn| {
            sqlx::query_scalar("SELECT DISTINCT sku FROM inventory_items WHERE connection_id = $1")
                .bind(id)
                .fetch_all(&mut *conn)
                .await?
        });
        let skus: Vec<&str> = held.iter().map(String::as_str).collect();
        for chunk in skus.chunks(crate::inventory::ROWS_PER_STATEMENT) {
            self.refresh_sku_stock(chunk).await?;
        }
        Ok(deactivated)
    }

    /// Replaces the given secrets' ciphertexts (a key rotation). Consents in progress are
    /// short-lived: they are dropped rather than resealed.
    pub async fn reseal_secrets(&mut self, secrets: &[StoredSecret], now: Timestamp) -> Result<()> {
        with_tx!(self, |conn| {
            for secret in secrets {
                sqlx::query(
                    "UPDATE connection_secrets SET key_id = $3, nonce = $4, ciphertext = $5, updated_at = $6
                     WHERE connection_id = $1 AND field = $2",
                )
                .bind(secret.connection_id)
                .bind(&secret.field)
                .bind(&secret.key_id)
                .bind(&secret.nonce)
                .bind(&secret.ciphertext)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
            sqlx::query("DELETE FROM oauth_states").execute(&mut *conn).await?;
        });
        Ok(())
    }
}

impl Storage {
    /// Active connections, oldest first.
    pub async fn list_connections(&self) -> Result<Vec<Connection>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections WHERE active = TRUE ORDER BY created_at, id"
            )))
            .fetch_all(pool)
            .await?)
        })
    }

    pub async fn get_connection(&self, id: i64) -> Result<Option<Connection>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?)
        })
    }

    pub async fn connection_secrets(&self, connection_id: i64) -> Result<Vec<StoredSecret>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT connection_id, field, key_id, nonce, ciphertext, expires_at, set_at
                 FROM connection_secrets WHERE connection_id = $1 ORDER BY field",
            )
            .bind(connection_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// The secrets of every active connection, in one query (for listing them all).
    pub async fn active_connection_secrets(&self) -> Result<Vec<StoredSecret>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT s.connection_id, s.field, s.key_id, s.nonce, s.ciphertext, s.expires_at, s.set_at
                 FROM connection_secrets s JOIN connections c ON c.id = s.connection_id
                 WHERE c.active = TRUE ORDER BY s.connection_id, s.field",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// Every stored secret, for re-encryption under a new key.
    pub async fn all_secrets(&self) -> Result<Vec<StoredSecret>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT connection_id, field, key_id, nonce, ciphertext, expires_at, set_at
                 FROM connection_secrets ORDER BY connection_id, field",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// The ids of every master key that sealed something in the database.
    pub async fn secret_key_ids(&self) -> Result<Vec<String>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT key_id FROM connection_secrets UNION SELECT key_id FROM oauth_states ORDER BY 1",
            )
            .fetch_all(pool)
            .await?)
        })
    }
}
