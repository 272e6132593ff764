//! What the Orders page and the API read: synced orders, newest first, a page at a time, each
//! page pointing at the next with an opaque cursor.

mod dashboard;
mod export;
pub(crate) mod query;

pub use self::dashboard::{
    AtRiskOrder, Dashboard, DayRow, OpenOrdersView, Period, PeriodQuery, PlatformFigures, Preset, SkuUnits,
    StatusFigures, date_of,
};
pub use self::export::ExportError;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use javelin_model::{Money, OrderStatus, Platform};
use javelin_storage::{OrderCursor, OrderFilter, Storage, StorageError, StoredOrder, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

pub use self::query::{FULFILLMENT_CHANNELS, MAX_PAGE, OrderQuery, OrderRequest};
pub(crate) use self::query::{page_limit, page_limit_schema};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("The cursor is not one this server gave out; start again without it.")]
    BadCursor,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    #[schema(value_type = Platform)]
    pub platform: String,
    pub connection_id: i64,
    pub external_id: String,
    pub marketplace_id: Option<String>,
    pub status: OrderStatus,
    pub platform_status: String,
    pub fulfillment_channel: Option<String>,
    pub purchased_at: Timestamp,
    pub updated_at: Timestamp,
    pub ship_by: Option<Timestamp>,
    pub total: Option<Money>,
    pub items: Vec<ItemView>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub sku: Option<String>,
    pub external_item_id: String,
    pub asin_or_fsn: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
}

impl From<StoredOrder> for OrderView {
    fn from(order: StoredOrder) -> Self {
        Self {
            id: order.id,
            platform: order.platform,
            connection_id: order.connection_id,
            external_id: order.external_id,
            marketplace_id: order.marketplace_id,
            status: order.status,
            platform_status: order.platform_status,
            fulfillment_channel: order.fulfillment_channel,
            purchased_at: order.purchased_at,
            updated_at: order.remote_updated_at,
            ship_by: order.ship_by_at,
            total: order.total,
            items: order
                .items
                .into_iter()
                .map(|item| ItemView {
                    sku: item.sku,
                    external_item_id: item.external_id,
                    asin_or_fsn: item.product_id,
                    title: item.title,
                    quantity: item.quantity,
                    quantity_shipped: item.quantity_shipped,
                    unit_price: item.unit_price,
                    line_total: item.line_total,
                })
                .collect(),
        }
    }
}

/// Where an order goes, as far as an OMS needs to know.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ShipToView {
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// One order with everything known of it: items, where it goes, each status it was seen in,
/// and where the seller finds it on the marketplace.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrderDetail {
    #[serde(flatten)]
    pub order: OrderView,
    pub ship_to: ShipToView,
    /// Oldest first.
    pub history: Vec<HistoryView>,
    pub marketplace_url: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HistoryView {
    #[schema(value_type = OrderStatus)]
    pub status: String,
    pub platform_status: String,
    /// When the marketplace changed it.
    pub changed_at: Timestamp,
    /// When Javelin saw the change.
    pub recorded_at: Timestamp,
}

/// The order's page on the marketplace: Seller Central's order page, or Flipkart Seller Hub's
/// orders (which has no public address per order; the seller searches the id there).
fn marketplace_url(order: &OrderView) -> Option<String> {
    match order.platform.as_str() {
        "amazon" => {
            let marketplace = javelin_marketplaces::amazon::marketplaces::find(order.marketplace_id.as_deref()?)?;
            Some(format!(
                "{}/orders-v3/order/{}",
                marketplace.seller_central_url.trim_end_matches('/'),
                order.external_id
            ))
        }
        "flipkart" => Some(FLIPKART_ORDERS.to_owned()),
        _ => None,
    }
}

const FLIPKART_ORDERS: &str = "https://seller.flipkart.com/index.html#dashboard/my-orders";

impl OrderView {
    /// Units in the order.
    pub fn units(&self) -> i64 {
        self.items.iter().map(|item| item.quantity).sum()
    }
}

/// A page of rows and the cursor of the next one.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next_cursor: Option<String>,
}

pub(crate) fn encode(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

pub(crate) fn decode(cursor: &str) -> Result<String, QueryError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(QueryError::BadCursor)
}

/// Synced orders. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    storage: Storage,
}

impl Catalog {
    pub fn new(storage: Storage) -> Self {
        Self { storage }
    }

    /// The orders `filter` lets through, newest first.
    pub async fn orders(
        &self,
        filter: &OrderFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<OrderView>, QueryError> {
        let after = match cursor {
            Some(cursor) => {
                let text = decode(cursor)?;
                let (micros, id) = text.split_once(':').ok_or(QueryError::BadCursor)?;
                let purchased_at = micros
                    .parse()
                    .ok()
                    .and_then(Timestamp::from_unix_micros)
                    .ok_or(QueryError::BadCursor)?;
                let id = id.parse().map_err(|_| QueryError::BadCursor)?;
                Some(OrderCursor { purchased_at, id })
            }
            None => None,
        };
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = self.storage.list_orders(filter, limit, after).await?;
        let next_cursor = (rows.len() == limit as usize)
            .then(|| {
                rows.last()
                    .map(|last| encode(&format!("{}:{}", last.purchased_at.unix_micros(), last.id)))
            })
            .flatten();
        Ok(Page {
            rows: rows.into_iter().map(OrderView::from).collect(),
            next_cursor,
        })
    }

    /// Every order `filter` lets through as CSV, newest first, streamed a page at a time.
    pub fn orders_csv(
        &self,
        filter: OrderFilter,
    ) -> impl futures_util::Stream<Item = Result<Vec<u8>, ExportError>> + Send + 'static {
        export::orders_csv(&self.storage, filter)
    }

    /// A period's figures, and the orders waiting to ship at `now`.
    pub async fn dashboard(&self, period: Period, now: Timestamp) -> Result<Dashboard, StorageError> {
        dashboard::dashboard(&self.storage, period, now).await
    }

    /// One order by Javelin's id, with its history.
    pub async fn order(&self, id: i64) -> Result<Option<OrderDetail>, StorageError> {
        let Some(stored) = self.storage.get_order(id).await? else {
            return Ok(None);
        };
        let ship_to = ShipToView {
            city: stored.ship_city.clone(),
            region: stored.ship_region.clone(),
            postal_code: stored.ship_postal_code.clone(),
            country: stored.ship_country.clone(),
        };
        let history = self
            .storage
            .order_status_changes(id)
            .await?
            .into_iter()
            .map(|change| HistoryView {
                status: change.status,
                platform_status: change.platform_status,
                changed_at: change.changed_at,
                recorded_at: change.recorded_at,
            })
            .collect();
        let order = OrderView::from(stored);
        Ok(Some(OrderDetail {
            marketplace_url: marketplace_url(&order),
            order,
            ship_to,
            history,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_checked() {
        assert_eq!(decode(&encode("123:45")).expect("round trip"), "123:45");
        assert!(matches!(decode("not base64!"), Err(QueryError::BadCursor)));
    }
}
