//! Orders to store in the storage tests, and a migration's backfill run again.
#![allow(dead_code)] // Each test file uses its own part.

use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use javelin_storage::{Storage, Timestamp, UpsertSummary};
use time::{Duration, OffsetDateTime};

pub fn at(minutes: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("valid") + Duration::minutes(minutes)
}

pub fn usd(amount: &str) -> Option<Money> {
    Some(Money::parse(amount, "USD").expect("money"))
}

pub fn order(id: &str, status: OrderStatus, purchased: i64, updated: i64, items: &[(&str, u32)]) -> Order {
    Order {
        external_id: id.into(),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        status,
        platform_status: status.code().to_uppercase(),
        fulfillment_channel: Some("MFN".into()),
        purchased_at: at(purchased),
        updated_at: at(updated),
        ship_by: Some(at(purchased + 2880)),
        total: usd("25.98"),
        ship_to: ShipTo {
            city: Some("Seattle".into()),
            region: Some("WA".into()),
            postal_code: Some("98101".into()),
            country: Some("US".into()),
        },
        items: items
            .iter()
            .map(|(item, quantity)| OrderItem {
                external_id: (*item).into(),
                sku: Some(format!("SKU-{item}")),
                product_id: Some(format!("B0{item}")),
                title: Some(format!("Item {item}")),
                quantity: *quantity,
                quantity_shipped: 0,
                unit_price: usd("12.99"),
                line_total: usd("12.99").and_then(|price| price.times(*quantity)),
            })
            .collect(),
    }
}

pub async fn upsert(storage: &Storage, connection_id: i64, orders: &[Order]) -> UpsertSummary {
    let mut tx = storage.begin().await.expect("begin");
    let summary = tx
        .upsert_orders(connection_id, "amazon", orders, Timestamp::now())
        .await
        .expect("upsert");
    tx.commit().await.expect("commit");
    summary
}

/// Drops `table` and runs again the migration that made and filled it (its SQLite or its
/// PostgreSQL text, as `db` is), as on a store whose rows were written before it existed.
pub async fn refill(db: &javelin_storage::testing::TestDatabase, table: &str, sqlite: &str, postgres: &str) {
    db.storage
        .execute_unprepared(&format!("DROP TABLE {table}"))
        .await
        .expect("drop");
    let migration = if db.url.starts_with("sqlite") { sqlite } else { postgres };
    db.storage.execute_unprepared(migration).await.expect("migrate");
}
