use serde::Serialize;

use crate::db::{BeginWrite, with_pool};
use crate::{Result, Storage, StorageError, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "TEXT", rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub created_at: Timestamp,
    /// False once deactivated: no sign-in, no session, no token.
    pub active: bool,
}

/// A user with the stored password hash, for verifying a login.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct UserLogin {
    #[sqlx(flatten)]
    pub user: User,
    pub password_hash: String,
}

pub struct NewUser<'a> {
    /// Already normalised (trimmed, lower case) by the caller.
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub now: Timestamp,
}

const INSERT_USER: &str = "INSERT INTO users (email, password_hash, role, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $4)
     RETURNING id, email, role, created_at, deactivated_at IS NULL AS active";

/// The columns of [`User`], from `users u` (a macro, for `concat!`).
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.role, u.created_at, u.deactivated_at IS NULL AS active"
    };
}
pub(crate) use user_columns;

impl Storage {
    pub async fn count_users(&self) -> Result<i64> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await?)
        })
    }

    /// Creates a user; [`StorageError::Conflict`] when the email is taken.
    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<User> {
        with_pool!(self, |pool| {
            sqlx::query_as(INSERT_USER)
                .bind(new.email)
                .bind(new.password_hash)
                .bind(new.role)
                .bind(new.now)
                .fetch_one(pool)
                .await
                .map_err(StorageError::conflict_on("email"))
        })
    }

    /// Creates the first user, or returns `None` when any user exists already. Two setups
    /// racing each other cannot both win: the `setup_completed` setting is inserted in the
    /// same transaction and its primary key lets only one commit.
    pub async fn create_first_user(&self, new: &NewUser<'_>) -> Result<Option<User>> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await?;
            if existing > 0 {
                return Ok(None);
            }
            let claimed = sqlx::query(
                "INSERT INTO settings (key, value, updated_at) VALUES ('setup_completed', $1, $2)
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(new.email)
            .bind(new.now)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() == 0 {
                return Ok(None);
            }
            let user = sqlx::query_as(INSERT_USER)
                .bind(new.email)
                .bind(new.password_hash)
                .bind(new.role)
                .bind(new.now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::conflict_on("email"))?;
            tx.commit().await?;
            Ok(Some(user))
        })
    }

    pub async fn find_user_login(&self, email: &str) -> Result<Option<UserLogin>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(concat!(
                "SELECT ",
                user_columns!(),
                ", u.password_hash FROM users u WHERE u.email = $1"
            ))
            .bind(email)
            .fetch_optional(pool)
            .await?)
        })
    }
}

/// An API token as its owner sees it: never the token, which only its hash stands for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ApiTokenInfo {
    pub id: i64,
    pub label: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
}

/// What an administrator changes about a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Why a change to a user was not made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserChangeOutcome {
    Changed,
    NotFound,
    /// It would leave no active administrator, and nobody could manage Javelin any more.
    LastAdmin,
}

impl Storage {
    /// Every user, by email.
    pub async fn list_users(&self) -> Result<Vec<User>> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users u ORDER BY u.email"))
                    .fetch_all(pool)
                    .await?,
            )
        })
    }

    pub async fn get_user(&self, id: i64) -> Result<Option<User>> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_as(concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }

    /// Changes a user's role and whether they are active, in one transaction that also checks an
    /// active administrator remains. Deactivating ends the user's sessions and revokes their tokens
    /// in the same transaction.
    pub async fn change_user(&self, id: i64, change: UserChange, now: Timestamp) -> Result<UserChangeOutcome> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let found = sqlx::query("UPDATE users SET updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            if found.rows_affected() == 0 {
                return Ok(UserChangeOutcome::NotFound);
            }
            if let Some(role) = change.role {
                sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(id)
                    .bind(role)
                    .execute(&mut *tx)
                    .await?;
            }
            match change.active {
                Some(true) => {
                    sqlx::query("UPDATE users SET deactivated_at = NULL WHERE id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(false) => {
                    sqlx::query("UPDATE users SET deactivated_at = $2 WHERE id = $1 AND deactivated_at IS NULL")
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {}
            }
            let admins: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND deactivated_at IS NULL")
                    .fetch_one(&mut *tx)
                    .await?;
            if admins == 0 {
                // Dropping the transaction rolls every change back.
                return Ok(UserChangeOutcome::LastAdmin);
            }
            tx.commit().await?;
            Ok(UserChangeOutcome::Changed)
        })
    }

    /// The stored password hash of a user.
    pub async fn password_hash(&self, user_id: i64) -> Result<Option<String>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Replaces a user's password hash and ends their sessions but the one `keep` stands for.
    pub async fn set_password_hash(
        &self,
        user_id: i64,
        password_hash: &str,
        keep: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user_id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash IS DISTINCT FROM $2")
                .bind(user_id)
                .bind(keep)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Ends every session of a user; returns how many there were.
    pub async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }

    /// The sessions of a user still live at `now` (not expired, used after `idle_since`).
    pub async fn count_user_sessions(&self, user_id: i64, now: Timestamp, idle_since: Timestamp) -> Result<i64> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3",
            )
            .bind(user_id)
            .bind(now)
            .bind(idle_since)
            .fetch_one(pool)
            .await?)
        })
    }

    /// A user's API tokens that are neither revoked nor expired at `now`, newest first.
    pub async fn list_api_tokens(&self, user_id: i64, now: Timestamp) -> Result<Vec<ApiTokenInfo>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT id, label, created_at, last_used_at, expires_at FROM api_tokens
                 WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                 ORDER BY id DESC",
            )
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await?)
        })
    }

    /// Revokes the API token `id` if it is the user's and live; returns its label then.
    pub async fn revoke_api_token_of(&self, user_id: i64, id: i64, now: Timestamp) -> Result<Option<String>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_scalar(
                "UPDATE api_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
                 RETURNING label",
            )
            .bind(id)
            .bind(user_id)
            .bind(now)
            .fetch_optional(pool)
            .await?)
        })
    }
}
