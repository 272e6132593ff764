//! Access tokens for sync: the one kept (sealed) while it is valid, else a new one — one
//! refresh at a time per connection, so that two jobs of one connection share a new token
//! instead of asking for two.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use javelin_core::Clock;
use javelin_core::connections::CredentialStore;
use javelin_marketplaces::{Account, Connector, MarketplaceError};
use javelin_storage::StorageError;

pub(crate) struct Tokens {
    store: CredentialStore,
    clock: Clock,
    refreshing: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error(transparent)]
    Marketplace(#[from] MarketplaceError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Tokens {
    pub(crate) fn new(store: CredentialStore, clock: Clock) -> Self {
        Self {
            store,
            clock,
            refreshing: Mutex::default(),
        }
    }

    /// A valid access token for a connection. `refused` is one the marketplace has just
    /// refused: it is not given out again.
    pub(crate) async fn get(
        &self,
        connection_id: i64,
        account: &Account,
        connector: &dyn Connector,
        refused: Option<&str>,
    ) -> Result<String, TokenError> {
        let lock = self
            .refreshing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(connection_id)
            .or_default()
            .clone();
        let _one_at_a_time = lock.lock().await;
        // Another job may have got a new token while this one waited.
        let kept = self.store.stored_access_token(connection_id, self.clock.now()).await?;
        if let Some(token) = kept.filter(|token| Some(token.as_str()) != refused) {
            return Ok(token);
        }
        let issued = connector.access_token(account).await?;
        self.store
            .save_access_token(connection_id, &issued, self.clock.now())
            .await?;
        Ok(issued.value)
    }
}
