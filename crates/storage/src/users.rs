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
     RETURNING id, email, role, created_at";

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
            Ok(
                sqlx::query_as("SELECT id, email, role, created_at, password_hash FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(pool)
                    .await?,
            )
        })
    }
}
