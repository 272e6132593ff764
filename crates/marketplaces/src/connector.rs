use std::collections::BTreeMap;

use time::OffsetDateTime;

/// What a connector needs to talk to one seller account.
#[derive(Clone, Default)]
pub struct Account {
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    /// Decrypted credentials by field name (`client_id`, `refresh_token`, `api_key`, …).
    pub secrets: BTreeMap<String, String>,
}

impl Account {
    pub fn secret(&self, field: &'static str) -> Result<&str, CheckError> {
        self.secrets
            .get(field)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .ok_or(CheckError::MissingCredential(field))
    }
}

/// A token the marketplace issued during a check, worth keeping (encrypted) until it expires.
pub struct IssuedToken {
    pub field: &'static str,
    pub value: String,
    pub expires_at: OffsetDateTime,
}

/// The outcome of a successful check.
pub struct AccountCheck {
    /// The store or seller name the marketplace reported.
    pub label: Option<String>,
    /// What the check found, for the seller to read.
    pub message: String,
    pub tokens: Vec<IssuedToken>,
}

/// Why a check failed, in words the seller can act on.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("The {0} is missing: enter it and connect again.")]
    MissingCredential(&'static str),
    /// The marketplace answered and refused.
    #[error("{0}")]
    Rejected(String),
    /// The marketplace could not be reached or answered garbage.
    #[error("{0}")]
    Unavailable(String),
}

/// What every marketplace connector does. The sync engine adds orders and inventory.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// The platform code: `amazon`, `flipkart`.
    fn platform(&self) -> &'static str;

    /// Proves the credentials work by fetching real data from the marketplace.
    async fn check(&self, account: &Account) -> Result<AccountCheck, CheckError>;

    /// How long a check's result stays fresh enough to show again instead of spending the
    /// seller's request quota on another one.
    fn check_reuse_window(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}
