//! `javelin bench seed`: fills the configured store with a seller's worth of realistic orders
//! and stock — two Amazon regions and a Flipkart account, several currencies, two years of
//! orders in every status — through the same upsert path as sync, so that the pages can be
//! tried and measured on years of history. The same seed gives the same orders and SKUs;
//! seeding again with it updates them (their dates follow the clock) rather than doubling them.

use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo, StockLevel};
use javelin_sandbox::{ADJECTIVES, NOUNS};
use javelin_storage::{ConnectionStatus, NewConnection, Storage, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use time::{Duration, OffsetDateTime};

use crate::config::Config;

/// Orders a transaction stores (several sync pages' worth).
const BATCH: usize = 500;
/// How far back the orders go.
const HISTORY_DAYS: i64 = 730;
const PRODUCTS: usize = 3_000;

/// Where a seeded connection sells: its marketplaces with their currencies and a few places
/// its buyers live.
struct Account {
    platform: &'static str,
    label: &'static str,
    region: Option<&'static str>,
    /// Share of all orders, in percent.
    share: u32,
    markets: &'static [Market],
}

struct Market {
    id: Option<&'static str>,
    currency: &'static str,
    /// Prices here, per US cent of the catalogue's price.
    scale: i64,
    country: &'static str,
    places: &'static [(&'static str, &'static str, &'static str)],
}

const ACCOUNTS: [Account; 3] = [
    Account {
        platform: "amazon",
        label: "Sample Amazon North America",
        region: Some("NA"),
        share: 50,
        markets: &[
            Market {
                id: Some("ATVPDKIKX0DER"),
                currency: "USD",
                scale: 1,
                country: "US",
                places: &[
                    ("Seattle", "WA", "98101"),
                    ("Austin", "TX", "73301"),
                    ("Boston", "MA", "02108"),
                ],
            },
            Market {
                id: Some("A2EUQ1WTGCTBG2"),
                currency: "CAD",
                scale: 1,
                country: "CA",
                places: &[("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")],
            },
            Market {
                id: Some("A1AM78C64UM0Y8"),
                currency: "MXN",
                scale: 17,
                country: "MX",
                places: &[("Guadalajara", "JAL", "44100")],
            },
        ],
    },
    Account {
        platform: "amazon",
        label: "Sample Amazon Europe",
        region: Some("EU"),
        share: 20,
        markets: &[
            Market {
                id: Some("A1F83G8C2ARO7P"),
                currency: "GBP",
                scale: 1,
                country: "GB",
                places: &[
                    ("Leeds", "West Yorkshire", "LS1 4AP"),
                    ("Bristol", "Bristol", "BS1 4DJ"),
                ],
            },
            Market {
                id: Some("A1PA6795UKMFR9"),
                currency: "EUR",
                scale: 1,
                country: "DE",
                places: &[("Köln", "NW", "50667"), ("Leipzig", "SN", "04109")],
            },
        ],
    },
    Account {
        platform: "flipkart",
        label: "Sample Flipkart",
        region: None,
        share: 30,
        markets: &[Market {
            id: None,
            currency: "INR",
            scale: 80,
            country: "IN",
            places: &[("Bengaluru", "Karnataka", "560001"), ("Pune", "Maharashtra", "411001")],
        }],
    },
];

const MATERIALS: [&str; 10] = [
    "Bamboo", "Cotton", "Walnut", "Copper", "Wool", "Glass", "Leather", "Cork", "Marble", "Canvas",
];
const COLOURS: [&str; 8] = [
    "Black",
    "White",
    "Sage",
    "Navy",
    "Terracotta",
    "Sand",
    "Graphite",
    "Mustard",
];

struct Product {
    sku: String,
    asin: String,
    fsn: String,
    title: String,
    /// US cents.
    price: i64,
}

pub async fn run(count: usize, seed: u64, config: &Config) -> anyhow::Result<()> {
    let storage = crate::server::open_storage(config, &javelin_core::Clock::system()).await?;
    println!(
        "Seeding {count} orders (seed {seed}) into {}",
        crate::config::redacted_database_url(&config.database_url)
    );
    let seeded = seed_store(&storage, count, seed).await;
    storage.close().await;
    seeded
}

async fn seed_store(storage: &Storage, count: usize, seed: u64) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    // One generator per purpose: the catalogue and stock stay the same whatever the count.
    let products = catalogue(&mut StdRng::seed_from_u64(seed));
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1));
    let mut connections = Vec::new();
    for account in &ACCOUNTS {
        connections.push(connection(storage, account, Timestamp::from_datetime(now)).await?);
    }
    let bar = ProgressBar::new(count as u64).with_style(
        ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} orders  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let (mut items, mut created) = (0usize, 0u64);
    let mut batch: Vec<Vec<Order>> = vec![Vec::new(); ACCOUNTS.len()];
    for n in 0..count {
        let account = pick_account(&mut rng);
        let order = order(&mut rng, (n, count), seed, &ACCOUNTS[account], &products, now);
        items += order.items.len();
        batch[account].push(order);
        if batch[account].len() == BATCH {
            created += store(storage, &ACCOUNTS[account], connections[account], &mut batch[account]).await?;
            bar.inc(BATCH as u64);
        }
    }
    for (account, orders) in batch.iter_mut().enumerate() {
        let left = orders.len() as u64;
        created += store(storage, &ACCOUNTS[account], connections[account], orders).await?;
        bar.inc(left);
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  {count} orders ({created} new) with {items} items in {secs:.1} s, {:.0} orders/s",
        count as f64 / secs
    );

    let mut levels = 0;
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(2));
    for (account, connection) in ACCOUNTS.iter().zip(&connections) {
        let stock = stock(&mut rng, account, &products, now);
        let mut tx = storage.begin().await?;
        levels += tx
            .upsert_stock(*connection, &stock, Timestamp::from_datetime(now))
            .await?;
        tx.commit().await?;
    }
    println!("  {levels} stock levels of {PRODUCTS} SKUs");
    storage.vacuum_analyze().await?;
    Ok(())
}

/// The seeded account's connection: the one from an earlier run, or a new one. Without
/// credentials it is "Incomplete", so nothing ever tries to sync it.
async fn connection(storage: &Storage, account: &Account, now: Timestamp) -> anyhow::Result<i64> {
    let existing = storage.list_connections().await?.into_iter().find(|connection| {
        connection.active && connection.platform == account.platform && connection.label == account.label
    });
    if let Some(connection) = existing {
        return Ok(connection.id);
    }
    let mut tx = storage.begin().await?;
    let created = tx
        .insert_connection(&NewConnection {
            platform: account.platform,
            status: ConnectionStatus::Incomplete,
            status_message: "Sample data from javelin bench seed: no credentials, never synced.",
            label: account.label,
            region: account.region,
            marketplace_id: account.markets[0].id,
            selling_partner_id: None,
            application_id: None,
            created_by: None,
            now,
        })
        .await?;
    tx.commit().await?;
    Ok(created.id)
}

async fn store(storage: &Storage, account: &Account, connection: i64, orders: &mut Vec<Order>) -> anyhow::Result<u64> {
    if orders.is_empty() {
        return Ok(0);
    }
    let mut tx = storage.begin().await?;
    let summary = tx
        .upsert_orders(connection, account.platform, orders, Timestamp::now())
        .await?;
    tx.commit().await?;
    orders.clear();
    Ok(summary.created)
}

fn catalogue(rng: &mut StdRng) -> Vec<Product> {
    (0..PRODUCTS)
        .map(|n| Product {
            sku: format!("SKU-{:05}", n + 1),
            asin: format!("B0{:08}", rng.random_range(0..100_000_000u32)),
            fsn: format!("FSN{:013}", rng.random_range(0..10_000_000_000_000u64)),
            title: format!(
                "{} {} {}, {}",
                ADJECTIVES[rng.random_range(0..ADJECTIVES.len())],
                MATERIALS[rng.random_range(0..MATERIALS.len())],
                NOUNS[rng.random_range(0..NOUNS.len())],
                COLOURS[rng.random_range(0..COLOURS.len())]
            ),
            price: rng.random_range(499..=9999),
        })
        .collect()
}

fn pick_account(rng: &mut StdRng) -> usize {
    let mut roll = rng.random_range(0..100);
    for (index, account) in ACCOUNTS.iter().enumerate() {
        if roll < account.share {
            return index;
        }
        roll -= account.share;
    }
    0
}

/// The `n`th of `count` orders: more recent ones more likely (a growing business), open while young,
/// mostly shipped or delivered when old, a few cancelled or returned.
fn order(
    rng: &mut StdRng,
    (n, count): (usize, usize),
    seed: u64,
    account: &Account,
    products: &[Product],
    now: OffsetDateTime,
) -> Order {
    let market = &account.markets[rng.random_range(0..account.markets.len())];
    // Oldest first, as a history import reads them; denser towards now.
    let share = (n as f64 + rng.random::<f64>()) / count as f64;
    let age = Duration::seconds(((1.0 - share.sqrt()) * (HISTORY_DAYS * 86_400) as f64) as i64);
    let purchased = now - age - Duration::minutes(5);
    let status = status(rng, age, account.platform);
    let settled = match status.0 {
        OrderStatus::Pending | OrderStatus::Unshipped => Duration::minutes(rng.random_range(0..30)),
        _ => Duration::hours(rng.random_range(2..120)),
    };
    let updated = (purchased + settled).min(now - Duration::minutes(3));
    let lines = *[1, 1, 1, 2, 2, 3, 4, 5].get(rng.random_range(0..8)).unwrap_or(&1);
    let shipped = matches!(
        status.0,
        OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Returned
    );
    let mut total = 0;
    let items: Vec<OrderItem> = (0..lines)
        .map(|line| {
            let product = &products[rng.random_range(0..products.len())];
            let quantity = rng.random_range(1..=3u32);
            let unit = product.price * market.scale;
            total += unit * i64::from(quantity);
            OrderItem {
                external_id: format!("{n:012}{line}"),
                sku: Some(product.sku.clone()),
                product_id: Some(if account.platform == "amazon" {
                    product.asin.clone()
                } else {
                    product.fsn.clone()
                }),
                title: Some(product.title.clone()),
                quantity,
                quantity_shipped: if shipped { quantity } else { 0 },
                unit_price: Money::from_minor(unit, market.currency).ok(),
                line_total: Money::from_minor(unit * i64::from(quantity), market.currency).ok(),
            }
        })
        .collect();
    let place = market.places[rng.random_range(0..market.places.len())];
    let external_id = match account.platform {
        "amazon" => format!("{:03}-{:07}-{:07}", 100 + seed % 900, n / 10_000_000, n % 10_000_000),
        _ => format!("OD{seed:04}{n:014}"),
    };
    Order {
        external_id,
        marketplace_id: market.id.map(str::to_owned),
        status: status.0,
        platform_status: status.1.to_owned(),
        fulfillment_channel: Some(
            match (account.platform, rng.random_bool(0.6)) {
                ("amazon", true) => "AFN",
                ("amazon", false) => "MFN",
                (_, true) => "SELLER",
                (_, false) => "FBF",
            }
            .to_owned(),
        ),
        purchased_at: purchased,
        updated_at: updated,
        ship_by: Some(purchased + Duration::days(2)),
        total: Money::from_minor(total, market.currency).ok(),
        ship_to: ShipTo {
            city: Some(place.0.to_owned()),
            region: Some(place.1.to_owned()),
            postal_code: Some(place.2.to_owned()),
            country: Some(market.country.to_owned()),
        },
        items,
    }
}

/// Javelin's status and the marketplace's word for it, by the order's age.
fn status(rng: &mut StdRng, age: Duration, platform: &str) -> (OrderStatus, &'static str) {
    let amazon = platform == "amazon";
    let roll = rng.random_range(0..100);
    if age < Duration::days(2) {
        return match roll {
            0..15 if amazon => (OrderStatus::Pending, "PENDING"),
            0..70 => (OrderStatus::Unshipped, if amazon { "UNSHIPPED" } else { "APPROVED" }),
            70..80 if amazon => (OrderStatus::PartiallyShipped, "PARTIALLY_SHIPPED"),
            70..96 => (OrderStatus::Shipped, "SHIPPED"),
            _ => (OrderStatus::Cancelled, "CANCELLED"),
        };
    }
    match roll {
        0..6 => (OrderStatus::Cancelled, "CANCELLED"),
        6..9 if !amazon => (OrderStatus::Returned, "RETURNED"),
        6..9 => (OrderStatus::Unfulfillable, "UNFULFILLABLE"),
        9..60 if !amazon => (OrderStatus::Delivered, "DELIVERED"),
        _ => (OrderStatus::Shipped, "SHIPPED"),
    }
}

/// Stock of every product in each place the account holds it.
fn stock(rng: &mut StdRng, account: &Account, products: &[Product], now: OffsetDateTime) -> Vec<StockLevel> {
    let mut levels = Vec::new();
    for market in account.markets {
        for product in products {
            let places: &[&str] = match account.platform {
                "amazon" => &["fba", "fbm"],
                _ => &["LOC-BLR-1", "LOC-DEL-2"],
            };
            for place in places {
                if rng.random_bool(0.3) {
                    continue;
                }
                let fba = *place == "fba";
                levels.push(StockLevel {
                    marketplace_id: market.id.map(str::to_owned),
                    sku: product.sku.clone(),
                    location: (*place).to_owned(),
                    product_id: Some(if account.platform == "amazon" {
                        product.asin.clone()
                    } else {
                        product.fsn.clone()
                    }),
                    title: Some(product.title.clone()),
                    // Some run low, so that low-stock views have something to show.
                    available: if rng.random_bool(0.1) {
                        rng.random_range(0..5)
                    } else {
                        rng.random_range(5..400)
                    },
                    reserved: rng.random_range(0..10),
                    inbound: if fba { rng.random_range(0..50) } else { 0 },
                    unfulfillable: if fba { rng.random_range(0..3) } else { 0 },
                    updated_at: Some(now - Duration::minutes(rng.random_range(1..600))),
                });
            }
        }
    }
    levels
}
