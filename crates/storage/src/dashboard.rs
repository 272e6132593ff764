//! The dashboard's reads: a period's figures from the rollups for its whole days and months,
//! from the orders themselves for the part of a day at either end; and the orders waiting to ship.

use crate::db::{PushLimit, with_pool};
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

/// A range of one SKU rollup table whose units a period's top SKUs add (`sign` 1) or take back
/// (`sign` -1): `table`'s `period` column from `first` (included) to `end` (excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Piece {
    table: &'static str,
    period: &'static str,
    first: i64,
    end: i64,
    sign: i64,
}

impl Piece {
    fn days(first: i64, end: i64, sign: i64) -> Self {
        Self {
            table: "sku_daily",
            period: "day",
            first,
            end,
            sign,
        }
    }
}

/// The SKU rollup ranges that sum to a span's units, reading as few rows as it can: a span of
/// a week or more as its weeks, each end either adding its last few days (up to three) or
/// taking a whole week and subtracting the days outside (up to three).
fn pieces(span: &Span) -> Vec<Piece> {
    use crate::{week_of, week_start};
    let (first, end) = match *span {
        Span::Days(first, end) => (first, end),
        Span::Months(first, end) => {
            return vec![Piece {
                table: "sku_monthly",
                period: "month",
                first,
                end,
                sign: 1,
            }];
        }
        Span::Within(..) => return Vec::new(),
    };
    if end - first < 7 {
        return vec![Piece::days(first, end, 1)];
    }
    let mut pieces = Vec::new();
    let mut first_week = week_of(first);
    let lead = first - week_start(first_week);
    if lead > 3 {
        first_week += 1;
        pieces.push(Piece::days(first, week_start(first_week), 1));
    } else if lead > 0 {
        pieces.push(Piece::days(week_start(first_week), first, -1));
    }
    let mut end_week = week_of(end);
    let tail = end - week_start(end_week);
    if tail > 3 {
        end_week += 1;
        pieces.push(Piece::days(end, week_start(end_week), -1));
    } else if tail > 0 {
        pieces.push(Piece::days(week_start(end_week), end, 1));
    }
    pieces.push(Piece {
        table: "sku_weekly",
        period: "week",
        first: first_week,
        end: end_week,
        sign: 1,
    });
    pieces
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
        with_pool!(self, |pool| {
            let mut query = sqlx::QueryBuilder::new(
                "SELECT sku, units FROM (SELECT sku, CAST(SUM(units) AS BIGINT) AS units
                 FROM (SELECT '' AS sku, 0 AS units",
            );
            for piece in spans.iter().flat_map(pieces) {
                let units = if piece.sign < 0 { "-units" } else { "units" };
                query
                    .push(format!(
                        " UNION ALL SELECT sku, {units} FROM {} WHERE {} >= ",
                        piece.table, piece.period
                    ))
                    .push_bind(piece.first)
                    .push(format!(" AND {} < ", piece.period))
                    .push_bind(piece.end);
            }
            query.push(") AS rows GROUP BY sku) AS totals WHERE units > 0 ORDER BY units DESC, sku");
            if let Some(limit) = limit {
                query.push_limit(limit);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// How many times the pieces count `day`: weeks count each of their days.
    fn coverage(pieces: &[Piece], day: i64) -> i64 {
        pieces
            .iter()
            .filter(|piece| match piece.period {
                "day" => (piece.first..piece.end).contains(&day),
                _ => (piece.first..piece.end).contains(&crate::week_of(day)),
            })
            .map(|piece| piece.sign)
            .sum()
    }

    #[test]
    fn pieces_count_every_day_of_a_span_once_and_no_other() {
        // Every start in a fortnight (each weekday, twice) and every length up to ten weeks.
        for first in 20_750..20_764 {
            for length in 1..70 {
                let end = first + length;
                let pieces = pieces(&Span::Days(first, end));
                for day in first - 14..end + 14 {
                    let wanted = i64::from((first..end).contains(&day));
                    assert_eq!(
                        coverage(&pieces, day),
                        wanted,
                        "day {day} of {first}..{end}: {pieces:?}"
                    );
                }
                let days: i64 = pieces
                    .iter()
                    .filter(|piece| piece.period == "day")
                    .map(|piece| piece.end - piece.first)
                    .sum();
                assert!(length < 7 || days <= 6, "{first}..{end} reads {days} single days");
            }
        }
    }

    #[test]
    fn months_are_read_whole_and_part_days_not_at_all() {
        assert_eq!(pieces(&Span::Months(24_300, 24_324)).len(), 1);
        assert_eq!(pieces(&Span::Months(24_300, 24_324))[0].table, "sku_monthly");
        let now = Timestamp::now();
        assert!(pieces(&Span::Within(now, now)).is_empty());
    }
}
