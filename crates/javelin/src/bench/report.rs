//! `javelin bench report`: an all-orders report document of about `--megabytes` (gzip, on disk,
//! never whole in memory) read and stored the way a history import does it — decompressed,
//! decoded and parsed as it streams, a hundred orders a transaction through the sync upsert —
//! beside the same document only read (the parse alone, the reference) and beside the same
//! orders stored by plain INSERTs; with resident memory at each quarter of the file.

use std::io::{Read, Write};
use std::time::Instant;

use javelin_marketplaces::amazon::reports::{ALL_ORDERS_COLUMNS, OrdersDocument};
use javelin_model::Order;
use javelin_storage::{JobOrigin, PageProgress, SyncKind, Timestamp};

/// Orders a transaction holds, as a history import stores them.
const BATCH: usize = 100;
/// How much of the file is read at once, as a download's chunks arrive.
const CHUNK: usize = 64 * 1024;

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

    // The reference: the document read and parsed, nothing stored.
    let started = Instant::now();
    let mut parsed = 0usize;
    read_document(file.path(), compressed, |orders| {
        parsed += orders.len();
        async { Ok(()) }
    })
    .await?;
    let parse_only = started.elapsed().as_secs_f64();

    // What a history import does: each batch upserted with the job's progress.
    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let storage = &db.storage;
    let now = Timestamp::now();
    let (job, _) = storage
        .enqueue_job(connection, SyncKind::History, JobOrigin::Seller, now)
        .await?;
    storage.claim_job("bench", now, now + time::Duration::hours(1)).await?;
    super::reset_peak_rss();
    let started = Instant::now();
    let memory = read_document(file.path(), compressed, |orders| async move {
        for batch in orders.chunks(BATCH) {
            let mut tx = storage.begin().await?;
            let summary = tx.upsert_orders(connection, "amazon", batch, now).await?;
            let progress = PageProgress {
                fetched: batch.len() as u64,
                created: summary.created,
                ..PageProgress::default()
            };
            anyhow::ensure!(
                tx.record_page(job.id, "bench", &progress, None).await?,
                "the job was lost"
            );
            tx.commit().await?;
        }
        Ok(())
    })
    .await?;
    let stored_in = started.elapsed().as_secs_f64();
    let peak = super::peak_rss_mb();
    let stored = storage.count_orders(Some(connection)).await?;
    anyhow::ensure!(stored as usize == parsed, "{stored} orders stored of {parsed} read");
    drop(db);

    // The plainest insert of the same orders, read the same way.
    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let plain_storage = &db.storage;
    let started = Instant::now();
    read_document(file.path(), compressed, |orders| async move {
        plain_storage
            .insert_orders_plainly(connection, "amazon", &orders, now)
            .await?;
        Ok(())
    })
    .await?;
    let plain = started.elapsed().as_secs_f64();

    let per_second = |secs: f64| rows as f64 / secs;
    println!(
        "  read and stored   {:>9.0} rows/s  ({stored_in:.2} s, {parsed} orders)",
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
        "  resident memory at each quarter of the file: {} MB (peak {peak:.0} MB)",
        memory
            .iter()
            .map(|mb| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    Ok(())
}

/// Reads the gzip document in chunks as a download arrives, handing each batch of whole orders
/// to `store`; the resident memory at each quarter of the file.
async fn read_document<F, Fut>(path: &std::path::Path, size: u64, mut store: F) -> anyhow::Result<Vec<f64>>
where
    F: FnMut(Vec<Order>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut file = std::fs::File::open(path)?;
    let mut document = OrdersDocument::new(Some("UTF-8"));
    let mut buffer = vec![0; CHUNK];
    let mut read = 0u64;
    let mut memory = Vec::new();
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        document.push(&buffer[..n])?;
        store(whole(document.take_orders())?).await?;
        if read * 4 >= size * (memory.len() as u64 + 1) {
            memory.push(super::rss_mb_now());
        }
    }
    let (rest, _) = document.finish()?;
    store(whole(rest)?).await?;
    Ok(memory)
}

fn whole(results: Vec<Result<Order, javelin_marketplaces::Skipped>>) -> anyhow::Result<Vec<Order>> {
    results
        .into_iter()
        .map(|result| result.map_err(|skipped| anyhow::anyhow!("{:?}: {}", skipped.id, skipped.reason)))
        .collect()
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
