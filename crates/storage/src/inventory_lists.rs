//! Stock as the Inventory page and the API read it: per stock row or one row per SKU across
//! connections, of active connections only, filtered by account, search words and low stock,
//! in SKU order a page at a time; and each SKU's low-stock threshold.
//!
//! A SKU is low when the stock available of all its rows is at or below its threshold. Which
//! SKUs a filter lets through is decided per SKU (a search word found in one row's title lists
//! all the SKU's rows), so the per-row and per-SKU lists always agree.

use futures_util::Stream;

use crate::db::{PushInSet, PushLimit, batches, send_batches, with_pool};
use crate::{Result, Storage, StoredStock, Timestamp};

/// The threshold of a SKU nobody has set one for.
pub const DEFAULT_THRESHOLD: i64 = 5;

/// Which SKUs a list holds; every field narrows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StockFilter {
    /// SKUs this connection holds; the per-row list holds this connection's rows only.
    pub connection_id: Option<i64>,
    /// SKUs where each word of this is found in the SKU, an ASIN/FSN or a title of one of its
    /// rows, ignoring case (ASCII letters only on SQLite, whose `lower` folds no others).
    pub search: Option<String>,
    /// Only SKUs at or below their threshold.
    pub low_stock: bool,
}

impl StockFilter {
    /// Every SKU of one connection, or of all when `None`.
    pub fn connection(connection_id: Option<i64>) -> Self {
        Self {
            connection_id,
            ..Self::default()
        }
    }
}

/// Where a page of stock rows ends: the last row's SKU and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockCursor {
    pub sku: String,
    pub id: i64,
}

/// One SKU across every active connection: its stock per channel (`None` where the SKU is not
/// held), its total, when its rows were read, and its threshold.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SkuStock {
    pub sku: String,
    pub title: Option<String>,
    pub asin: Option<String>,
    pub fsn: Option<String>,
    /// Amazon's warehouses (FBA).
    pub fba_available: Option<i64>,
    pub fba_reserved: Option<i64>,
    pub fba_inbound: Option<i64>,
    /// The seller's own, listed on Amazon (FBM).
    pub fbm_available: Option<i64>,
    /// Every Flipkart location.
    pub flipkart_available: Option<i64>,
    /// Every row's, whatever its channel.
    pub total_available: i64,
    /// When the longest-unread of its rows was read.
    pub oldest_read: Timestamp,
    pub newest_read: Timestamp,
    pub threshold: i64,
}

impl SkuStock {
    pub fn low_stock(&self) -> bool {
        self.total_available <= self.threshold
    }
}

/// The stock available of the SKU of the row `i`, across every active connection (kept in
/// `sku_stock` by every write of stock).
const SKU_AVAILABLE: &str = "COALESCE((SELECT a.available FROM sku_stock a WHERE a.sku = i.sku), 0)";

/// The `LIKE` pattern matching `word` anywhere, ignoring case, its own `%`, `_` and `\` taken
/// literally (with `ESCAPE '\'`).
fn contains_pattern(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// Adds the SKU-wide conditions of `filter` (search, low stock) to a query over stock rows `i`
/// that ends in a `WHERE` clause (a macro: the query builder's type differs per backend).
macro_rules! push_sku_filter {
    ($query:ident, $filter:expr) => {{
        let filter: &StockFilter = $filter;
        if let Some(search) = &filter.search {
            // One pass over the rows of active connections (a substring has no index to use),
            // grouped like every SKU subquery here: PostgreSQL then expects many SKUs and hashes
            // them, where an ungrouped subquery, before its first ANALYZE, is misjudged as a few
            // rows and compared with every stock row in turn (seconds instead of milliseconds).
            $query.push(
                " AND i.sku IN (SELECT s.sku FROM inventory_items s JOIN connections sc ON sc.id = s.connection_id
                 WHERE sc.active = TRUE GROUP BY s.sku HAVING TRUE",
            );
            for word in search.split_whitespace() {
                let pattern = contains_pattern(word);
                $query
                    .push(" AND MAX(CASE WHEN lower(s.sku) LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR lower(s.product_id) LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR lower(s.title) LIKE ")
                    .push_bind(pattern)
                    .push(" ESCAPE '\\' THEN 1 ELSE 0 END) = 1");
            }
            $query.push(")");
        }
        if filter.low_stock {
            // The SKUs at or below their threshold, from the per-SKU totals: no stock row is read.
            $query
                .push(" AND i.sku")
                .push_in_set()
                .push(
                    "SELECT l.sku FROM sku_stock l LEFT JOIN inventory_thresholds lt ON lt.sku = l.sku
                     WHERE l.available <= COALESCE(lt.threshold, ",
                )
                .push_bind(DEFAULT_THRESHOLD)
                .push(")")
                .push_end_set();
        }
    }};
}

/// The stock rows `filter` lets through, as a query to end with an order (a macro, as above).
macro_rules! stock_rows {
    ($filter:expr) => {{
        let filter: &StockFilter = $filter;
        let mut query = sqlx::QueryBuilder::new(format!(
            "SELECT i.id, i.connection_id, c.platform, i.marketplace_id, i.sku, i.location, i.product_id, i.title,
                 i.available, i.reserved, i.inbound, i.unfulfillable, i.remote_updated_at, i.synced_at,
                 COALESCE(t.threshold, {DEFAULT_THRESHOLD}) AS threshold, {SKU_AVAILABLE} AS sku_available
             FROM inventory_items i JOIN connections c ON c.id = i.connection_id
             LEFT JOIN inventory_thresholds t ON t.sku = i.sku
             WHERE c.active = TRUE"
        ));
        if let Some(connection_id) = filter.connection_id {
            query.push(" AND i.connection_id = ").push_bind(connection_id);
        }
        push_sku_filter!(query, filter);
        query
    }};
}

impl Storage {
    /// The stock rows `filter` lets through, by SKU then id, `limit` at a time after `after`.
    pub async fn list_stock(
        &self,
        filter: &StockFilter,
        limit: u32,
        after: Option<StockCursor>,
    ) -> Result<Vec<StoredStock>> {
        with_pool!(self, |pool| {
            let mut query = stock_rows!(filter);
            if let Some(after) = after {
                query
                    .push(" AND (i.sku, i.id) > (")
                    .push_bind(after.sku)
                    .push(", ")
                    .push_bind(after.id)
                    .push(")");
            }
            query.push(" ORDER BY i.sku, i.id").push_limit(limit);
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Every stock row `filter` lets through, by SKU then id, in batches of `batch`: one query
    /// read as it goes (a task feeds the stream), so memory holds a batch or two however many
    /// rows there are. Ends early when the stream is dropped.
    pub fn stream_stock(
        &self,
        filter: StockFilter,
        batch: usize,
    ) -> impl Stream<Item = Result<Vec<StoredStock>>> + Send + use<> {
        let storage = self.clone();
        batches(move |sender| async move {
            with_pool!(storage, |pool| {
                let mut query = stock_rows!(&filter);
                query.push(" ORDER BY i.sku, i.id");
                send_batches(
                    query.build_query_as::<StoredStock>().fetch(pool),
                    batch,
                    storage.reader_patience,
                    &sender,
                )
                .await
            })
        })
    }

    /// The SKUs `filter` lets through, one row each, in SKU order, `limit` at a time after the
    /// SKU `after`. Grouping walks the (SKU, id) index in order and stops after `limit` SKUs.
    pub async fn list_skus(&self, filter: &StockFilter, limit: u32, after: Option<&str>) -> Result<Vec<SkuStock>> {
        with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new(format!(
                "SELECT i.sku, MAX(i.title) AS title,
                     MAX(CASE WHEN c.platform = 'amazon' THEN i.product_id END) AS asin,
                     MAX(CASE WHEN c.platform = 'flipkart' THEN i.product_id END) AS fsn,
                     CAST(SUM(CASE WHEN c.platform = 'amazon' AND i.location = 'fba' THEN i.available END) AS BIGINT)
                         AS fba_available,
                     CAST(SUM(CASE WHEN c.platform = 'amazon' AND i.location = 'fba' THEN i.reserved END) AS BIGINT)
                         AS fba_reserved,
                     CAST(SUM(CASE WHEN c.platform = 'amazon' AND i.location = 'fba' THEN i.inbound END) AS BIGINT)
                         AS fba_inbound,
                     CAST(SUM(CASE WHEN c.platform = 'amazon' AND i.location = 'fbm' THEN i.available END) AS BIGINT)
                         AS fbm_available,
                     CAST(SUM(CASE WHEN c.platform = 'flipkart' THEN i.available END) AS BIGINT) AS flipkart_available,
                     CAST(SUM(i.available) AS BIGINT) AS total_available,
                     MIN(i.synced_at) AS oldest_read, MAX(i.synced_at) AS newest_read,
                     COALESCE(MAX(t.threshold), {DEFAULT_THRESHOLD}) AS threshold
                 FROM inventory_items i JOIN connections c ON c.id = i.connection_id
                 LEFT JOIN inventory_thresholds t ON t.sku = i.sku
                 WHERE c.active = TRUE"
            ));
            if let Some(connection_id) = filter.connection_id {
                query
                    .push(
                        " AND i.sku IN (SELECT h.sku FROM inventory_items h JOIN connections hc ON hc.id = h.connection_id
                         WHERE hc.active = TRUE AND h.connection_id = ",
                    )
                    .push_bind(connection_id)
                    .push(" GROUP BY h.sku)");
            }
            push_sku_filter!(query, filter);
            if let Some(after) = after {
                query.push(" AND i.sku > ").push_bind(after.to_owned());
            }
            query.push(" GROUP BY i.sku ORDER BY i.sku").push_limit(limit);
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Whether an active connection holds stock of `sku`.
    pub async fn sku_is_stocked(&self, sku: &str) -> Result<bool> {
        with_pool!(self, |pool| {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT i.id FROM inventory_items i JOIN connections c ON c.id = i.connection_id
                 WHERE i.sku = $1 AND c.active = TRUE LIMIT 1",
            )
            .bind(sku)
            .fetch_optional(pool)
            .await?;
            Ok(found.is_some())
        })
    }

    /// Sets the low-stock threshold of `sku` (0 to 1,000,000, as the schema checks).
    pub async fn set_threshold(&self, sku: &str, threshold: i64, now: Timestamp) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO inventory_thresholds (sku, threshold, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (sku) DO UPDATE SET threshold = excluded.threshold, updated_at = excluded.updated_at",
            )
            .bind(sku)
            .bind(threshold)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_taken_literally() {
        assert_eq!(contains_pattern("Mug"), "%mug%");
        assert_eq!(contains_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
