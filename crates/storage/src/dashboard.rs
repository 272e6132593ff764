//! The dashboard's reads: a period's figures from the rollups for its whole days and months,
//! from the orders themselves for the part of a day at either end; and the orders waiting to ship.

use crate::db::{Db, with_pool};
use crate::{Result, Storage, Timestamp};

/// Orders, units and the totals of the orders not cancelled, of one day, platform and currency
/// (`""` for orders whose total is not known yet).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DayFigures {
    pub day: i64,
    pub platform: String,
    pub currency: String,
    pub orders: i64,
    pub units: i64,
    pub revenue_minor: i64,
}

/// A span's figures: by day, platform and currency; and orders by status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub days: Vec<DayFigures>,
    pub statuses: Vec<(String, i64)>,
}

/// A part of a period that one read answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Span {
    /// Whole UTC days, `[first, end)`, numbered as [`crate::day_of`] numbers them.
    Days(i64, i64),
    /// Whole UTC months, `[first, end)`, numbered as [`crate::month_of`] numbers them.
    Months(i64, i64),
    /// Purchases from the first time (included) to the second (excluded), within one UTC day.
    Within(Timestamp, Timestamp),
}

/// Orders the seller still has to ship (unshipped or partly shipped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOrders {
    pub waiting: i64,
    /// Of those, the ones whose ship-by time is before the given time.
    pub at_risk: i64,
    /// The first at-risk orders, earliest ship-by first: `(order row id, external id, ship by)`.
    pub first_at_risk: Vec<(i64, String, Timestamp)>,
}

/// Days of rollup rows up to which SQLite groups a period's SKUs by sorting them.
const SHORT_PERIOD_DAYS: i64 = 7;

/// The rollup table, its period column and range that a span reads.
fn rollup_range(span: &Span) -> Option<(&'static str, &'static str, i64, i64)> {
    match *span {
        Span::Days(first, end) => Some(("sku_daily", "day", first, end)),
        Span::Months(first, end) => Some(("sku_monthly", "month", first, end)),
        Span::Within(..) => None,
    }
}

const OPEN: &str = "status IN ('unshipped', 'partially_shipped')";

impl Storage {
    /// The figures of a span (a span of months is read as its days).
    pub async fn order_figures(&self, span: Span) -> Result<Figures> {
        let (first, end) = match span {
            Span::Days(first, end) => (first, end),
            Span::Months(first, end) => (
                crate::month_start(first).unwrap_or(i64::MAX),
                crate::month_start(end).unwrap_or(i64::MAX),
            ),
            Span::Within(from, before) => return self.order_figures_within(from, before).await,
        };
        with_pool!(self, |pool| {
            let days = sqlx::query_as(
                "SELECT d.day, c.platform, d.currency, CAST(SUM(d.orders) AS BIGINT) AS orders,
                     CAST(SUM(d.units) AS BIGINT) AS units,
                     CAST(SUM(CASE WHEN d.status <> 'cancelled' THEN d.revenue_minor ELSE 0 END) AS BIGINT) AS revenue_minor
                 FROM order_daily d JOIN connections c ON c.id = d.connection_id
                 WHERE d.day >= $1 AND d.day < $2
                 GROUP BY d.day, c.platform, d.currency HAVING SUM(d.orders) <> 0",
            )
            .bind(first)
            .bind(end)
            .fetch_all(pool)
            .await?;
            let statuses = sqlx::query_as(
                "SELECT status, CAST(SUM(orders) AS BIGINT) FROM order_daily WHERE day >= $1 AND day < $2
                 GROUP BY status HAVING SUM(orders) <> 0",
            )
            .bind(first)
            .bind(end)
            .fetch_all(pool)
            .await?;
            Ok(Figures { days, statuses })
        })
    }

    async fn order_figures_within(&self, from: Timestamp, before: Timestamp) -> Result<Figures> {
        with_pool!(self, |pool| {
            let days = sqlx::query_as(
                "SELECT CAST($3 AS BIGINT) AS day, platform, COALESCE(total_currency, '') AS currency,
                     COUNT(*) AS orders, CAST(SUM(item_count) AS BIGINT) AS units,
                     CAST(SUM(CASE WHEN status <> 'cancelled' THEN COALESCE(total_minor, 0) ELSE 0 END) AS BIGINT)
                         AS revenue_minor
                 FROM orders WHERE purchased_at >= $1 AND purchased_at < $2
                 GROUP BY platform, COALESCE(total_currency, '')",
            )
            .bind(from)
            .bind(before)
            .bind(crate::day_of(from))
            .fetch_all(pool)
            .await?;
            let statuses = sqlx::query_as(
                "SELECT status, COUNT(*) FROM orders WHERE purchased_at >= $1 AND purchased_at < $2 GROUP BY status",
            )
            .bind(from)
            .bind(before)
            .fetch_all(pool)
            .await?;
            Ok(Figures { days, statuses })
        })
    }

    /// Units sold per SKU in a span, cancelled orders left out; SKUs that sold none are not listed.
    pub async fn sku_units(&self, span: Span) -> Result<Vec<(String, i64)>> {
        with_pool!(self, |pool| {
            let query = match span {
                Span::Days(first, end) => sqlx::query_as(
                    "SELECT sku, CAST(SUM(units) AS BIGINT) FROM sku_daily WHERE day >= $1 AND day < $2
                     GROUP BY sku HAVING SUM(units) <> 0",
                )
                .bind(first)
                .bind(end),
                Span::Months(first, end) => sqlx::query_as(
                    "SELECT sku, CAST(SUM(units) AS BIGINT) FROM sku_monthly WHERE month >= $1 AND month < $2
                     GROUP BY sku HAVING SUM(units) <> 0",
                )
                .bind(first)
                .bind(end),
                Span::Within(from, before) => sqlx::query_as(
                    "SELECT i.sku, CAST(SUM(i.quantity) AS BIGINT) FROM orders o JOIN order_items i ON i.order_id = o.id
                     WHERE o.purchased_at >= $1 AND o.purchased_at < $2 AND o.status <> 'cancelled'
                         AND i.sku IS NOT NULL
                     GROUP BY i.sku HAVING SUM(i.quantity) <> 0",
                )
                .bind(from)
                .bind(before),
            };
            Ok(query.fetch_all(pool).await?)
        })
    }

    /// Units sold per SKU over whole days and months (a [`Span::Within`] is not read here: the
    /// caller reads it with [`Storage::sku_units`]), best sellers first, `limit` of them or all.
    pub async fn top_skus(&self, spans: &[Span], limit: Option<u32>) -> Result<Vec<(String, i64)>> {
        let rows: i64 = spans
            .iter()
            .map(|span| match span {
                Span::Days(first, end) => end - first,
                Span::Months(first, end) => (end - first) * 30,
                Span::Within(..) => 0,
            })
            .sum();
        with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new("");
            if matches!(self.db, Db::Sqlite { .. }) && rows > SHORT_PERIOD_DAYS {
                // SQLite sorts the rows of a long period to group them, slowly (30 days of 3,000
                // SKUs: 30 ms). Instead each SKU's units are summed from a short range of the
                // primary key, the SKUs found one index seek apart. PostgreSQL groups by hashing.
                query.push(
                    "WITH RECURSIVE skus (sku) AS (
                         SELECT MIN(sku) FROM sku_daily
                         UNION ALL SELECT (SELECT MIN(sku) FROM sku_daily WHERE sku > skus.sku) FROM skus
                         WHERE skus.sku IS NOT NULL)
                     SELECT sku, units FROM (SELECT sku, CAST(0",
                );
                for (table, period, first, end) in spans.iter().filter_map(rollup_range) {
                    query
                        .push(format!(
                            " + COALESCE((SELECT SUM(units) FROM {table} r WHERE r.sku = skus.sku AND r.{period} >= "
                        ))
                        .push_bind(first)
                        .push(format!(" AND r.{period} < "))
                        .push_bind(end)
                        .push("), 0)");
                }
                query.push(" AS BIGINT) AS units FROM skus WHERE sku IS NOT NULL) AS totals");
            } else {
                query.push(
                    "SELECT sku, units FROM (SELECT sku, CAST(SUM(units) AS BIGINT) AS units
                     FROM (SELECT '' AS sku, 0 AS units",
                );
                for (table, period, first, end) in spans.iter().filter_map(rollup_range) {
                    query
                        .push(format!(" UNION ALL SELECT sku, units FROM {table} WHERE {period} >= "))
                        .push_bind(first)
                        .push(format!(" AND {period} < "))
                        .push_bind(end);
                }
                query.push(") AS rows GROUP BY sku) AS totals");
            }
            query.push(" WHERE units > 0 ORDER BY units DESC, sku");
            if let Some(limit) = limit {
                query.push(" LIMIT ").push_bind(i64::from(limit));
            }
            Ok(query.build_query_as().fetch_all(pool).await?)
        })
    }

    /// Orders waiting to ship, and those whose ship-by time is before `risk_before`.
    pub async fn open_orders(&self, risk_before: Timestamp, listed: u32) -> Result<OpenOrders> {
        with_pool!(self, |pool| {
            let waiting = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM orders WHERE {OPEN}")))
                .fetch_one(pool)
                .await?;
            let at_risk = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM orders WHERE {OPEN} AND ship_by_at < $1"
            )))
            .bind(risk_before)
            .fetch_one(pool)
            .await?;
            let first_at_risk = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, external_id, ship_by_at FROM orders WHERE {OPEN} AND ship_by_at < $1
                 ORDER BY ship_by_at, id LIMIT $2"
            )))
            .bind(risk_before)
            .bind(i64::from(listed))
            .fetch_all(pool)
            .await?;
            Ok(OpenOrders {
                waiting,
                at_risk,
                first_at_risk,
            })
        })
    }
}
