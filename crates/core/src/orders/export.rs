//! The filtered orders as CSV, streamed a page at a time: memory stays flat however many
//! orders the export holds.

use futures_util::Stream;
use javelin_storage::{OrderCursor, OrderFilter, Storage, StorageError, StoredOrder};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Orders read per page of the export.
const PAGE: u32 = 1000;

const HEADER: [&str; 16] = [
    "order_id",
    "platform",
    "connection_id",
    "external_id",
    "marketplace_id",
    "status",
    "platform_status",
    "fulfillment_channel",
    "purchased_at",
    "updated_at",
    "ship_by",
    "total_amount",
    "total_currency",
    "items",
    "units",
    "skus",
];

/// Every order `filter` lets through, newest first, as CSV chunks (the first holds the header).
pub(super) fn orders_csv(storage: Storage, filter: OrderFilter) -> impl Stream<Item = Result<Vec<u8>, ExportError>> {
    // `None` once the last page was sent.
    let start = Some((storage, filter, None::<OrderCursor>, true));
    futures_util::stream::unfold(start, |state| async move {
        let (storage, filter, after, first) = state?;
        let page = match storage.list_orders(&filter, PAGE, after).await {
            Ok(page) => page,
            Err(err) => return Some((Err(err.into()), None)),
        };
        let next = (page.len() == PAGE as usize)
            .then(|| {
                page.last().map(|last| OrderCursor {
                    purchased_at: last.purchased_at,
                    id: last.id,
                })
            })
            .flatten();
        let chunk = write(&page, first).map_err(ExportError::from);
        let state = next.map(|cursor| (storage, filter, Some(cursor), false));
        Some((chunk, state))
    })
}

fn write(orders: &[StoredOrder], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(orders.len() * 200));
    if header {
        out.write_record(HEADER)?;
    }
    for order in orders {
        let units: i64 = order.items.iter().map(|item| item.quantity).sum();
        let skus: Vec<&str> = order.items.iter().filter_map(|item| item.sku.as_deref()).collect();
        out.write_record([
            order.id.to_string().as_str(),
            &order.platform,
            &order.connection_id.to_string(),
            &order.external_id,
            order.marketplace_id.as_deref().unwrap_or(""),
            order.status.code(),
            &order.platform_status,
            order.fulfillment_channel.as_deref().unwrap_or(""),
            &order.purchased_at.to_string(),
            &order.remote_updated_at.to_string(),
            &order.ship_by_at.map(|at| at.to_string()).unwrap_or_default(),
            &order.total.map(|total| total.amount().to_string()).unwrap_or_default(),
            order.total.map(|total| total.currency()).unwrap_or(""),
            &order.items.len().to_string(),
            &units.to_string(),
            &skus.join(";"),
        ])?;
    }
    out.into_inner().map_err(|err| csv::Error::from(err.into_error()))
}
