//! Connecting seller accounts: Amazon through OAuth or by hand, Flipkart with its API key;
//! testing and disconnecting them.
//!
//! - [`input`]: what the forms and the API send, and its validation;
//! - [`view`]: connections as pages and the API show them, credentials masked;
//! - [`credentials`]: secrets sealed at rest, written with their rows;
//! - [`check`]: Test Connection, its reuse window, and the words for a marketplace's refusal;
//! - [`oauth`]: Amazon's consent flow.

mod check;
mod credentials;
mod input;
mod oauth;
mod update;
mod view;

use javelin_marketplaces::{Connectors, Platform};
use javelin_storage::{Connection, ConnectionStatus, NewConnection, StorageError, Timestamp};
use url::Url;

pub use check::{TestResult, explain};
pub use credentials::{CredentialStore, Reseal, ResealError};
pub use input::{AmazonApp, AmazonManualInput, AmazonOAuthInput, FieldErrors, FlipkartInput, OAuthCallback};
pub use oauth::{OAUTH_STATE_LIFETIME, OAuthConnected, OAuthError};
pub use update::CredentialsUpdate;
use view::ShownCredentials;
pub use view::{CLIENT_SECRET_LIFETIME, ConnectionView, PlatformCard, credential_label, mask};

use crate::Clock;
use crate::audit::{Actor, Audit, AuditAction, Forbidden, Permission};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Some fields need attention.")]
    Invalid(FieldErrors),
    #[error("There is no such connection.")]
    NotFound,
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot build the consent URL: {0}")]
    Url(#[from] url::ParseError),
}

/// The connections service. Cheap to clone.
#[derive(Clone)]
pub struct Connections {
    store: CredentialStore,
    connectors: Connectors,
    clock: Clock,
    /// `AMAZON_OAUTH_REDIRECT_URI`, and whether the operator set it (then the consent URL
    /// names it; otherwise Amazon uses the app's first registered redirect URI).
    redirect_uri: Url,
    redirect_uri_explicit: bool,
    /// How long Test Connection waits for the marketplace.
    check_limit: std::time::Duration,
    audit: Audit,
}

/// How long Test Connection waits for a marketplace by default; the sync engine has its own,
/// longer limits.
pub const CHECK_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

impl Connections {
    pub fn new(
        store: CredentialStore,
        connectors: Connectors,
        clock: Clock,
        redirect_uri: Url,
        redirect_uri_explicit: bool,
    ) -> Self {
        Self {
            audit: Audit::new(store.storage().clone(), clock.clone()),
            store,
            connectors,
            clock,
            redirect_uri,
            redirect_uri_explicit,
            check_limit: CHECK_TIME_LIMIT,
        }
    }

    /// Test Connection waits `limit` for the marketplace instead of [`CHECK_TIME_LIMIT`].
    pub fn with_check_limit(self, limit: std::time::Duration) -> Self {
        Self {
            check_limit: limit,
            ..self
        }
    }

    /// Forgets consent attempts that expired more than a day ago; run now and then.
    pub async fn housekeeping(&self) -> Result<u64, StorageError> {
        self.store.storage().delete_old_oauth_states(self.clock.now()).await
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Where an Amazon connection's client secret is rotated: its marketplace's Developer Central.
    pub fn developer_central_url(&self, connection: &ConnectionView) -> Option<Url> {
        let marketplace = javelin_marketplaces::amazon::marketplaces::find(connection.marketplace_id.as_deref()?)?;
        self.connectors.amazon().developer_central_url(marketplace).ok()
    }

    /// Every platform with its connections and overall status, in display order.
    pub async fn cards(&self) -> Result<Vec<PlatformCard>, StorageError> {
        let platforms = self.store.storage().list_platforms().await?;
        let mut connections = self.list().await?;
        Ok(platforms
            .into_iter()
            .map(|platform| {
                let (mine, rest) = connections
                    .drain(..)
                    .partition(|c: &ConnectionView| c.platform.code() == platform.code);
                connections = rest;
                PlatformCard::new(platform, mine)
            })
            .collect())
    }

    /// Active connections with masked credentials: two queries, however many connections.
    pub async fn list(&self) -> Result<Vec<ConnectionView>, StorageError> {
        let mut credentials = self
            .store
            .masked(self.store.storage().active_connection_secrets().await?);
        let connections = self.store.storage().list_connections().await?;
        let now = self.clock.now();
        Ok(connections
            .into_iter()
            .filter_map(|connection| {
                let own = credentials.remove(&connection.id).unwrap_or_default();
                view_of(connection, own, now)
            })
            .collect())
    }

    pub async fn get(&self, id: i64) -> Result<Option<ConnectionView>, StorageError> {
        let Some(connection) = self.active(id).await? else {
            return Ok(None);
        };
        match connection.platform.parse::<Platform>() {
            Ok(platform) => Ok(Some(self.stored_view(connection, platform).await?)),
            Err(_) => Ok(None),
        }
    }

    async fn active(&self, id: i64) -> Result<Option<Connection>, StorageError> {
        Ok(self
            .store
            .storage()
            .get_connection(id)
            .await?
            .filter(|connection| connection.active))
    }

    async fn stored_view(&self, connection: Connection, platform: Platform) -> Result<ConnectionView, StorageError> {
        let secrets = self.store.storage().connection_secrets(connection.id).await?;
        let own = self.store.masked(secrets).remove(&connection.id).unwrap_or_default();
        Ok(ConnectionView::new(connection, platform, own, self.clock.now()))
    }

    /// "Connect Manually (Enter Credentials)": stores the account and tests it at once.
    pub async fn connect_amazon_manually(
        &self,
        actor: &Actor,
        input: &AmazonManualInput,
    ) -> Result<(ConnectionView, TestResult), ConnectError> {
        actor.require(Permission::ManageConnections)?;
        let valid = input.validate().map_err(ConnectError::Invalid)?;
        let new = NewConnection {
            platform: Platform::Amazon.code(),
            status: ConnectionStatus::Error,
            status_message: "Not tested yet.",
            label: "",
            region: Some(valid.app.region.as_str()),
            marketplace_id: Some(&valid.app.marketplace.marketplace_id),
            selling_partner_id: valid.selling_partner_id,
            application_id: None,
            created_by: actor.signed_in().map(|user| user.id),
            now: self.clock.now(),
        };
        let secrets = [
            ("client_id", valid.app.client_id),
            ("client_secret", valid.app.client_secret),
            ("refresh_token", valid.refresh_token),
        ];
        let (view, result) = self.create_and_check(Platform::Amazon, &new, &secrets).await?;
        self.record_connected(actor, &view, "by hand").await;
        Ok((view, result))
    }

    /// "Connect Flipkart". Without an API Key and Secret the account is stored as Incomplete
    /// Configuration: Flipkart's Seller API accepts nothing else.
    pub async fn connect_flipkart(
        &self,
        actor: &Actor,
        input: &FlipkartInput,
    ) -> Result<(ConnectionView, Option<TestResult>), ConnectError> {
        actor.require(Permission::ManageConnections)?;
        let valid = input.validate().map_err(ConnectError::Invalid)?;
        let incomplete = format!(
            "Sync needs an API Key and API Secret: Flipkart's Seller API does not accept a username and \
             password. Create them in {}, then connect again with them.",
            javelin_marketplaces::flipkart::DEVELOPER_ACCESS
        );
        let (status, status_message) = match valid.keys {
            Some(_) => (ConnectionStatus::Error, "Not tested yet."),
            None => (ConnectionStatus::Incomplete, incomplete.as_str()),
        };
        let new = NewConnection {
            platform: Platform::Flipkart.code(),
            status,
            status_message,
            label: valid.username,
            region: None,
            marketplace_id: None,
            selling_partner_id: None,
            application_id: None,
            created_by: actor.signed_in().map(|user| user.id),
            now: self.clock.now(),
        };
        let mut secrets = vec![("password", valid.password)];
        match valid.keys {
            Some((api_key, api_secret)) => {
                secrets.extend([("api_key", api_key), ("api_secret", api_secret)]);
                let (view, result) = self.create_and_check(Platform::Flipkart, &new, &secrets).await?;
                self.record_connected(actor, &view, "with API key").await;
                Ok((view, Some(result)))
            }
            None => {
                let connection = self.store.create(&new, &secrets).await?;
                let view = self.stored_view(connection, Platform::Flipkart).await?;
                self.record_connected(actor, &view, "without API key").await;
                Ok((view, None))
            }
        }
    }

    /// Stores a connection, tests it at once, and returns it as it now stands.
    async fn create_and_check(
        &self,
        platform: Platform,
        new: &NewConnection<'_>,
        secrets: &[(&str, &str)],
    ) -> Result<(ConnectionView, TestResult), StorageError> {
        let connection = self.store.create(new, secrets).await?;
        self.check_and_view(connection, platform).await
    }

    /// Tests a stored connection and returns it as the test left it.
    async fn check_and_view(
        &self,
        connection: Connection,
        platform: Platform,
    ) -> Result<(ConnectionView, TestResult), StorageError> {
        let result = self.run_check(&connection).await?;
        let tested = self
            .store
            .storage()
            .get_connection(connection.id)
            .await?
            .unwrap_or(connection);
        Ok((self.stored_view(tested, platform).await?, result))
    }

    /// Replaces credentials of a stored connection with ones the marketplace has just issued (a
    /// reconnection through OAuth), then tests it as a new connection is tested.
    async fn replace_and_check(
        &self,
        connection: Connection,
        secrets: &[(&str, &str)],
    ) -> Result<(ConnectionView, TestResult), StorageError> {
        self.store
            .replace_and_record(connection.id, secrets, None, self.clock.now())
            .await?;
        self.check_and_view(connection, Platform::Amazon).await
    }

    /// "Disconnect": deletes every stored credential and deactivates the connection.
    /// Its queued and running syncs end as failed.
    pub async fn disconnect(&self, actor: &Actor, id: i64) -> Result<(), ConnectError> {
        actor.require(Permission::ManageConnections)?;
        let now = self.clock.now();
        let mut tx = self.store.storage().begin().await?;
        let done = tx.deactivate_connection(id, now).await?;
        tx.commit().await?;
        if !done {
            return Err(ConnectError::NotFound);
        }
        self.store
            .storage()
            .fail_active_jobs(id, "The account was disconnected; nothing more is synced from it.", now)
            .await?;
        self.audit
            .record(
                actor,
                AuditAction::ConnectionDisconnected,
                Some(connection_target(id)),
                None,
            )
            .await;
        Ok(())
    }

    async fn record_connected(&self, actor: &Actor, view: &ConnectionView, how: &str) {
        let detail = format!("{} {how}: {}", view.platform.name(), view.status_message);
        self.audit
            .record(
                actor,
                AuditAction::ConnectionConnected,
                Some(connection_target(view.id)),
                Some(detail),
            )
            .await;
    }
}

/// How the audit log names a connection.
pub(crate) fn connection_target(id: i64) -> String {
    format!("connection {id}")
}

/// A stored connection as shown at `now`; `None` for a platform this build does not know.
fn view_of(connection: Connection, credentials: ShownCredentials, now: Timestamp) -> Option<ConnectionView> {
    let platform = connection.platform.parse::<Platform>().ok()?;
    Some(ConnectionView::new(connection, platform, credentials, now))
}
