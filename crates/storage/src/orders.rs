//! Orders from every channel: stored a page at a time, the newer state winning, each status an
//! order passes through recorded; read back newest first, a page at a time.

use std::collections::HashMap;

use javelin_model::{Money, Order, OrderStatus};

use crate::db::{Db, PushLimit, batches, send_batches, with_pool, with_tx};
use crate::rollups::{Contribution, RollupDelta};
use crate::search::{SearchCondition, SearchTerms};
use crate::{Result, Storage, Timestamp, Transaction};

/// Rows per multi-row statement: well below SQLite's 32,766 bound parameters. A statement of
/// exactly as many rows comes again with every page and stays prepared; the shorter rest of a
/// page is prepared for its one use (each is a statement of its own, and kept they would fill
/// every connection's cache with a few hundred kilobytes apiece).
pub(crate) const ORDERS_PER_STATEMENT: usize = 500;
const ITEMS_PER_STATEMENT: usize = 1000;

/// What storing a page of orders did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpsertSummary {
    pub created: u64,
    pub updated: u64,
    /// Already stored in this state or a newer one.
    pub unchanged: u64,
}

/// An order as stored, with its items.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOrder {
    pub id: i64,
    pub connection_id: i64,
    pub platform: String,
    pub external_id: String,
    pub marketplace_id: Option<String>,
    pub status: OrderStatus,
    pub platform_status: String,
    pub fulfillment_channel: Option<String>,
    pub purchased_at: Timestamp,
    pub remote_updated_at: Timestamp,
    pub ship_by_at: Option<Timestamp>,
    pub total: Option<Money>,
    pub ship_city: Option<String>,
    pub ship_region: Option<String>,
    pub ship_postal_code: Option<String>,
    pub ship_country: Option<String>,
    pub items: Vec<StoredItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredItem {
    pub external_id: String,
    pub sku: Option<String>,
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub quantity: i64,
    pub quantity_shipped: i64,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
}

/// One entry of an order's history.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusChange {
    pub status: String,
    pub platform_status: String,
    pub changed_at: Timestamp,
    pub recorded_at: Timestamp,
}

/// Which orders a list holds; every field narrows it, `None` lets everything through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderFilter {
    pub platform: Option<String>,
    pub connection_id: Option<i64>,
    pub status: Option<OrderStatus>,
    pub fulfillment_channel: Option<String>,
    /// Purchased at or after.
    pub from: Option<Timestamp>,
    /// Purchased before.
    pub before: Option<Timestamp>,
    /// Marketplace id, SKU, ASIN/FSN or title words.
    pub search: Option<SearchTerms>,
}

impl OrderFilter {
    /// Every order of one connection, or of all when `None`.
    pub fn connection(connection_id: Option<i64>) -> Self {
        Self {
            connection_id,
            ..Self::default()
        }
    }
}

/// Where a page of orders ends, to ask for the next: the last order's purchase time and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub purchased_at: Timestamp,
    pub id: i64,
}

/// A stored order's state as far as the upsert needs it: to decide, and to take the order's
/// old figures out of the rollups.
#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    external_id: String,
    status: String,
    remote_updated_at: Timestamp,
    purchased_at: Timestamp,
    total_minor: Option<i64>,
    total_currency: Option<String>,
    item_count: i64,
}

/// The stored state of some of a connection's orders, by marketplace id (a macro: the query
/// builder's type differs per backend). Planned with its values each time: a plan kept from
/// when the table was empty would scan the whole table for every page of a first big sync on
/// PostgreSQL.
macro_rules! existing_orders {
    ($connection_id:expr, $external_ids:expr) => {{
        let mut query = sqlx::QueryBuilder::new(
            "SELECT id, external_id, status, remote_updated_at, purchased_at, total_minor, total_currency, item_count
             FROM orders WHERE connection_id = ",
        );
        query.push_bind($connection_id).push(" AND external_id IN (");
        let mut list = query.separated(", ");
        for id in $external_ids {
            list.push_bind(*id);
        }
        query.push(")");
        query
    }};
}

#[derive(sqlx::FromRow)]
struct DeletedItem {
    order_id: i64,
    sku: Option<String>,
    quantity: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OrderRow {
    id: i64,
    connection_id: i64,
    platform: String,
    external_id: String,
    marketplace_id: Option<String>,
    status: String,
    platform_status: String,
    fulfillment_channel: Option<String>,
    purchased_at: Timestamp,
    remote_updated_at: Timestamp,
    ship_by_at: Option<Timestamp>,
    total_minor: Option<i64>,
    total_currency: Option<String>,
    ship_city: Option<String>,
    ship_region: Option<String>,
    ship_postal_code: Option<String>,
    ship_country: Option<String>,
    items: Option<sqlx::types::Json<Vec<ItemJson>>>,
}

/// An order as exported: its own columns, `units` summing its items' quantities.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ExportedOrder {
    pub id: i64,
    pub platform: String,
    pub connection_id: i64,
    pub external_id: String,
    pub marketplace_id: Option<String>,
    pub status: String,
    pub platform_status: String,
    pub fulfillment_channel: Option<String>,
    pub purchased_at: Timestamp,
    pub remote_updated_at: Timestamp,
    pub ship_by_at: Option<Timestamp>,
    pub total_minor: Option<i64>,
    pub total_currency: Option<String>,
    pub units: i64,
}

impl ExportedOrder {
    pub fn total(&self) -> Option<Money> {
        money(self.total_minor, self.total_currency.as_deref())
    }
}

pub(crate) const EXPORT_COLUMNS: &str = "id, platform, connection_id, external_id, marketplace_id, status, platform_status, \
     fulfillment_channel, purchased_at, remote_updated_at, ship_by_at, total_minor, total_currency, item_count AS units";

/// An item as [`ITEMS`] sends it: a JSON array in this order.
#[derive(serde::Deserialize)]
struct ItemJson(
    String,         // external_id
    Option<String>, // sku
    Option<String>, // product_id
    Option<String>, // title
    i64,            // quantity
    i64,            // quantity_shipped
    Option<i64>,    // unit_price_minor
    Option<i64>,    // line_total_minor
    Option<String>, // currency
);

impl From<ItemJson> for StoredItem {
    fn from(
        ItemJson(external_id, sku, product_id, title, quantity, quantity_shipped, unit, line, currency): ItemJson,
    ) -> Self {
        let currency = currency.as_deref();
        Self {
            unit_price: money(unit, currency),
            line_total: money(line, currency),
            external_id,
            sku,
            product_id,
            title,
            quantity,
            quantity_shipped,
        }
    }
}

/// Stored money back as [`Money`]; a currency the database holds was valid when written.
fn money(minor: Option<i64>, currency: Option<&str>) -> Option<Money> {
    Money::from_minor(minor?, currency?).ok()
}

fn timestamp(at: time::OffsetDateTime) -> Timestamp {
    Timestamp::from_datetime(at)
}

pub(crate) const ORDER_COLUMNS: &str = "id, connection_id, platform, external_id, marketplace_id, status, platform_status, \
     fulfillment_channel, purchased_at, remote_updated_at, ship_by_at, total_minor, total_currency, ship_city, \
     ship_region, ship_postal_code, ship_country";

/// An order's items, in one JSON array of [`ItemJson`]s (`NULL` on PostgreSQL when it has none),
/// so that a page of orders comes back in one statement as one row per order: a statement and
/// a row per item more cost SQLite a thread handoff and a copy of every value.
pub(crate) const SQLITE_ITEMS: &str = "(SELECT json_group_array(json_array(external_id, sku, product_id, title, \
     quantity, quantity_shipped, unit_price_minor, line_total_minor, currency) ORDER BY id) \
     FROM order_items WHERE order_id = orders.id) AS items";
const POSTGRES_ITEMS: &str = "(SELECT json_agg(json_build_array(external_id, sku, product_id, title, \
     quantity, quantity_shipped, unit_price_minor, line_total_minor, currency) ORDER BY id) \
     FROM order_items WHERE order_id = orders.id) AS items";

impl Transaction {
    /// Stores a page of one connection's orders. New orders are inserted; orders the
    /// marketplace changed since they were stored are replaced, items included; an older or
    /// equal state changes nothing. A ship-by time the newer state lacks (Amazon's reports have
    /// none) stays as it was. Each new order and each change of status is recorded in the
    /// order's history.
    pub async fn upsert_orders(
        &mut self,
        connection_id: i64,
        platform: &str,
        orders: &[Order],
        now: Timestamp,
    ) -> Result<UpsertSummary> {
        // The same order twice in one page: its newer state counts.
        let mut latest: HashMap<&str, &Order> = HashMap::with_capacity(orders.len());
        for order in orders {
            match latest.get(order.external_id.as_str()) {
                Some(seen) if seen.updated_at >= order.updated_at => {}
                _ => {
                    latest.insert(&order.external_id, order);
                }
            }
        }
        let mut summary = UpsertSummary {
            unchanged: (orders.len() - latest.len()) as u64,
            ..UpsertSummary::default()
        };
        let ids: Vec<&str> = latest.keys().copied().collect();
        let mut existing: HashMap<String, Existing> = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ORDERS_PER_STATEMENT) {
            for row in self.existing_orders(connection_id, chunk).await? {
                existing.insert(row.external_id.clone(), row);
            }
        }
        let mut writes: Vec<&Order> = Vec::new();
        for order in latest.values().copied() {
            match existing.get(&order.external_id) {
                None => {
                    summary.created += 1;
                    writes.push(order);
                }
                Some(stored) if timestamp(order.updated_at) > stored.remote_updated_at => {
                    summary.updated += 1;
                    writes.push(order);
                }
                Some(_) => summary.unchanged += 1,
            }
        }
        if writes.is_empty() {
            return Ok(summary);
        }
        let mut order_ids: HashMap<String, i64> = HashMap::with_capacity(writes.len());
        for chunk in writes.chunks(ORDERS_PER_STATEMENT) {
            for (id, external_id) in self.write_orders(connection_id, platform, chunk, now).await? {
                order_ids.insert(external_id, id);
            }
        }
        let replaced: Vec<&Existing> = writes
            .iter()
            .filter_map(|order| existing.get(&order.external_id))
            .collect();
        let replaced_ids: Vec<i64> = replaced.iter().map(|stored| stored.id).collect();
        let mut old_items: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        for chunk in replaced_ids.chunks(ORDERS_PER_STATEMENT) {
            for item in self.delete_items(chunk).await? {
                if let Some(sku) = item.sku {
                    old_items.entry(item.order_id).or_default().push((sku, item.quantity));
                }
            }
        }
        let stored: Vec<(i64, &Order)> = writes
            .iter()
            .filter_map(|order| order_ids.get(&order.external_id).map(|id| (*id, *order)))
            .collect();
        let items: Vec<(i64, &javelin_model::OrderItem)> = stored
            .iter()
            .flat_map(|(id, order)| order.items.iter().map(move |item| (*id, item)))
            .collect();
        for chunk in items.chunks(ITEMS_PER_STATEMENT) {
            self.insert_items(chunk).await?;
        }
        for chunk in stored.chunks(ORDERS_PER_STATEMENT) {
            let replaced_here: Vec<(i64, Timestamp)> = chunk
                .iter()
                .filter_map(|(_, order)| existing.get(&order.external_id))
                .map(|old| (old.id, old.purchased_at))
                .collect();
            self.index_orders(chunk, &replaced_here).await?;
        }
        let mut delta = RollupDelta::default();
        for old in &replaced {
            let items = old_items.get(&old.id).map(Vec::as_slice).unwrap_or_default();
            delta.add(
                -1,
                &Contribution {
                    connection_id,
                    purchased_at: old.purchased_at,
                    status: &old.status,
                    currency: old.total_currency.as_deref(),
                    total_minor: old.total_minor,
                    units: old.item_count,
                    items: items.iter().map(|(sku, quantity)| (sku.as_str(), *quantity)).collect(),
                },
            );
        }
        for order in &writes {
            delta.add(1, &Contribution::of(connection_id, order));
        }
        self.apply_rollups(delta).await?;
        let changes: Vec<(i64, &Order)> = writes
            .iter()
            .filter(|order| {
                existing
                    .get(&order.external_id)
                    .is_none_or(|stored| stored.status != order.status.code())
            })
            .filter_map(|order| order_ids.get(&order.external_id).map(|id| (*id, *order)))
            .collect();
        for chunk in changes.chunks(ORDERS_PER_STATEMENT) {
            self.record_status_changes(chunk, now).await?;
        }
        Ok(summary)
    }

    async fn existing_orders(&mut self, connection_id: i64, external_ids: &[&str]) -> Result<Vec<Existing>> {
        with_tx!(self, |conn| {
            let mut query = existing_orders!(connection_id, external_ids);
            Ok(query.build_query_as().persistent(false).fetch_all(&mut *conn).await?)
        })
    }

    /// Inserts or replaces orders; returns each one's row id with its external id.
    async fn write_orders(
        &mut self,
        connection_id: i64,
        platform: &str,
        orders: &[&Order],
        now: Timestamp,
    ) -> Result<Vec<(i64, String)>> {
        with_tx!(self, |conn| {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO orders (connection_id, platform, external_id, marketplace_id, status, platform_status,
                     fulfillment_channel, purchased_at, remote_updated_at, ship_by_at, total_minor, total_currency,
                     item_count, ship_city, ship_region, ship_postal_code, ship_country, created_at, synced_at) ",
            );
            query.push_values(orders, |mut row, order| {
                row.push_bind(connection_id)
                    .push_bind(platform)
                    .push_bind(&order.external_id)
                    .push_bind(&order.marketplace_id)
                    .push_bind(order.status.code())
                    .push_bind(&order.platform_status)
                    .push_bind(&order.fulfillment_channel)
                    .push_bind(timestamp(order.purchased_at))
                    .push_bind(timestamp(order.updated_at))
                    .push_bind(order.ship_by.map(timestamp))
                    .push_bind(order.total.map(|total| total.minor()))
                    .push_bind(order.total.map(|total| total.currency()))
                    .push_bind(order.items.iter().map(|item| i64::from(item.quantity)).sum::<i64>())
                    .push_bind(&order.ship_to.city)
                    .push_bind(&order.ship_to.region)
                    .push_bind(&order.ship_to.postal_code)
                    .push_bind(&order.ship_to.country)
                    .push_bind(now)
                    .push_bind(now);
            });
            query.push(
                " ON CONFLICT (connection_id, external_id) DO UPDATE SET marketplace_id = excluded.marketplace_id,
                     status = excluded.status, platform_status = excluded.platform_status,
                     fulfillment_channel = excluded.fulfillment_channel, purchased_at = excluded.purchased_at,
                     remote_updated_at = excluded.remote_updated_at,
                     ship_by_at = COALESCE(excluded.ship_by_at, orders.ship_by_at),
                     total_minor = excluded.total_minor, total_currency = excluded.total_currency,
                     item_count = excluded.item_count, ship_city = excluded.ship_city,
                     ship_region = excluded.ship_region, ship_postal_code = excluded.ship_postal_code,
                     ship_country = excluded.ship_country, synced_at = excluded.synced_at
                 RETURNING id, external_id",
            );
            let query = query.build_query_as().persistent(orders.len() == ORDERS_PER_STATEMENT);
            Ok(query.fetch_all(&mut *conn).await?)
        })
    }

    /// Deletes the items of orders about to be rewritten; returns them for the rollups.
    async fn delete_items(&mut self, order_ids: &[i64]) -> Result<Vec<DeletedItem>> {
        with_tx!(self, |conn| {
            let mut query = sqlx::QueryBuilder::new("DELETE FROM order_items WHERE order_id IN (");
            let mut list = query.separated(", ");
            for id in order_ids {
                list.push_bind(*id);
            }
            query.push(") RETURNING order_id, sku, quantity");
            let query = query
                .build_query_as()
                .persistent(order_ids.len() == ORDERS_PER_STATEMENT);
            Ok(query.fetch_all(&mut *conn).await?)
        })
    }

    async fn insert_items(&mut self, items: &[(i64, &javelin_model::OrderItem)]) -> Result<()> {
        with_tx!(self, |conn| {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO order_items (order_id, external_id, sku, product_id, title, quantity, quantity_shipped,
                     unit_price_minor, line_total_minor, currency) ",
            );
            query.push_values(items, |mut row, (order_id, item)| {
                row.push_bind(*order_id)
                    .push_bind(&item.external_id)
                    .push_bind(&item.sku)
                    .push_bind(&item.product_id)
                    .push_bind(&item.title)
                    .push_bind(i64::from(item.quantity))
                    .push_bind(i64::from(item.quantity_shipped))
                    .push_bind(item.unit_price.map(|price| price.minor()))
                    .push_bind(item.line_total.map(|total| total.minor()))
                    .push_bind(item.currency());
            });
            let query = query.build().persistent(items.len() == ITEMS_PER_STATEMENT);
            query.execute(&mut *conn).await?;
        });
        Ok(())
    }

    async fn record_status_changes(&mut self, orders: &[(i64, &Order)], now: Timestamp) -> Result<()> {
        with_tx!(self, |conn| {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO order_status_changes (order_id, status, platform_status, changed_at, recorded_at) ",
            );
            query.push_values(orders, |mut row, (order_id, order)| {
                row.push_bind(*order_id)
                    .push_bind(order.status.code())
                    .push_bind(&order.platform_status)
                    .push_bind(timestamp(order.updated_at))
                    .push_bind(now);
            });
            let query = query.build().persistent(orders.len() == ORDERS_PER_STATEMENT);
            query.execute(&mut *conn).await?;
        });
        Ok(())
    }
}

/// Adds `filter`'s conditions to a query that ends in `WHERE TRUE` (a macro: the query
/// builder's type differs per backend).
macro_rules! push_filter {
    ($query:ident, $filter:expr) => {{
        let filter: &OrderFilter = $filter;
        if let Some(platform) = &filter.platform {
            $query.push(" AND platform = ").push_bind(platform.clone());
        }
        if let Some(connection_id) = filter.connection_id {
            $query.push(" AND connection_id = ").push_bind(connection_id);
        }
        if let Some(status) = filter.status {
            $query.push(" AND status = ").push_bind(status.code());
        }
        if let Some(channel) = &filter.fulfillment_channel {
            $query.push(" AND fulfillment_channel = ").push_bind(channel.clone());
        }
        if let Some(from) = filter.from {
            $query.push(" AND purchased_at >= ").push_bind(from);
        }
        if let Some(before) = filter.before {
            $query.push(" AND purchased_at < ").push_bind(before);
        }
        if let Some(terms) = &filter.search {
            $query.push_search(terms);
        }
    }};
}
pub(crate) use push_filter;

impl Storage {
    /// When the marketplace last changed each of these orders, as stored; orders not stored
    /// are absent. Read outside any transaction: on SQLite one would hold the write lock.
    pub async fn order_versions(
        &self,
        connection_id: i64,
        external_ids: &[&str],
    ) -> Result<HashMap<String, Timestamp>> {
        let mut versions = HashMap::with_capacity(external_ids.len());
        for chunk in external_ids.chunks(ORDERS_PER_STATEMENT) {
            let rows: Vec<Existing> = with_pool!(self, |pool| {
                let mut query = existing_orders!(connection_id, chunk);
                query.build_query_as().persistent(false).fetch_all(pool).await?
            });
            versions.extend(rows.into_iter().map(|row| (row.external_id, row.remote_updated_at)));
        }
        Ok(versions)
    }

    /// The orders `filter` lets through, newest first (by purchase time), `limit` at a time,
    /// after `cursor`.
    pub async fn list_orders(
        &self,
        filter: &OrderFilter,
        limit: u32,
        after: Option<OrderCursor>,
    ) -> Result<Vec<StoredOrder>> {
        if let (Db::Sqlite { pool, .. }, Some(terms)) = (&self.db, &filter.search) {
            let rows = Self::search_sqlite(pool, filter, terms, limit, after).await?;
            return Ok(rows.into_iter().map(StoredOrder::from).collect());
        }
        let items = self.items_column();
        let rows: Vec<OrderRow> = with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new(format!("SELECT {ORDER_COLUMNS}, {items} FROM orders WHERE TRUE"));
            push_filter!(query, filter);
            // A row value, which both backends read as a range of the (purchased_at, id) index:
            // the same condition spelt with OR made SQLite walk the index from its top.
            if let Some(cursor) = after {
                query
                    .push(" AND (purchased_at, id) < (")
                    .push_bind(cursor.purchased_at)
                    .push(", ")
                    .push_bind(cursor.id)
                    .push(")");
            }
            query.push(" ORDER BY purchased_at DESC, id DESC").push_limit(limit);
            query.build_query_as().fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(StoredOrder::from).collect())
    }

    /// Every order `filter` lets through, newest first, without items, in batches of
    /// `batch`: one query read as it goes (a task feeds the stream), so memory holds a batch or
    /// two however many orders there are. Ends early when the stream is dropped.
    pub fn stream_orders(
        &self,
        filter: OrderFilter,
        batch: usize,
    ) -> impl futures_util::Stream<Item = Result<Vec<ExportedOrder>>> + Send + use<> {
        let storage = self.clone();
        batches(move |sender| async move {
            with_pool!(storage, |pool| {
                let mut query = sqlx::QueryBuilder::new(format!("SELECT {EXPORT_COLUMNS} FROM orders WHERE TRUE"));
                push_filter!(query, &filter);
                query.push(" ORDER BY purchased_at DESC, id DESC");
                send_batches(
                    query.build_query_as::<ExportedOrder>().fetch(pool),
                    batch,
                    storage.reader_patience,
                    &sender,
                )
                .await
            })
        })
    }

    /// One order by its row id.
    pub async fn get_order(&self, id: i64) -> Result<Option<StoredOrder>> {
        let items = self.items_column();
        let row: Option<OrderRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS}, {items} FROM orders WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(StoredOrder::from))
    }

    /// One order by its marketplace id.
    pub async fn find_order(&self, connection_id: i64, external_id: &str) -> Result<Option<StoredOrder>> {
        let items = self.items_column();
        let row: Option<OrderRow> = with_pool!(self, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ORDER_COLUMNS}, {items} FROM orders WHERE connection_id = $1 AND external_id = $2"
            )))
            .bind(connection_id)
            .bind(external_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(StoredOrder::from))
    }

    /// An order's history, oldest first.
    pub async fn order_status_changes(&self, order_id: i64) -> Result<Vec<StatusChange>> {
        with_pool!(self, |pool| {
            Ok(sqlx::query_as(
                "SELECT status, platform_status, changed_at, recorded_at FROM order_status_changes
                 WHERE order_id = $1 ORDER BY changed_at, id",
            )
            .bind(order_id)
            .fetch_all(pool)
            .await?)
        })
    }

    /// How many orders a connection has (all connections' when `None`).
    pub async fn count_orders(&self, connection_id: Option<i64>) -> Result<i64> {
        with_pool!(self, |pool| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE ($1 IS NULL OR connection_id = $1)")
                    .bind(connection_id)
                    .fetch_one(pool)
                    .await?,
            )
        })
    }

    /// The select-list entry of an order's items on this backend.
    fn items_column(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => SQLITE_ITEMS,
            Db::Postgres(_) => POSTGRES_ITEMS,
        }
    }
}

impl From<OrderRow> for StoredOrder {
    fn from(row: OrderRow) -> Self {
        Self {
            items: row
                .items
                .map(|items| items.0.into_iter().map(StoredItem::from).collect())
                .unwrap_or_default(),
            total: money(row.total_minor, row.total_currency.as_deref()),
            // The column's CHECK admits only known statuses.
            status: row.status.parse().unwrap_or(OrderStatus::Pending),
            id: row.id,
            connection_id: row.connection_id,
            platform: row.platform,
            external_id: row.external_id,
            marketplace_id: row.marketplace_id,
            platform_status: row.platform_status,
            fulfillment_channel: row.fulfillment_channel,
            purchased_at: row.purchased_at,
            remote_updated_at: row.remote_updated_at,
            ship_by_at: row.ship_by_at,
            ship_city: row.ship_city,
            ship_region: row.ship_region,
            ship_postal_code: row.ship_postal_code,
            ship_country: row.ship_country,
        }
    }
}
