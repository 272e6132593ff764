//! Stock levels: one row per connection, marketplace, SKU and place, replaced by each read.
//! How they are read back (per row or per SKU, filtered) is in `inventory_lists`.

use javelin_model::StockLevel;

use crate::db::with_tx;
use crate::{Result, Timestamp, Transaction};

const ROWS_PER_STATEMENT: usize = 1000;

/// A stock level as stored, with what its SKU has across every connection.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredStock {
    pub id: i64,
    pub connection_id: i64,
    pub platform: String,
    pub marketplace_id: String,
    pub sku: String,
    pub location: String,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub available: i64,
    pub reserved: i64,
    pub inbound: i64,
    pub unfulfillable: i64,
    pub remote_updated_at: Option<Timestamp>,
    pub synced_at: Timestamp,
    /// The SKU's low-stock threshold.
    pub threshold: i64,
    /// The stock available of the SKU across every active connection.
    pub sku_available: i64,
}

impl StoredStock {
    /// Whether the SKU this row belongs to is low on stock.
    pub fn low_stock(&self) -> bool {
        self.sku_available <= self.threshold
    }
}

impl Transaction {
    /// Stores what a channel reported; returns how many rows were written.
    pub async fn upsert_stock(&mut self, connection_id: i64, levels: &[StockLevel], now: Timestamp) -> Result<u64> {
        let mut written = 0;
        for chunk in levels.chunks(ROWS_PER_STATEMENT) {
            written += with_tx!(self, |conn| {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO inventory_items (connection_id, marketplace_id, sku, location, product_id, title,
                         available, reserved, inbound, unfulfillable, remote_updated_at, synced_at) ",
                );
                query.push_values(chunk, |mut row, level| {
                    row.push_bind(connection_id)
                        .push_bind(level.marketplace_id.as_deref().unwrap_or(""))
                        .push_bind(&level.sku)
                        .push_bind(&level.location)
                        .push_bind(&level.product_id)
                        .push_bind(&level.title)
                        .push_bind(level.available)
                        .push_bind(level.reserved)
                        .push_bind(level.inbound)
                        .push_bind(level.unfulfillable)
                        .push_bind(level.updated_at.map(Timestamp::from_datetime))
                        .push_bind(now);
                });
                query.push(
                    " ON CONFLICT (connection_id, marketplace_id, sku, location) DO UPDATE SET
                         product_id = excluded.product_id, title = excluded.title, available = excluded.available,
                         reserved = excluded.reserved, inbound = excluded.inbound,
                         unfulfillable = excluded.unfulfillable, remote_updated_at = excluded.remote_updated_at,
                         synced_at = excluded.synced_at",
                );
                query.build().execute(&mut *conn).await?.rows_affected()
            });
        }
        Ok(written)
    }

    /// Removes the stock rows of one place (a marketplace's FBA, a connection's Flipkart
    /// locations, …) that a complete read begun at `read_since` did not report: the channel no
    /// longer has them. `location` `None` means every location of the marketplace.
    pub async fn prune_stock(
        &mut self,
        connection_id: i64,
        marketplace_id: &str,
        location: Option<&str>,
        read_since: Timestamp,
    ) -> Result<u64> {
        with_tx!(self, |conn| {
            let done = sqlx::query(
                "DELETE FROM inventory_items WHERE connection_id = $1 AND marketplace_id = $2
                     AND ($3 IS NULL OR location = $3) AND synced_at < $4",
            )
            .bind(connection_id)
            .bind(marketplace_id)
            .bind(location)
            .bind(read_since)
            .execute(&mut *conn)
            .await?;
            Ok(done.rows_affected())
        })
    }
}
