//! Stock levels: one row per connection, marketplace, SKU and place, replaced by each read.
//! How they are read back (per row or per SKU, filtered) is in `inventory_lists`.

use javelin_model::StockLevel;

use crate::db::with_tx;
use crate::{Result, Timestamp, Transaction};

pub(crate) const ROWS_PER_STATEMENT: usize = 1000;

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
            let skus: Vec<&str> = chunk.iter().map(|level| level.sku.as_str()).collect();
            self.refresh_sku_stock(&skus).await?;
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
        let pruned: Vec<String> = with_tx!(self, |conn| {
            sqlx::query_scalar(
                "DELETE FROM inventory_items WHERE connection_id = $1 AND marketplace_id = $2
                     AND ($3 IS NULL OR location = $3) AND synced_at < $4
                 RETURNING sku",
            )
            .bind(connection_id)
            .bind(marketplace_id)
            .bind(location)
            .bind(read_since)
            .fetch_all(&mut *conn)
            .await?
        });
        let skus: Vec<&str> = pruned.iter().map(String::as_str).collect();
        for chunk in skus.chunks(ROWS_PER_STATEMENT) {
            self.refresh_sku_stock(chunk).await?;
        }
        Ok(pruned.len() as u64)
    }

    /// Rewrites the `sku_stock` totals of `skus` from their stock rows of active connections
    /// (a SKU none holds loses its row).
    pub(crate) async fn refresh_sku_stock(&mut self, skus: &[&str]) -> Result<()> {
        with_tx!(self, |conn| {
            let mut delete = sqlx::QueryBuilder::new("DELETE FROM sku_stock WHERE sku IN (");
            let mut list = delete.separated(", ");
            for sku in skus {
                list.push_bind(*sku);
            }
            delete.push(")").build().execute(&mut *conn).await?;
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO sku_stock (sku, available)
                 SELECT i.sku, SUM(i.available) FROM inventory_items i JOIN connections c ON c.id = i.connection_id
                 WHERE c.active = TRUE AND i.sku IN (",
            );
            let mut list = insert.separated(", ");
            for sku in skus {
                list.push_bind(*sku);
            }
            insert.push(") GROUP BY i.sku").build().execute(&mut *conn).await?;
        });
        Ok(())
    }
}
