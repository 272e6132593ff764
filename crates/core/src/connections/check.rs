//! Test Connection: real data from the marketplace — unless a result younger than the
//! platform's reuse window exists — and what happened, in words a seller can act on. Every
//! message a seller reads about a marketplace's refusal is written here.

use std::time::Duration;

use javelin_marketplaces::flipkart::DEVELOPER_ACCESS;
use javelin_marketplaces::{Credential, MarketplaceError, Platform, Unavailability};
use javelin_storage::{Connection, ConnectionStatus, StorageError};
use serde::Serialize;

use super::credentials::CheckRecord;
use super::view::credential_label;
use super::{ConnectError, Connections, connection_target};
use crate::audit::{Actor, AuditAction};

/// What Test Connection reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TestResult {
    pub ok: bool,
    pub message: String,
}

impl Connections {
    /// "Test Connection": fetches real data from the platform, unless a result younger than the
    /// platform's reuse window exists (then that result is shown again, with its age).
    pub async fn test(&self, actor: &Actor, id: i64) -> Result<TestResult, ConnectError> {
        let result = self.test_unrecorded(id).await?;
        let outcome = if result.ok { "passed" } else { "failed" };
        self.audit
            .record(
                actor,
                AuditAction::ConnectionTested,
                Some(connection_target(id)),
                Some(format!("{outcome}: {}", result.message)),
            )
            .await;
        Ok(result)
    }

    async fn test_unrecorded(&self, id: i64) -> Result<TestResult, ConnectError> {
        let connection = self.active(id).await?.ok_or(ConnectError::NotFound)?;
        if connection.status == ConnectionStatus::Incomplete {
            return Ok(TestResult {
                ok: false,
                message: connection.status_message,
            });
        }
        if let (Ok(platform), Some(tested_at)) = (connection.platform.parse::<Platform>(), connection.last_tested_at) {
            let age = self.clock.now().datetime() - tested_at.datetime();
            let window = self.connectors.get(platform).check_reuse_window();
            if age >= time::Duration::ZERO && age.unsigned_abs() < window {
                let seconds = age.whole_seconds();
                return Ok(TestResult {
                    ok: connection.status == ConnectionStatus::Connected,
                    message: format!(
                        "{} (Result from {seconds} second{} ago: {} allows about one check {}, so it was not asked again.)",
                        connection.status_message,
                        if seconds == 1 { "" } else { "s" },
                        platform.name(),
                        per(window),
                    ),
                });
            }
        }
        Ok(self.run_check(&connection).await?)
    }

    /// Asks the marketplace and records the outcome; a throttled check changes nothing stored.
    pub(super) async fn run_check(&self, connection: &Connection) -> Result<TestResult, StorageError> {
        let now = self.clock.now();
        let platform = match connection.platform.parse::<Platform>() {
            Ok(platform) => platform,
            Err(err) => {
                return Ok(TestResult {
                    ok: false,
                    message: format!("{err}."),
                });
            }
        };
        let outcome = match self.store.account(connection, now).await? {
            Ok(account) => {
                let check = self.connectors.get(platform).check(&account);
                match tokio::time::timeout(self.check_limit, check).await {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        let seconds = self.check_limit.as_secs();
                        let message = format!(
                            "{} did not answer within {seconds} second{}: its API is slow or unreachable from here \
                             right now. Try again in a few minutes.",
                            platform.name(),
                            if seconds == 1 { "" } else { "s" },
                        );
                        self.store
                            .record_check(connection.id, CheckRecord::failed(&message), now)
                            .await?;
                        return Ok(TestResult { ok: false, message });
                    }
                }
            }
            Err(err) => {
                let message =
                    format!("The stored credentials cannot be read ({err}). Disconnect and connect the account again.");
                self.store
                    .record_check(connection.id, CheckRecord::failed(&message), now)
                    .await?;
                return Ok(TestResult { ok: false, message });
            }
        };
        match outcome {
            Ok(check) => {
                if !check.marketplaces.is_empty() {
                    self.store
                        .storage()
                        .set_connection_marketplaces(connection.id, &check.marketplaces, now)
                        .await?;
                }
                let record = CheckRecord {
                    status: ConnectionStatus::Connected,
                    message: &check.message,
                    label: check.label.as_deref(),
                    access_token: check.access_token.as_ref(),
                };
                self.store.record_check(connection.id, record, now).await?;
                Ok(TestResult {
                    ok: true,
                    message: check.message,
                })
            }
            Err(err) => {
                let message = explain(platform, &err);
                tracing::info!(connection = connection.id, %platform, error = %err, "connection test failed");
                if !matches!(err, MarketplaceError::Throttled { .. }) {
                    self.store
                        .record_check(connection.id, CheckRecord::failed(&message), now)
                        .await?;
                }
                Ok(TestResult { ok: false, message })
            }
        }
    }
}

/// "a minute", "every 30 seconds": how often a reuse window allows a check.
fn per(window: Duration) -> String {
    match window.as_secs() {
        60 => "a minute".to_owned(),
        secs => format!("every {secs} seconds"),
    }
}

/// A marketplace's refusal, in words that say what to do about it.
pub fn explain(platform: Platform, err: &MarketplaceError) -> String {
    let name = platform.name();
    match err {
        MarketplaceError::Throttled { retry_after, detail } => {
            let when = retry_after.map_or_else(
                || "in a minute or two".to_owned(),
                |wait| format!("in {} seconds", wait.as_secs().max(1)),
            );
            format!("{name} is limiting how often Javelin may ask right now ({detail}). Try again {when}.")
        }
        MarketplaceError::Unauthorized { credential, detail } => match (platform, credential) {
            (Platform::Amazon, Credential::Client) => format!(
                "Amazon rejected the Client ID or Client Secret ({detail}). The client secret was rotated or has \
                 expired — update it: Amazon requires a new one every 180 days (Developer Central), and it goes in \
                 with Update credentials on this connection's card."
            ),
            (Platform::Amazon, Credential::Grant) => format!(
                "Refresh token revoked or expired — reconnect (Amazon said: {detail}). The authorisation may \
                 have been revoked in Seller Central, or belong to another application or region."
            ),
            (Platform::Amazon, Credential::Permission) => format!(
                "Amazon SP-API refused access ({detail}). Check that the Region matches the Seller Central \
                 account that granted the refresh token, and that the app has the Selling Partner Insights role."
            ),
            (Platform::Flipkart, Credential::Client) => format!(
                "Flipkart rejected the API Key or API Secret ({detail}). The API secret was regenerated or the \
                 application changed — update it: copy both from {DEVELOPER_ACCESS} into Update credentials on this \
                 connection's card (a new application may still be pending approval)."
            ),
            (Platform::Flipkart, Credential::Grant | Credential::Permission) => format!(
                "Flipkart's Seller API refused access ({detail}). Check that the application in \
                 {DEVELOPER_ACCESS} is approved for this seller account."
            ),
        },
        MarketplaceError::MissingCredential(field) => {
            format!(
                "The {} is missing: enter it and connect again.",
                credential_label(field)
            )
        }
        MarketplaceError::Rejected { detail } => format!("{name} refused the request ({detail})."),
        MarketplaceError::Unavailable { host, cause } => match cause {
            Unavailability::Network(reason) => {
                format!("Could not reach {host}: {reason}. Check the network connection to the platform's API.")
            }
            Unavailability::Server { .. } => format!(
                "{name}'s API at {host} is failing right now ({cause}). This is on {name}'s side: try again later."
            ),
            Unavailability::Malformed(what) => format!(
                "{name}'s API at {host} answered with {what}. Try again later; if it persists, the API may have changed."
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_says_what_to_do() {
        let unauthorized = |credential| MarketplaceError::Unauthorized {
            credential,
            detail: "invalid_client: Client authentication failed".into(),
        };
        let message = explain(Platform::Amazon, &unauthorized(Credential::Client));
        assert!(
            message.contains("Client ID or Client Secret")
                && message.contains("invalid_client")
                && message.contains("The client secret was rotated or has expired — update it"),
            "{message}"
        );
        assert!(
            explain(Platform::Amazon, &unauthorized(Credential::Grant))
                .starts_with("Refresh token revoked or expired — reconnect")
        );
        assert!(explain(Platform::Amazon, &unauthorized(Credential::Permission)).contains("Region"));
        let flipkart = explain(Platform::Flipkart, &unauthorized(Credential::Client));
        assert!(
            flipkart.contains(DEVELOPER_ACCESS) && flipkart.contains("update it"),
            "{flipkart}"
        );

        let throttled = MarketplaceError::Throttled {
            retry_after: Some(Duration::from_secs(30)),
            detail: "QuotaExceeded".into(),
        };
        assert!(explain(Platform::Amazon, &throttled).ends_with("Try again in 30 seconds."));
        let down = MarketplaceError::Unavailable {
            host: "api.flipkart.net".into(),
            cause: Unavailability::Server {
                status: 503,
                detail: String::new(),
            },
        };
        let message = explain(Platform::Flipkart, &down);
        assert!(
            message.contains("api.flipkart.net") && message.contains("HTTP 503"),
            "{message}"
        );
        assert_eq!(
            explain(Platform::Flipkart, &MarketplaceError::MissingCredential("api_key")),
            "The API Key is missing: enter it and connect again."
        );
    }
}
