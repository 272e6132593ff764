//! Running one job: its connection's streams read page by page at the marketplace's pace, each
//! page stored in one transaction with the job's progress and where it resumes (and, with a
//! stream's last page, the stream's watermark or the removal of stock no longer reported).
//! History imports through Amazon's reports are in [`history`].

mod history;
mod reconcile;

pub use history::IMPORT_BATCH;
pub(crate) use history::Plan;
pub(crate) use reconcile::days_checked;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use javelin_core::connections::explain;
use javelin_marketplaces::amazon::Amazon;
use javelin_marketplaces::amazon::reports::{Report, ReportDocument};
use javelin_marketplaces::{
    Account, Connector, Credential, MarketplaceError, Operation, OrdersPage, Pace, Platform, Session, Skipped,
    StockPage, StockScope,
};
use javelin_model::{Order, StockLevel};
use javelin_storage::{ConnectionStatus, PageProgress, StorageError, SyncJob, SyncKind, Timestamp};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::Inner;
use crate::pacing::describe_rate;
use crate::tokens::TokenError;

/// Waits longer than this are said on the job, so that the seller knows why it is slow.
const NOTE_WAITS_FROM: Duration = Duration::from_secs(3);

/// How a job ended.
pub(crate) enum Outcome {
    /// `again` when the seller moved a watermark back while it ran: another run reads from there.
    Succeeded { again: bool },
    /// Failed with the seller's words; `credentials` when the connection's credentials were
    /// refused (the connection turns to Connection Error).
    Failed { message: String, credentials: bool },
    /// Told to stop, or its lease was lost: another worker carries on.
    Stopped,
}

/// Where a job is: the stream it reads, the page of it to read next, and where that stream's
/// reading began (the next pages must be asked for with the same start).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Place {
    stream: usize,
    page: Option<String>,
    #[serde(default)]
    since: Option<Timestamp>,
}

impl Place {
    /// Where reading goes after a page: its next page (read with the same start), or the
    /// next stream.
    fn then(&self, next_page: Option<String>, since: Option<Timestamp>) -> Place {
        match next_page {
            Some(token) => Place {
                stream: self.stream,
                page: Some(token),
                since,
            },
            None => Place {
                stream: self.stream + 1,
                ..Place::default()
            },
        }
    }
}

/// Why a call did not give an answer to store.
enum Failure {
    Stopped,
    Failed {
        message: String,
        credentials: bool,
    },
    /// The marketplace refused the request itself (a stale page token, say).
    Rejected(MarketplaceError),
}

impl From<StorageError> for Failure {
    fn from(err: StorageError) -> Self {
        tracing::error!(error = %err, "sync storage failed");
        Failure::Failed {
            message: "Javelin could not store what it read; it will try again at the next sync.".into(),
            credentials: false,
        }
    }
}

impl Failure {
    fn outcome(self, platform: Platform) -> Outcome {
        match self {
            Self::Stopped => Outcome::Stopped,
            Self::Failed { message, credentials } => Outcome::Failed { message, credentials },
            Self::Rejected(err) => Outcome::Failed {
                message: explain(platform, &err),
                credentials: false,
            },
        }
    }
}

/// The pacing of one job's calls: the engine's buckets for this connection, and a word on the
/// job when the wait is long.
struct JobPace<'a> {
    inner: &'a Inner,
    job: &'a SyncJob,
    platform: Platform,
    throttled: AtomicBool,
    noted: AtomicBool,
}

impl JobPace<'_> {
    async fn note(&self, text: &str) {
        match self
            .inner
            .storage
            .set_job_note(self.job.id, &self.inner.owner, text)
            .await
        {
            // Whoever watches the job sees the note.
            Ok(true) => self.inner.emit(self.job),
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "cannot note a job's progress"),
        }
    }

    async fn clear_note(&self) {
        if self.noted.swap(false, Ordering::SeqCst) {
            self.note("").await;
        }
    }
}

#[async_trait::async_trait]
impl Pace for JobPace<'_> {
    async fn ready(&self, operation: &Operation) {
        let connection = self.job.connection_id;
        let wait = self.inner.pacer.wait_needed(connection, operation);
        if self.throttled.swap(false, Ordering::SeqCst) || wait >= NOTE_WAITS_FROM {
            let pace = describe_rate(self.inner.pacer.rate(connection, operation));
            let text = format!("{} is limiting requests; continuing at {pace}.", self.platform.name());
            self.note(&text).await;
            self.noted.store(true, Ordering::SeqCst);
        }
        self.inner.pacer.acquire(connection, operation).await;
    }

    fn rate_observed(&self, operation: &Operation, rate: f64) {
        self.inner.pacer.observe_rate(self.job.connection_id, operation, rate);
    }

    fn throttled(&self, operation: &Operation, retry_after: Option<Duration>) {
        let pause = self
            .inner
            .pacer
            .throttled(self.job.connection_id, operation, retry_after);
        tracing::info!(job = self.job.id, operation = operation.name, ?pause, "throttled");
        self.throttled.store(true, Ordering::SeqCst);
    }
}

/// A call a job makes.
enum Request<'a> {
    Orders {
        stream: &'a str,
        since: Timestamp,
        page: Option<&'a str>,
    },
    Stock {
        stream: &'a str,
        page: Option<&'a str>,
    },
    /// Amazon's orders placed since then that wait to be shipped.
    OpenOrders {
        since: Timestamp,
        page: Option<&'a str>,
    },
    /// Amazon's Reports API, for history imports.
    CreateReport {
        report_type: &'a str,
        start: Timestamp,
        end: Timestamp,
    },
    GetReport(&'a str),
    GetReportDocument(&'a str),
    /// Amazon's getOrder, for reconciliation.
    GetOrder(&'a str),
}

enum Answer {
    Orders(OrdersPage),
    Stock(StockPage),
    ReportId(String),
    Report(Report),
    Document(ReportDocument),
    Order(Box<Result<Order, Skipped>>),
}

impl Request<'_> {
    async fn send(
        &self,
        connector: &dyn Connector,
        amazon: &Amazon,
        session: &Session<'_>,
    ) -> Result<Answer, MarketplaceError> {
        match *self {
            Self::Orders { stream, since, page } => connector
                .orders_page(session, stream, since.datetime(), page)
                .await
                .map(Answer::Orders),
            Self::Stock { stream, page } => connector.stock_page(session, stream, page).await.map(Answer::Stock),
            Self::OpenOrders { since, page } => amazon
                .open_orders(session, since.datetime(), page)
                .await
                .map(Answer::Orders),
            Self::CreateReport {
                report_type,
                start,
                end,
            } => amazon
                .create_report(session, report_type, start.datetime(), end.datetime())
                .await
                .map(Answer::ReportId),
            Self::GetReport(id) => amazon.get_report(session, id).await.map(Answer::Report),
            Self::GetReportDocument(id) => amazon.get_report_document(session, id).await.map(Answer::Document),
            Self::GetOrder(id) => amazon
                .get_order(session, id)
                .await
                .map(|order| Answer::Order(Box::new(order))),
        }
    }
}

/// What one page stores, with the job's progress.
enum Write<'a> {
    Orders {
        orders: &'a [Order],
        /// With a stream's last page: the stream, where it was read from and its new watermark.
        watermark: Option<(&'a str, Timestamp, Timestamp)>,
        progress: PageProgress,
    },
    Stock {
        levels: &'a [StockLevel],
        /// With a stream's last page: what it replaces, read since when.
        prune: Option<(&'a StockScope, Timestamp)>,
        progress: PageProgress,
    },
}

/// A job being run.
struct Run<'a> {
    inner: &'a Inner,
    job: &'a SyncJob,
    platform: Platform,
    connector: &'a dyn Connector,
    account: Account,
    token: Option<String>,
    pace: JobPace<'a>,
    stop: &'a CancellationToken,
    /// A watermark stayed where the seller moved it back to.
    again: AtomicBool,
}

pub(crate) async fn run(inner: &Inner, job: &SyncJob, stop: &CancellationToken) -> Outcome {
    let failed = |message: &str| Outcome::Failed {
        message: message.to_owned(),
        credentials: false,
    };
    let connection = match inner.storage.get_connection(job.connection_id).await {
        Ok(Some(connection)) if connection.active => connection,
        Ok(_) => return failed("The account was disconnected; nothing more is synced from it."),
        Err(err) => return Failure::from(err).outcome(Platform::Amazon),
    };
    let Ok(platform) = connection.platform.parse::<Platform>() else {
        return failed("Javelin cannot sync this platform.");
    };
    if connection.status == ConnectionStatus::Incomplete {
        return failed(&connection.status_message);
    }
    let account = match inner.store.account(&connection, inner.clock.now()).await {
        Ok(Ok(account)) => account,
        Ok(Err(err)) => {
            return Outcome::Failed {
                message: format!(
                    "The stored credentials cannot be read ({err}). Disconnect and connect the account again."
                ),
                credentials: true,
            };
        }
        Err(err) => return Failure::from(err).outcome(platform),
    };
    let mut run = Run {
        inner,
        job,
        platform,
        connector: inner.connectors.get(platform),
        token: account.access_token.clone(),
        account,
        pace: JobPace {
            inner,
            job,
            platform,
            throttled: AtomicBool::new(false),
            noted: AtomicBool::new(false),
        },
        stop,
        again: AtomicBool::new(false),
    };
    let result = match job.kind {
        SyncKind::Orders => run.orders().await,
        SyncKind::Inventory => run.stock().await,
        SyncKind::History => run.history().await,
        SyncKind::Reconcile => run.reconcile().await,
    };
    match result {
        Ok(()) => Outcome::Succeeded {
            again: run.again.load(Ordering::SeqCst),
        },
        Err(failure) => failure.outcome(platform),
    }
}

impl Run<'_> {
    /// Where the job resumes: its cursor, or the start.
    fn place(&self) -> Place {
        self.job
            .cursor
            .as_deref()
            .and_then(|cursor| serde_json::from_str(cursor).ok())
            .unwrap_or_default()
    }

    /// Calls the marketplace until it answers: waiting out throttling (the pacer pauses),
    /// retrying failures with growing delays, and getting a new access token once when the
    /// marketplace refuses the one it has.
    async fn call(&mut self, request: &Request<'_>) -> Result<Answer, Failure> {
        let settings = &self.inner.settings;
        let mut delays = backon::BackoffBuilder::build(
            backon::ExponentialBuilder::default()
                .with_min_delay(settings.retry_delay)
                .with_max_delay(Duration::from_secs(60))
                .with_jitter()
                .without_max_times(),
        );
        let mut failures = 0;
        let mut refused: Option<String> = None;
        loop {
            let token = match &self.token {
                Some(token) => token.clone(),
                None => self.new_token(refused.as_deref()).await?,
            };
            let session = Session {
                account: &self.account,
                access_token: &token,
                pace: &self.pace,
            };
            let result = tokio::select! {
                _ = self.stop.cancelled() => return Err(Failure::Stopped),
                result = request.send(self.connector, self.inner.connectors.amazon(), &session) => result,
            };
            let err = match result {
                Ok(answer) => return Ok(answer),
                Err(err) => err,
            };
            match &err {
                MarketplaceError::Throttled { .. } | MarketplaceError::Unavailable { .. } => {
                    failures += 1;
                    tracing::info!(job = self.job.id, error = %err, failures, "marketplace call failed; retrying");
                    if failures > settings.max_failures {
                        return Err(Failure::Failed {
                            message: explain(self.platform, &err),
                            credentials: false,
                        });
                    }
                    if matches!(err, MarketplaceError::Unavailable { .. }) {
                        let delay = delays.next().unwrap_or(Duration::from_secs(60));
                        tokio::select! {
                            _ = self.stop.cancelled() => return Err(Failure::Stopped),
                            _ = tokio::time::sleep(delay) => {}
                        }
                    }
                }
                MarketplaceError::Unauthorized {
                    credential: Credential::Permission,
                    ..
                } if refused.is_none() => {
                    // Revoked or expired early: one new token, one more try.
                    refused = Some(token);
                    self.token = None;
                }
                MarketplaceError::Unauthorized { .. } | MarketplaceError::MissingCredential(_) => {
                    return Err(Failure::Failed {
                        message: explain(self.platform, &err),
                        credentials: true,
                    });
                }
                MarketplaceError::Rejected { .. } => return Err(Failure::Rejected(err)),
            }
        }
    }

    async fn new_token(&mut self, refused: Option<&str>) -> Result<String, Failure> {
        let got = self
            .inner
            .tokens
            .get(self.job.connection_id, &self.account, self.connector, refused)
            .await;
        match got {
            Ok(token) => {
                self.token = Some(token.clone());
                Ok(token)
            }
            Err(TokenError::Storage(err)) => Err(err.into()),
            Err(TokenError::Marketplace(err)) if err.is_transient() => Err(Failure::Failed {
                message: explain(self.platform, &err),
                credentials: false,
            }),
            Err(TokenError::Marketplace(err)) => Err(Failure::Failed {
                message: explain(self.platform, &err),
                credentials: true,
            }),
        }
    }

    /// Stores a page in one transaction with the job's progress and where it resumes, if the
    /// job is still this worker's; `last` adds what ends the stream.
    async fn commit(&self, next: &impl Serialize, write: Write<'_>) -> Result<(), Failure> {
        let storage = &self.inner.storage;
        let connection = self.job.connection_id;
        let now = self.inner.clock.now();
        let mut tx = storage.begin().await?;
        let progress = match write {
            Write::Orders {
                orders,
                watermark,
                progress,
            } => {
                let summary = tx.upsert_orders(connection, self.platform.code(), orders, now).await?;
                if let Some((stream, since, at)) = watermark
                    && !tx
                        .set_watermark(connection, SyncKind::Orders, stream, since, at, now)
                        .await?
                {
                    self.again.store(true, Ordering::SeqCst);
                }
                PageProgress {
                    created: summary.created,
                    updated: summary.updated,
                    ..progress
                }
            }
            Write::Stock {
                levels,
                prune,
                progress,
            } => {
                let written = tx.upsert_stock(connection, levels, now).await?;
                if let Some((scope, since)) = prune {
                    let marketplace = scope.marketplace_id.as_deref().unwrap_or("");
                    tx.prune_stock(connection, marketplace, scope.location.as_deref(), since)
                        .await?;
                }
                PageProgress {
                    updated: written,
                    ..progress
                }
            }
        };
        let cursor = serde_json::to_string(next).unwrap_or_default();
        if !tx
            .record_page(self.job.id, &self.inner.owner, &progress, Some(&cursor))
            .await?
        {
            // Another worker holds the job now: what this one read is left to it.
            return Err(Failure::Stopped);
        }
        tx.commit().await?;
        self.inner.emit_page(self.job);
        tracing::debug!(
            job = self.job.id,
            kind = self.job.kind.code(),
            fetched = progress.fetched,
            created = progress.created,
            updated = progress.updated,
            skipped = progress.skipped,
            "page stored"
        );
        self.pace.clear_note().await;
        if let Ok(Some(job)) = storage.get_job(self.job.id).await {
            self.inner.emit(&job);
        }
        Ok(())
    }

    async fn orders(&mut self) -> Result<(), Failure> {
        let streams = self.connector.order_streams();
        let mut place = self.place();
        let mut resumed = place.page.is_some();
        let now = self.inner.clock.now();
        // A stream's last page moves its watermark to where the marketplace says it stands, or
        // to shortly before this job began.
        let started = self.job.started_at.unwrap_or(now) - time::Duration::minutes(2);
        while let Some(stream) = streams.get(place.stream) {
            let connection = self.job.connection_id;
            let since = match place.since.filter(|_| place.page.is_some()) {
                Some(since) => since,
                None => self
                    .inner
                    .storage
                    .watermark(connection, SyncKind::Orders, stream)
                    .await?
                    .unwrap_or(now - self.inner.settings.history),
            };
            let page_token = place.page.clone();
            let request = Request::Orders {
                stream,
                since,
                page: page_token.as_deref(),
            };
            let page = match self.call(&request).await {
                Ok(Answer::Orders(page)) => Ok(page),
                Ok(_) => unreachable!("an orders request is answered with orders"),
                Err(failure) => Err(failure),
            };
            let page = match page {
                Err(Failure::Rejected(err)) if resumed => {
                    // A page token too old to use: read the stream again from its watermark.
                    tracing::info!(job = self.job.id, error = %err, "restarting a stream");
                    place.page = None;
                    place.since = None;
                    resumed = false;
                    continue;
                }
                other => other?,
            };
            resumed = false;
            let (orders, skipped) = split(page.orders);
            let last = page.next.is_none();
            let next = place.then(page.next, Some(since));
            let watermark = page.watermark.map_or(started, Timestamp::from_datetime).max(since);
            let write = Write::Orders {
                orders: &orders,
                watermark: last.then_some((stream.as_str(), since, watermark)),
                progress: progress_of(orders.len(), &skipped),
            };
            self.commit(&next, write).await?;
            place = next;
            if self.stop.is_cancelled() {
                return Err(Failure::Stopped);
            }
        }
        Ok(())
    }

    async fn stock(&mut self) -> Result<(), Failure> {
        let streams = self.connector.stock_streams(&self.account);
        let mut place = self.place();
        let mut restarted = false;
        let read_since = self.job.started_at.unwrap_or_else(|| self.inner.clock.now());
        while let Some((stream, scope)) = streams.get(place.stream) {
            let page_token = place.page.clone();
            let request = Request::Stock {
                stream,
                page: page_token.as_deref(),
            };
            let page = match self.call(&request).await {
                Ok(Answer::Stock(page)) => Ok(page),
                Ok(_) => unreachable!("a stock request is answered with stock"),
                Err(failure) => Err(failure),
            };
            let page = match page {
                Err(Failure::Rejected(err)) if place.page.is_some() && !restarted => {
                    // Amazon's FBA page tokens live 30 seconds: read the stream again.
                    tracing::info!(job = self.job.id, error = %err, "restarting a stock stream");
                    place.page = None;
                    restarted = true;
                    continue;
                }
                other => other?,
            };
            let (levels, skipped) = split(page.levels);
            let last = page.next.is_none();
            let next = place.then(page.next, None);
            let write = Write::Stock {
                levels: &levels,
                prune: last.then_some((scope, read_since)),
                progress: progress_of(levels.len(), &skipped),
            };
            self.commit(&next, write).await?;
            if last {
                restarted = false;
            }
            place = next;
            if self.stop.is_cancelled() {
                return Err(Failure::Stopped);
            }
        }
        Ok(())
    }
}

/// The records to store, and the ones skipped.
fn split<T>(results: Vec<Result<T, Skipped>>) -> (Vec<T>, Vec<Skipped>) {
    let mut kept = Vec::with_capacity(results.len());
    let mut skipped = Vec::new();
    for result in results {
        match result {
            Ok(record) => kept.push(record),
            Err(reason) => {
                tracing::warn!(id = ?reason.id, reason = %reason.reason, "skipped a record the marketplace sent");
                skipped.push(reason);
            }
        }
    }
    (kept, skipped)
}

fn progress_of(kept: usize, skipped: &[Skipped]) -> PageProgress {
    PageProgress {
        fetched: (kept + skipped.len()) as u64,
        created: 0,
        updated: 0,
        skipped: skipped.len() as u64,
        skipped_reasons: skipped
            .iter()
            .map(|s| format!("{}: {}", s.id.as_deref().unwrap_or("(no id)"), s.reason))
            .collect(),
    }
}
