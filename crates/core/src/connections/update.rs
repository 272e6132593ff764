//! "Update credentials": new values for some of a connection's credentials, tested with the
//! marketplace before they replace the stored ones, so that a connection keeps its id, orders,
//! history and schedules across a rotation.

use javelin_marketplaces::Platform;
use serde::Deserialize;
use utoipa::ToSchema;

use super::check::{TestResult, explain};
use super::credentials::CheckRecord;
use super::input::{FieldErrors, MAX_SECRET_BYTES};
use super::{ConnectError, Connections, connection_target};
use crate::audit::{Actor, AuditAction, Permission};
use javelin_storage::ConnectionStatus;

/// New values for any of a platform's credentials; a field left empty keeps its stored value.
/// No `Debug`: it holds secrets.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CredentialsUpdate {
    /// Amazon: the LWA Client ID.
    #[serde(default)]
    pub client_id: String,
    /// Amazon: the LWA Client Secret (a new one every 180 days).
    #[serde(default)]
    pub client_secret: String,
    /// Amazon: the LWA refresh token.
    #[serde(default)]
    pub refresh_token: String,
    /// Flipkart: the API Key (Application ID).
    #[serde(default)]
    pub api_key: String,
    /// Flipkart: the API Secret.
    #[serde(default)]
    pub api_secret: String,
    /// Flipkart: the seller account's password.
    #[serde(default)]
    pub password: String,
}

impl CredentialsUpdate {
    /// The fields given, checked for `platform`.
    fn validate(&self, platform: Platform) -> Result<Vec<(&'static str, &str)>, FieldErrors> {
        let fields: [(&'static str, &str, bool); 6] = [
            ("client_id", self.client_id.trim(), platform == Platform::Amazon),
            ("client_secret", self.client_secret.trim(), platform == Platform::Amazon),
            ("refresh_token", self.refresh_token.trim(), platform == Platform::Amazon),
            ("api_key", self.api_key.trim(), platform == Platform::Flipkart),
            ("api_secret", self.api_secret.trim(), platform == Platform::Flipkart),
            ("password", self.password.as_str(), platform == Platform::Flipkart),
        ];
        let mut errors = FieldErrors::default();
        let mut given = Vec::new();
        for (field, value, belongs) in fields {
            if value.is_empty() {
                continue;
            }
            if !belongs {
                errors.add(field, format!("{} connections have no {field}.", platform.name()));
            } else if value.len() > MAX_SECRET_BYTES || (field != "password" && value.chars().any(char::is_whitespace))
            {
                errors.add(
                    field,
                    "This value has no spaces; copy it again from where you created it.",
                );
            } else if field == "client_id" && !value.starts_with("amzn1.application-oa2-client.") {
                errors.add(field, "An LWA Client ID looks like amzn1.application-oa2-client.…");
            } else if field == "refresh_token" && !value.starts_with("Atzr|") {
                errors.add(field, "An LWA refresh token starts with Atzr|.");
            } else {
                given.push((field, value));
            }
        }
        if given.is_empty() && errors.is_empty() {
            errors.add("credentials", "Enter at least one new credential.");
        }
        if errors.is_empty() { Ok(given) } else { Err(errors) }
    }
}

impl Connections {
    /// Tests the connection with the new values in place of the stored ones; only when the
    /// marketplace accepts them are they stored (sealed, one transaction, the old values gone)
    /// and the connection marked Connected. Otherwise nothing changes, status included, and the
    /// result says what the marketplace answered.
    pub async fn update_credentials(
        &self,
        actor: &Actor,
        id: i64,
        update: &CredentialsUpdate,
    ) -> Result<TestResult, ConnectError> {
        actor.require(Permission::ManageConnections)?;
        let connection = self.active(id).await?.ok_or(ConnectError::NotFound)?;
        let platform: Platform = connection.platform.parse().map_err(|_| ConnectError::NotFound)?;
        let given = update.validate(platform).map_err(ConnectError::Invalid)?;
        let now = self.clock.now();
        let mut account = match self.store.account(&connection, now).await? {
            Ok(account) => account,
            // Old values that cannot be read are replaced all the same, if the new ones work.
            Err(_) => javelin_marketplaces::Account {
                region: connection.region.clone(),
                marketplace_id: connection.marketplace_id.clone(),
                selling_partner_id: connection.selling_partner_id.clone(),
                ..Default::default()
            },
        };
        // A token issued for the old credentials proves nothing about the new ones.
        account.access_token = None;
        for (field, value) in &given {
            account.secrets.insert((*field).to_owned(), (*value).to_owned());
        }
        let checked = tokio::time::timeout(self.check_limit, self.connectors.get(platform).check(&account)).await;
        let fields: Vec<&str> = given.iter().map(|(field, _)| *field).collect();
        let outcome = match checked {
            Err(_) => Err(format!(
                "{} did not answer within {} seconds, so the new credentials could not be tested. Nothing was changed.",
                platform.name(),
                self.check_limit.as_secs()
            )),
            Ok(Err(err)) => Err(format!("{} Nothing was changed.", explain(platform, &err))),
            Ok(Ok(check)) => {
                let record = CheckRecord {
                    status: ConnectionStatus::Connected,
                    message: &check.message,
                    label: check.label.as_deref(),
                    access_token: check.access_token.as_ref(),
                };
                self.store
                    .replace_and_record(connection.id, &given, Some(record), now)
                    .await?;
                if !check.marketplaces.is_empty() {
                    self.store
                        .storage()
                        .set_connection_marketplaces(connection.id, &check.marketplaces, now)
                        .await?;
                }
                Ok(check.message)
            }
        };
        let (action, detail) = match &outcome {
            Ok(_) => (
                AuditAction::CredentialsUpdated,
                format!("updated {}", fields.join(", ")),
            ),
            Err(_) => (
                AuditAction::CredentialsRefused,
                format!("refused {}", fields.join(", ")),
            ),
        };
        self.audit
            .record(actor, action, Some(connection_target(id)), Some(detail))
            .await;
        Ok(match outcome {
            Ok(message) => TestResult { ok: true, message },
            Err(message) => TestResult { ok: false, message },
        })
    }
}
