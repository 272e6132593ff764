//! The trait every marketplace client implements, and the registry that finds one by platform.

use std::collections::BTreeMap;
use std::time::Duration;

use javelin_model::{Order, StockLevel};
use time::OffsetDateTime;

use crate::amazon::Amazon;
use crate::flipkart::Flipkart;
use crate::{MarketplaceError, Pace, Platform};

/// What a connector needs to talk to one seller account.
#[derive(Clone, Default)]
pub struct Account {
    pub region: Option<String>,
    pub marketplace_id: Option<String>,
    /// Amazon's id of the seller, when the consent told it.
    pub selling_partner_id: Option<String>,
    /// Decrypted credentials by field name (`client_id`, `refresh_token`, `api_key`, …).
    pub secrets: BTreeMap<String, String>,
    /// An access token issued earlier and, by the caller's clock, not yet expired. Used before
    /// asking for a new one; a connector that finds it refused gets a new one once.
    pub access_token: Option<String>,
    /// The marketplaces to sync (Amazon: those of the region the seller sells in and has not
    /// switched off); empty means the account's own marketplace only.
    pub marketplace_ids: Vec<String>,
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
    /// The marketplaces the account sells in that this connection can sync: id and name.
    pub marketplaces: Vec<(String, String)>,
}

/// What a sync call needs: the account, a valid access token, and the pacing of its calls.
pub struct Session<'a> {
    pub account: &'a Account,
    pub access_token: &'a str,
    pub pace: &'a dyn Pace,
}

/// A record a marketplace sent that cannot be kept, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub id: Option<String>,
    pub reason: String,
}

/// One page of orders updated since a watermark.
pub struct OrdersPage {
    pub orders: Vec<Result<Order, Skipped>>,
    /// Where the next page starts; `None` on the last one.
    pub next: Option<String>,
    /// How far the stream is synced once this page (the last) is stored, when the
    /// marketplace says.
    pub watermark: Option<OffsetDateTime>,
}

/// Which stored stock a complete read of a stream replaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockScope {
    pub marketplace_id: Option<String>,
    /// `None`: every location of the marketplace.
    pub location: Option<String>,
}

/// One page of a stream of stock levels.
pub struct StockPage {
    pub levels: Vec<Result<StockLevel, Skipped>>,
    pub next: Option<String>,
}

/// What every marketplace connector does: check an account, and read its orders and stock
/// as streams of pages that the sync engine paces, stores and resumes.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// Proves the credentials work by fetching real data from the marketplace.
    async fn check(&self, account: &Account) -> Result<AccountCheck, MarketplaceError>;

    /// How long a check's result stays fresh enough to show again instead of spending the
    /// seller's request quota on another one.
    fn check_reuse_window(&self) -> Duration {
        Duration::ZERO
    }

    /// A new access token from the account's long-lived credentials.
    async fn access_token(&self, account: &Account) -> Result<IssuedToken, MarketplaceError>;

    /// The streams orders come in, each with its own watermark.
    fn order_streams(&self) -> Vec<String>;

    /// The page of a stream's orders updated after `since`, starting at `cursor` (a `next` of
    /// an earlier page) or at the beginning.
    async fn orders_page(
        &self,
        session: &Session<'_>,
        stream: &str,
        since: OffsetDateTime,
        cursor: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError>;

    /// The streams an account's stock comes in, and what each replaces once read to the end.
    fn stock_streams(&self, account: &Account) -> Vec<(String, StockScope)>;

    /// The page of a stock stream starting at `cursor`, or at the beginning.
    async fn stock_page(
        &self,
        session: &Session<'_>,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<StockPage, MarketplaceError>;
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
