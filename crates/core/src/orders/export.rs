//! The filtered orders as CSV, streamed from one query a batch at a time: memory stays flat
//! however many orders the export holds.

use futures_util::{Stream, StreamExt};
use javelin_model::AmountText;
use javelin_storage::{ExportedOrder, OrderFilter, Storage, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// Orders written per chunk of the download.
const BATCH: usize = 1000;

const HEADER: [&str; 14] = [
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
    "units",
];

/// Every order `filter` lets through, newest first, as CSV chunks (the first holds the header).
pub(super) fn orders_csv(
    storage: &Storage,
    filter: OrderFilter,
) -> impl Stream<Item = Result<Vec<u8>, ExportError>> + use<> {
    let header = futures_util::stream::once(async { write(&[], true) });
    let rows = storage.stream_orders(filter, BATCH).map(|batch| write(&batch?, false));
    header.chain(rows)
}

fn write(orders: &[ExportedOrder], header: bool) -> Result<Vec<u8>, ExportError> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(orders.len() * 160 + 200));
    if header {
        out.write_record(HEADER)?;
    }
    for order in orders {
        let total = order.total();
        out.write_record([
            order.id.to_string().as_str(),
            &order.platform,
            &order.connection_id.to_string(),
            &order.external_id,
            order.marketplace_id.as_deref().unwrap_or(""),
            &order.status,
            &order.platform_status,
            order.fulfillment_channel.as_deref().unwrap_or(""),
            &order.purchased_at.to_string(),
            &order.remote_updated_at.to_string(),
            &order.ship_by_at.map(|at| at.to_string()).unwrap_or_default(),
            total
                .map(|total| total.amount_text())
                .as_ref()
                .map_or("", AmountText::as_str),
            total.map(|total| total.currency()).unwrap_or(""),
            &order.units.to_string(),
        ])?;
    }
    out.into_inner()
        .map_err(|err| ExportError::Csv(csv::Error::from(err.into_error())))
}
