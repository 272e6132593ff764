//! Rollups for the dashboard: orders, units and totals per UTC day, connection, status and
//! currency (`order_daily`), and units sold per SKU by day, week and month (`sku_daily`,
//! `sku_weekly`, `sku_monthly`). The upsert that stores
//! a page of orders takes back what the orders' previous states added and adds their new states,
//! in the same transaction: the rollups always equal a recomputation from the orders. A row
//! that an order left (for another status) stays at zero, and readers skip it: at most one per
//! day, connection, status and currency, fewer than deleting them would cost to find.

use std::collections::HashMap;

use javelin_model::{Order, OrderStatus};

use crate::db::with_tx;
use crate::{Result, Timestamp, Transaction};

/// Rows per multi-row statement; as in [`crate::orders`], only whole ones stay prepared.
const ROWS_PER_STATEMENT: usize = 1000;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The UTC day of a time, as days since 1970-01-01.
pub fn day_of(at: Timestamp) -> i64 {
    at.unix_micros().div_euclid(MICROS_PER_DAY)
}

/// The start of a UTC day.
pub fn day_start(day: i64) -> Option<Timestamp> {
    Timestamp::from_unix_micros(day.checked_mul(MICROS_PER_DAY)?)
}

/// The week of a day: weeks run Monday to Sunday, week 0 starting on Monday 1969-12-29
/// (day 0, 1970-01-01, was a Thursday).
pub fn week_of(day: i64) -> i64 {
    (day + 3).div_euclid(7)
}

/// The first day (a Monday) of a week numbered as [`week_of`] numbers them.
pub fn week_start(week: i64) -> i64 {
    week * 7 - 3
}

/// The UTC month of a day, as `year * 12 + month - 1`.
pub fn month_of(day: i64) -> Option<i64> {
    let date = day_start(day)?.datetime().date();
    Some(i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1)
}

/// The first day of a month numbered as [`month_of`] numbers them.
pub fn month_start(month: i64) -> Option<i64> {
    let year = i32::try_from(month.div_euclid(12)).ok()?;
    let month = time::Month::try_from(u8::try_from(month.rem_euclid(12) + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, 1).ok()?;
    Some(day_of(Timestamp::from_datetime(date.midnight().assume_utc())))
}

/// Cancelled orders are counted by status but sell nothing.
fn sells(status: &str) -> bool {
    status != OrderStatus::Cancelled.code()
}

/// An order as the rollups see it.
pub(crate) struct Contribution<'a> {
    pub connection_id: i64,
    pub purchased_at: Timestamp,
    pub status: &'a str,
    pub currency: Option<&'a str>,
    pub total_minor: Option<i64>,
    pub units: i64,
    /// `(sku, quantity)` of each item.
    pub items: Vec<(&'a str, i64)>,
}

impl<'a> Contribution<'a> {
    pub fn of(connection_id: i64, order: &'a Order) -> Self {
        Self {
            connection_id,
            purchased_at: Timestamp::from_datetime(order.purchased_at),
            status: order.status.code(),
            currency: order.total.map(|total| total.currency()),
            total_minor: order.total.map(|total| total.minor()),
            units: order.items.iter().map(|item| i64::from(item.quantity)).sum(),
            items: order
                .items
                .iter()
                .filter_map(|item| Some((item.sku.as_deref()?, i64::from(item.quantity))))
                .collect(),
        }
    }
}

type DayKey = (i64, i64, String, String);

/// What a page of orders changes in the rollups.
#[derive(Default)]
pub(crate) struct RollupDelta {
    days: HashMap<DayKey, (i64, i64, i64)>,
    skus: HashMap<(i64, String), i64>,
    weeks: HashMap<(i64, String), i64>,
    months: HashMap<(i64, String), i64>,
}

impl RollupDelta {
    /// Adds (`sign` 1) or takes back (`sign` -1) an order.
    pub fn add(&mut self, sign: i64, order: &Contribution<'_>) {
        let day = day_of(order.purchased_at);
        let key = (
            day,
            order.connection_id,
            order.status.to_owned(),
            order.currency.unwrap_or_default().to_owned(),
        );
        let entry = self.days.entry(key).or_default();
        entry.0 += sign;
        entry.1 += sign * order.units;
        entry.2 += sign * order.total_minor.unwrap_or(0);
        if sells(order.status) {
            // Purchase times come from the `time` crate's range, so their day has a month.
            let month = month_of(day).unwrap_or_default();
            for (sku, quantity) in &order.items {
                *self.skus.entry((day, (*sku).to_owned())).or_default() += sign * quantity;
                *self.weeks.entry((week_of(day), (*sku).to_owned())).or_default() += sign * quantity;
                *self.months.entry((month, (*sku).to_owned())).or_default() += sign * quantity;
            }
        }
    }
}

impl Transaction {
    pub(crate) async fn apply_rollups(&mut self, delta: RollupDelta) -> Result<()> {
        let days: Vec<(DayKey, (i64, i64, i64))> = delta
            .days
            .into_iter()
            .filter(|(_, change)| *change != (0, 0, 0))
            .collect();
        for chunk in days.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |conn| {
                let mut query = sqlx::QueryBuilder::new(
                    "INSERT INTO order_daily (day, connection_id, status, currency, orders, units, revenue_minor) ",
                );
                query.push_values(
                    chunk,
                    |mut row, ((day, connection, status, currency), (orders, units, revenue))| {
                        row.push_bind(*day)
                            .push_bind(*connection)
                            .push_bind(status.as_str())
                            .push_bind(currency.as_str())
                            .push_bind(*orders)
                            .push_bind(*units)
                            .push_bind(*revenue);
                    },
                );
                query.push(
                    " ON CONFLICT (day, connection_id, status, currency) DO UPDATE SET
                         orders = order_daily.orders + excluded.orders, units = order_daily.units + excluded.units,
                         revenue_minor = order_daily.revenue_minor + excluded.revenue_minor",
                );
                query
                    .build()
                    .persistent(chunk.len() == ROWS_PER_STATEMENT)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        self.add_sku_units("sku_daily", "day", delta.skus).await?;
        self.add_sku_units("sku_weekly", "week", delta.weeks).await?;
        self.add_sku_units("sku_monthly", "month", delta.months).await?;
        Ok(())
    }

    /// Adds units to `sku_daily`, `sku_weekly` or `sku_monthly`, whose period column is `period`.
    async fn add_sku_units(
        &mut self,
        table: &'static str,
        period: &'static str,
        units: HashMap<(i64, String), i64>,
    ) -> Result<()> {
        let rows: Vec<((i64, String), i64)> = units.into_iter().filter(|(_, units)| *units != 0).collect();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |conn| {
                let mut query = sqlx::QueryBuilder::new(format!("INSERT INTO {table} ({period}, sku, units) "));
                query.push_values(chunk, |mut row, ((at, sku), units)| {
                    row.push_bind(*at).push_bind(sku.as_str()).push_bind(*units);
                });
                query.push(format!(
                    " ON CONFLICT ({period}, sku) DO UPDATE SET units = {table}.units + excluded.units"
                ));
                query
                    .build()
                    .persistent(chunk.len() == ROWS_PER_STATEMENT)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        Ok(())
    }
}
