//! `javelin bench ingest`: how fast orders are stored through the path sync uses (a page of a
//! hundred orders a transaction, read first to keep the newer state, with the job's progress),
//! beside the plainest insert of the same rows in one transaction on the same kind of database.

use std::time::Instant;

use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use javelin_storage::{SyncKind, Timestamp};
use time::Duration;

/// Orders a sync page holds (Amazon's searchOrders maximum).
const PAGE: usize = 100;

pub async fn run(count: usize, url: Option<&str>) -> anyhow::Result<()> {
    let orders = generate(count);
    println!(
        "javelin bench ingest: {count} orders of 3 items on {} (fresh database each)",
        super::backend(url)
    );

    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let storage = &db.storage;
    let now = Timestamp::now();
    let job = super::claimed_job(storage, connection, SyncKind::Orders, now).await?;
    let started = Instant::now();
    for page in orders.chunks(PAGE) {
        super::store_page(storage, connection, job, page, now).await?;
    }
    let synced = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        storage.count_orders(Some(connection)).await? == count as i64,
        "not every order was stored"
    );
    drop(db);

    let db = super::scratch(url).await?;
    let connection = db.connection("amazon").await?;
    let started = Instant::now();
    db.storage
        .insert_orders_plainly(connection, "amazon", &orders, now)
        .await?;
    let plain = started.elapsed().as_secs_f64();

    let rate = |secs: f64| count as f64 / secs;
    println!("  sync path       {:>9.0} orders/s  ({synced:.2} s)", rate(synced));
    println!(
        "  plain INSERT    {:>9.0} orders/s  ({plain:.2} s, the reference)",
        rate(plain)
    );
    println!("  sync / plain    {:>9.0} %", 100.0 * plain / synced);
    Ok(())
}

/// Orders of three items in three currencies, the same on every run.
fn generate(count: usize) -> Vec<Order> {
    let base = time::OffsetDateTime::now_utc() - Duration::days(30);
    let currencies = ["USD", "CAD", "MXN"];
    (0..count)
        .map(|n| {
            let currency = currencies[n % currencies.len()];
            let price = |cents: usize| Money::from_minor(499 + (cents % 5000) as i64, currency).ok();
            let purchased = base + Duration::seconds(n as i64 * 7);
            let items = (0..3)
                .map(|i| OrderItem {
                    external_id: format!("{n:08}{i}"),
                    sku: Some(format!("SKU-{:05}", (n * 3 + i) % 20_000)),
                    product_id: Some(format!("B0{:08}", (n * 3 + i) % 20_000)),
                    title: Some(format!("Product {} of the bench catalogue", (n * 3 + i) % 20_000)),
                    quantity: 1 + (i as u32),
                    quantity_shipped: 0,
                    unit_price: price(n + i),
                    line_total: price(n + i).and_then(|unit| unit.times(1 + i as u32)),
                })
                .collect();
            Order {
                external_id: format!("111-{n:07}-{:07}", n * 7 % 9_999_999),
                marketplace_id: Some("ATVPDKIKX0DER".into()),
                status: OrderStatus::Unshipped,
                platform_status: "UNSHIPPED".into(),
                fulfillment_channel: Some(if n % 3 == 0 { "AFN" } else { "MFN" }.into()),
                purchased_at: purchased,
                updated_at: purchased + Duration::minutes(5),
                ship_by: Some(purchased + Duration::days(2)),
                total: price(n).and_then(|unit| unit.times(6)),
                ship_to: ShipTo {
                    city: Some("Seattle".into()),
                    region: Some("WA".into()),
                    postal_code: Some("98101".into()),
                    country: Some("US".into()),
                },
                items,
            }
        })
        .collect()
}
