//! Amazon's website authorization: a single-use state bound to whoever started the flow, the
//! seller's consent on Seller Central, and the callback that exchanges the code for a refresh
//! token. The client secret waits sealed in the state's row, never in a URL.

use javelin_marketplaces::amazon::LwaClient;
use javelin_marketplaces::{Credential, MarketplaceError, Platform};
use javelin_storage::{ConnectionStatus, NewConnection, OAuthState, StateLookup, StorageError};
use serde::{Deserialize, Serialize};
use url::Url;

use super::check::{TestResult, explain};
use super::input::{AmazonOAuthInput, OAuthCallback};
use super::view::ConnectionView;
use super::{ConnectError, Connections, connection_target};
use crate::audit::{Actor, AuditAction, Forbidden, Permission};
use crate::tokens::{random_token, token_hash};
use crate::vault::Sealed;

/// How long a seller has to finish Amazon's consent page.
pub const OAUTH_STATE_LIFETIME: time::Duration = time::Duration::minutes(10);

/// What an OAuth callback produced: a new connection, or an existing one of the same seller and
/// region given the new authorisation.
#[derive(Debug, Clone)]
pub struct OAuthConnected {
    pub connection: ConnectionView,
    pub test: TestResult,
    pub reconnected: bool,
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

/// The LWA client credentials of a consent in progress, sealed in its state row.
#[derive(Serialize, Deserialize)]
struct PendingSecrets {
    client_id: String,
    client_secret: String,
}

/// Where the pending secrets of a state are bound to.
fn state_field(state_hash: &[u8]) -> String {
    let hex: String = state_hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth_state:{hex}:client")
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

impl Connections {
    /// "Start OAuth Flow": remembers the pending connection (its client secret sealed) under a
    /// fresh single-use state bound to `binding` (the session or API token of the caller), and
    /// returns Amazon's consent URL.
    pub async fn start_amazon_oauth(
        &self,
        actor: &Actor,
        binding: &str,
        input: &AmazonOAuthInput,
    ) -> Result<Url, ConnectError> {
        actor.require(Permission::ManageConnections)?;
        let user = actor.signed_in().ok_or(Forbidden(Permission::ManageConnections))?;
        let valid = input.validate().map_err(ConnectError::Invalid)?;
        let state = random_token("");
        let state_hash = token_hash(&state);
        let pending = PendingSecrets {
            client_id: valid.app.client_id.to_owned(),
            client_secret: valid.app.client_secret.to_owned(),
        };
        // Serialising two strings cannot fail.
        let plain = serde_json::to_string(&pending).unwrap_or_default();
        let sealed = self.store.seal(&plain, &state_field(&state_hash));
        let now = self.clock.now();
        let record = OAuthState {
            user_id: user.id,
            binding_hash: token_hash(binding).to_vec(),
            platform: Platform::Amazon.code().into(),
            region: valid.app.region.as_str().into(),
            marketplace_id: valid.app.marketplace.marketplace_id.clone(),
            application_id: valid.application_id.into(),
            draft: input.draft,
            key_id: sealed.key_id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            created_at: now,
            expires_at: now + OAUTH_STATE_LIFETIME,
            used_at: None,
        };
        self.store.storage().create_oauth_state(&state_hash, &record).await?;
        let redirect = self.redirect_uri_explicit.then_some(&self.redirect_uri);
        let url = self.connectors.amazon().consent_url(
            valid.app.marketplace,
            valid.application_id,
            &state,
            input.draft,
            redirect,
        )?;
        let detail = format!("{} {}", valid.app.region.as_str(), valid.app.marketplace.marketplace_id);
        self.audit
            .record(actor, AuditAction::OAuthStarted, None, Some(detail))
            .await;
        Ok(url)
    }

    /// Completes the consent: checks the state, exchanges the code, stores the refresh token and
    /// the selling partner id, and checks the result with getMarketplaceParticipations.
    /// `received_at` is the host and path the callback arrived on, to spot a redirect URI that
    /// differs from the configured one.
    pub async fn complete_amazon_oauth(
        &self,
        actor: &Actor,
        binding: Option<&str>,
        received_at: Option<&str>,
        callback: &OAuthCallback,
    ) -> Result<OAuthConnected, OAuthError> {
        let result = self.complete_unrecorded(binding, received_at, callback).await;
        match &result {
            Ok(done) => {
                let detail = done
                    .reconnected
                    .then(|| "reconnected: the existing connection's credentials were replaced".to_owned());
                self.audit
                    .record(
                        actor,
                        AuditAction::OAuthCompleted,
                        Some(connection_target(done.connection.id)),
                        detail,
                    )
                    .await;
            }
            Err(err) => {
                self.audit
                    .record(actor, AuditAction::OAuthRefused, None, Some(err.to_string()))
                    .await;
            }
        }
        result
    }

    async fn complete_unrecorded(
        &self,
        binding: Option<&str>,
        received_at: Option<&str>,
        callback: &OAuthCallback,
    ) -> Result<OAuthConnected, OAuthError> {
        use OAuthError::{AuthorizationFailed, InvalidRedirectUri, TokenExchangeFailed};

        let state = callback.state.as_deref().filter(|state| !state.is_empty()).ok_or_else(|| {
            AuthorizationFailed("Amazon's answer has no state parameter, so it cannot be matched to a connection attempt. Start the OAuth flow again from Connect Platforms.".into())
        })?;
        let state_hash = token_hash(state);
        let now = self.clock.now();
        let binding_hash = binding.map(token_hash);
        let pending = match self
            .store
            .storage()
            .take_oauth_state(&state_hash, binding_hash.as_ref().map(|hash| hash.as_slice()), now)
            .await?
        {
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
            StateLookup::NotTheOwner(_) if binding.is_none() => {
                // Cookies belong to an address: a browser signed in at 127.0.0.1 sends none to localhost.
                let origin = self.redirect_uri.origin().ascii_serialization();
                return Err(AuthorizationFailed(format!(
                    "nobody is signed in to Javelin at {origin}, where Amazon sent you back. Sign in at that \
                     address (the one AMAZON_OAUTH_REDIRECT_URI names) and start the OAuth flow again."
                )));
            }
            StateLookup::NotTheOwner(_) => {
                return Err(AuthorizationFailed(
                    "the connection attempt was started by another user or in another browser session. Start \
                     the OAuth flow again while signed in here."
                        .into(),
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
        let sealed = Sealed {
            key_id: pending.key_id.clone(),
            nonce: pending.nonce.clone(),
            ciphertext: pending.ciphertext.clone(),
        };
        let secrets: PendingSecrets = self
            .store
            .open(&sealed, &state_field(&state_hash))
            .ok()
            .and_then(|plain| serde_json::from_str(&plain).ok())
            .ok_or_else(|| OAuthError::Internal("the pending connection's credentials cannot be decrypted".into()))?;
        let client = LwaClient {
            client_id: &secrets.client_id,
            client_secret: &secrets.client_secret,
        };
        let tokens = self
            .connectors
            .amazon()
            .exchange_code(&client, code, &self.redirect_uri)
            .await
            .map_err(|err| match &err {
                MarketplaceError::Unauthorized {
                    credential: Credential::Client,
                    ..
                } => AuthorizationFailed(explain(Platform::Amazon, &err)),
                MarketplaceError::Unauthorized {
                    credential: Credential::Grant,
                    detail,
                } => TokenExchangeFailed(format!(
                    "Amazon refused the authorization code ({detail}). A code is valid for 5 minutes, works once, \
                     and only with the redirect URI it was issued for: start the OAuth flow again."
                )),
                _ => TokenExchangeFailed(format!(
                    "{} Verify your credentials and try again.",
                    explain(Platform::Amazon, &err)
                )),
            })?;
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| {
            TokenExchangeFailed("Amazon's answer has no refresh token. Start the OAuth flow again.".into())
        })?;
        let stored_secrets = [
            ("client_id", secrets.client_id.as_str()),
            ("client_secret", secrets.client_secret.as_str()),
            ("refresh_token", refresh_token.as_str()),
        ];
        // The same seller in the same region again: a reconnection, which updates that connection
        // (its id, orders, history and schedules stay) rather than making a second one.
        let existing = self.store.storage().list_connections().await?.into_iter().find(|c| {
            c.active
                && c.platform == Platform::Amazon.code()
                && c.selling_partner_id.as_deref() == Some(selling_partner_id)
                && c.region.as_deref() == Some(pending.region.as_str())
        });
        let reconnected = existing.is_some();
        let (connection, test) = match existing {
            Some(existing) => self.replace_and_check(existing, &stored_secrets).await?,
            None => {
                let new = NewConnection {
                    platform: Platform::Amazon.code(),
                    status: ConnectionStatus::Error,
                    status_message: "Not tested yet.",
                    label: "",
                    region: Some(&pending.region),
                    marketplace_id: Some(&pending.marketplace_id),
                    selling_partner_id: Some(selling_partner_id),
                    application_id: Some(&pending.application_id),
                    created_by: Some(pending.user_id),
                    now,
                };
                self.create_and_check(Platform::Amazon, &new, &stored_secrets).await?
            }
        };
        Ok(OAuthConnected {
            connection,
            test,
            reconnected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
