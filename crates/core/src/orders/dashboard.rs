//! The dashboard: a period's orders, revenue (per currency, never added across currencies),
//! statuses and best-selling SKUs, read from the rollups for whole days and months and from the
//! orders for the part-days at either end; and the orders waiting to ship.

use std::collections::{BTreeMap, HashMap};

use javelin_model::{Money, OrderStatus, Platform};
use javelin_storage::{
    DayFigures, Figures, Span, Storage, StorageError, Timestamp, day_of, day_start, month_of, month_start,
};
use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::{IntoParams, ToSchema};

use super::query::{Bound, DATE_HELP, moment};
use crate::connections::FieldErrors;

/// SKUs listed as best sellers.
const TOP_SKUS: usize = 10;
/// At-risk orders listed by name.
const AT_RISK_LISTED: u32 = 10;
/// An open order whose ship-by time is this close is at risk of missing it.
const AT_RISK_WITHIN: Duration = Duration::hours(24);

/// The periods the dashboard offers; a custom one is given by its dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Today,
    Days7,
    Days30,
    Custom,
}

impl Preset {
    pub const OFFERED: [(Preset, &'static str, &'static str); 3] = [
        (Preset::Today, "today", "Today"),
        (Preset::Days7, "7d", "7 days"),
        (Preset::Days30, "30d", "30 days"),
    ];

    fn days(self) -> i64 {
        match self {
            Preset::Today => 1,
            Preset::Days7 => 7,
            _ => 30,
        }
    }

    pub fn code(self) -> &'static str {
        Self::OFFERED
            .iter()
            .find(|(preset, _, _)| *preset == self)
            .map_or("custom", |(_, code, _)| code)
    }
}

/// `?period=&from=&to=` as sent; empty means not sent. `from`/`to` win over `period`.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// The last day, 7 or 30 days, today included (30 when absent); `custom` is given by
    /// `from` and `to`.
    #[param(schema_with = period_schema)]
    pub period: String,
    /// From this date (whole UTC day) or RFC 3339 time on.
    pub from: String,
    /// To this date (included) or RFC 3339 time.
    pub to: String,
}

fn period_schema() -> Object {
    let codes = Preset::OFFERED.map(|(_, code, _)| code);
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.into_iter().chain([Preset::Custom.code()])))
        .build()
}

/// A period: from `from` (included) to `before` (excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub preset: Preset,
    pub from: Timestamp,
    pub before: Timestamp,
}

impl PeriodQuery {
    /// The period asked for, the last 30 days (today included) when none is.
    pub fn parse(&self, now: Timestamp) -> Result<Period, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        let today = day_of(now);
        let preset = match given(&self.period) {
            None => Preset::Days30,
            Some(code) => match Preset::OFFERED.iter().find(|(_, offered, _)| *offered == code) {
                Some((preset, _, _)) => *preset,
                None if code == "custom" => Preset::Custom,
                None => {
                    errors.add("period", "period must be today, 7d, 30d or custom.");
                    Preset::Days30
                }
            },
        };
        // Day numbers near now always have a start.
        let start = |day: i64| day_start(day).unwrap_or(now);
        let mut period = Period {
            preset,
            from: start(today + 1 - preset.days()),
            before: start(today + 1),
        };
        let (from, to) = (given(&self.from), given(&self.to));
        if from.is_some() || to.is_some() {
            period.preset = Preset::Custom;
        }
        if let Some(from) = from {
            match moment(&from, Bound::Start) {
                Some(at) => period.from = at,
                None => errors.add("from", DATE_HELP.replace("{}", "from")),
            }
        }
        if let Some(to) = to {
            match moment(&to, Bound::End) {
                Some(at) => period.before = at,
                None => errors.add("to", DATE_HELP.replace("{}", "to")),
            }
        }
        if errors.is_empty() && period.before <= period.from {
            errors.add("to", "to must not be before from.");
        }
        if errors.is_empty() { Ok(period) } else { Err(errors) }
    }
}

/// A period cut into what each read answers: whole days (or months, for SKUs) from the
/// rollups, and the part of a day at either end from the orders.
fn spans(from: Timestamp, before: Timestamp, months: bool) -> Vec<Span> {
    let start = |day: i64| day_start(day).unwrap_or(before);
    let first_whole = if start(day_of(from)) == from {
        day_of(from)
    } else {
        day_of(from) + 1
    };
    let end_whole = day_of(before);
    let head_end = start(first_whole).min(before);
    let mut spans = Vec::new();
    if from < head_end {
        spans.push(Span::Within(from, head_end));
    }
    if first_whole < end_whole {
        spans.extend(whole_days(first_whole, end_whole, months));
    }
    let tail_start = start(end_whole).max(head_end);
    if tail_start < before {
        spans.push(Span::Within(tail_start, before));
    }
    spans
}

/// Whole days `[first, end)`, with the whole months among them read by month when `months`.
fn whole_days(first: i64, end: i64, months: bool) -> Vec<Span> {
    let split = || {
        let month = month_of(first)?;
        let first_month = if month_start(month)? == first { month } else { month + 1 };
        let end_month = month_of(end)?;
        (first_month < end_month).then_some((first_month, end_month))
    };
    match split().filter(|_| months) {
        None => vec![Span::Days(first, end)],
        Some((first_month, end_month)) => {
            let (head_end, tail_start) = (
                month_start(first_month).unwrap_or(first),
                month_start(end_month).unwrap_or(end),
            );
            [
                Span::Days(first, head_end),
                Span::Months(first_month, end_month),
                Span::Days(tail_start, end),
            ]
            .into_iter()
            .filter(|span| !matches!(span, Span::Days(a, b) if a >= b))
            .collect()
        }
    }
}

/// What the dashboard shows of a period.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub from: Timestamp,
    /// The end of the period, left out.
    pub to: Timestamp,
    pub orders: i64,
    pub units: i64,
    /// Totals of the orders not cancelled, one per currency.
    pub revenue: Vec<Money>,
    pub by_platform: Vec<PlatformFigures>,
    pub by_status: Vec<StatusFigures>,
    /// Days with orders, oldest first, per platform.
    pub by_day: Vec<DayRow>,
    pub top_skus: Vec<SkuUnits>,
    /// Open orders now, whatever the period.
    pub open: OpenOrdersView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PlatformFigures {
    #[schema(value_type = Platform)]
    pub platform: String,
    pub orders: i64,
    pub revenue: Vec<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusFigures {
    #[schema(value_type = OrderStatus)]
    pub status: String,
    pub orders: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayRow {
    #[serde(skip)]
    pub day: i64,
    /// `YYYY-MM-DD`, UTC.
    #[schema(format = Date)]
    pub date: String,
    #[schema(value_type = Platform)]
    pub platform: String,
    pub orders: i64,
    pub revenue: Vec<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct SkuUnits {
    pub sku: String,
    pub units: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpenOrdersView {
    pub waiting_to_ship: i64,
    /// Waiting, with a ship-by time within 24 hours or past.
    pub at_risk: i64,
    pub at_risk_orders: Vec<AtRiskOrder>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct AtRiskOrder {
    pub id: i64,
    pub external_id: String,
    pub ship_by: Timestamp,
}

/// Minor units per currency, turned into money in currency order.
#[derive(Default)]
struct Revenue(BTreeMap<String, i64>);

impl Revenue {
    fn add(&mut self, figures: &DayFigures) {
        if !figures.currency.is_empty() {
            *self.0.entry(figures.currency.clone()).or_default() += figures.revenue_minor;
        }
    }

    fn money(&self) -> Vec<Money> {
        // Stored currencies were valid codes when written.
        self.0
            .iter()
            .filter_map(|(currency, minor)| Money::from_minor(*minor, currency).ok())
            .collect()
    }
}

/// The date of a day number, as `YYYY-MM-DD`.
pub fn date_of(day: i64) -> String {
    day_start(day).map_or_else(String::new, |at| {
        let date: Date = at.datetime().date();
        format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
    })
}

/// Reads a period's figures.
pub(crate) async fn dashboard(storage: &Storage, period: Period, now: Timestamp) -> Result<Dashboard, StorageError> {
    // Independent reads, side by side: SQLite serves each from a connection of its own.
    let read_figures = async {
        let mut figures = Figures::default();
        for span in spans(period.from, period.before, false) {
            let read = storage.order_figures(span).await?;
            figures.days.extend(read.days);
            figures.statuses.extend(read.statuses);
        }
        Ok::<_, StorageError>(figures)
    };
    let read_skus = async {
        let spans = spans(period.from, period.before, true);
        let parts: Vec<Span> = spans
            .iter()
            .copied()
            .filter(|span| matches!(span, Span::Within(..)))
            .collect();
        // With part-days to add, any SKU could rise into the top: read every SKU's units.
        let limit = parts.is_empty().then_some(TOP_SKUS as u32);
        let mut skus: HashMap<String, i64> = storage.top_skus(&spans, limit).await?.into_iter().collect();
        for span in parts {
            for (sku, units) in storage.sku_units(span).await? {
                *skus.entry(sku).or_default() += units;
            }
        }
        Ok::<_, StorageError>(skus)
    };
    let (figures, skus, open) = tokio::try_join!(
        read_figures,
        read_skus,
        storage.open_orders(now + AT_RISK_WITHIN, AT_RISK_LISTED)
    )?;

    let (mut orders, mut units, mut revenue) = (0, 0, Revenue::default());
    let mut by_platform: BTreeMap<String, (i64, Revenue)> = BTreeMap::new();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_day: BTreeMap<(i64, String), (i64, Revenue)> = BTreeMap::new();
    for row in &figures.days {
        orders += row.orders;
        units += row.units;
        revenue.add(row);
        let entry = by_platform.entry(row.platform.clone()).or_default();
        entry.0 += row.orders;
        entry.1.add(row);
        let day = by_day.entry((row.day, row.platform.clone())).or_default();
        day.0 += row.orders;
        day.1.add(row);
    }
    for (status, orders) in figures.statuses {
        *by_status.entry(status).or_default() += orders;
    }
    let mut top_skus: Vec<SkuUnits> = skus
        .into_iter()
        .filter(|(_, units)| *units > 0)
        .map(|(sku, units)| SkuUnits { sku, units })
        .collect();
    top_skus.sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.sku.cmp(&b.sku)));
    top_skus.truncate(TOP_SKUS);
    let mut by_status: Vec<StatusFigures> = by_status
        .into_iter()
        .filter(|(_, orders)| *orders != 0)
        .map(|(status, orders)| StatusFigures { status, orders })
        .collect();
    by_status.sort_by(|a, b| b.orders.cmp(&a.orders).then_with(|| a.status.cmp(&b.status)));
    Ok(Dashboard {
        from: period.from,
        to: period.before,
        orders,
        units,
        revenue: revenue.money(),
        by_platform: by_platform
            .into_iter()
            .map(|(platform, (orders, revenue))| PlatformFigures {
                platform,
                orders,
                revenue: revenue.money(),
            })
            .collect(),
        by_status,
        by_day: by_day
            .into_iter()
            .filter(|(_, (orders, _))| *orders != 0)
            .map(|((day, platform), (orders, revenue))| DayRow {
                day,
                date: date_of(day),
                platform,
                orders,
                revenue: revenue.money(),
            })
            .collect(),
        top_skus,
        open: OpenOrdersView {
            waiting_to_ship: open.waiting,
            at_risk: open.at_risk,
            at_risk_orders: open
                .first_at_risk
                .into_iter()
                .map(|(id, external_id, ship_by)| AtRiskOrder {
                    id,
                    external_id,
                    ship_by,
                })
                .collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        moment(text, Bound::Start).expect("time")
    }

    fn day(text: &str) -> i64 {
        day_of(at(text))
    }

    #[test]
    fn a_period_is_cut_into_part_days_whole_days_and_whole_months() {
        let (from, before) = (at("2026-01-30T10:00:00Z"), at("2026-04-02T06:00:00Z"));
        assert_eq!(
            spans(from, before, false),
            [
                Span::Within(from, at("2026-01-31")),
                Span::Days(day("2026-01-31"), day("2026-04-02")),
                Span::Within(at("2026-04-02"), before),
            ]
        );
        let feb = month_of(day("2026-02-01")).expect("month");
        assert_eq!(
            spans(from, before, true),
            [
                Span::Within(from, at("2026-01-31")),
                Span::Days(day("2026-01-31"), day("2026-02-01")),
                Span::Months(feb, feb + 2),
                Span::Days(day("2026-04-01"), day("2026-04-02")),
                Span::Within(at("2026-04-02"), before),
            ]
        );
    }

    #[test]
    fn whole_days_and_part_days_alone() {
        let (from, before) = (at("2026-03-01"), at("2026-04-01"));
        let march = month_of(day("2026-03-01")).expect("month");
        assert_eq!(spans(from, before, true), [Span::Months(march, march + 1)]);
        assert_eq!(
            spans(from, before, false),
            [Span::Days(day("2026-03-01"), day("2026-04-01"))]
        );
        let (from, before) = (at("2026-03-05T01:00:00Z"), at("2026-03-05T02:00:00Z"));
        assert_eq!(spans(from, before, true), [Span::Within(from, before)]);
        let (from, before) = (at("2026-03-05T23:00:00Z"), at("2026-03-06T02:00:00Z"));
        assert_eq!(
            spans(from, before, true),
            [
                Span::Within(from, at("2026-03-06")),
                Span::Within(at("2026-03-06"), before)
            ]
        );
    }

    #[test]
    fn periods_default_to_30_days_and_name_bad_parameters() {
        let now = at("2026-11-27T16:00:00Z");
        let query = |period: &str, from: &str, to: &str| PeriodQuery {
            period: period.into(),
            from: from.into(),
            to: to.into(),
        };
        let period = query("", "", "").parse(now).expect("default");
        assert_eq!((period.from, period.before), (at("2026-10-29"), at("2026-11-28")));
        let today = query("today", "", "").parse(now).expect("today");
        assert_eq!(
            (today.preset, today.from, today.before),
            (Preset::Today, at("2026-11-27"), at("2026-11-28"))
        );
        let custom = query("7d", "2026-01-01", "2026-01-01").parse(now).expect("custom");
        assert_eq!(
            (custom.preset, custom.from, custom.before),
            (Preset::Custom, at("2026-01-01"), at("2026-01-02"))
        );
        for (period, from, to, named) in [
            ("year", "", "", "period"),
            ("", "yesterday", "", "from"),
            ("", "", "2026-13-01", "to"),
            ("", "2026-02-01", "2026-01-01", "to"),
        ] {
            let errors = query(period, from, to).parse(now).expect_err(named);
            assert!(errors.get(named).is_some(), "{named}: {errors:?}");
        }
    }
}
