//! The trait every marketplace client implements, and the registry that finds one by platform.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::amazon::Amazon;
use crate::flipkart::Flipkart;
use crate::{MarketplaceError, Platform};

/// What a connector needs to talk to one seller account.
#[derive(Clone, Default)]
pub struct Account {
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    /// Decrypted credentials by field name (`client_id`, `refresh_token`, `api_key`, …).
    pub secrets: BTreeMap<String, String>,
    /// An access token issued earlier and, by the caller's clock, not yet expired. Used before
    /// asking for a new one; a connector that finds it refused gets a new one once.
    pub access_token: Option<String>,
}

impl Account {
    pub fn secret(&self, field: &'static str) -> Result<&str, MarketplaceError> {
        self.secrets
            .get(field)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .ok_or(MarketplaceError::MissingCredential(field))
    }
}

/// An access token the marketplace issued, worth keeping (encrypted) for its lifetime.
pub struct IssuedToken {
    pub value: String,
    /// How long it may be used from when it was requested, with a margin already taken off.
    pub lifetime: Duration,
}

/// The outcome of a successful check.
pub struct AccountCheck {
    /// The store or seller name the marketplace reported.
    pub label: Option<String>,
    /// What the check read, for the seller.
    pub message: String,
    /// A new access token, when the check had to get one.
    pub access_token: Option<IssuedToken>,
}

/// What every marketplace connector does. The sync engine adds orders and inventory.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// Proves the credentials work by fetching real data from the marketplace.
    async fn check(&self, account: &Account) -> Result<AccountCheck, MarketplaceError>;

    /// How long a check's result stays fresh enough to show again instead of spending the
    /// seller's request quota on another one.
    fn check_reuse_window(&self) -> Duration {
        Duration::ZERO
    }
}

/// Every marketplace client, found by platform. Cheap to clone.
#[derive(Clone)]
pub struct Connectors {
    amazon: Amazon,
    flipkart: Flipkart,
}

impl Connectors {
    pub fn new(amazon: Amazon, flipkart: Flipkart) -> Self {
        Self { amazon, flipkart }
    }

    pub fn get(&self, platform: Platform) -> &dyn Connector {
        match platform {
            Platform::Amazon => &self.amazon,
            Platform::Flipkart => &self.flipkart,
        }
    }

    /// Amazon's client, for what only Amazon has (the OAuth consent).
    pub fn amazon(&self) -> &Amazon {
        &self.amazon
    }
}
