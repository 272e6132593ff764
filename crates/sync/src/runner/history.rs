//! An Amazon account's order history through the all-orders reports: one report per 30-day
//! window (Amazon's limit), all requested at once so that they queue at Amazon together, then
//! each awaited, downloaded and stored as it streams in, through the same upsert as sync (the
//! newer state of an order wins, whichever source brought it). The plan of windows, with each
//! one's report and progress, is the job's cursor: a job taken over by another worker carries
//! on where it stood.

use std::time::Duration;

use javelin_marketplaces::Skipped;
use javelin_marketplaces::amazon::reports::{self, DownloadError, ProcessingStatus};
use javelin_model::Order;
use javelin_storage::{PageProgress, Timestamp};
use serde::{Deserialize, Serialize};

use super::reconcile::Check;
use super::{Answer, Failure, Request, Run, Write, progress_of, split};

/// Downloads whose link expired, or that broke off, before a window is given up.
const DOWNLOAD_TRIES: usize = 3;

/// Orders a transaction of an import stores, at least (a download's chunks are gathered until
/// they hold as many): enough to spread a transaction's fixed costs (the commit, the search
/// index's new segment) thin, few enough to stay a small part of the memory.
pub const IMPORT_BATCH: usize = 1000;

/// Why reading a download stopped: the download's own trouble, which another link may cure, or
/// the job's.
enum ReadFailure {
    Download(DownloadError),
    Job(Failure),
}

impl From<DownloadError> for ReadFailure {
    fn from(err: DownloadError) -> Self {
        Self::Download(err)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Waiting,
    Requested,
    Downloading,
    Stored,
    /// Amazon had no orders for the window.
    Empty,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Window {
    start: Timestamp,
    end: Timestamp,
    #[serde(default)]
    report_id: Option<String>,
    #[serde(default)]
    stage: Stage,
    /// Orders of the window stored so far.
    #[serde(default)]
    stored: u64,
}

/// What a history job imports, and how far it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    windows: Vec<Window>,
    /// For a new connection: the orders placed since then that still wait to be shipped come
    /// first, through searchOrders, before any report is ready.
    #[serde(default)]
    open_since: Option<Timestamp>,
    #[serde(default)]
    open_page: Option<String>,
}

impl Plan {
    /// Windows of at most 30 days from `from` to `to`, newest first: recent history matters most.
    pub(crate) fn new(from: Timestamp, to: Timestamp) -> Self {
        let mut windows = Vec::new();
        let mut end = to;
        while end > from {
            // Both ends count: an order on a boundary comes in two windows, and is stored once.
            let start = (end - reports::MAX_WINDOW).max(from);
            windows.push(Window {
                start,
                end,
                report_id: None,
                stage: Stage::Waiting,
                stored: 0,
            });
            end = start;
        }
        Self {
            windows,
            open_since: None,
            open_page: None,
        }
    }

    /// The same, the open orders placed since `since` first.
    pub(crate) fn open_orders_first(self, since: Timestamp) -> Self {
        Self {
            open_since: Some(since),
            ..self
        }
    }

    pub(crate) fn to_cursor(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a job does with the orders of a report document.
pub(super) enum Sink<'p> {
    /// A history import stores them, counting them on their window.
    Store { plan: &'p mut Plan, at: usize },
    /// A reconciliation notes the ones Javelin lacks or holds in an older state.
    Compare { check: &'p mut Check },
}

impl Sink<'_> {
    /// A download starts again from the top.
    fn restart(&mut self) {
        match self {
            Self::Store { plan, at } => plan.windows[*at].stored = 0,
            Self::Compare { check } => {
                check.compared = 0;
                check.repairs.clear();
            }
        }
    }
}

pub(super) fn day(at: Timestamp) -> String {
    at.datetime().date().to_string()
}

impl Run<'_> {
    pub(super) async fn history(&mut self) -> Result<(), Failure> {
        let plan = self
            .job
            .cursor
            .as_deref()
            .and_then(|cursor| serde_json::from_str::<Plan>(cursor).ok());
        let Some(mut plan) = plan else {
            return Err(Failure::Failed {
                message: "This history import lost its plan; start it again from the connection's card.".into(),
                credentials: false,
            });
        };
        self.open_orders(&mut plan).await?;
        let count = plan.windows.len();
        // Every report first: Amazon works through one seller's reports one after another.
        for at in 0..count {
            if plan.windows[at].stage != Stage::Waiting {
                continue;
            }
            let window = &plan.windows[at];
            let request = Request::CreateReport {
                report_type: reports::ALL_ORDERS_BY_ORDER_DATE,
                start: window.start,
                end: window.end,
            };
            let Answer::ReportId(id) = self.call(&request).await? else {
                unreachable!("createReport is answered with a report id")
            };
            plan.windows[at].report_id = Some(id);
            plan.windows[at].stage = Stage::Requested;
            self.save(&plan).await?;
        }
        for at in 0..count {
            if matches!(plan.windows[at].stage, Stage::Stored | Stage::Empty) {
                continue;
            }
            let label = format!(
                "Window {} of {count} ({} to {})",
                at + 1,
                day(plan.windows[at].start),
                day(plan.windows[at].end)
            );
            let Some(report_id) = plan.windows[at].report_id.clone() else {
                continue;
            };
            let Some(document_id) = self.await_report(&report_id, &label).await? else {
                plan.windows[at].stage = Stage::Empty;
                self.save(&plan).await?;
                continue;
            };
            plan.windows[at].stage = Stage::Downloading;
            self.download(Sink::Store { plan: &mut plan, at }, &document_id, &label)
                .await?;
            plan.windows[at].stage = Stage::Stored;
            self.save(&plan).await?;
        }
        Ok(())
    }

    /// The open orders the plan asks for first, a page at a time (within searchOrders' burst for
    /// all but the biggest sellers).
    async fn open_orders(&mut self, plan: &mut Plan) -> Result<(), Failure> {
        let mut stored = 0;
        while let Some(since) = plan.open_since {
            let page_token = plan.open_page.clone();
            let request = Request::OpenOrders {
                since,
                page: page_token.as_deref(),
            };
            let Answer::Orders(page) = self.call(&request).await? else {
                unreachable!("an orders request is answered with orders")
            };
            let (orders, skipped) = split(page.orders);
            stored += orders.len();
            plan.open_page = page.next;
            if plan.open_page.is_none() {
                plan.open_since = None;
            }
            let write = Write::Orders {
                orders: &orders,
                watermark: None,
                progress: progress_of(orders.len(), &skipped),
            };
            self.commit(&*plan, write).await?;
            self.pace
                .note(&format!("Orders waiting to be shipped first: {stored} stored."))
                .await;
        }
        Ok(())
    }

    /// Asks about a report until Amazon is done with it: its document, or `None` when the
    /// window had no orders.
    pub(super) async fn await_report(&mut self, report_id: &str, label: &str) -> Result<Option<String>, Failure> {
        loop {
            let Answer::Report(report) = self.call(&Request::GetReport(report_id)).await? else {
                unreachable!("getReport is answered with a report")
            };
            let waiting = match report.processing_status {
                ProcessingStatus::Done => {
                    return match report.report_document_id {
                        Some(id) => Ok(Some(id)),
                        None => Err(Failure::Failed {
                            message: format!("{label}: Amazon finished the report but gave no document."),
                            credentials: false,
                        }),
                    };
                }
                ProcessingStatus::Cancelled => return Ok(None),
                ProcessingStatus::Fatal => {
                    return Err(Failure::Failed {
                        message: format!(
                            "{label}: Amazon could not make the report (FATAL). This happens on Amazon's side; \
                             start the import again later."
                        ),
                        credentials: false,
                    });
                }
                ProcessingStatus::InQueue => "waiting in Amazon's queue",
                ProcessingStatus::InProgress => "Amazon is preparing the report",
            };
            self.pace.note(&format!("{label}: {waiting}.")).await;
            self.pause(self.inner.settings.report_poll).await?;
        }
    }

    /// Downloads a report's document and hands its orders to `sink` as they arrive; a link that
    /// expired or a download that broke off is asked for again.
    pub(super) async fn download(&mut self, mut sink: Sink<'_>, document_id: &str, label: &str) -> Result<(), Failure> {
        let mut tries = 0;
        loop {
            tries += 1;
            let Answer::Document(document) = self.call(&Request::GetReportDocument(document_id)).await? else {
                unreachable!("getReportDocument is answered with a document")
            };
            self.pace.note(&format!("{label}: downloading.")).await;
            let failed = match self.read_document(&mut sink, &document, label).await {
                Ok(()) => return Ok(()),
                Err(ReadFailure::Job(failure)) => return Err(failure),
                Err(ReadFailure::Download(failed)) => failed,
            };
            let retried = matches!(
                failed,
                DownloadError::Expired(_) | DownloadError::Document(reports::DocumentError::Truncated(_))
            );
            if tries >= DOWNLOAD_TRIES || !retried {
                return Err(Failure::Failed {
                    message: format!("{label}: the report could not be read: {failed}."),
                    credentials: false,
                });
            }
            tracing::info!(job = self.job.id, error = %failed, "report download failed; asking for a new link");
        }
    }

    /// Reads one download to its end.
    async fn read_document(
        &self,
        sink: &mut Sink<'_>,
        document: &reports::ReportDocument,
        label: &str,
    ) -> Result<(), ReadFailure> {
        let amazon = self.inner.connectors.amazon();
        let mut download = amazon.download_orders(document).await?;
        sink.restart();
        loop {
            let batch = tokio::select! {
                _ = self.stop.cancelled() => return Err(ReadFailure::Job(Failure::Stopped)),
                batch = download.next_orders(IMPORT_BATCH) => batch?,
            };
            let Some(batch) = batch else {
                return Ok(());
            };
            self.take(sink, batch, label).await.map_err(ReadFailure::Job)?;
        }
    }

    /// Hands a batch of a report's orders to `sink`, in one transaction.
    async fn take(&self, sink: &mut Sink<'_>, batch: Vec<Result<Order, Skipped>>, label: &str) -> Result<(), Failure> {
        let (orders, skipped) = split(batch);
        // A report covers the whole region: the marketplaces this connection syncs stay.
        let synced = &self.account.marketplace_ids;
        let orders: Vec<Order> = orders
            .into_iter()
            .filter(|order| synced.is_empty() || order.marketplace_id.as_ref().is_some_and(|id| synced.contains(id)))
            .collect();
        let said = match sink {
            Sink::Store { plan, at } => {
                plan.windows[*at].stored += orders.len() as u64;
                let write = Write::Orders {
                    orders: &orders,
                    watermark: None,
                    progress: progress_of(orders.len(), &skipped),
                };
                self.commit(&**plan, write).await?;
                format!("{label}: downloading, {} orders stored.", plan.windows[*at].stored)
            }
            Sink::Compare { check } => {
                let outdated = self.outdated(&orders).await?;
                check.compared += orders.len() as u64;
                check.repairs.extend(outdated);
                let write = Write::Orders {
                    orders: &[],
                    watermark: None,
                    progress: progress_of(orders.len(), &skipped),
                };
                self.commit(&**check, write).await?;
                format!(
                    "{label}: {} orders compared, {} to fetch again.",
                    check.compared,
                    check.repairs.len()
                )
            }
        };
        self.pace.note(&said).await;
        Ok(())
    }

    /// Records the plan (or any cursor) as the job's cursor.
    pub(super) async fn save(&self, plan: &impl Serialize) -> Result<(), Failure> {
        let write = Write::Orders {
            orders: &[],
            watermark: None,
            progress: PageProgress::default(),
        };
        self.commit(plan, write).await
    }

    pub(super) async fn pause(&self, wait: Duration) -> Result<(), Failure> {
        tokio::select! {
            _ = self.stop.cancelled() => Err(Failure::Stopped),
            _ = tokio::time::sleep(wait) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_covers_the_span_in_windows_amazon_accepts_newest_first() {
        let to = Timestamp::parse_rfc3339("2026-11-27T12:00:00Z").expect("time");
        let from = to - time::Duration::days(90);
        let plan = Plan::new(from, to);
        assert_eq!(plan.windows.len(), 3, "90 days in windows of 30");
        assert_eq!(plan.windows[0].end, to);
        assert_eq!(plan.windows.last().map(|w| w.start), Some(from));
        for pair in plan.windows.windows(2) {
            assert_eq!(pair[1].end, pair[0].start, "no gap, no overlap");
        }
        assert!(
            plan.windows
                .iter()
                .all(|w| w.end.datetime() - w.start.datetime() <= reports::MAX_WINDOW)
        );
        let again: Plan = serde_json::from_str(&plan.to_cursor()).expect("a cursor reads back");
        assert_eq!(again, plan);
        assert!(Plan::new(to, to).windows.is_empty());
    }
}
