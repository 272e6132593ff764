//! Connecting seller accounts: Amazon through OAuth or by hand, Flipkart with its API key;
//! testing and disconnecting them. Every credential is sealed by the [`Vault`] before it is
//! stored, and bound to the row and field it belongs to.

use std::collections::BTreeMap;
use std::sync::Arc;

use javelin_marketplaces::amazon::{self, Amazon, AmazonError, LwaClient, Marketplace, Region};
use javelin_marketplaces::flipkart::{self, Flipkart};
use javelin_marketplaces::{Account, CheckError, Connector};
use javelin_storage::{
    Connection, ConnectionStatus, NewConnection, OAuthState, StateLookup, Storage, StorageError, StoredSecret,
    Timestamp, User,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::platforms::PlatformCard;
use crate::tokens::{random_token, token_hash};
use crate::vault::{Sealed, Vault, VaultError, connection_field};

/// The longest credential accepted (Amazon's tokens are at most 2048 bytes).
const MAX_SECRET_BYTES: usize = 4096;

/// How long a seller has to finish Amazon's consent page.
pub const OAUTH_STATE_LIFETIME: time::Duration = time::Duration::minutes(10);

/// Field errors of a connect form, keyed by field name; the other input is kept by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub BTreeMap<&'static str, String>);

impl FieldErrors {
    fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.entry(field).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Some fields need attention.")]
    Invalid(FieldErrors),
    #[error("There is no such connection.")]
    NotFound,
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot build the consent URL: {0}")]
    Url(#[from] url::ParseError),
}

/// Why an OAuth callback did not produce a connection, in the guide's words plus detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("Invalid redirect URI: {0}")]
    InvalidRedirectUri(String),
    #[error("Authorization failed: {0}")]
    AuthorizationFailed(String),
    #[error("Token exchange failed: {0}")]
    TokenExchangeFailed(String),
    #[error("{0}")]
    Internal(String),
}

impl From<StorageError> for OAuthError {
    fn from(err: StorageError) -> Self {
        Self::Internal(err.to_string())
    }
}

/// The Amazon fields shared by the OAuth and manual forms. No `Debug`: they hold secrets.
#[derive(Clone, Default, Deserialize)]
pub struct AmazonApp {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    #[serde(default)]
    pub marketplace_id: String,
    #[serde(default)]
    pub region: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct AmazonManualInput {
    #[serde(flatten)]
    pub app: AmazonApp,
    #[serde(default)]
    pub refresh_token: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct AmazonOAuthInput {
    #[serde(flatten)]
    pub app: AmazonApp,
    #[serde(default)]
    pub application_id: String,
    /// The SP-API app is still a draft: the consent URL needs `version=beta`.
    #[serde(default, deserialize_with = "checkbox")]
    pub draft: bool,
}

#[derive(Clone, Default, Deserialize)]
pub struct FlipkartInput {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub api_key: String,
    #[serde(default)]
    pub api_secret: String,
}

/// A JSON `true`/`false`, or an HTML checkbox's presence (`on`, `true`, `1`).
fn checkbox<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Bool(bool),
        Text(String),
    }
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(value) => value,
        Value::Text(text) => matches!(text.as_str(), "on" | "true" | "1" | "yes"),
    })
}

/// The query Amazon sends back to the redirect URI (no `Debug`: the code is a credential).
#[derive(Clone, Default, Deserialize)]
pub struct OAuthCallback {
    pub state: Option<String>,
    pub selling_partner_id: Option<String>,
    pub spapi_oauth_code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What Test Connection reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
}

/// A secret field as it may be shown: `••••` and at most the last 4 characters.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    // Short secrets show nothing of themselves.
    if chars.len() < 12 {
        return "••••".to_owned();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("••••{tail}")
}

/// A connection with its masked credentials, for pages and the API.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionView {
    pub id: i64,
    pub platform: String,
    pub status: ConnectionStatus,
    pub status_message: String,
    pub label: String,
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    pub selling_partner_id: Option<String>,
    /// Field name → masked value (`"client_secret": "••••a1b2"`).
    #[serde(flatten)]
    pub credentials: BTreeMap<String, String>,
    pub created_at: Timestamp,
    pub last_tested_at: Option<Timestamp>,
}

impl ConnectionView {
    /// The marketplace's name and country, for Amazon connections.
    pub fn marketplace_name(&self) -> Option<String> {
        let marketplace = amazon::marketplaces::find(self.marketplace_id.as_deref()?)?;
        Some(format!("{} ({})", marketplace.name, marketplace.country_code))
    }
}

/// The connections service. Cheap to clone.
#[derive(Clone)]
pub struct Connections {
    storage: Storage,
    vault: Arc<Vault>,
    amazon: Amazon,
    flipkart: Flipkart,
    /// `AMAZON_OAUTH_REDIRECT_URI`, and whether the operator set it (then the consent URL
    /// names it; otherwise Amazon uses the app's first registered redirect URI).
    redirect_uri: Url,
    redirect_uri_explicit: bool,
}

impl Connections {
    pub fn new(
        storage: Storage,
        vault: Arc<Vault>,
        amazon: Amazon,
        flipkart: Flipkart,
        redirect_uri: Url,
        redirect_uri_explicit: bool,
    ) -> Self {
        Self {
            storage,
            vault,
            amazon,
            flipkart,
            redirect_uri,
            redirect_uri_explicit,
        }
    }

    /// Forgets consent attempts that expired more than a day ago; run now and then.
    pub async fn housekeeping(&self) -> Result<u64, StorageError> {
        self.storage.delete_old_oauth_states(Timestamp::now()).await
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    fn connector(&self, platform: &str) -> Option<&dyn Connector> {
        match platform {
            "amazon" => Some(&self.amazon),
            "flipkart" => Some(&self.flipkart),
            _ => None,
        }
    }

    /// Every platform with its connections and overall status, in display order.
    pub async fn cards(&self) -> Result<Vec<PlatformCard>, StorageError> {
        let platforms = self.storage.list_platforms().await?;
        let mut connections = self.list().await?;
        Ok(platforms
            .into_iter()
            .map(|platform| {
                let (mine, rest) = connections
                    .drain(..)
                    .partition(|c: &ConnectionView| c.platform == platform.code);
                connections = rest;
                PlatformCard::new(platform, mine)
            })
            .collect())
    }

    /// Active connections with masked credentials: two queries, however many connections.
    pub async fn list(&self) -> Result<Vec<ConnectionView>, StorageError> {
        let mut secrets: BTreeMap<i64, Vec<StoredSecret>> = BTreeMap::new();
        for secret in self.storage.active_connection_secrets().await? {
            secrets.entry(secret.connection_id).or_default().push(secret);
        }
        let connections = self.storage.list_connections().await?;
        Ok(connections
            .into_iter()
            .map(|connection| {
                let own = secrets.remove(&connection.id).unwrap_or_default();
                self.view(connection, own)
            })
            .collect())
    }

    pub async fn get(&self, id: i64) -> Result<Option<ConnectionView>, StorageError> {
        match self.storage.get_connection(id).await? {
            Some(connection) if connection.active => Ok(Some(self.stored_view(connection).await?)),
            _ => Ok(None),
        }
    }

    async fn stored_view(&self, connection: Connection) -> Result<ConnectionView, StorageError> {
        let secrets = self.storage.connection_secrets(connection.id).await?;
        Ok(self.view(connection, secrets))
    }

    fn view(&self, connection: Connection, secrets: Vec<StoredSecret>) -> ConnectionView {
        let mut credentials = BTreeMap::new();
        for secret in secrets {
            // Short-lived tokens are Javelin's own business, not credentials the seller entered.
            if secret.field == "access_token" {
                continue;
            }
            let shown = match self
                .vault
                .open(&sealed(&secret), &connection_field(connection.id, &secret.field))
            {
                // A password's tail is worth more to a guesser than a token's: show none of it.
                Ok(_) if secret.field == "password" => "••••".to_owned(),
                Ok(plain) => mask(&plain),
                Err(_) => "(cannot be decrypted)".to_owned(),
            };
            credentials.insert(secret.field, shown);
        }
        ConnectionView {
            id: connection.id,
            platform: connection.platform,
            status: connection.status,
            status_message: connection.status_message,
            label: connection.label,
            region: connection.region,
            marketplace_id: connection.marketplace_id,
            selling_partner_id: connection.selling_partner_id,
            credentials,
            created_at: connection.created_at,
            last_tested_at: connection.last_tested_at,
        }
    }

    /// "Connect Manually (Enter Credentials)": stores the account and tests it at once.
    pub async fn connect_amazon_manually(
        &self,
        user: &User,
        input: &AmazonManualInput,
    ) -> Result<(ConnectionView, TestResult), ConnectError> {
        let mut errors = FieldErrors::default();
        let (marketplace, region) = check_amazon_app(&input.app, &mut errors);
        let refresh_token = input.refresh_token.trim();
        if refresh_token.is_empty() {
            errors.add("refresh_token", "Enter the refresh token.");
        } else if !refresh_token.starts_with("Atzr|")
            || refresh_token.chars().any(char::is_whitespace)
            || refresh_token.len() > MAX_SECRET_BYTES
        {
            errors.add(
                "refresh_token",
                "An LWA refresh token starts with Atzr| and has no spaces.",
            );
        }
        let (Some(marketplace), Some(region), true) = (marketplace, region, errors.is_empty()) else {
            return Err(ConnectError::Invalid(errors));
        };
        let secrets = [
            ("client_id", input.app.client_id.trim()),
            ("client_secret", input.app.client_secret.trim()),
            ("refresh_token", refresh_token),
        ];
        let new = NewConnection {
            platform: "amazon",
            status: ConnectionStatus::Error,
            status_message: "Not tested yet.",
            label: "",
            region: Some(region.as_str()),
            marketplace_id: Some(&marketplace.marketplace_id),
            selling_partner_id: None,
            application_id: None,
            created_by: user.id,
            now: Timestamp::now(),
        };
        Ok(self.create_and_check(&new, &secrets).await?)
    }

    /// "Connect Flipkart". Without an API Key and Secret the account is stored as Incomplete
    /// Configuration: Flipkart's Seller API accepts nothing else.
    pub async fn connect_flipkart(
        &self,
        user: &User,
        input: &FlipkartInput,
    ) -> Result<(ConnectionView, Option<TestResult>), ConnectError> {
        let mut errors = FieldErrors::default();
        let username = input.username.trim();
        if username.is_empty() {
            errors.add("username", "Enter your Flipkart username or Seller ID.");
        } else if username.chars().count() > 200 {
            errors.add("username", "The username is too long.");
        }
        if input.password.is_empty() {
            errors.add("password", "Enter your Flipkart seller account password.");
        } else if input.password.len() > MAX_SECRET_BYTES {
            errors.add("password", "The password is too long.");
        }
        let (api_key, api_secret) = (input.api_key.trim(), input.api_secret.trim());
        match (api_key.is_empty(), api_secret.is_empty()) {
            (false, true) => errors.add(
                "api_secret",
                "Enter the API Secret that belongs to this API Key, or neither.",
            ),
            (true, false) => errors.add(
                "api_key",
                "Enter the API Key that belongs to this API Secret, or neither.",
            ),
            _ => {}
        }
        for (field, value) in [("api_key", api_key), ("api_secret", api_secret)] {
            if value.chars().any(char::is_whitespace) || value.len() > MAX_SECRET_BYTES {
                errors.add(field, "This value has no spaces; copy it again from Developer Access.");
            }
        }
        if !errors.is_empty() {
            return Err(ConnectError::Invalid(errors));
        }
        let has_keys = !api_key.is_empty();
        let incomplete = format!(
            "Sync needs an API Key and API Secret: Flipkart's Seller API does not accept a username and \
             password. Create them in {}, then connect again with them.",
            flipkart::DEVELOPER_ACCESS
        );
        let new = NewConnection {
            platform: "flipkart",
            status: if has_keys {
                ConnectionStatus::Error
            } else {
                ConnectionStatus::Incomplete
            },
            status_message: if has_keys { "Not tested yet." } else { &incomplete },
            label: username,
            region: None,
            marketplace_id: None,
            selling_partner_id: None,
            application_id: None,
            created_by: user.id,
            now: Timestamp::now(),
        };
        let mut secrets = vec![("password", input.password.as_str())];
        if has_keys {
            secrets.extend([("api_key", api_key), ("api_secret", api_secret)]);
        }
        if has_keys {
            let (view, result) = self.create_and_check(&new, &secrets).await?;
            Ok((view, Some(result)))
        } else {
            let connection = self.create(&new, &secrets).await?;
            Ok((self.stored_view(connection).await?, None))
        }
    }

    async fn create(
        &self,
        new: &NewConnection<'_>,
        secrets: &[(&'static str, &str)],
    ) -> Result<Connection, StorageError> {
        let vault = &self.vault;
        self.storage
            .create_connection(new, |id| {
                secrets
                    .iter()
                    .map(|(field, value)| stored(id, field, vault.seal(value, &connection_field(id, field)), None))
                    .collect()
            })
            .await
    }

    /// Stores a connection, tests it at once, and returns it as it now stands.
    async fn create_and_check(
        &self,
        new: &NewConnection<'_>,
        secrets: &[(&'static str, &str)],
    ) -> Result<(ConnectionView, TestResult), StorageError> {
        let connection = self.create(new, secrets).await?;
        let result = self.run_check(&connection).await?;
        let tested = self.storage.get_connection(connection.id).await?.unwrap_or(connection);
        Ok((self.stored_view(tested).await?, result))
    }

    /// "Test Connection": fetches real data from the platform, unless a result younger than the
    /// platform's reuse window exists (then that result is shown again, with its age).
    pub async fn test(&self, id: i64) -> Result<TestResult, ConnectError> {
        let connection = match self.storage.get_connection(id).await? {
            Some(connection) if connection.active => connection,
            _ => return Err(ConnectError::NotFound),
        };
        if connection.status == ConnectionStatus::Incomplete {
            return Ok(TestResult {
                ok: false,
                message: connection.status_message,
            });
        }
        if let (Some(connector), Some(tested_at)) = (self.connector(&connection.platform), connection.last_tested_at) {
            let age = Timestamp::now().datetime() - tested_at.datetime();
            let window = connector.check_reuse_window();
            if age >= time::Duration::ZERO && age.unsigned_abs() < window {
                let seconds = age.whole_seconds();
                return Ok(TestResult {
                    ok: connection.status == ConnectionStatus::Connected,
                    message: format!(
                        "{} (Result from {seconds} second{} ago: {} allows about one check a minute, so it \
                         was not asked again.)",
                        connection.status_message,
                        if seconds == 1 { "" } else { "s" },
                        capitalised(&connection.platform),
                    ),
                });
            }
        }
        Ok(self.run_check(&connection).await?)
    }

    async fn run_check(&self, connection: &Connection) -> Result<TestResult, StorageError> {
        let now = Timestamp::now();
        let outcome = match self.account(connection).await? {
            Ok(account) => match self.connector(&connection.platform) {
                Some(connector) => connector.check(&account).await,
                None => Err(CheckError::Rejected(format!(
                    "Javelin has no connector for {}.",
                    connection.platform
                ))),
            },
            Err(err) => Err(CheckError::Rejected(format!(
                "The stored credentials cannot be read ({err}). Disconnect and connect the account again."
            ))),
        };
        match outcome {
            Ok(check) => {
                for token in &check.tokens {
                    let sealed = self
                        .vault
                        .seal(&token.value, &connection_field(connection.id, token.field));
                    let expires_at = Timestamp::from_datetime(token.expires_at);
                    self.storage
                        .put_secret(&stored(connection.id, token.field, sealed, Some(expires_at)), now)
                        .await?;
                }
                let status = ConnectionStatus::Connected;
                self.storage
                    .record_connection_test(connection.id, status, &check.message, check.label.as_deref(), now)
                    .await?;
                Ok(TestResult {
                    ok: true,
                    message: check.message,
                })
            }
            Err(err) => {
                let message = err.to_string();
                tracing::info!(connection = connection.id, platform = %connection.platform, %message, "connection test failed");
                self.storage
                    .record_connection_test(connection.id, ConnectionStatus::Error, &message, None, now)
                    .await?;
                Ok(TestResult { ok: false, message })
            }
        }
    }

    /// The connection's credentials, decrypted.
    async fn account(&self, connection: &Connection) -> Result<Result<Account, VaultError>, StorageError> {
        let mut account = Account {
            region: connection.region.clone(),
            marketplace_id: connection.marketplace_id.clone(),
            secrets: BTreeMap::new(),
        };
        for secret in self.storage.connection_secrets(connection.id).await? {
            match self
                .vault
                .open(&sealed(&secret), &connection_field(connection.id, &secret.field))
            {
                Ok(plain) => {
                    account.secrets.insert(secret.field, plain);
                }
                Err(err) => return Ok(Err(err)),
            }
        }
        Ok(Ok(account))
    }

    /// "Disconnect": deletes every stored credential and deactivates the connection.
    pub async fn disconnect(&self, id: i64) -> Result<(), ConnectError> {
        if self.storage.deactivate_connection(id, Timestamp::now()).await? {
            Ok(())
        } else {
            Err(ConnectError::NotFound)
        }
    }

    /// "Start OAuth Flow": remembers the pending connection (its client secret sealed) under a
    /// fresh single-use state bound to `binding` (the session or API token of the caller), and
    /// returns Amazon's consent URL.
    pub async fn start_amazon_oauth(
        &self,
        user: &User,
        binding: &str,
        input: &AmazonOAuthInput,
    ) -> Result<Url, ConnectError> {
        let mut errors = FieldErrors::default();
        let (marketplace, region) = check_amazon_app(&input.app, &mut errors);
        let application_id = input.application_id.trim();
        if application_id.is_empty() {
            errors.add("application_id", "Enter the Application ID of your SP-API app.");
        } else if !(application_id.starts_with("amzn1.sp.solution.")
            || application_id.starts_with("amzn1.sellerapps.app."))
            || application_id.chars().any(char::is_whitespace)
        {
            errors.add(
                "application_id",
                "An SP-API Application ID looks like amzn1.sp.solution.… (from Solution Provider Portal or Developer Central).",
            );
        }
        let (Some(marketplace), Some(region), true) = (marketplace, region, errors.is_empty()) else {
            return Err(ConnectError::Invalid(errors));
        };
        let state = random_token("");
        let state_hash = token_hash(&state);
        let pending = PendingSecrets {
            client_id: input.app.client_id.trim().to_owned(),
            client_secret: input.app.client_secret.trim().to_owned(),
        };
        // Serialising two strings cannot fail.
        let plain = serde_json::to_string(&pending).unwrap_or_default();
        let sealed = self.vault.seal(&plain, &state_field(&state_hash));
        let now = Timestamp::now();
        let record = OAuthState {
            user_id: user.id,
            binding_hash: token_hash(binding).to_vec(),
            platform: "amazon".into(),
            region: region.as_str().into(),
            marketplace_id: marketplace.marketplace_id.clone(),
            application_id: application_id.into(),
            draft: input.draft,
            key_id: sealed.key_id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            created_at: now,
            expires_at: now + OAUTH_STATE_LIFETIME,
            used_at: None,
        };
        self.storage.create_oauth_state(&state_hash, &record).await?;
        let redirect = self.redirect_uri_explicit.then_some(&self.redirect_uri);
        Ok(self
            .amazon
            .consent_url(marketplace, application_id, &state, input.draft, redirect)?)
    }

    /// Completes the consent: checks the state, exchanges the code, stores the refresh token and
    /// the selling partner id, and checks the result with getMarketplaceParticipations.
    /// `received_at` is the host and path the callback arrived on, to spot a redirect URI that
    /// differs from the configured one.
    pub async fn complete_amazon_oauth(
        &self,
        binding: Option<&str>,
        received_at: Option<&str>,
        callback: &OAuthCallback,
    ) -> Result<(ConnectionView, TestResult), OAuthError> {
        use OAuthError::{AuthorizationFailed, InvalidRedirectUri, TokenExchangeFailed};

        let state = callback.state.as_deref().filter(|state| !state.is_empty()).ok_or_else(|| {
            AuthorizationFailed("Amazon's answer has no state parameter, so it cannot be matched to a connection attempt. Start the OAuth flow again from Connect Platforms.".into())
        })?;
        let state_hash = token_hash(state);
        let now = Timestamp::now();
        let pending = match self.storage.take_oauth_state(&state_hash, now).await? {
            StateLookup::Unknown => {
                return Err(AuthorizationFailed(
                    "the state parameter does not belong to any connection attempt started here. Start the OAuth flow again from Connect Platforms.".into(),
                ));
            }
            StateLookup::AlreadyUsed(_) => {
                return Err(AuthorizationFailed(
                    "this authorization answer was used already (each one works once). Start the OAuth flow again if the account is not connected.".into(),
                ));
            }
            StateLookup::Taken(pending) => pending,
        };
        if pending.expires_at <= now {
            return Err(AuthorizationFailed(format!(
                "the connection attempt expired: Amazon's consent has to be completed within {} minutes. Start the OAuth flow again.",
                OAUTH_STATE_LIFETIME.whole_minutes()
            )));
        }
        match binding {
            None => {
                // Cookies belong to an address: a browser signed in at 127.0.0.1 sends none to localhost.
                let origin = self.redirect_uri.origin().ascii_serialization();
                return Err(AuthorizationFailed(format!(
                    "nobody is signed in to Javelin at {origin}, where Amazon sent you back. Sign in at that \
                     address (the one AMAZON_OAUTH_REDIRECT_URI names) and start the OAuth flow again."
                )));
            }
            Some(binding) if token_hash(binding).as_slice() != pending.binding_hash.as_slice() => {
                return Err(AuthorizationFailed(
                    "the connection attempt was started by another user or in another browser session. Start \
                     the OAuth flow again while signed in here."
                        .into(),
                ));
            }
            Some(_) => {}
        }
        if let Some(error) = callback.error.as_deref().filter(|error| !error.is_empty()) {
            let description = callback.error_description.as_deref().unwrap_or("no description");
            return Err(AuthorizationFailed(format!(
                "Amazon reported {error}: {description}. The consent was not given; start the OAuth flow again to retry."
            )));
        }
        let code = callback
            .spapi_oauth_code
            .as_deref()
            .filter(|code| !code.is_empty())
            .ok_or_else(|| {
                AuthorizationFailed("Amazon sent no authorization code: the consent was cancelled or denied.".into())
            })?;
        let selling_partner_id = callback
            .selling_partner_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                AuthorizationFailed("Amazon sent no selling_partner_id with the authorization code.".into())
            })?;
        if let Some(received_at) = received_at
            && !same_endpoint(received_at, &self.redirect_uri)
        {
            return Err(InvalidRedirectUri(format!(
                "Amazon sent the seller back to {received_at}, but Javelin's AMAZON_OAUTH_REDIRECT_URI is {}. \
                 Make the redirect URI in Amazon Developer Central and AMAZON_OAUTH_REDIRECT_URI the same.",
                self.redirect_uri
            )));
        }
        let secrets: PendingSecrets = self
            .vault
            .open(
                &Sealed {
                    key_id: pending.key_id.clone(),
                    nonce: pending.nonce.clone(),
                    ciphertext: pending.ciphertext.clone(),
                },
                &state_field(&state_hash),
            )
            .ok()
            .and_then(|plain| serde_json::from_str(&plain).ok())
            .ok_or_else(|| OAuthError::Internal("the pending connection's credentials cannot be decrypted".into()))?;
        let client = LwaClient {
            client_id: &secrets.client_id,
            client_secret: &secrets.client_secret,
        };
        let tokens = self.amazon.exchange_code(&client, code, &self.redirect_uri).await.map_err(|err| match &err {
            AmazonError::Lwa { error, .. } if error == "invalid_client" => AuthorizationFailed(format!(
                "Amazon rejected the Client ID or Client Secret ({err}). Check both in Amazon Developer Central."
            )),
            AmazonError::Lwa { description, .. } if description.to_lowercase().contains("redirect") => InvalidRedirectUri(format!(
                "Amazon refused the redirect URI {} ({err}). It must be registered in Amazon Developer Central exactly as AMAZON_OAUTH_REDIRECT_URI says.",
                self.redirect_uri
            )),
            AmazonError::Lwa { error, .. } if error == "invalid_grant" => TokenExchangeFailed(format!(
                "Amazon refused the authorization code ({err}). A code is valid for 5 minutes and works once: start the OAuth flow again."
            )),
            _ => TokenExchangeFailed(format!("{err}. Verify your credentials and try again.")),
        })?;
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| {
            TokenExchangeFailed("Amazon's answer has no refresh token. Start the OAuth flow again.".into())
        })?;
        let new = NewConnection {
            platform: "amazon",
            status: ConnectionStatus::Error,
            status_message: "Not tested yet.",
            label: "",
            region: Some(&pending.region),
            marketplace_id: Some(&pending.marketplace_id),
            selling_partner_id: Some(selling_partner_id),
            application_id: Some(&pending.application_id),
            created_by: pending.user_id,
            now,
        };
        let stored_secrets = [
            ("client_id", secrets.client_id.as_str()),
            ("client_secret", secrets.client_secret.as_str()),
            ("refresh_token", refresh_token.as_str()),
        ];
        Ok(self.create_and_check(&new, &stored_secrets).await?)
    }
}

#[derive(Serialize, Deserialize)]
struct PendingSecrets {
    client_id: String,
    client_secret: String,
}

fn state_field(state_hash: &[u8]) -> String {
    let hex: String = state_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_state:{hex}:client")
}

fn sealed(secret: &StoredSecret) -> Sealed {
    Sealed {
        key_id: secret.key_id.clone(),
        nonce: secret.nonce.clone(),
        ciphertext: secret.ciphertext.clone(),
    }
}

fn stored(connection_id: i64, field: &str, sealed: Sealed, expires_at: Option<Timestamp>) -> StoredSecret {
    StoredSecret {
        connection_id,
        field: field.to_owned(),
        key_id: sealed.key_id,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        expires_at,
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Whether `received_at` (`host[:port]/path`) is where `configured` points.
fn same_endpoint(received_at: &str, configured: &Url) -> bool {
    let host = configured.host_str().unwrap_or_default();
    let expected = match configured.port() {
        Some(port) => format!("{host}:{port}{}", configured.path()),
        None => format!("{host}{}", configured.path()),
    };
    received_at.eq_ignore_ascii_case(&expected)
}

/// Checks the fields both Amazon forms share.
fn check_amazon_app(app: &AmazonApp, errors: &mut FieldErrors) -> (Option<&'static Marketplace>, Option<Region>) {
    let client_id = app.client_id.trim();
    if client_id.is_empty() {
        errors.add("client_id", "Enter the LWA Client ID.");
    } else if !client_id.starts_with("amzn1.application-oa2-client.") || client_id.chars().any(char::is_whitespace) {
        errors.add(
            "client_id",
            "An LWA Client ID looks like amzn1.application-oa2-client.… (Developer Central → your app → LWA credentials).",
        );
    }
    let client_secret = app.client_secret.trim();
    if client_secret.is_empty() {
        errors.add("client_secret", "Enter the LWA Client Secret.");
    } else if client_secret.chars().any(char::is_whitespace) || client_secret.len() > MAX_SECRET_BYTES {
        errors.add(
            "client_secret",
            "An LWA Client Secret has no spaces; copy it again from Developer Central.",
        );
    }
    let marketplace = amazon::marketplaces::find(app.marketplace_id.trim());
    if marketplace.is_none() {
        errors.add("marketplace_id", "Choose the marketplace you sell in.");
    }
    // No region chosen: the marketplace's home region.
    let region = match (app.region.trim(), marketplace) {
        ("", Some(marketplace)) => marketplace.region.parse::<Region>().ok(),
        (region, _) => region.parse::<Region>().ok(),
    };
    match (region, marketplace) {
        (None, _) if app.region.trim().is_empty() => {}
        (None, _) => errors.add("region", "Choose the API region: NA, EU, FE or SANDBOX."),
        (Some(region), Some(marketplace)) if !region.serves(marketplace) => errors.add(
            "region",
            format!(
                "{} ({}) is served by the {} region, not {region}.",
                marketplace.name, marketplace.country_code, marketplace.region
            ),
        ),
        _ => {}
    }
    (marketplace, region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_show_at_most_four_characters() {
        assert_eq!(mask("Atzr|IQEBLzAtAhexamplewVz2Nn6f2y"), "••••6f2y");
        assert_eq!(mask("short"), "••••");
        assert_eq!(mask("amzn1.oa2-cs.v1.abcdef1234"), "••••1234");
    }

    #[test]
    fn amazon_fields_are_checked_together() {
        let mut errors = FieldErrors::default();
        let app = AmazonApp {
            client_id: "client".into(),
            client_secret: String::new(),
            marketplace_id: "A21TJRUUN4KGV".into(),
            region: "NA".into(),
        };
        check_amazon_app(&app, &mut errors);
        assert!(
            errors
                .get("client_id")
                .is_some_and(|e| e.contains("amzn1.application-oa2-client."))
        );
        assert_eq!(errors.get("client_secret"), Some("Enter the LWA Client Secret."));
        assert_eq!(
            errors.get("region"),
            Some("India (IN) is served by the EU region, not NA.")
        );
        assert_eq!(errors.get("marketplace_id"), None);

        let mut errors = FieldErrors::default();
        let oversized = AmazonApp {
            client_secret: "x".repeat(MAX_SECRET_BYTES + 1),
            region: String::new(),
            ..app
        };
        check_amazon_app(&oversized, &mut errors);
        assert!(errors.get("client_secret").is_some(), "an oversized secret is refused");
        assert_eq!(errors.get("region"), None, "a blank region means the marketplace's");
    }

    #[test]
    fn redirect_endpoints_compare_host_port_and_path() {
        let configured = Url::parse("http://localhost:8000/connections/amazon/oauth/callback").expect("URL");
        assert!(same_endpoint(
            "localhost:8000/connections/amazon/oauth/callback",
            &configured
        ));
        assert!(!same_endpoint(
            "127.0.0.1:8000/connections/amazon/oauth/callback",
            &configured
        ));
        let https = Url::parse("https://oms.example.com/connections/amazon/oauth/callback").expect("URL");
        assert!(same_endpoint(
            "oms.example.com/connections/amazon/oauth/callback",
            &https
        ));
    }
}
