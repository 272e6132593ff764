//! The Dashboard: a period's orders and revenue per day and platform (charts, and the same
//! figures as tables), orders by status, best sellers, orders at risk, and connection health.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_core::connections::FieldErrors;
use javelin_core::orders::{DayRow, PeriodQuery, Preset, date_of};
use javelin_model::{Money, OrderStatus};
use javelin_storage::{SyncKind, Timestamp, day_of};

use crate::AppState;
use crate::auth::Identity;
use crate::charts::{self, Line};
use crate::error::PageError;
use crate::flash::Flash;
use crate::overview::{self, Overview};
use crate::pages::connections::connection_badge;
use crate::pages::sync::kind_label;
use crate::pages::{Layout, Section};

/// Points a chart or its table holds at most: longer periods are read by the week or more.
const MAX_BUCKETS: i64 = 92;

/// One point of the orders and revenue charts: `days` days from `start`, per platform.
pub(crate) struct Bucket {
    pub start: i64,
    pub platform: String,
    pub orders: i64,
    pub revenue: Vec<Money>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
pub(crate) struct DashboardPage {
    layout: Layout,
    query: PeriodQuery,
    preset: Preset,
    errors: FieldErrors,
    overview: Option<Overview>,
    /// Days per point of the charts and rows of their table.
    days: i64,
    buckets: Vec<Bucket>,
    orders_chart: Option<String>,
    /// `(currency, chart)`.
    revenue_charts: Vec<(String, String)>,
    status_chart: Option<String>,
}

impl DashboardPage {
    fn presets(&self) -> [(Preset, &'static str, &'static str); 3] {
        Preset::OFFERED
    }

    fn per(&self) -> String {
        if self.days == 1 {
            "per day".to_owned()
        } else {
            format!("per {} days", self.days)
        }
    }

    fn date(&self, day: &i64) -> String {
        date_of(*day)
    }

    fn status_label(&self, code: &str) -> String {
        code.parse::<OrderStatus>()
            .map_or_else(|_| code.to_owned(), |status| status.label().to_owned())
    }

    fn badge(&self, status: &javelin_storage::ConnectionStatus) -> (&'static str, &'static str) {
        connection_badge(status)
    }

    fn kind(&self, kind: &SyncKind) -> &'static str {
        kind_label(kind)
    }

    fn when(&self, at: &Option<Timestamp>) -> String {
        at.map_or_else(|| "—".to_owned(), Timestamp::to_display)
    }

    fn money(&self, amounts: &[Money]) -> String {
        if amounts.is_empty() {
            return "—".to_owned();
        }
        amounts
            .iter()
            .map(|money| format!("{} {}", money.amount(), money.currency()))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The period shown, for people: its first and last day (UTC).
    fn period_words(&self) -> String {
        self.overview.as_ref().map_or_else(String::new, |overview| {
            let first = overview.figures.from.to_display();
            let last = overview.figures.to.to_display();
            format!("{first} to {last}")
        })
    }
}

/// Orders and minor units per currency.
type Sums = (i64, BTreeMap<&'static str, i64>);

/// Days grouped `days` at a time from `first`, summed per platform.
fn buckets(rows: &[DayRow], first: i64, days: i64) -> Vec<Bucket> {
    let mut sums: BTreeMap<(i64, String), Sums> = BTreeMap::new();
    for row in rows {
        let start = first + (row.day - first).div_euclid(days) * days;
        let entry = sums.entry((start, row.platform.clone())).or_default();
        entry.0 += row.orders;
        for money in &row.revenue {
            *entry.1.entry(money.currency()).or_default() += money.minor();
        }
    }
    sums.into_iter()
        .map(|((start, platform), (orders, revenue))| Bucket {
            start,
            platform,
            orders,
            revenue: revenue
                .into_iter()
                .filter_map(|(currency, minor)| Money::from_minor(minor, currency).ok())
                .collect(),
        })
        .collect()
}

/// A line per platform over every bucket of the period, zero where a platform sold nothing.
fn lines(buckets: &[Bucket], starts: &[i64], value: impl Fn(&Bucket) -> Option<f64>) -> Vec<Line> {
    let mut platforms: Vec<&str> = buckets.iter().map(|bucket| bucket.platform.as_str()).collect();
    platforms.sort_unstable();
    platforms.dedup();
    platforms
        .into_iter()
        .map(|platform| Line {
            name: platform.to_owned(),
            points: starts
                .iter()
                .map(|start| {
                    let y = buckets
                        .iter()
                        .find(|bucket| bucket.start == *start && bucket.platform == platform)
                        .and_then(&value)
                        .unwrap_or(0.0);
                    (*start, y)
                })
                .collect(),
        })
        .filter(|line| line.points.iter().any(|(_, y)| *y > 0.0))
        .collect()
}

/// A money amount as a point on a chart (never summed as a float).
fn plotted(money: &Money) -> Option<f64> {
    money.amount().to_string().parse().ok()
}

/// `GET /?period=&from=&to=`.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, PageError> {
    let mut page = DashboardPage {
        layout: Layout::new(Section::Dashboard, identity, flash),
        preset: Preset::Days30,
        query,
        errors: FieldErrors::default(),
        overview: None,
        days: 1,
        buckets: Vec::new(),
        orders_chart: None,
        revenue_charts: Vec::new(),
        status_chart: None,
    };
    let period = match page.query.parse(state.sync.now()) {
        Ok(period) => period,
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    page.preset = period.preset;
    let overview = overview::load(&state, period).await?;
    if overview.connections.is_empty() && overview.figures.orders == 0 && overview.figures.open.waiting_to_ship == 0 {
        // Nothing connected and nothing stored: the page says how to begin.
        return Ok(page.into_response());
    }
    let first = day_of(period.from);
    let end = day_of(period.before - time::Duration::microseconds(1)) + 1;
    page.days = ((end - first) + MAX_BUCKETS - 1) / MAX_BUCKETS;
    page.buckets = buckets(&overview.figures.by_day, first, page.days);
    let starts: Vec<i64> = (first..end).step_by(page.days.max(1) as usize).collect();
    let label = |day: &i64| date_of(*day);
    page.orders_chart = charts::lines(
        first..end,
        "Date (UTC)",
        &format!("Orders {}", page.per()),
        &label,
        &lines(&page.buckets, &starts, |bucket| Some(bucket.orders as f64)),
    );
    for revenue in &overview.figures.revenue {
        let currency = revenue.currency();
        let lines = lines(&page.buckets, &starts, |bucket| {
            bucket
                .revenue
                .iter()
                .find(|money| money.currency() == currency)
                .and_then(plotted)
        });
        if let Some(chart) = charts::lines(
            first..end,
            "Date (UTC)",
            &format!("Revenue ({currency}) {}", page.per()),
            &label,
            &lines,
        ) {
            page.revenue_charts.push((currency.to_owned(), chart));
        }
    }
    let statuses: Vec<(String, i64)> = overview
        .figures
        .by_status
        .iter()
        .map(|figures| (page.status_label(&figures.status), figures.orders))
        .collect();
    if !statuses.is_empty() {
        page.status_chart = charts::bars("Orders", &statuses);
    }
    page.overview = Some(overview);
    Ok(page.into_response())
}
