//! `javelin bench report`: an all-orders report document of about `--megabytes` (gzip, on disk,
//! never whole in memory) served on loopback and read and stored the way a history import does
//! it — downloaded, decompressed, decoded and parsed as it streams, a batch at a time stored
//! through the sync upsert — beside the same download only read (the parse alone, the
//! reference) and beside the same orders stored by plain INSERTs; with resident memory at each
//! quarter of the orders.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use axum::response::IntoResponse;
use javelin_marketplaces::amazon::reports::{ALL_ORDERS_COLUMNS, Download, ReportDocument};
use javelin_marketplaces::amazon::{Amazon, AmazonEndpoints};
use javelin_model::Order;
use javelin_storage::{SyncKind, Timestamp};
use javelin_sync::IMPORT_BATCH;

pub async fn run(megabytes: u64, url: Option<&str>) -> anyhow::Result<()> {
    let file = tempfile::NamedTempFile::new()?;
    let (rows, text_bytes) = write_document(file.path(), megabytes * 1024 * 1024)?;
    let compressed = std::fs::metadata(file.path())?.len();
    println!(
        "javelin bench report: {rows} rows, {:.0} MB of text ({:.0} MB gzip), {}",
        text_bytes as f64 / 1e6,
        compressed as f64 / 1e6,
        super::backend(url)
    );
    let document = serve(file.path().to_owned()).await?;
    let amazon = Amazon::new(javelin_marketplaces::http::client()?, AmazonEndpoints::default());

    // The reference: the document downloaded and parsed, nothing stored.
    let started = Instant::now();
    let mut download = open(&amazon, &document).await?;
    let mut parsed = 0usize;
    while let Some(orders) = next(&mut download).await? {
        parsed += orders.len();
    }
    let parse_only = started.elapsed().as_secs_f64();

    // What a history import does: each batch upserted with the job's progress.
    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let storage = &db.storage;
    let now = Timestamp::now();
    let job = super::claimed_job(storage, connection, SyncKind::History, now).await?;
    super::reset_peak_rss();
    let started = Instant::now();
    let mut download = open(&amazon, &document).await?;
    let (mut stored, mut memory) = (0usize, Vec::new());
    while let Some(orders) = next(&mut download).await? {
        super::store_page(storage, connection, job, &orders, now).await?;
        stored += orders.len();
        while stored * 4 >= parsed * (memory.len() + 1) && memory.len() < 4 {
            memory.push(super::rss_mb_now());
        }
    }
    let stored_in = started.elapsed().as_secs_f64();
    let peak = super::peak_rss_mb();
    let count = storage.count_orders(Some(connection)).await?;
    anyhow::ensure!(count as usize == parsed, "{count} orders stored of {parsed} read");
    drop(db);

    // The plainest insert of the same orders, read the same way.
    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let started = Instant::now();
    let mut download = open(&amazon, &document).await?;
    while let Some(orders) = next(&mut download).await? {
        db.storage
            .insert_orders_plainly(connection, "amazon", &orders, now)
            .await?;
    }
    let plain = started.elapsed().as_secs_f64();

    let per_second = |secs: f64| rows as f64 / secs;
    println!(
        "  read and stored   {:>9.0} rows/s  ({stored_in:.2} s, {parsed} orders, {IMPORT_BATCH} a transaction)",
        per_second(stored_in)
    );
    println!(
        "  read only         {:>9.0} rows/s  ({parse_only:.2} s, the reference)",
        per_second(parse_only)
    );
    println!(
        "  plain INSERTs     {:>9.0} rows/s  ({plain:.2} s, the same orders)",
        per_second(plain)
    );
    println!(
        "  resident memory at each quarter of the orders: {} MB (peak {peak:.0} MB)",
        memory
            .iter()
            .map(|mb| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    Ok(())
}

/// Serves the document's file on loopback, as the link getReportDocument gives.
async fn serve(path: std::path::PathBuf) -> anyhow::Result<ReportDocument> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/document",
        axum::routing::get(
            async move || -> Result<axum::response::Response, axum::http::StatusCode> {
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|_| axum::http::StatusCode::NOT_FOUND)?;
                let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(file));
                Ok(([(axum::http::header::CONTENT_TYPE, "text/plain;charset=UTF-8")], body).into_response())
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(ReportDocument {
        report_document_id: "bench".into(),
        url: format!("http://{address}/document"),
        compression_algorithm: Some("GZIP".into()),
    })
}

async fn open(amazon: &Amazon, document: &ReportDocument) -> anyhow::Result<Download> {
    amazon.download_orders(document).await.context("download the document")
}

/// The next batch, every order whole.
async fn next(download: &mut Download) -> anyhow::Result<Option<Vec<Order>>> {
    let Some(batch) = download.next_orders(IMPORT_BATCH).await? else {
        return Ok(None);
    };
    let orders = batch
        .into_iter()
        .map(|result| result.map_err(|skipped| anyhow::anyhow!("{:?}: {}", skipped.id, skipped.reason)))
        .collect::<anyhow::Result<_>>()?;
    Ok(Some(orders))
}

/// Writes an all-orders document of about `target` bytes of text, gzip: orders of 1 to 4 rows
/// over two North American marketplaces. Returns its rows and bytes of text.
fn write_document(path: &std::path::Path, target: u64) -> anyhow::Result<(u64, u64)> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut gzip = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut columns: Vec<&str> = ALL_ORDERS_COLUMNS.to_vec();
    columns.insert(5, "order-item-id");
    let header_len = columns.len();
    let header = columns.join("\t") + "\n";
    gzip.write_all(header.as_bytes())?;
    let (mut rows, mut bytes) = (0u64, header.len() as u64);
    let start = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let mut order = 0u64;
    while bytes < target {
        order += 1;
        let placed = (start + time::Duration::seconds((order * 7) as i64))
            .format(&time::format_description::well_known::Rfc3339)?;
        let (channel, currency) = if order.is_multiple_of(5) {
            ("Amazon.ca", "CAD")
        } else {
            ("Amazon.com", "USD")
        };
        for item in 0..(1 + order % 4) {
            let sku = (order * 3 + item) % 20_000;
            let mut fields: Vec<String> = vec![String::new(); header_len];
            let mut set = |column: &str, value: String| {
                if let Some(at) = columns.iter().position(|name| *name == column) {
                    fields[at] = value;
                }
            };
            set(
                "amazon-order-id",
                format!("111-{order:07}-{:07}", order * 7 % 9_999_999),
            );
            set("purchase-date", placed.clone());
            set("last-updated-date", placed.clone());
            set("order-status", "Shipped".into());
            set("order-item-id", format!("{order:09}{item}"));
            set("fulfillment-channel", "Amazon".into());
            set("sales-channel", channel.into());
            set("ship-service-level", "Standard".into());
            set(
                "product-name",
                format!("Product {sku} of the bench catalogue, a fairly long title as real ones are"),
            );
            set("sku", format!("SKU-{sku:05}"));
            set("asin", format!("B0{sku:08}"));
            set("item-status", "Shipped".into());
            set("quantity", (1 + item).to_string());
            set("currency", currency.into());
            set("item-price", format!("{}.{:02}", 5 + sku % 90, sku % 100));
            set("item-tax", "0.00".into());
            set("ship-city", "Seattle".into());
            set("ship-state", "WA".into());
            set("ship-postal-code", "98101".into());
            set("ship-country", "US".into());
            set("is-business-order", "false".into());
            let line = fields.join("\t") + "\n";
            gzip.write_all(line.as_bytes())?;
            rows += 1;
            bytes += line.len() as u64;
        }
    }
    gzip.finish()?.flush()?;
    Ok((rows, bytes))
}
