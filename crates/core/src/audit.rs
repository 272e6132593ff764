//! Who may do what, and the record of who did: the [`Actor`] every service call that changes
//! something is made by, the [`Permission`]s only administrators hold, and the audit log.

use std::fmt;
use std::net::IpAddr;

use javelin_storage::{AuditEvent, AuditFilter, NewAuditEvent, Role, Storage, StorageError, User};

use crate::Clock;

/// What only an administrator may do. Members see every page, start syncs, export, test
/// connections and set low-stock thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Connect and disconnect marketplace accounts (and change which marketplaces they sync).
    ManageConnections,
    /// Change sync schedules and where order history starts.
    ManageSchedules,
    ManageUsers,
    ReadAudit,
    ReadMetrics,
}

impl Permission {
    pub fn granted_to(self, role: Role) -> bool {
        role == Role::Admin
    }

    /// What a refused user is told.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::ManageConnections => {
                "Only an administrator can connect, disconnect or reconfigure marketplace accounts."
            }
            Self::ManageSchedules => "Only an administrator can change sync schedules.",
            Self::ManageUsers => "Only an administrator can manage users.",
            Self::ReadAudit => "Only an administrator can read the audit log.",
            Self::ReadMetrics => "Only an administrator can read the metrics.",
        }
    }
}

/// A user was refused something their role does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.refusal())]
pub struct Forbidden(pub Permission);

/// Who does something and from where: a signed-in user, someone not signed in, or the system
/// (schedules, the CLI).
#[derive(Clone, Debug)]
pub struct Actor {
    user: Option<User>,
    system: bool,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// User agents are free text from the client: kept to this many characters.
const USER_AGENT_CHARS: usize = 256;

impl Actor {
    pub fn system() -> Self {
        Self {
            user: None,
            system: true,
            ip: None,
            user_agent: None,
        }
    }

    /// Someone not signed in (yet), at `ip`.
    pub fn anonymous(ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            user: None,
            system: false,
            ip: ip.map(|ip| ip.to_string()),
            user_agent: user_agent.map(|agent| agent.chars().take(USER_AGENT_CHARS).collect()),
        }
    }

    pub fn user(user: User, ip: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            user: Some(user),
            ..Self::anonymous(ip, user_agent)
        }
    }

    /// The same client, now as `user` (after signing in).
    pub fn as_user(&self, user: User) -> Self {
        Self {
            user: Some(user),
            ..self.clone()
        }
    }

    /// The client's address, when known.
    pub fn address(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    pub fn signed_in(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// The system may do everything; a user what their role allows; someone not signed in
    /// nothing.
    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        match &self.user {
            Some(user) if permission.granted_to(user.role) => Ok(()),
            None if self.system => Ok(()),
            _ => Err(Forbidden(permission)),
        }
    }

    /// How the audit log names the actor.
    fn name(&self) -> String {
        match &self.user {
            Some(user) => user.email.clone(),
            None if self.system => SYSTEM.to_owned(),
            None => ANONYMOUS.to_owned(),
        }
    }

    fn event(&self, action: AuditAction) -> NewAuditEvent {
        NewAuditEvent {
            actor_id: self.user.as_ref().map(|user| user.id),
            actor: self.name(),
            action: action.to_string(),
            target: None,
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            detail: None,
        }
    }
}

/// The actor of events made by Javelin itself: schedules, the command line.
pub const SYSTEM: &str = "system";
/// The actor of events made by someone not signed in: failed sign-ins, OAuth callbacks.
pub const ANONYMOUS: &str = "anonymous";

macro_rules! audit_actions {
    ($($variant:ident => $name:literal,)*) => {
        /// Every kind of event the audit log records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum AuditAction {
            $($variant,)*
        }

        impl AuditAction {
            pub const ALL: &[AuditAction] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

audit_actions! {
    Setup => "setup",
    SignIn => "sign_in",
    SignInFailed => "sign_in_failed",
    SignOut => "sign_out",
    SignOutEverywhere => "sign_out_everywhere",
    PasswordChanged => "password_changed",
    UserCreated => "user_created",
    UserRoleChanged => "user_role_changed",
    UserDeactivated => "user_deactivated",
    UserReactivated => "user_reactivated",
    TokenCreated => "token_created",
    TokenRevoked => "token_revoked",
    ConnectionConnected => "connection_connected",
    ConnectionTested => "connection_tested",
    ConnectionDisconnected => "connection_disconnected",
    ConnectionMarketplacesChanged => "connection_marketplaces_changed",
    CredentialsUpdated => "credentials_updated",
    CredentialsRefused => "credentials_refused",
    OAuthStarted => "oauth_started",
    OAuthCompleted => "oauth_completed",
    OAuthRefused => "oauth_refused",
    ScheduleChanged => "schedule_changed",
    SyncStarted => "sync_started",
    KeyRotated => "key_rotated",
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AuditAction {
    type Err = ();

    fn from_str(name: &str) -> Result<Self, ()> {
        Self::ALL
            .iter()
            .copied()
            .find(|action| action.as_str() == name)
            .ok_or(())
    }
}

/// The audit log. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    storage: Storage,
    clock: Clock,
}

impl Audit {
    pub fn new(storage: Storage, clock: Clock) -> Self {
        Self { storage, clock }
    }

    /// Records that `actor` did `action` to `target`. An event that cannot be written is logged
    /// as an error rather than failing what was done: the action has happened either way.
    pub async fn record(&self, actor: &Actor, action: AuditAction, target: Option<String>, detail: Option<String>) {
        let event = NewAuditEvent {
            target,
            detail,
            ..actor.event(action)
        };
        if let Err(err) = self.storage.append_audit(&event, self.clock.now()).await {
            tracing::error!(action = %action, error = %err, "could not write an audit event");
        }
    }

    /// A page of the log, newest first; only for those who may read it.
    pub async fn list(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        limit: u32,
        before: Option<i64>,
    ) -> Result<Vec<AuditEvent>, AuditError> {
        actor.require(Permission::ReadAudit)?;
        Ok(self.storage.list_audit(filter, limit, before).await?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The filters of the audit log as they arrive in a query string; an empty parameter counts as
/// not sent.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// A user's email, "system" or "anonymous".
    pub actor: String,
    /// One kind of event, e.g. `sign_in_failed`.
    pub action: String,
    /// At or after: RFC 3339, or a date (from its start, UTC).
    pub from: String,
    /// At or before: RFC 3339, or a date (to its end, UTC).
    pub to: String,
    #[param(schema_with = crate::orders::query::page_limit_schema)]
    pub limit: String,
    /// The `next_cursor` of the page before.
    pub cursor: String,
}

/// A checked query of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRequest {
    pub filter: AuditFilter,
    pub limit: u32,
    /// Events older than this one.
    pub before: Option<i64>,
}

impl AuditQuery {
    pub fn parse(&self) -> Result<AuditRequest, crate::connections::FieldErrors> {
        use crate::orders::query::{bounds, page_limit};

        let mut errors = crate::connections::FieldErrors::default();
        let given = |value: &str| Some(value.trim()).filter(|value| !value.is_empty()).map(str::to_owned);
        let mut filter = AuditFilter {
            actor: given(&self.actor).map(|actor| actor.to_lowercase()),
            ..AuditFilter::default()
        };
        if let Some(action) = given(&self.action) {
            match action.parse::<AuditAction>() {
                Ok(action) => filter.action = Some(action.as_str().to_owned()),
                Err(()) => errors.add(
                    "action",
                    format!(
                        "action must be one of {}.",
                        AuditAction::ALL
                            .iter()
                            .map(|a| a.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        }
        (filter.from, filter.to) = bounds(&self.from, &self.to, &mut errors);
        let before = match given(&self.cursor) {
            None => None,
            Some(cursor) => match cursor.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.add("cursor", "cursor must be the next_cursor of the page before.");
                    None
                }
            },
        };
        let limit = page_limit(&self.limit, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AuditRequest { filter, limit, before })
    }
}

/// A page of the log and where the next begins (`None` on the last page).
pub fn next_cursor(events: &[AuditEvent], limit: u32) -> Option<String> {
    (events.len() == limit as usize)
        .then(|| events.last().map(|event| event.id.to_string()))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: 1,
            email: "someone@example.com".into(),
            role,
            created_at: javelin_storage::Timestamp::now(),
            active: true,
        }
    }

    #[test]
    fn only_administrators_and_the_system_hold_permissions() {
        let all = [
            Permission::ManageConnections,
            Permission::ManageSchedules,
            Permission::ManageUsers,
            Permission::ReadAudit,
            Permission::ReadMetrics,
        ];
        for permission in all {
            assert_eq!(Actor::system().require(permission), Ok(()));
            assert_eq!(Actor::user(user(Role::Admin), None, None).require(permission), Ok(()));
            assert_eq!(
                Actor::user(user(Role::Member), None, None).require(permission),
                Err(Forbidden(permission))
            );
            assert_eq!(
                Actor::anonymous(None, None).require(permission),
                Err(Forbidden(permission))
            );
        }
    }

    #[test]
    fn actions_are_named_once_and_parsed_back() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
        }
        assert!("dance".parse::<AuditAction>().is_err());
        let names: std::collections::BTreeSet<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), AuditAction::ALL.len());
    }
}
