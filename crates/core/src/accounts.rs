//! Users, passwords, sessions and API tokens; who may manage them, and sign-in throttling.

use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use javelin_storage::{
    ApiTokenInfo, NewSession, NewUser, Role, SessionRecord, Storage, StorageError, Timestamp, User, UserChange,
    UserChangeOutcome,
};
use tokio::sync::Semaphore;

use crate::Clock;
use crate::audit::{Actor, Audit, AuditAction, Forbidden, Permission};
use crate::passwords::{PasswordError, check_password};
use crate::tokens::{random_token, token_hash};

/// How long a browser session lasts.
pub const SESSION_LIFETIME: time::Duration = time::Duration::days(14);
/// A session unused this long has ended, whatever its lifetime left.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(12);
/// How long a new API token works unless asked otherwise.
pub const DEFAULT_TOKEN_LIFETIME: time::Duration = time::Duration::days(90);
/// Failed sign-ins an account may have from one address, and one address over every account,
/// before each further try has to wait; the wait doubles with each failure up to
/// [`LONGEST_WAIT`]. Only failures count, so the owner signing in from their own address is never
/// kept out by someone else's guesses.
const FREE_FAILURES_PER_ACCOUNT: i64 = 3;
const FREE_FAILURES_PER_ADDRESS: i64 = 20;
const LONGEST_WAIT: time::Duration = time::Duration::minutes(15);
/// Failures are forgotten an hour after the last one.
const FAILURES_KEPT: time::Duration = time::Duration::hours(1);
/// Argon2id needs 19 MiB per hash: a cap keeps a burst of logins from exhausting memory.
const CONCURRENT_HASHES: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("Enter a valid email address, like name@example.com.")]
    InvalidEmail,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("The current password is not correct.")]
    WrongCurrentPassword,
    #[error("A user with this email address exists already.")]
    EmailTaken,
    #[error("Javelin is set up already: sign in instead.")]
    AlreadySetUp,
    #[error("There is no such user.")]
    UserNotFound,
    #[error("There is no such API token of yours.")]
    TokenNotFound,
    #[error("Javelin needs at least one active administrator: make another user an administrator first.")]
    LastAdmin,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
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
    /// Only said to someone who knows the password.
    #[error("This account has been deactivated. Ask an administrator of Javelin to reactivate it.")]
    Deactivated,
    #[error("Too many failed sign-ins from here. Try again in {} seconds.", retry_after.as_secs().max(1))]
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
    audit: Audit,
    hashing: Arc<Semaphore>,
    /// Verified against when the email is unknown, so that the answer takes as long as for a
    /// known user with a wrong password.
    dummy_hash: Arc<str>,
}

impl Accounts {
    pub fn new(storage: Storage, clock: Clock) -> Result<Self, AccountError> {
        let dummy_hash = hash_password_blocking("javelin-dummy-password")?;
        Ok(Self {
            audit: Audit::new(storage.clone(), clock.clone()),
            storage,
            clock,
            hashing: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    pub async fn setup_needed(&self) -> Result<bool, StorageError> {
        Ok(self.storage.count_users().await? == 0)
    }

    /// Creates the first administrator; [`AccountError::AlreadySetUp`] when a user exists.
    pub async fn create_first_admin(&self, actor: &Actor, email: &str, password: &str) -> Result<User, AccountError> {
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
        let user = self
            .storage
            .create_first_user(&new)
            .await?
            .ok_or(AccountError::AlreadySetUp)?;
        self.audit
            .record(
                &actor.as_user(user.clone()),
                AuditAction::Setup,
                Some(user.email.clone()),
                None,
            )
            .await;
        Ok(user)
    }

    /// Adds a user, for an administrator (or the system: the CLI).
    pub async fn create_user(
        &self,
        actor: &Actor,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AccountError> {
        actor.require(Permission::ManageUsers)?;
        let email = normalise_email(email)?;
        check_password(password)?;
        let password_hash = self.hash_password(password).await?;
        let new = NewUser {
            email: &email,
            password_hash: &password_hash,
            role,
            now: self.clock.now(),
        };
        let user = self.storage.create_user(&new).await?;
        self.audit
            .record(
                actor,
                AuditAction::UserCreated,
                Some(user.email.clone()),
                Some(format!("role {}", role_name(role))),
            )
            .await;
        Ok(user)
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>, AccountError> {
        actor.require(Permission::ManageUsers)?;
        Ok(self.storage.list_users().await?)
    }

    /// Changes a user's role or whether they are active; deactivating ends their sessions and
    /// tokens at once. Returns the user as changed.
    pub async fn change_user(&self, actor: &Actor, id: i64, change: UserChange) -> Result<User, AccountError> {
        actor.require(Permission::ManageUsers)?;
        let before = self.storage.get_user(id).await?.ok_or(AccountError::UserNotFound)?;
        match self.storage.change_user(id, change, self.clock.now()).await? {
            UserChangeOutcome::Changed => {}
            UserChangeOutcome::NotFound => return Err(AccountError::UserNotFound),
            UserChangeOutcome::LastAdmin => return Err(AccountError::LastAdmin),
        }
        let after = self.storage.get_user(id).await?.ok_or(AccountError::UserNotFound)?;
        let target = Some(after.email.clone());
        if before.role != after.role {
            let detail = format!("{} to {}", role_name(before.role), role_name(after.role));
            self.audit
                .record(actor, AuditAction::UserRoleChanged, target.clone(), Some(detail))
                .await;
        }
        if before.active != after.active {
            let action = if after.active {
                AuditAction::UserReactivated
            } else {
                AuditAction::UserDeactivated
            };
            self.audit.record(actor, action, target, None).await;
        }
        Ok(after)
    }

    /// Checks an email and password, within the sign-in throttling: failures per account and
    /// address and per address make the next try wait, successes never do.
    pub async fn verify_login(&self, actor: &Actor, email: &str, password: &str) -> Result<User, LoginError> {
        let email = email.trim().to_lowercase();
        let address = actor.address().unwrap_or("unknown");
        let keys = [format!("address {address}"), format!("account {email} {address}")];
        let keys = [keys[0].as_str(), keys[1].as_str()];
        let now = self.clock.now();
        let counts = self.storage.sign_in_failures(&keys, now - FAILURES_KEPT).await?;
        let wait = counts
            .iter()
            .zip([FREE_FAILURES_PER_ADDRESS, FREE_FAILURES_PER_ACCOUNT])
            .filter_map(|(count, free)| {
                count
                    .map(|count| (count.last_failure_at + wait_after(count.failures, free)).datetime() - now.datetime())
            })
            .max()
            .filter(|wait| wait.is_positive());
        if let Some(wait) = wait {
            return Err(LoginError::TooManyAttempts {
                retry_after: wait.unsigned_abs(),
            });
        }
        let login = self.storage.find_user_login(&email).await?;
        let stored_hash = login
            .as_ref()
            .map_or(&*self.dummy_hash, |login| login.password_hash.as_str())
            .to_owned();
        let matches = self.verify_password(password, stored_hash).await?;
        match login {
            Some(login) if matches => {
                self.storage.clear_sign_in_failures(keys[1]).await?;
                if !login.user.active {
                    return Err(LoginError::Deactivated);
                }
                self.audit
                    .record(&actor.as_user(login.user.clone()), AuditAction::SignIn, None, None)
                    .await;
                Ok(login.user)
            }
            _ => {
                self.storage
                    .record_sign_in_failure(&keys, now, now - FAILURES_KEPT)
                    .await?;
                // The email tried is the target, whether or not such a user exists.
                let target = Some(email.chars().take(254).collect());
                self.audit.record(actor, AuditAction::SignInFailed, target, None).await;
                Err(LoginError::InvalidCredentials)
            }
        }
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

    pub async fn end_session(&self, actor: &Actor, token: &str) -> Result<(), StorageError> {
        self.storage.delete_session(&token_hash(token)).await?;
        self.audit.record(actor, AuditAction::SignOut, None, None).await;
        Ok(())
    }

    /// Ends every session of the actor, this one included; returns how many there were.
    pub async fn sign_out_everywhere(&self, actor: &Actor) -> Result<u64, AccountError> {
        let user = signed_in(actor)?;
        let ended = self.storage.delete_user_sessions(user.id).await?;
        self.audit
            .record(
                actor,
                AuditAction::SignOutEverywhere,
                None,
                Some(format!("{ended} sessions")),
            )
            .await;
        Ok(ended)
    }

    /// How many live sessions the actor has.
    pub async fn session_count(&self, actor: &Actor) -> Result<i64, AccountError> {
        let user = signed_in(actor)?;
        let now = self.clock.now();
        Ok(self
            .storage
            .count_user_sessions(user.id, now, now - SESSION_IDLE)
            .await?)
    }

    /// Changes the actor's own password, given the current one; ends their other sessions
    /// (`current_session`, the session token of the request, stays).
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        current_session: Option<&str>,
    ) -> Result<(), AccountError> {
        let user = signed_in(actor)?;
        let stored = self
            .storage
            .password_hash(user.id)
            .await?
            .ok_or(AccountError::UserNotFound)?;
        let matches = self
            .verify_password(current, stored)
            .await
            .map_err(|err| AccountError::Hashing(err.to_string()))?;
        if !matches {
            return Err(AccountError::WrongCurrentPassword);
        }
        check_password(new)?;
        let password_hash = self.hash_password(new).await?;
        let keep = current_session.map(token_hash);
        self.storage
            .set_password_hash(
                user.id,
                &password_hash,
                keep.as_ref().map(<[u8; 32]>::as_slice),
                self.clock.now(),
            )
            .await?;
        self.audit.record(actor, AuditAction::PasswordChanged, None, None).await;
        Ok(())
    }

    /// Issues a bearer token for scripts, working for `lifetime`; only its hash is stored, so
    /// this is the one time the token is seen. Returns it with its expiry.
    pub async fn issue_api_token(
        &self,
        actor: &Actor,
        label: &str,
        lifetime: time::Duration,
    ) -> Result<(String, Timestamp), AccountError> {
        let user = signed_in(actor)?;
        let token = random_token("jvl_");
        let now = self.clock.now();
        let expires_at = now + lifetime;
        let id = self
            .storage
            .create_api_token(user.id, &token_hash(&token), label, now, Some(expires_at))
            .await?;
        self.audit
            .record(
                actor,
                AuditAction::TokenCreated,
                Some(format!("token {id}")),
                Some(label.to_owned()),
            )
            .await;
        Ok((token, expires_at))
    }

    pub async fn api_token_user(&self, token: &str) -> Result<Option<User>, StorageError> {
        self.storage.use_api_token(&token_hash(token), self.clock.now()).await
    }

    /// Revokes the token a request came with.
    pub async fn revoke_api_token(&self, actor: &Actor, token: &str) -> Result<bool, StorageError> {
        let revoked = self
            .storage
            .revoke_api_token(&token_hash(token), self.clock.now())
            .await?;
        if revoked {
            self.audit.record(actor, AuditAction::TokenRevoked, None, None).await;
        }
        Ok(revoked)
    }

    /// The actor's live API tokens, newest first.
    pub async fn api_tokens(&self, actor: &Actor) -> Result<Vec<ApiTokenInfo>, AccountError> {
        let user = signed_in(actor)?;
        Ok(self.storage.list_api_tokens(user.id, self.clock.now()).await?)
    }

    /// Revokes one of the actor's own API tokens by its id.
    pub async fn revoke_api_token_id(&self, actor: &Actor, id: i64) -> Result<(), AccountError> {
        let user = signed_in(actor)?;
        let label = self
            .storage
            .revoke_api_token_of(user.id, id, self.clock.now())
            .await?
            .ok_or(AccountError::TokenNotFound)?;
        self.audit
            .record(
                actor,
                AuditAction::TokenRevoked,
                Some(format!("token {id}")),
                Some(label),
            )
            .await;
        Ok(())
    }

    /// Forgets expired sessions and old sign-in failures; run now and then.
    pub async fn housekeeping(&self) -> Result<u64, StorageError> {
        let now = self.clock.now();
        let failures = self.storage.delete_old_sign_in_failures(now - FAILURES_KEPT).await?;
        let sessions = self.storage.delete_expired_sessions(now, now - SESSION_IDLE).await?;
        Ok(failures + sessions)
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

/// How long the next try waits after `failures` failures of which `free` cost nothing: one
/// second after the first costly one, doubling up to [`LONGEST_WAIT`].
fn wait_after(failures: i64, free: i64) -> time::Duration {
    let costly = failures - free;
    if costly <= 0 {
        return time::Duration::ZERO;
    }
    let seconds = 1_i64
        .checked_shl(u32::try_from(costly - 1).unwrap_or(u32::MAX))
        .unwrap_or(i64::MAX);
    time::Duration::seconds(seconds).min(LONGEST_WAIT)
}

fn signed_in(actor: &Actor) -> Result<&User, AccountError> {
    // Every caller is behind sign-in; the system has no password or tokens of its own.
    actor.signed_in().ok_or(AccountError::UserNotFound)
}

/// A role by the name forms, the API and the CLI use.
pub fn role_named(name: &str) -> Option<Role> {
    match name {
        "admin" => Some(Role::Admin),
        "member" => Some(Role::Member),
        _ => None,
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Member => "member",
    }
}

/// A random token for a form of a visitor who has no session yet.
pub fn new_form_token() -> String {
    random_token("")
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
    fn waits_double_after_the_free_failures() {
        let waits: Vec<i64> = (0..=16)
            .map(|failures| wait_after(failures, 3).whole_seconds())
            .collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
        );
        assert_eq!(wait_after(i64::MAX, 0), LONGEST_WAIT);
    }
}
