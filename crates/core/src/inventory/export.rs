//! The filtered stock rows as CSV, streamed from one query a batch at a time.

use futures_util::{Stream, StreamExt};
use javelin_storage::{StockFilter, Storage, StoredStock};

use crate::orders::ExportError;

/// Rows written per chunk of the download.
const BATCH: usize = 1000;

const HEADER: [&str; 13] = [
    "sku",
    "title",
    "connection_id",
    "platform",
    "marketplace_id",
    "location",
    "available",
    "reserved",
    "inbound",
    "unfulfillable",
    "threshold",
    "low_stock",
    "updated_at",
];

/// Every stock row `filter` lets through, by SKU, as CSV chunks (the first holds the header).
pub(super) fn stock_csv(
    storage: &Storage,
    filter: StockFilter,
) -> impl Stream<Item = Result<Vec<u8>, ExportError>> + use<> {
    let header = futures_util::stream::once(async { write(&[], true) });
    let rows = storage.stream_stock(filter, BATCH).map(|batch| write(&batch?, false));
    header.chain(rows)
}

fn write(rows: &[StoredStock], header: bool) -> Result<Vec<u8>, ExportError> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 120 + 200));
    if header {
        out.write_record(HEADER)?;
    }
    for row in rows {
        out.write_record([
            row.sku.as_str(),
            row.title.as_deref().unwrap_or(""),
            &row.connection_id.to_string(),
            &row.platform,
            &row.marketplace_id,
            &row.location,
            &row.available.to_string(),
            &row.reserved.to_string(),
            &row.inbound.to_string(),
            &row.unfulfillable.to_string(),
            &row.threshold.to_string(),
            if row.low_stock() { "true" } else { "false" },
            &row.synced_at.to_string(),
        ])?;
    }
    out.into_inner()
        .map_err(|err| ExportError::Csv(csv::Error::from(err.into_error())))
}
