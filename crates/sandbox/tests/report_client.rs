//! Javelin's Reports API client against the sandbox, over real HTTP: the calls a history import
//! makes, and what it meets when a report goes wrong.

mod common;

use common::{NA, PROCESSING, start};
use javelin_marketplaces::amazon::reports::{
    ALL_ORDERS_BY_ORDER_DATE, DocumentError, DownloadError, ProcessingStatus, ReportDocument,
};
use javelin_marketplaces::amazon::{Amazon, AmazonEndpoints};
use javelin_marketplaces::{Account, MarketplaceError, Session, Unpaced};
use javelin_sandbox::{SandboxOptions, operation};
use time::Duration;

fn amazon(running: &common::Running) -> Amazon {
    amazon_with(running, running.http.clone())
}

fn amazon_with(running: &common::Running, http: reqwest::Client) -> Amazon {
    Amazon::new(
        http,
        AmazonEndpoints {
            lwa_token_url: running.url("/amazon/auth/o2/token"),
            consent_base: Some(running.url("/amazon")),
            spapi_base: Some(running.url("/amazon")),
        },
    )
}

fn account() -> Account {
    Account {
        region: Some("NA".into()),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        marketplace_ids: NA.iter().map(|id| (*id).to_owned()).collect(),
        ..Account::default()
    }
}

/// Every order of a download, whole.
async fn read_all(amazon: &Amazon, document: &ReportDocument) -> Result<Vec<String>, DownloadError> {
    let mut download = amazon.download_orders(document).await?;
    let mut ids = Vec::new();
    while let Some(batch) = download.next_orders(7).await? {
        ids.extend(batch.into_iter().map(|order| order.expect("a whole order").external_id));
    }
    Ok(ids)
}

#[tokio::test]
async fn a_report_is_requested_awaited_and_read_as_it_downloads() {
    let running = start(SandboxOptions {
        orders: 300,
        days: 60,
        ..SandboxOptions::default()
    })
    .await;
    let amazon = amazon(&running);
    let token = running.token();
    let account = account();
    let session = Session {
        account: &account,
        access_token: &token,
        pace: &Unpaced,
    };
    let now = running.sandbox.clock().now();

    // Over 30 days: refused before Amazon is asked, as Amazon would answer with no rows.
    let refused = amazon
        .create_report(&session, ALL_ORDERS_BY_ORDER_DATE, now - Duration::days(31), now)
        .await;
    assert!(
        matches!(&refused, Err(MarketplaceError::Rejected { detail }) if detail.contains("at most 30 days")),
        "{refused:?}"
    );
    assert_eq!(running.sandbox.calls(operation::CREATE_REPORT), 0);

    let id = amazon
        .create_report(&session, ALL_ORDERS_BY_ORDER_DATE, now - Duration::days(30), now)
        .await
        .expect("createReport");
    let report = amazon.get_report(&session, &id).await.expect("getReport");
    assert_eq!(report.processing_status, ProcessingStatus::InProgress);
    assert_eq!(report.report_document_id, None);
    running.advance(PROCESSING).await;
    let report = amazon.get_report(&session, &id).await.expect("getReport");
    assert_eq!(report.processing_status, ProcessingStatus::Done);
    let document_id = report.report_document_id.expect("a document");
    let document = amazon
        .get_report_document(&session, &document_id)
        .await
        .expect("getReportDocument");
    assert_eq!(document.compression_algorithm.as_deref(), Some("GZIP"));

    let mut ids = read_all(&amazon, &document).await.expect("read");
    ids.sort();
    let since = now - Duration::days(30);
    let mut want: Vec<String> = running
        .sandbox
        .amazon_orders(&NA)
        .into_iter()
        .filter(|order| order.created >= since)
        .map(|order| order.id)
        .collect();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(ids, want, "every order of the region's window, once");

    // Cut off half way: the document is refused as truncated, never half-stored as whole.
    running.sandbox.truncate_next_document();
    let cut = read_all(&amazon, &document).await;
    assert!(
        matches!(cut, Err(DownloadError::Document(DocumentError::Truncated(_)))),
        "{cut:?}"
    );
    // Five minutes on, the link has expired: a new one is needed.
    running.advance(301).await;
    let expired = read_all(&amazon, &document).await;
    assert!(
        matches!(&expired, Err(DownloadError::Expired(message)) if message.contains("expired")),
        "{expired:?}"
    );
    running.refresh().await;
    let token = running.token();
    let session = Session {
        account: &account,
        access_token: &token,
        pace: &Unpaced,
    };
    let fresh = amazon
        .get_report_document(&session, &document_id)
        .await
        .expect("getReportDocument");
    assert_eq!(read_all(&amazon, &fresh).await.expect("read").len(), want.len());
}

#[tokio::test]
async fn a_download_may_last_longer_than_an_api_call_and_gathers_its_chunks_into_batches() {
    // Enough orders that the document arrives in many chunks.
    let running = start(SandboxOptions {
        orders: 4000,
        ..SandboxOptions::default()
    })
    .await;
    let account = account();
    let token = running.token();
    let session = Session {
        account: &account,
        access_token: &token,
        pace: &Unpaced,
    };
    // A client whose every request must end within a fraction of a second.
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .expect("client");
    let amazon = amazon_with(&running, impatient);
    let now = running.sandbox.clock().now();
    let id = amazon
        .create_report(&session, ALL_ORDERS_BY_ORDER_DATE, now - Duration::days(30), now)
        .await
        .expect("createReport");
    running.advance(PROCESSING).await;
    let report = amazon.get_report(&session, &id).await.expect("getReport");
    let document_id = report.report_document_id.expect("a document");
    let document = amazon
        .get_report_document(&session, &document_id)
        .await
        .expect("getReportDocument");
    let want = running
        .sandbox
        .amazon_orders(&NA)
        .into_iter()
        .filter(|order| order.created >= now - Duration::days(30))
        .count();

    let mut download = amazon.download_orders(&document).await.expect("download");
    let first = download.next_orders(1).await.expect("first batch").expect("orders");
    assert!(
        !first.is_empty() && first.len() < want,
        "the first chunk holds some of the orders"
    );
    // Storing a batch can take longer than any API call may: the download waits for it.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let rest = download
        .next_orders(usize::MAX)
        .await
        .expect("the rest, after the wait")
        .expect("orders");
    assert_eq!(
        first.len() + rest.len(),
        want,
        "every order once, the rest gathered in one batch"
    );
    assert!(download.next_orders(1).await.expect("the end").is_none());
}
