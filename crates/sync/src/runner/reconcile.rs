//! Reconciliation: does Javelin hold every order the marketplace has, in its latest state?
//! Amazon: the orders changed in the last days, from an all-orders report (cheap on rate
//! limits), compared with the stored ones; each missing or older one is fetched again with
//! getOrder. Flipkart: the last week of shipments read again through the shipments API (the
//! upsert stores what is missing or newer). The job's counts say what was compared and
//! repaired; the connection's sync panel shows the last one.

use std::collections::HashSet;

use javelin_marketplaces::Platform;
use javelin_marketplaces::amazon::reports;
use javelin_model::Order;
use javelin_storage::{PageProgress, Timestamp};
use serde::{Deserialize, Serialize};

use super::history::{Sink, day};
use super::{Answer, Failure, Place, Request, Run, Write, progress_of, split};

/// How far back Amazon's orders are compared: the report lags real time, and a day missed
/// (Javelin down for a night) is caught the next.
const AMAZON_DAYS: i64 = 3;
/// How far back Flipkart's shipments are read again.
const FLIPKART_DAYS: i64 = 7;

/// How many days back a reconciliation of a platform's connection looks.
pub(crate) fn days_checked(platform: Platform) -> i64 {
    match platform {
        Platform::Amazon => AMAZON_DAYS,
        Platform::Flipkart => FLIPKART_DAYS,
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Requesting,
    Comparing,
    Repairing,
}

/// Where an Amazon reconciliation is: its report, the orders it found missing or stale, and
/// how many of those it has fetched again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Check {
    #[serde(default)]
    stage: Stage,
    #[serde(default)]
    report_id: Option<String>,
    #[serde(default)]
    pub(super) compared: u64,
    #[serde(default)]
    pub(super) repairs: Vec<String>,
    #[serde(default)]
    repaired: usize,
    /// Where the compared window starts.
    #[serde(default)]
    since: Option<Timestamp>,
    /// Flipkart: where the reading of its streams is.
    #[serde(default)]
    place: Option<Place>,
}

impl Run<'_> {
    pub(super) async fn reconcile(&mut self) -> Result<(), Failure> {
        let mut check: Check = self
            .job
            .cursor
            .as_deref()
            .and_then(|cursor| serde_json::from_str(cursor).ok())
            .unwrap_or_default();
        match self.platform {
            Platform::Amazon => self.reconcile_amazon(&mut check).await,
            Platform::Flipkart => self.reconcile_flipkart(&mut check).await,
        }
    }

    async fn reconcile_amazon(&mut self, check: &mut Check) -> Result<(), Failure> {
        let now = self.inner.clock.now();
        let since = *check.since.get_or_insert(now - time::Duration::days(AMAZON_DAYS));
        let label = format!("Orders changed since {}", day(since));
        if check.stage == Stage::Requesting {
            // Amazon keeps `...Before` two minutes back; so does the report's end.
            let request = Request::CreateReport {
                report_type: reports::ALL_ORDERS_BY_LAST_UPDATE,
                start: since,
                end: now - time::Duration::minutes(2),
            };
            let Answer::ReportId(id) = self.call(&request).await? else {
                unreachable!("createReport is answered with a report id")
            };
            check.report_id = Some(id);
            check.stage = Stage::Comparing;
            self.save(check).await?;
        }
        if check.stage == Stage::Comparing {
            let Some(report_id) = check.report_id.clone() else {
                return Ok(());
            };
            if let Some(document_id) = self.await_report(&report_id, &label).await? {
                self.download(Sink::Compare { check: &mut *check }, &document_id, &label)
                    .await?;
            }
            check.stage = Stage::Repairing;
            self.save(check).await?;
        }
        while let Some(id) = check.repairs.get(check.repaired).cloned() {
            let Answer::Order(order) = self.call(&Request::GetOrder(&id)).await? else {
                unreachable!("getOrder is answered with an order")
            };
            let (orders, skipped) = split(vec![*order]);
            check.repaired += 1;
            let write = Write::Orders {
                orders: &orders,
                watermark: None,
                // The comparison counted the orders read; a repair adds only what it stored.
                progress: PageProgress {
                    fetched: 0,
                    ..progress_of(orders.len(), &skipped)
                },
            };
            self.commit(&*check, write).await?;
            let said = format!("{label}: fetching {} of {} again.", check.repaired, check.repairs.len());
            self.pace.note(&said).await;
        }
        Ok(())
    }

    /// Javelin's store compared with these orders: the ids it lacks or holds in an older state.
    pub(super) async fn outdated(&self, orders: &[Order]) -> Result<Vec<String>, Failure> {
        let ids: Vec<&str> = orders.iter().map(|order| order.external_id.as_str()).collect();
        let held = self.inner.storage.order_versions(self.job.connection_id, &ids).await?;
        let mut seen = HashSet::new();
        Ok(orders
            .iter()
            .filter(|order| seen.insert(order.external_id.as_str()))
            // Reports give whole seconds where the API may give fractions.
            .filter(|order| {
                held.get(&order.external_id)
                    .is_none_or(|at| at.datetime().unix_timestamp() < order.updated_at.unix_timestamp())
            })
            .map(|order| order.external_id.clone())
            .collect())
    }

    async fn reconcile_flipkart(&mut self, check: &mut Check) -> Result<(), Failure> {
        let now = self.inner.clock.now();
        let since = *check.since.get_or_insert(now - time::Duration::days(FLIPKART_DAYS));
        let streams = self.connector.order_streams();
        let mut place = check.place.clone().unwrap_or_default();
        while let Some(stream) = streams.get(place.stream) {
            let page_token = place.page.clone();
            let request = Request::Orders {
                stream,
                since,
                page: page_token.as_deref(),
            };
            let Answer::Orders(page) = self.call(&request).await? else {
                unreachable!("an orders request is answered with orders")
            };
            let (orders, skipped) = split(page.orders);
            place = place.then(page.next, Some(since));
            check.place = Some(place.clone());
            check.compared += orders.len() as u64;
            // Watermarks stay where sync left them: this reads behind them.
            let write = Write::Orders {
                orders: &orders,
                watermark: None,
                progress: progress_of(orders.len(), &skipped),
            };
            self.commit(&*check, write).await?;
            if self.stop.is_cancelled() {
                return Err(Failure::Stopped);
            }
        }
        Ok(())
    }
}
