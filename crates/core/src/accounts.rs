//! Users, passwords, sessions and API tokens.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use governor::clock::Clock as _;
use governor::{DefaultKeyedRateLimiter, Quota};
use javelin_storage::{NewSession, NewUser, Role, SessionRecord, Storage, StorageError, Timestamp, User};
use tokio::sync::Semaphore;

use crate::Clock;
use crate::tokens::{random_token, token_hash};

/// How long a browser session lasts.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(14);
/// A session unused this long has ended, whatever its lifetime left.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(12);
/// How long a new API token works unless asked otherwise.
pub const DEFAULT_TOKEN_LIFETIME: time::Duration = time::Duration::days(90);
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 1024;
/// Sign-in attempts per minute for one account, and for one client address.
const ATTEMPTS_PER_ACCOUNT: u32 = 5;
const ATTEMPTS_PER_ADDRESS: u32 = 30;
/// Argon2id needs 19 MiB per hash: a cap keeps a burst of logins from exhausting memory.
const CONCURRENT_HASHES: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Enter a valid email address, like name@example.com.")]
    InvalidEmail,
    #[error("The password must have at least {MIN_PASSWORD_CHARS} characters.")]
    PasswordTooShort,
    #[error("The password must have at most {MAX_PASSWORD_CHARS} characters.")]
    PasswordTooLong,
    #[error("A user with this email address exists already.")]
    EmailTaken,
    #[error("Javelin is set up already: sign in instead.")]
    AlreadySetUp,
    #[error(transparent)]
    Storage(StorageError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl From<StorageError> for AccountError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict("email") => Self::EmailTaken,
            other => Self::Storage(other),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong password or unknown email: deliberately the same error for both.
    #[error("The email or password is not correct.")]
    InvalidCredentials,
    #[error("Too many sign-in attempts. Try again in {} seconds.", retry_after.as_secs().max(1))]
    TooManyAttempts { retry_after: Duration },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

/// A freshly started session: the cookie value and the form token bound to it.
#[derive(Debug)]
pub struct NewSessionToken {
    pub token: String,
    pub csrf_token: String,
    pub user: User,
    pub expires_at: Timestamp,
}

/// The accounts service. Cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    storage: Storage,
    clock: Clock,
    hashing: Arc<Semaphore>,
    /// Verified against when the email is unknown, so that the answer takes as long as for a
    /// known user with a wrong password.
    dummy_hash: Arc<str>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    per_address: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl Accounts {
    pub fn new(storage: Storage, clock: Clock) -> Result<Self, AccountError> {
        let dummy_hash = hash_password_blocking("javelin-dummy-password")?;
        Ok(Self {
            storage,
            clock,
            hashing: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            dummy_hash: dummy_hash.into(),
            per_account: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(ATTEMPTS_PER_ACCOUNT))),
            per_address: Arc::new(DefaultKeyedRateLimiter::keyed(per_minute(ATTEMPTS_PER_ADDRESS))),
        })
    }

    pub async fn setup_needed(&self) -> Result<bool, StorageError> {
        Ok(self.storage.count_users().await? == 0)
    }

    /// Creates the first administrator; [`AccountError::AlreadySetUp`] when a user exists.
    pub async fn create_first_admin(&self, email: &str, password: &str) -> Result<User, AccountError> {
        let email = normalise_email(email)?;
        check_password(password)?;
        if !self.setup_needed().await? {
            return Err(AccountError::AlreadySetUp);
        }
        let password_hash = self.hash_password(password).await?;
        let new = NewUser {
            email: &email,
            password_hash: &password_hash,
            role: Role::Admin,
            now: self.clock.now(),
        };
        self.storage
            .create_first_user(&new)
            .await?
            .ok_or(AccountError::AlreadySetUp)
    }

    pub async fn create_user(&self, email: &str, password: &str, role: Role) -> Result<User, AccountError> {
        let email = normalise_email(email)?;
        check_password(password)?;
        let password_hash = self.hash_password(password).await?;
        let new = NewUser {
            email: &email,
            password_hash: &password_hash,
            role,
            now: self.clock.now(),
        };
        Ok(self.storage.create_user(&new).await?)
    }

    /// Checks an email and password, within the sign-in rate limits.
    pub async fn verify_login(&self, email: &str, password: &str, client: IpAddr) -> Result<User, LoginError> {
        let email = email.trim().to_lowercase();
        self.check_rate(&email, client)?;
        let login = self.storage.find_user_login(&email).await?;
        let stored_hash = login
            .as_ref()
            .map_or(&*self.dummy_hash, |login| login.password_hash.as_str())
            .to_owned();
        let matches = self.verify_password(password, stored_hash).await?;
        match login {
            Some(login) if matches => Ok(login.user),
            _ => Err(LoginError::InvalidCredentials),
        }
    }

    fn check_rate(&self, email: &str, client: IpAddr) -> Result<(), LoginError> {
        let limited = |not_until: governor::NotUntil<_>| LoginError::TooManyAttempts {
            retry_after: not_until.wait_time_from(governor::clock::DefaultClock::default().now()),
        };
        self.per_address.check_key(&client).map_err(limited)?;
        self.per_account.check_key(&email.to_owned()).map_err(limited)?;
        Ok(())
    }

    /// Starts a browser session for a user who has just proved who they are.
    pub async fn start_session(&self, user: User) -> Result<NewSessionToken, StorageError> {
        let token = random_token("");
        let csrf_token = random_token("");
        let now = self.clock.now();
        let expires_at = now + SESSION_LIFETIME;
        self.storage
            .create_session(&NewSession {
                token_hash: &token_hash(&token),
                user_id: user.id,
                csrf_token: &csrf_token,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(NewSessionToken {
            token,
            csrf_token,
            user,
            expires_at,
        })
    }

    pub async fn session(&self, token: &str) -> Result<Option<SessionRecord>, StorageError> {
        let now = self.clock.now();
        self.storage
            .use_session(&token_hash(token), now, now - SESSION_IDLE)
            .await
    }

    pub async fn end_session(&self, token: &str) -> Result<(), StorageError> {
        self.storage.delete_session(&token_hash(token)).await
    }

    /// Issues a bearer token for scripts, working for `lifetime`; only its hash is stored, so
    /// this is the one time the token is seen. Returns it with its expiry.
    pub async fn issue_api_token(
        &self,
        user: &User,
        label: &str,
        lifetime: time::Duration,
    ) -> Result<(String, Timestamp), StorageError> {
        let token = random_token("jvl_");
        let now = self.clock.now();
        let expires_at = now + lifetime;
        self.storage
            .create_api_token(user.id, &token_hash(&token), label, now, Some(expires_at))
            .await?;
        Ok((token, expires_at))
    }

    pub async fn api_token_user(&self, token: &str) -> Result<Option<User>, StorageError> {
        self.storage.use_api_token(&token_hash(token), self.clock.now()).await
    }

    pub async fn revoke_api_token(&self, token: &str) -> Result<bool, StorageError> {
        self.storage
            .revoke_api_token(&token_hash(token), self.clock.now())
            .await
    }

    /// Forgets expired sessions and idle rate-limit entries; run now and then.
    pub async fn housekeeping(&self) -> Result<u64, StorageError> {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
        let now = self.clock.now();
        self.storage.delete_expired_sessions(now, now - SESSION_IDLE).await
    }

    async fn hash_password(&self, password: &str) -> Result<String, AccountError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|err| AccountError::Hashing(err.to_string()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password_blocking(&password))
            .await
            .map_err(|err| AccountError::Hashing(err.to_string()))?
    }

    async fn verify_password(&self, password: &str, stored_hash: String) -> Result<bool, LoginError> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|err| LoginError::Hashing(err.to_string()))?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let parsed = PasswordHash::new(&stored_hash).map_err(|err| LoginError::Hashing(err.to_string()))?;
            Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|err| LoginError::Hashing(err.to_string()))?
    }
}

/// A random token for a form of a visitor who has no session yet.
pub fn new_form_token() -> String {
    random_token("")
}

fn per_minute(attempts: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(attempts).unwrap_or(NonZeroU32::MIN))
}

fn hash_password_blocking(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| AccountError::Hashing(err.to_string()))
}

/// Trims and lower-cases an email address and checks that it looks like one.
pub fn normalise_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err(AccountError::InvalidEmail)
    }
}

pub fn check_password(password: &str) -> Result<(), AccountError> {
    match password.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(AccountError::PasswordTooShort),
        n if n > MAX_PASSWORD_CHARS => Err(AccountError::PasswordTooLong),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ana@Example.COM ").ok().as_deref(),
            Some("ana@example.com")
        );
        for bad in ["", "ana", "@example.com", "ana@", "a b@example.com", "a@b@c"] {
            assert!(matches!(normalise_email(bad), Err(AccountError::InvalidEmail)), "{bad}");
        }
    }

    #[test]
    fn passwords_have_bounds() {
        assert!(matches!(check_password("short"), Err(AccountError::PasswordTooShort)));
        assert!(check_password("long enough").is_ok());
        assert!(matches!(
            check_password(&"x".repeat(2000)),
            Err(AccountError::PasswordTooLong)
        ));
    }
}
