//! What the Inventory page and the API read and change: stock per SKU across connections or per
//! stock row, filtered and a page at a time, as CSV, and each SKU's low-stock threshold.

mod export;
mod query;

use javelin_storage::{SkuStock, StockCursor, StockFilter, Storage, StorageError, StoredStock, Timestamp};
use serde::Serialize;

use crate::Clock;
use crate::orders::{ExportError, MAX_PAGE, Page, QueryError, decode, encode};

pub use self::query::{InventoryQuery, InventoryRequest, MAX_SEARCH_CHARS};
pub use javelin_storage::DEFAULT_THRESHOLD;

/// The highest low-stock threshold a SKU can have.
pub const MAX_THRESHOLD: i64 = 1_000_000;

/// A stock row as the API shows it. Contract: scripts rely on these names.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StockView {
    pub connection_id: i64,
    #[schema(value_type = javelin_model::Platform)]
    pub platform: String,
    pub marketplace_id: Option<String>,
    pub sku: String,
    pub asin_or_fsn: Option<String>,
    pub title: Option<String>,
    pub location: String,
    pub available: i64,
    pub reserved: i64,
    pub inbound: i64,
    pub unfulfillable: i64,
    /// When Javelin read it.
    pub updated_at: Timestamp,
    /// The SKU's low-stock threshold.
    pub threshold: i64,
    /// Whether the SKU's stock available across connections is at or below its threshold.
    pub low_stock: bool,
}

impl From<StoredStock> for StockView {
    fn from(stock: StoredStock) -> Self {
        Self {
            low_stock: stock.low_stock(),
            connection_id: stock.connection_id,
            platform: stock.platform,
            marketplace_id: Some(stock.marketplace_id).filter(|id| !id.is_empty()),
            sku: stock.sku,
            asin_or_fsn: stock.product_id,
            title: stock.title,
            location: stock.location,
            available: stock.available,
            reserved: stock.reserved,
            inbound: stock.inbound,
            unfulfillable: stock.unfulfillable,
            updated_at: stock.synced_at,
            threshold: stock.threshold,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThresholdError {
    #[error("threshold must be a whole number from 0 to 1000000.")]
    OutOfRange,
    #[error("No connected account holds stock of this SKU.")]
    UnknownSku,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Synced stock and the thresholds. Cheap to clone.
#[derive(Clone)]
pub struct Inventory {
    storage: Storage,
    clock: Clock,
}

impl Inventory {
    pub fn new(storage: Storage, clock: Clock) -> Self {
        Self { storage, clock }
    }

    /// The SKUs `filter` lets through, one row each across connections, in SKU order.
    pub async fn skus(
        &self,
        filter: &StockFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<SkuStock>, QueryError> {
        let after = cursor.map(decode).transpose()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.storage.list_skus(filter, limit, after.as_deref()).await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|last| encode(&last.sku)))
            .flatten();
        Ok(Page { rows, next_cursor })
    }

    /// The stock rows `filter` lets through, by SKU.
    pub async fn stock(
        &self,
        filter: &StockFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<StockView>, QueryError> {
        let after = match cursor {
            Some(cursor) => {
                let text = decode(cursor)?;
                let (id, sku) = text.split_once(':').ok_or(QueryError::BadCursor)?;
                let id = id.parse().map_err(|_| QueryError::BadCursor)?;
                Some(StockCursor {
                    sku: sku.to_owned(),
                    id,
                })
            }
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.storage.list_stock(filter, limit, after).await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| rows.last().map(|last| encode(&format!("{}:{}", last.id, last.sku))))
            .flatten();
        Ok(Page {
            rows: rows.into_iter().map(StockView::from).collect(),
            next_cursor,
        })
    }

    /// Every stock row `filter` lets through as CSV, by SKU, streamed a batch at a time.
    pub fn stock_csv(
        &self,
        filter: StockFilter,
    ) -> impl futures_util::Stream<Item = Result<Vec<u8>, ExportError>> + Send + 'static {
        export::stock_csv(&self.storage, filter)
    }

    /// Sets the low-stock threshold of a SKU some connected account holds; returns it.
    pub async fn set_threshold(&self, sku: &str, threshold: i64) -> Result<i64, ThresholdError> {
        if !(0..=MAX_THRESHOLD).contains(&threshold) {
            return Err(ThresholdError::OutOfRange);
        }
        if !self.storage.sku_is_stocked(sku).await? {
            return Err(ThresholdError::UnknownSku);
        }
        self.storage.set_threshold(sku, threshold, self.clock.now()).await?;
        Ok(threshold)
    }
}
