//! The Reports API simulator over real HTTP: report lifecycle on the sandbox clock, documents
//! against the orders they report, presigned downloads, charsets, limits and test hooks.

mod common;

use std::collections::BTreeSet;

use common::{EU, JP, NA, PROCESSING, Running, Table, gunzip, items_of, report_word, rfc, start, time_of};
use javelin_marketplaces::amazon::reports::{ALL_ORDERS_BY_LAST_UPDATE, ALL_ORDERS_BY_ORDER_DATE, WINDOW_EXCEEDED};
use javelin_sandbox::{OrderState, SandboxOptions, operation};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

#[tokio::test]
async fn reports_queue_one_after_another_and_hold_the_regions_orders() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    let (start_1, end_1) = (now - Duration::days(10), now - Duration::minutes(1));
    let by_date = running.create(ALL_ORDERS_BY_ORDER_DATE, NA[0], start_1, end_1).await;
    // Asked for Canada only, and by last update.
    let (start_2, end_2) = (now - Duration::days(2), now);
    let by_update = running.create(ALL_ORDERS_BY_LAST_UPDATE, NA[1], start_2, end_2).await;

    let first = running.report(&by_date).await;
    assert_eq!(first["processingStatus"], "IN_PROGRESS");
    assert_eq!(first["reportType"], ALL_ORDERS_BY_ORDER_DATE);
    assert_eq!(first["marketplaceIds"], json!([NA[0]]));
    assert_eq!(time_of(&first["dataStartTime"]), start_1);
    assert!(first.get("processingStartTime").is_some() && first.get("processingEndTime").is_none());
    let second = running.report(&by_update).await;
    assert_eq!(second["processingStatus"], "IN_QUEUE");
    assert!(second.get("processingStartTime").is_none() && second.get("reportDocumentId").is_none());

    running.advance(300).await;
    assert_eq!(running.status(&by_date).await, "IN_PROGRESS");
    assert_eq!(running.status(&by_update).await, "IN_QUEUE");
    running.advance(PROCESSING - 300).await;
    let first = running.report(&by_date).await;
    assert_eq!(first["processingStatus"], "DONE");
    assert!(
        first["reportDocumentId"]
            .as_str()
            .expect("document")
            .starts_with("amzn1.spdoc.1.4.na.")
    );
    assert_eq!(running.status(&by_update).await, "IN_PROGRESS");
    running.advance(PROCESSING).await;
    let second = running.report(&by_update).await;
    assert_eq!(second["processingStatus"], "DONE");
    assert_eq!(second["processingStartTime"], first["processingEndTime"]);

    // The document: every item of every North American order placed in the window, as the
    // orders stood when processing ended.
    let ended = time_of(&first["processingEndTime"]);
    let (charset, text) = running.text(&first).await;
    assert_eq!(charset, "UTF-8");
    let table = Table::parse(&text);
    assert_eq!(
        table.header[..6],
        [
            "amazon-order-id",
            "merchant-order-id",
            "purchase-date",
            "last-updated-date",
            "order-status",
            "order-item-id"
        ]
    );
    assert!(table.header.iter().any(|column| column == "cpf"));
    assert!(
        !table
            .header
            .iter()
            .any(|column| column.contains("buyer") || column.contains("address"))
    );
    let placed: Vec<OrderState> = running
        .sandbox
        .amazon_orders_at(&NA, ended)
        .into_iter()
        .filter(|order| order.created >= start_1 && order.created <= end_1)
        .collect();
    assert!(placed.len() > 10, "{}", placed.len());
    assert_eq!(table.items(), items_of(&placed));
    let channels: BTreeSet<&str> = table.values("sales-channel").into_iter().collect();
    assert_eq!(channels, BTreeSet::from(["Amazon.ca", "Amazon.com"]));
    let (id, status, updated, purchased) = (
        table.column("amazon-order-id"),
        table.column("order-status"),
        table.column("last-updated-date"),
        table.column("purchase-date"),
    );
    for row in &table.rows {
        let order = placed.iter().find(|order| order.id == row[id]).expect("a placed order");
        assert!(
            row[status].starts_with(report_word(order.status)),
            "{} for {}",
            row[status],
            order.status
        );
        assert!(row[updated].ends_with("+00:00"), "{}", row[updated]);
        assert_eq!(
            OffsetDateTime::parse(&row[updated], &Rfc3339).expect("date"),
            order.updated
        );
        assert_eq!(
            OffsetDateTime::parse(&row[purchased], &Rfc3339).expect("date"),
            order.created
        );
    }
    for price in table.values("item-price").into_iter().filter(|price| !price.is_empty()) {
        assert!(
            price.split_once('.').is_some_and(|(_, cents)| cents.len() == 2),
            "{price}"
        );
    }

    // By last update, no `cpf`, and the whole region although Canada was asked for.
    let ended = time_of(&second["processingEndTime"]);
    let table = Table::parse(&running.text(&second).await.1);
    assert!(!table.header.iter().any(|column| column == "cpf"));
    let changed = running.sandbox.amazon_orders_at(&NA, ended);
    let changed = changed
        .iter()
        .filter(|order| order.updated >= start_2 && order.updated <= end_2);
    assert_eq!(table.items(), items_of(changed));
    assert!(table.values("sales-channel").contains(&"Amazon.com"));

    let reports = running.sandbox.amazon_reports();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].rows, Some(table_rows(&running, &first).await));
    assert_eq!(running.sandbox.calls(operation::CREATE_REPORT), 2);
}

async fn table_rows(running: &Running, report: &Value) -> usize {
    Table::parse(&running.text(report).await.1).rows.len()
}

#[tokio::test]
async fn empty_windows_cancel_failures_end_fatal_and_long_windows_say_so() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    let empty = running
        .create(
            ALL_ORDERS_BY_ORDER_DATE,
            NA[0],
            now - Duration::days(60),
            now - Duration::days(45),
        )
        .await;
    running.sandbox.fail_next_report();
    let failed = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(3), now)
        .await;
    let response = running
        .http
        .post(running.url("/_sandbox/amazon/reports/fail-next"))
        .send()
        .await
        .expect("fail-next");
    assert!(response.status().is_success());
    let scripted = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(3), now)
        .await;
    let long = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(31), now)
        .await;
    let normal = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(30), now)
        .await;
    running.advance(5 * PROCESSING).await;

    for (id, status) in [(&empty, "CANCELLED"), (&failed, "FATAL"), (&scripted, "FATAL")] {
        let report = running.report(id).await;
        assert_eq!(report["processingStatus"], status);
        assert!(report.get("reportDocumentId").is_none(), "{report}");
        assert!(report.get("processingEndTime").is_some());
    }
    let report = running.report(&long).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert_eq!(running.text(&report).await.1, WINDOW_EXCEEDED);
    let report = running.report(&normal).await;
    assert_eq!(report["processingStatus"], "DONE");
    assert!(running.text(&report).await.1.starts_with("amazon-order-id\t"));
    let rows: Vec<Option<usize>> = running.sandbox.amazon_reports().iter().map(|r| r.rows).collect();
    assert_eq!(rows[..4], [None, None, None, Some(0)]);
}

#[tokio::test]
async fn download_urls_expire_after_five_minutes_and_new_ones_work() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    let id = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(5), now)
        .await;
    running.advance(PROCESSING).await;
    let report = running.report(&id).await;
    let url = running.document_url(&report).await;
    assert!(url.starts_with(&format!("{}amazon/_documents/", running.base)), "{url}");
    assert!(url.contains("X-Amz-Expires=300&X-Amz-Signature="), "{url}");
    let (status, _, body) = running.download(&url).await;
    assert_eq!(status, 200);
    let original = gunzip(&body).expect("gzip");

    running.advance(301).await;
    let (status, content_type, body) = running.download(&url).await;
    assert_eq!((status, content_type.as_str()), (403, "application/xml"));
    let body = String::from_utf8(body).expect("XML");
    assert!(
        body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired</Message>"),
        "{body}"
    );
    let fresh = running.document_url(&report).await;
    assert_ne!(fresh, url);
    let (status, _, body) = running.download(&fresh).await;
    assert_eq!(status, 200);
    assert_eq!(gunzip(&body).expect("gzip"), original, "the document does not change");

    // Unknown and tampered URLs.
    let unknown = running.url("/amazon/_documents/0123abcd?X-Amz-Signature=00");
    let (status, _, body) = running.download(unknown.as_str()).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("<Code>AccessDenied</Code><Message>Access Denied</Message>"));
    let tampered = format!("{}0", fresh);
    let (status, _, body) = running.download(&tampered).await;
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&body).contains("SignatureDoesNotMatch"));

    // A gzip stream cut off in the middle, once.
    running.sandbox.truncate_next_document();
    let (status, _, body) = running.download(&fresh).await;
    assert_eq!(status, 200);
    assert!(gunzip(&body).is_err(), "a truncated stream does not decompress");
    let (_, _, body) = running.download(&fresh).await;
    assert_eq!(gunzip(&body).expect("whole again"), original);
    assert_eq!(running.sandbox.calls(operation::DOWNLOAD_REPORT_DOCUMENT), 7);
}

#[tokio::test]
async fn documents_come_in_the_charset_of_their_region() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    let window = (now - Duration::days(30), now);
    let eu = running
        .create(ALL_ORDERS_BY_ORDER_DATE, EU[0], window.0, window.1)
        .await;
    let jp = running.create(ALL_ORDERS_BY_ORDER_DATE, JP, window.0, window.1).await;
    running.advance(2 * PROCESSING).await;

    let (charset, text) = running.text(&running.report(&eu).await).await;
    assert_eq!(charset, "Cp1252");
    let table = Table::parse(&text);
    let channels: BTreeSet<&str> = table.values("sales-channel").into_iter().collect();
    assert_eq!(channels, BTreeSet::from(["Amazon.co.uk", "Amazon.de", "Amazon.in"]));
    let eu_sku = table.values("sku")[0].to_owned();

    let (charset, text) = running.text(&running.report(&jp).await).await;
    assert_eq!(charset, "windows-31j");
    let table = Table::parse(&text);
    assert!(
        table
            .values("purchase-date")
            .iter()
            .all(|date| date.ends_with("+09:00"))
    );
    assert!(table.values("currency").iter().all(|currency| *currency == "JPY"));
    assert!(table.values("item-price").iter().all(|price| !price.contains('.')));
    let jp_sku = table.values("sku")[0].to_owned();
    let jp_order = table.values("amazon-order-id")[0].to_owned();

    // Titles a careless parser breaks on, in the charsets' own letters and beyond them.
    let eu_title = "\"Café\" mug \\t Łódź";
    let jp_title = "\"マグ\" \\t cup";
    assert!(running.sandbox.rename_amazon_product(&eu_sku, eu_title) > 0);
    assert!(running.sandbox.rename_amazon_product(&jp_sku, jp_title) > 0);
    let eu = running
        .create(ALL_ORDERS_BY_ORDER_DATE, EU[1], window.0, window.1)
        .await;
    let jp = running.create(ALL_ORDERS_BY_ORDER_DATE, JP, window.0, window.1).await;
    running.advance(2 * PROCESSING).await;
    let table = Table::parse(&running.text(&running.report(&eu).await).await.1);
    let renamed = table.values("product-name")[table.values("sku").iter().position(|sku| *sku == eu_sku).expect("sku")];
    // Cp1252 has é but no Ł or ź: Amazon writes `?` for those.
    assert_eq!(renamed, "\"Café\" mug \\t ?ód?");
    let table = Table::parse(&running.text(&running.report(&jp).await).await.1);
    let renamed = table.values("product-name")[table.values("sku").iter().position(|sku| *sku == jp_sku).expect("sku")];
    assert_eq!(renamed, jp_title);

    // getOrder shows the new title too.
    let response = running
        .get(&format!("/amazon/orders/2026-01-01/orders/{jp_order}"))
        .await;
    let order: Value = response.json().await.expect("JSON");
    let titles: Vec<&str> = order["order"]["orderItems"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|item| item["product"]["sellerSku"] == jp_sku.as_str())
        .map(|item| item["product"]["title"].as_str().expect("title"))
        .collect();
    assert!(
        !titles.is_empty() && titles.iter().all(|title| *title == jp_title),
        "{titles:?}"
    );
}

#[tokio::test]
async fn extra_columns_appear_in_later_documents_only() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    // By order date, so that both reports hold the same orders, made ten minutes apart.
    let before = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(3), now)
        .await;
    running.advance(PROCESSING).await;
    let extra = [
        "signature-confirmation-recommended",
        "number-of-items",
        "buyer-company-name",
    ];
    running.sandbox.add_report_columns(&extra);
    let after = running
        .create(ALL_ORDERS_BY_ORDER_DATE, NA[0], now - Duration::days(3), now)
        .await;
    running.advance(PROCESSING).await;

    let plain = Table::parse(&running.text(&running.report(&before).await).await.1);
    let extended = Table::parse(&running.text(&running.report(&after).await).await.1);
    assert_eq!(plain.header.len(), 33);
    assert_eq!(extended.header.len(), 36);
    let positions: Vec<usize> = extra.iter().map(|name| extended.column(name)).collect();
    assert!(positions.iter().any(|at| *at < 30), "not all at the end: {positions:?}");
    assert_eq!(extended.values("signature-confirmation-recommended")[0], "false");
    assert_eq!(extended.values("number-of-items")[0], "");
    assert_eq!(plain.items(), extended.items());
}

#[tokio::test]
async fn create_report_allows_a_burst_of_15() {
    let running = start(SandboxOptions::default()).await;
    let body = json!({"reportType": ALL_ORDERS_BY_ORDER_DATE, "marketplaceIds": [NA[0]]});
    for _ in 0..15 {
        assert_eq!(running.post_report(&body).await.status(), 202);
    }
    let refused = running.post_report(&body).await;
    assert_eq!(refused.status(), 429);
    let refused: Value = refused.json().await.expect("JSON");
    assert_eq!(refused["errors"][0]["code"], "QuotaExceeded");
    assert_eq!(running.sandbox.throttled("createReport"), 1);
    running.advance(61).await;
    assert_eq!(running.post_report(&body).await.status(), 202);
    assert_eq!(running.sandbox.calls(operation::CREATE_REPORT), 17);
}

#[tokio::test]
async fn bad_requests_are_refused_in_sp_api_shape() {
    let running = start(SandboxOptions::default()).await;
    let now = running.sandbox.clock().now();
    let cases = [
        json!({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [NA[0]]}),
        json!({"reportType": ALL_ORDERS_BY_ORDER_DATE, "marketplaceIds": []}),
        json!({"reportType": ALL_ORDERS_BY_ORDER_DATE, "marketplaceIds": ["NOPE"]}),
        json!({"reportType": ALL_ORDERS_BY_ORDER_DATE, "marketplaceIds": [NA[0]],
            "dataEndTime": rfc(now + Duration::hours(1))}),
        json!({"reportType": ALL_ORDERS_BY_ORDER_DATE, "marketplaceIds": [NA[0]], "dataStartTime": "yesterday"}),
        json!({"marketplaceIds": [NA[0]]}),
        json!(["not", "an", "object"]),
    ];
    for body in cases {
        let response = running.post_report(&body).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["errors"][0]["code"], "InvalidInput", "{body}");
        assert_eq!(error["errors"][0]["details"], "");
    }
    let response = running
        .http
        .post(running.url("/amazon/reports/2021-06-30/reports"))
        .header("x-amz-access-token", running.token())
        .body("{\"reportType\": ")
        .send()
        .await
        .expect("createReport");
    assert_eq!(response.status(), 400);

    for path in [
        "/amazon/reports/2021-06-30/reports/999",
        "/amazon/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.nothing",
    ] {
        let response = running.get(path).await;
        assert_eq!(response.status(), 404);
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["errors"][0]["code"], "NotFound");
    }
    let anonymous = running
        .http
        .get(running.url("/amazon/reports/2021-06-30/reports/999"))
        .send()
        .await
        .expect("getReport");
    assert_eq!(anonymous.status(), 400, "SP-API calls still need an access token");
}

#[tokio::test]
async fn ninety_days_of_orders_come_in_three_windows() {
    // Orders over 89 days, so that all fall inside 90 days of the test's `now`.
    let running = start(SandboxOptions {
        orders: 3000,
        days: 89,
        time_scale: 60.0,
        ..SandboxOptions::default()
    })
    .await;
    let now = running.sandbox.clock().now();
    let windows: Vec<(OffsetDateTime, OffsetDateTime)> = (0..3)
        .map(|k| (now - Duration::days(90 - 30 * k), now - Duration::days(60 - 30 * k)))
        .collect();
    let mut ids = Vec::new();
    for (start, end) in &windows {
        ids.push(running.create(ALL_ORDERS_BY_ORDER_DATE, NA[0], *start, *end).await);
    }
    // Ten minutes at sixty times Amazon's speed: ten seconds each.
    running.advance(31).await;
    let mut seen = BTreeSet::new();
    for id in &ids {
        let report = running.report(id).await;
        assert_eq!(report["processingStatus"], "DONE");
        let table = Table::parse(&running.text(&report).await.1);
        assert!(!table.rows.is_empty());
        seen.extend(table.items());
    }
    let placed = running.sandbox.amazon_orders(&NA);
    assert_eq!(seen, items_of(&placed), "the three windows hold every order once");
}
