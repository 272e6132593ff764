//! Reports API 2021-06-30 for the two all-orders reports: `createReport`, `getReport`,
//! `getReportDocument`, and the presigned download that S3 serves. A seller's reports are built
//! one at a time in creation order, each taking `report_processing / time_scale` of the sandbox
//! clock; their states are worked out from the clock when asked, with no background task.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use javelin_marketplaces::amazon::marketplaces;
use javelin_marketplaces::amazon::reports::{
    ALL_ORDERS_BY_LAST_UPDATE, ALL_ORDERS_BY_ORDER_DATE, CREATE_REPORT, DOCUMENT_URL_LIFETIME, GET_REPORT,
    GET_REPORT_DOCUMENT, MAX_WINDOW, WINDOW_EXCEEDED,
};
use serde::Deserialize;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime};

use super::orders::{SimOrder, format_time};
use super::report_document::{self, Selection};
use super::{AmazonState, SELLER_MARKETPLACES, gate, sp_api_response};
use crate::{Sandbox, SandboxOptions, random_hex};

/// The first report id handed out; Amazon's are long strings of digits.
const FIRST_REPORT_ID: u64 = 52_417_019_001;

/// What a report came to when its processing ended.
#[derive(Clone, Debug)]
enum Outcome {
    Done { document_id: String, rows: usize },
    Cancelled,
    Fatal,
}

struct SimReport {
    id: String,
    report_type: &'static str,
    marketplace_ids: Vec<String>,
    /// The region of the first marketplace asked for: the report covers all of it.
    region: &'static str,
    start: OffsetDateTime,
    end: OffsetDateTime,
    created: OffsetDateTime,
    /// A test asked for it to end `FATAL`.
    fail: bool,
    /// Set the first time it is looked at after its processing ended.
    outcome: Option<Outcome>,
}

struct Document {
    gzip: Vec<u8>,
    charset: &'static str,
}

/// A presigned download URL, by its token.
struct DownloadUrl {
    document_id: String,
    signature: String,
    expires: OffsetDateTime,
}

/// The seller's reports, their documents, and the download URLs handed out.
pub(crate) struct Reports {
    processing: Duration,
    list: Vec<SimReport>,
    documents: HashMap<String, Document>,
    urls: HashMap<String, DownloadUrl>,
    fail_next: bool,
    truncate_next: bool,
    extra_columns: Vec<String>,
}

/// A report of the sandbox seller, as it stands now (see [`Sandbox::amazon_reports`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmazonReport {
    pub id: String,
    pub report_type: String,
    /// `IN_QUEUE`, `IN_PROGRESS`, `DONE`, `CANCELLED` or `FATAL`.
    pub status: &'static str,
    pub data_start: OffsetDateTime,
    pub data_end: OffsetDateTime,
    pub created: OffsetDateTime,
    pub processing_start: Option<OffsetDateTime>,
    pub processing_end: Option<OffsetDateTime>,
    pub document_id: Option<String>,
    /// Rows of its document (0 for a window over 30 days); `None` without a document.
    pub rows: Option<usize>,
}

impl Reports {
    pub(crate) fn new(options: &SandboxOptions) -> Self {
        let seconds = options.report_processing.as_seconds_f64() / options.time_scale.max(1e-9);
        Self {
            processing: Duration::saturating_seconds_f64(seconds.max(0.0)),
            list: Vec::new(),
            documents: HashMap::new(),
            urls: HashMap::new(),
            fail_next: false,
            truncate_next: false,
            extra_columns: Vec::new(),
        }
    }

    /// When each report starts and ends processing: one at a time, in creation order.
    fn schedule(&self) -> Vec<(OffsetDateTime, OffsetDateTime)> {
        let mut free: Option<OffsetDateTime> = None;
        self.list
            .iter()
            .map(|report| {
                let start = free.map_or(report.created, |free| free.max(report.created));
                let end = start.saturating_add(self.processing);
                free = Some(end);
                (start, end)
            })
            .collect()
    }

    /// Gives the reports whose processing ended by `now` their outcome and document, made from
    /// the orders as they stood when it ended.
    fn settle(&mut self, orders: &[SimOrder], now: OffsetDateTime) {
        let schedule = self.schedule();
        for (report, (_, end)) in self.list.iter_mut().zip(schedule) {
            if end > now {
                // The ones after it end later still.
                break;
            }
            if report.outcome.is_none() {
                let (outcome, document) = build(report, orders, end, &self.extra_columns);
                if let Some((id, document)) = document {
                    self.documents.insert(id, document);
                }
                report.outcome = Some(outcome);
            }
        }
    }

    /// Every report with its state at `now` (settled before).
    fn states(&self, now: OffsetDateTime) -> impl Iterator<Item = (&SimReport, AmazonReport)> {
        self.list
            .iter()
            .zip(self.schedule())
            .map(move |(report, (start, end))| {
                let (status, started, ended) = if now < start {
                    ("IN_QUEUE", None, None)
                } else if now < end || report.outcome.is_none() {
                    ("IN_PROGRESS", Some(start), None)
                } else {
                    let status = match report.outcome {
                        Some(Outcome::Done { .. }) => "DONE",
                        Some(Outcome::Cancelled) => "CANCELLED",
                        _ => "FATAL",
                    };
                    (status, Some(start), Some(end))
                };
                let (document_id, rows) = match &report.outcome {
                    Some(Outcome::Done { document_id, rows }) if ended.is_some() => {
                        (Some(document_id.clone()), Some(*rows))
                    }
                    _ => (None, None),
                };
                let state = AmazonReport {
                    id: report.id.clone(),
                    report_type: report.report_type.to_owned(),
                    status,
                    data_start: report.start,
                    data_end: report.end,
                    created: report.created,
                    processing_start: started,
                    processing_end: ended,
                    document_id,
                    rows,
                };
                (report, state)
            })
    }
}

/// A finished report's outcome, and its document if it has one.
fn build(
    report: &SimReport,
    orders: &[SimOrder],
    at: OffsetDateTime,
    extra: &[String],
) -> (Outcome, Option<(String, Document)>) {
    if report.fail {
        return (Outcome::Fatal, None);
    }
    // Since 2023 Amazon finishes a window over 30 days with this text instead of rows.
    let (text, rows) = if report.end - report.start > MAX_WINDOW {
        (WINDOW_EXCEEDED.to_owned(), 0)
    } else {
        let region: Vec<&str> = SELLER_MARKETPLACES
            .into_iter()
            .filter(|id| marketplaces::find(id).is_some_and(|m| m.region == report.region))
            .collect();
        let selection = Selection {
            by_last_update: report.report_type == ALL_ORDERS_BY_LAST_UPDATE,
            start: report.start,
            end: report.end,
            at,
        };
        let in_region = orders
            .iter()
            .filter(|order| region.contains(&order.marketplace_id.as_str()));
        match report_document::render(in_region, &selection, extra) {
            Some(found) => found,
            // Amazon cancels a report that has no data.
            None => return (Outcome::Cancelled, None),
        }
    };
    let charset = report_document::charset(report.region);
    match report_document::compress(&text, charset) {
        Ok(gzip) => {
            // 32 hexadecimal digits, so the slices below are in range.
            let uuid = random_hex(16);
            let document_id = format!(
                "amzn1.spdoc.1.4.{}.{}-{}-{}-{}-{}.T{}",
                report.region.to_lowercase(),
                &uuid[..8],
                &uuid[8..12],
                &uuid[12..16],
                &uuid[16..20],
                &uuid[20..],
                at.unix_timestamp()
            );
            let document = Document {
                gzip,
                charset: charset.label,
            };
            (
                Outcome::Done {
                    document_id: document_id.clone(),
                    rows,
                },
                Some((document_id, document)),
            )
        }
        // Writing into memory does not fail; were it to, Amazon's word for it is FATAL.
        Err(_) => (Outcome::Fatal, None),
    }
}

impl AmazonState {
    fn settle_reports(&mut self, now: OffsetDateTime) {
        self.reports.settle(&self.orders, now);
    }
}

/// `createReport`'s body; `reportOptions` and anything else is ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Specification {
    report_type: String,
    marketplace_ids: Vec<String>,
    data_start_time: Option<String>,
    data_end_time: Option<String>,
}

/// A new report from `createReport`'s body, or what is wrong with the body.
fn specification(body: &[u8], now: OffsetDateTime) -> Result<SimReport, String> {
    let spec: Specification = serde_json::from_slice(body)
        .map_err(|error| format!("The request body is not a valid CreateReportSpecification: {error}"))?;
    let report_type = [ALL_ORDERS_BY_ORDER_DATE, ALL_ORDERS_BY_LAST_UPDATE]
        .into_iter()
        .find(|known| *known == spec.report_type)
        .ok_or_else(|| {
            format!(
                "Invalid reportType {:?}: the sandbox makes only {ALL_ORDERS_BY_ORDER_DATE} and {ALL_ORDERS_BY_LAST_UPDATE}.",
                spec.report_type
            )
        })?;
    if !(1..=25).contains(&spec.marketplace_ids.len()) {
        return Err("marketplaceIds must name between 1 and 25 marketplaces.".into());
    }
    let mut region = None;
    for id in &spec.marketplace_ids {
        let marketplace = marketplaces::find(id).ok_or_else(|| format!("Invalid marketplaceId {id:?}."))?;
        region.get_or_insert(marketplace.region.as_str());
    }
    let time = |name: &str, given: Option<&String>| -> Result<OffsetDateTime, String> {
        let at = match given {
            None => now,
            Some(text) => OffsetDateTime::parse(text, &Rfc3339)
                .map_err(|_| format!("{name} must be an ISO 8601 date-time, not {text:?}."))?,
        };
        if at > now {
            return Err(format!("{name} must not be in the future."));
        }
        Ok(at)
    };
    let start = time("dataStartTime", spec.data_start_time.as_ref())?;
    let end = time("dataEndTime", spec.data_end_time.as_ref())?;
    if start > end {
        return Err("dataStartTime must not be after dataEndTime.".into());
    }
    Ok(SimReport {
        id: String::new(),
        report_type,
        region: region.unwrap_or("NA"),
        marketplace_ids: spec.marketplace_ids,
        start,
        end,
        created: now,
        fail: false,
        outcome: None,
    })
}

fn invalid(message: &str, rate: f64) -> Response {
    let body = json!({"errors": [{"code": "InvalidInput", "message": message, "details": ""}]});
    sp_api_response(StatusCode::BAD_REQUEST, body, Some(rate))
}

fn not_found(message: &str, rate: f64) -> Response {
    let body = json!({"errors": [{"code": "NotFound", "message": message, "details": ""}]});
    sp_api_response(StatusCode::NOT_FOUND, body, Some(rate))
}

/// `POST /reports/2021-06-30/reports`.
pub(crate) async fn create_report(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    let rate = match gate(&sandbox, &headers, &CREATE_REPORT, crate::operation::CREATE_REPORT).await {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let now = sandbox.clock.now();
    let mut report = match specification(&body, now) {
        Ok(report) => report,
        Err(message) => return invalid(&message, rate),
    };
    let mut state = sandbox.amazon();
    let reports = &mut state.reports;
    report.id = (FIRST_REPORT_ID + reports.list.len() as u64).to_string();
    report.fail = std::mem::take(&mut reports.fail_next);
    let id = report.id.clone();
    reports.list.push(report);
    sp_api_response(StatusCode::ACCEPTED, json!({"reportId": id}), Some(rate))
}

/// `GET /reports/2021-06-30/reports/{reportId}`.
pub(crate) async fn get_report(State(sandbox): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match gate(&sandbox, &headers, &GET_REPORT, crate::operation::GET_REPORT).await {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let now = sandbox.clock.now();
    let mut state = sandbox.amazon();
    state.settle_reports(now);
    let Some((report, view)) = state.reports.states(now).find(|(report, _)| report.id == id) else {
        return not_found(&format!("Report {id} was not found."), rate);
    };
    let mut body = json!({
        "reportId": view.id,
        "reportType": view.report_type,
        "marketplaceIds": report.marketplace_ids,
        "dataStartTime": format_time(view.data_start),
        "dataEndTime": format_time(view.data_end),
        "createdTime": format_time(view.created),
        "processingStatus": view.status,
    });
    let fields = [
        ("processingStartTime", view.processing_start.map(format_time)),
        ("processingEndTime", view.processing_end.map(format_time)),
        ("reportDocumentId", view.document_id),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            body[name] = Value::String(value);
        }
    }
    sp_api_response(StatusCode::OK, body, Some(rate))
}

/// Scheme, host and path prefix of the sandbox as the client reached it, from the request
/// that ends with `suffix`.
fn public_base(headers: &HeaderMap, uri: &axum::http::Uri, suffix: &str) -> String {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header(header::HOST.as_str())
        .or_else(|| uri.authority().map(|authority| authority.as_str()))
        .unwrap_or("localhost");
    let prefix = uri.path().strip_suffix(suffix).unwrap_or("/amazon");
    format!("{scheme}://{host}{prefix}")
}

/// `GET /reports/2021-06-30/documents/{reportDocumentId}`: a fresh presigned URL each time.
pub(crate) async fn get_report_document(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    OriginalUri(uri): OriginalUri,
    Path(document_id): Path<String>,
) -> Response {
    let rate = match gate(
        &sandbox,
        &headers,
        &GET_REPORT_DOCUMENT,
        crate::operation::GET_REPORT_DOCUMENT,
    )
    .await
    {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let now = sandbox.clock.now();
    let mut state = sandbox.amazon();
    if !state.reports.documents.contains_key(&document_id) {
        return not_found(&format!("Report document {document_id} was not found."), rate);
    }
    let (token, signature) = (random_hex(20), random_hex(32));
    let base = public_base(&headers, &uri, &format!("/reports/2021-06-30/documents/{document_id}"));
    let date = now
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .unwrap_or_default();
    let url = format!(
        "{base}/_documents/{token}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-SignedHeaders=host&X-Amz-Expires={}&X-Amz-Signature={signature}",
        DOCUMENT_URL_LIFETIME.whole_seconds()
    );
    let download = DownloadUrl {
        document_id: document_id.clone(),
        signature,
        expires: now + DOCUMENT_URL_LIFETIME,
    };
    state.reports.urls.insert(token, download);
    let body = json!({"reportDocumentId": document_id, "url": url, "compressionAlgorithm": "GZIP"});
    sp_api_response(StatusCode::OK, body, Some(rate))
}

/// S3's refusal: 403 with an XML body.
fn s3_error(code: &str, message: &str, details: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{details}<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
        random_hex(8).to_uppercase(),
        random_hex(32)
    );
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"))],
        body,
    )
        .into_response()
}

/// `GET /_documents/{token}`: the document as S3 serves it, to anyone holding a live URL.
pub(crate) async fn download(
    State(sandbox): State<Sandbox>,
    Path(token): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    sandbox.count(crate::operation::DOWNLOAD_REPORT_DOCUMENT);
    let now = sandbox.clock.now();
    let mut state = sandbox.amazon();
    let reports = &mut state.reports;
    let Some(url) = reports.urls.get(&token) else {
        return s3_error("AccessDenied", "Access Denied", "");
    };
    if now >= url.expires {
        let details = format!(
            "<X-Amz-Expires>{}</X-Amz-Expires><Expires>{}</Expires><ServerTime>{}</ServerTime>",
            DOCUMENT_URL_LIFETIME.whole_seconds(),
            format_time(url.expires),
            format_time(now)
        );
        return s3_error("AccessDenied", "Request has expired", &details);
    }
    if query.get("X-Amz-Signature") != Some(&url.signature) {
        return s3_error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            "",
        );
    }
    let Some(document) = reports.documents.get(&url.document_id) else {
        return s3_error("AccessDenied", "Access Denied", "");
    };
    let mut gzip = document.gzip.clone();
    let content_type = format!("text/plain; charset={}", document.charset);
    if std::mem::take(&mut reports.truncate_next) {
        gzip.truncate(gzip.len() / 2);
    }
    let mut response = (StatusCode::OK, gzip).into_response();
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// `POST /_sandbox/amazon/reports/fail-next`: [`Sandbox::fail_next_report`], for scripts.
pub(crate) async fn fail_next(State(sandbox): State<Sandbox>) -> &'static str {
    sandbox.fail_next_report();
    "the next Amazon report created will end FATAL\n"
}

/// Test hooks for the Reports API.
impl Sandbox {
    /// Makes the next report created end `FATAL`, with no document.
    pub fn fail_next_report(&self) {
        self.amazon().reports.fail_next = true;
    }

    /// Cuts off the next download of a report document in the middle of its gzip stream: the
    /// HTTP answer is complete, but holds only the first half of the compressed bytes.
    pub fn truncate_next_document(&self) {
        self.amazon().reports.truncate_next = true;
    }

    /// Gives every Amazon item of `sku` this title from now on: in searchOrders, getOrder, the
    /// listings, and the documents of reports that finish later. For titles a careless parser
    /// breaks on (a leading `"`, a literal `\t`). Returns how many order items it renamed.
    pub fn rename_amazon_product(&self, sku: &str, title: &str) -> usize {
        let now = self.clock.now();
        let mut state = self.amazon();
        // Reports that finished before now keep the titles they were made with.
        state.settle_reports(now);
        for stock in &mut state.stock {
            stock.rename(sku, title);
        }
        state.orders.iter_mut().map(|order| order.rename(sku, title)).sum()
    }

    /// Adds columns Amazon does not document to the documents of reports that finish from now
    /// on, spread over the line (not only at its end), their values `false` or blank.
    pub fn add_report_columns(&self, columns: &[&str]) {
        let now = self.clock.now();
        let mut state = self.amazon();
        state.settle_reports(now);
        let extra = &mut state.reports.extra_columns;
        for column in columns {
            if !extra.iter().any(|known| known == column) {
                extra.push((*column).to_owned());
            }
        }
    }

    /// Every report the sandbox seller has asked for, as it stands now, oldest first.
    pub fn amazon_reports(&self) -> Vec<AmazonReport> {
        let now = self.clock.now();
        let mut state = self.amazon();
        state.settle_reports(now);
        state.reports.states(now).map(|(_, view)| view).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn report(created: OffsetDateTime) -> SimReport {
        SimReport {
            id: String::new(),
            report_type: ALL_ORDERS_BY_ORDER_DATE,
            marketplace_ids: vec!["ATVPDKIKX0DER".into()],
            region: "NA",
            start: created,
            end: created,
            created,
            fail: false,
            outcome: None,
        }
    }

    #[test]
    fn reports_are_built_one_at_a_time_in_creation_order() {
        let options = SandboxOptions {
            time_scale: 2.0,
            ..SandboxOptions::default()
        };
        let mut reports = Reports::new(&options);
        let t = datetime!(2026-05-20 12:00 UTC);
        for created in [t, t + Duration::minutes(1), t + Duration::minutes(30)] {
            reports.list.push(report(created));
        }
        let minutes = |m: i64| t + Duration::minutes(m);
        // Ten minutes each at twice Amazon's speed: five.
        assert_eq!(
            reports.schedule(),
            [
                (minutes(0), minutes(5)),
                (minutes(5), minutes(10)),
                (minutes(30), minutes(35))
            ]
        );
        let statuses = |reports: &Reports, at: OffsetDateTime| -> Vec<&'static str> {
            reports.states(at).map(|(_, view)| view.status).collect()
        };
        assert_eq!(statuses(&reports, minutes(2)), ["IN_PROGRESS", "IN_QUEUE", "IN_QUEUE"]);
        // No orders: each ends CANCELLED, in turn.
        reports.settle(&[], minutes(7));
        assert_eq!(statuses(&reports, minutes(7)), ["CANCELLED", "IN_PROGRESS", "IN_QUEUE"]);
    }
}
