use crate::db::with_pool;
use crate::users::user_columns;
use crate::{Result, Storage, StorageError, Timestamp, User};

pub struct NewSession<'a> {
    /// SHA-256 of the cookie token; the token itself is never stored.
    pub token_hash: &'a [u8],
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A live session and its user.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRecord {
    #[sqlx(flatten)]
    pub user: User,
    pub csrf_token: String,
    pub expires_at: Timestamp,
    /// When the session was last used, to the minute.
    pub last_seen_at: Timestamp,
}

/// A token's owner, and when the token was last recorded as used.
#[derive(sqlx::FromRow)]
struct TokenUse {
    #[sqlx(flatten)]
    user: User,
    last_used_at: Option<Timestamp>,
}

impl Storage {
    pub async fn create_session(&self, new: &NewSession<'_>) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5, $4)",
            )
            .bind(new.token_hash)
            .bind(new.user_id)
            .bind(new.csrf_token)
            .bind(new.created_at)
            .bind(new.expires_at)
            .execute(pool)
            .await
            .map_err(StorageError::conflict_on("session token"))?;
        });
        Ok(())
    }

    /// The session with this token hash, if at `now` it has not expired and was used after
    /// `idle_since`; records the use, at most once a minute (as for API tokens).
    pub async fn use_session(
        &self,
        token_hash: &[u8],
        now: Timestamp,
        idle_since: Timestamp,
    ) -> Result<Option<SessionRecord>> {
        with_pool!(self, |pool| {
            let found: Option<SessionRecord> = sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                ", s.csrf_token, s.expires_at, s.last_seen_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.deactivated_at IS NULL"
            ))
            .bind(token_hash)
            .bind(now)
            .bind(idle_since)
            .fetch_optional(pool)
            .await?;
            if let Some(session) = &found
                && session.last_seen_at < now - time::Duration::minutes(1)
            {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            Ok(found)
        })
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes sessions expired at `now` or unused since `idle_since`; returns how many.
    pub async fn delete_expired_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(idle_since)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// Stores a new API token (its SHA-256) for a user, working until `expires_at` (or until
    /// revoked when `None`); returns the token's id.
    pub async fn create_api_token(
        &self,
        user_id: i64,
        token_hash: &[u8],
        label: &str,
        now: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> Result<i64> {
        with_pool!(self, |pool| {
            sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(user_id)
            .bind(token_hash)
            .bind(label)
            .bind(now)
            .bind(expires_at)
            .fetch_one(pool)
            .await
            .map_err(StorageError::conflict_on("API token"))
        })
    }

    /// The owner of an unrevoked, unexpired API token. Records the use at most once a minute, so
    /// that a busy script does not turn every read into a write (on SQLite even an UPDATE that
    /// changes nothing takes the database's one write lock).
    pub async fn use_api_token(&self, token_hash: &[u8], now: Timestamp) -> Result<Option<User>> {
        with_pool!(self, |pool| {
            let found: Option<TokenUse> = sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                ", t.last_used_at
                 FROM api_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)
                     AND u.deactivated_at IS NULL"
            ))
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            let Some(found) = found else { return Ok(None) };
            let recorded_since = now - time::Duration::minutes(1);
            if found.last_used_at.is_none_or(|last| last < recorded_since) {
                sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            Ok(Some(found.user))
        })
    }

    /// Revokes an API token; returns whether a live token was revoked.
    pub async fn revoke_api_token(&self, token_hash: &[u8], now: Timestamp) -> Result<bool> {
        with_pool!(self, |pool| {
            let done =
                sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
                    .bind(token_hash)
                    .bind(now)
                    .execute(pool)
                    .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
