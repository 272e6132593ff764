//! The Reports API calls: createReport, getReport, getReportDocument, and the download of the
//! document from its short-lived URL.

use javelin_model::Order;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::document::{DocumentError, OrdersDocument};
use super::{CREATE_REPORT, GET_REPORT, GET_REPORT_DOCUMENT, MAX_WINDOW};
use crate::amazon::{Amazon, SpRequest, rfc3339};
use crate::connector::Skipped;
use crate::http::{malformed, unreachable};
use crate::{MarketplaceError, Session};

/// Where Amazon is with a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProcessingStatus {
    InQueue,
    InProgress,
    Done,
    /// Cancelled, or (mostly) no data in the window.
    Cancelled,
    Fatal,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: String,
    pub processing_status: ProcessingStatus,
    #[serde(default)]
    pub report_document_id: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportDocument {
    pub report_document_id: String,
    pub url: String,
    #[serde(default)]
    pub compression_algorithm: Option<String>,
}

/// Why a download did not deliver its orders.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The URL's five minutes are over (or it was refused): ask getReportDocument again.
    #[error("the report's download link has expired ({0})")]
    Expired(String),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error(transparent)]
    Marketplace(#[from] MarketplaceError),
}

impl Amazon {
    /// `createReport` for the account's region; a window over 30 days is refused here, before
    /// Amazon would answer it with an error where the rows should be.
    pub async fn create_report(
        &self,
        session: &Session<'_>,
        report_type: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<String, MarketplaceError> {
        if end - start > MAX_WINDOW || end < start {
            return Err(MarketplaceError::Rejected {
                detail: format!(
                    "a report window must run forwards and cover at most 30 days ({} to {} does not)",
                    rfc3339(start)?,
                    rfc3339(end)?
                ),
            });
        }
        let (base, marketplace_ids) = self.account_base(session.account)?;
        let body = json!({
            "reportType": report_type,
            "marketplaceIds": marketplace_ids,
            "dataStartTime": rfc3339(start)?,
            "dataEndTime": rfc3339(end)?,
        });
        let request = SpRequest {
            method: reqwest::Method::POST,
            path: "/reports/2021-06-30/reports",
            query: &[],
            body: Some(&body),
        };
        let (url, answer) = self.sp_call(&base, &request, session, &CREATE_REPORT).await?;
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            report_id: String,
        }
        serde_json::from_str::<Created>(&answer.body)
            .map(|created| created.report_id)
            .map_err(|err| malformed(&url, format!("createReport answer: {err}")))
    }

    /// `getReport`: where Amazon is with it.
    pub async fn get_report(&self, session: &Session<'_>, report_id: &str) -> Result<Report, MarketplaceError> {
        let (base, _) = self.account_base(session.account)?;
        let path = format!("/reports/2021-06-30/reports/{}", encode(report_id));
        let (url, answer) = self.sp_get(&base, &path, &[], session, &GET_REPORT).await?;
        serde_json::from_str(&answer.body).map_err(|err| malformed(&url, format!("getReport answer: {err}")))
    }

    /// `getReportDocument`: a download URL that works for five minutes.
    pub async fn get_report_document(
        &self,
        session: &Session<'_>,
        document_id: &str,
    ) -> Result<ReportDocument, MarketplaceError> {
        let (base, _) = self.account_base(session.account)?;
        let path = format!("/reports/2021-06-30/documents/{}", encode(document_id));
        let (url, answer) = self.sp_get(&base, &path, &[], session, &GET_REPORT_DOCUMENT).await?;
        serde_json::from_str(&answer.body).map_err(|err| malformed(&url, format!("getReportDocument answer: {err}")))
    }

    /// Starts the download of an all-orders document: a plain GET, without SP-API headers.
    pub async fn download_orders(&self, document: &ReportDocument) -> Result<Download, DownloadError> {
        let url = document.url.as_str();
        let response = self
            .http
            .get(url)
            .timeout(DOWNLOAD_TIMEOUT)
            .send()
            .await
            .map_err(|err| unreachable(url, &err))?;
        let status = response.status();
        if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::NOT_FOUND {
            let body = response.text().await.unwrap_or_default();
            let message = body
                .split("<Message>")
                .nth(1)
                .and_then(|rest| rest.split("</Message>").next())
                .unwrap_or("refused")
                .to_owned();
            return Err(DownloadError::Expired(message));
        }
        if !status.is_success() {
            return Err(MarketplaceError::Unavailable {
                host: crate::http::host_of(url),
                cause: crate::Unavailability::Server {
                    status: status.as_u16(),
                    detail: "the report download failed".into(),
                },
            }
            .into());
        }
        let charset = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').find_map(|part| part.trim().strip_prefix("charset=")))
            .map(|label| label.trim_matches('"').to_owned());
        Ok(Download {
            url: document.url.clone(),
            response,
            document: Some(OrdersDocument::new(charset.as_deref())),
        })
    }
}

/// How long a document's download may take in all. The client's minute is for API calls: a
/// download is read only as fast as its orders are stored, and a big seller's month takes
/// longer than that. A download that stalls is still given up after the client's read timeout.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(6 * 60 * 60);

/// A document being downloaded, read in batches of orders as its bytes arrive.
pub struct Download {
    url: String,
    response: reqwest::Response,
    document: Option<OrdersDocument>,
}

impl Download {
    /// The next orders whose rows have all arrived: at least `at_least` of them unless the
    /// document ends first; `None` after the last.
    pub async fn next_orders(&mut self, at_least: usize) -> Result<Option<Batch>, DownloadError> {
        let mut orders = Vec::new();
        loop {
            let Some(document) = self.document.as_mut() else {
                return Ok(None);
            };
            let chunk = self.response.chunk().await.map_err(|err| {
                DownloadError::Document(DocumentError::Truncated(unreachable(&self.url, &err).to_string()))
            })?;
            match chunk {
                Some(bytes) => {
                    document.push(&bytes)?;
                    orders.append(&mut document.take_orders());
                    if orders.len() >= at_least.max(1) {
                        return Ok(Some(orders));
                    }
                }
                None => {
                    let Some(document) = self.document.take() else {
                        return Ok(None);
                    };
                    orders.extend(document.finish()?.0);
                    return Ok(Some(orders));
                }
            }
        }
    }
}

type Batch = Vec<Result<Order, Skipped>>;

/// An id in a URL path.
fn encode(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
