//! The dashboard: `GET /api/v1/dashboard` adds up exactly what the orders hold, currencies kept
//! apart, and the page draws it.

mod common;

use std::collections::BTreeMap;

use common::TestApp;
use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo, StockLevel};
use javelin_storage::Timestamp;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// 2026-09-01T00:00:00Z.
fn start() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_788_220_800).expect("time")
}

/// The `n`th order: bought `n * 7` hours after the start, in USD, EUR or INR by turn (INR on
/// Flipkart), some cancelled, one to three units of SKU-(n % 4).
fn order(n: i64) -> (bool, Order) {
    let flipkart = n % 3 == 2;
    let currency = ["USD", "EUR", "INR"][(n % 3) as usize];
    let status = match n % 5 {
        0 => OrderStatus::Cancelled,
        1 => OrderStatus::Unshipped,
        _ => OrderStatus::Shipped,
    };
    let purchased = start() + Duration::hours(n * 7);
    let quantity = 1 + (n % 3) as u32;
    let price = Money::from_minor(1000 + n, currency).expect("money");
    let order = Order {
        external_id: format!("D-{n:04}"),
        marketplace_id: None,
        status,
        platform_status: status.code().to_uppercase(),
        fulfillment_channel: None,
        purchased_at: purchased,
        updated_at: purchased + Duration::minutes(1),
        ship_by: Some(purchased + Duration::days(2)),
        total: price.times(quantity),
        ship_to: ShipTo::default(),
        items: vec![OrderItem {
            external_id: "1".into(),
            sku: Some(format!("SKU-{}", n % 4)),
            product_id: None,
            title: Some("Thing".into()),
            quantity,
            quantity_shipped: 0,
            unit_price: Some(price),
            line_total: price.times(quantity),
        }],
    };
    (flipkart, order)
}

async fn dashboard(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    app.api_get(token, &format!("/api/v1/dashboard?{query}")).await
}

/// What the dashboard should say of the orders bought in `[from, before)`, computed here.
fn expected(orders: &[(bool, Order)], from: OffsetDateTime, before: OffsetDateTime) -> Value {
    let mut revenue: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_status: BTreeMap<&str, i64> = BTreeMap::new();
    let mut skus: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_platform: BTreeMap<&str, i64> = BTreeMap::new();
    let mut count = 0;
    for (flipkart, order) in orders
        .iter()
        .filter(|(_, o)| o.purchased_at >= from && o.purchased_at < before)
    {
        count += 1;
        *by_status.entry(order.status.code()).or_default() += 1;
        *by_platform
            .entry(if *flipkart { "flipkart" } else { "amazon" })
            .or_default() += 1;
        if order.status != OrderStatus::Cancelled {
            let total = order.total.expect("total");
            *revenue.entry(total.currency()).or_default() += total.minor();
            for item in &order.items {
                *skus.entry(item.sku.clone().expect("sku")).or_default() += i64::from(item.quantity);
            }
        }
    }
    let money = |revenue: &BTreeMap<&str, i64>| -> Vec<Value> {
        revenue
            .iter()
            .map(|(currency, minor)| {
                serde_json::to_value(Money::from_minor(*minor, currency).expect("money")).expect("JSON")
            })
            .collect()
    };
    let mut top: Vec<(String, i64)> = skus.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut statuses: Vec<(&str, i64)> = by_status.into_iter().collect();
    statuses.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    serde_json::json!({
        "orders": count,
        "revenue": money(&revenue),
        "by_status": statuses.iter().map(|(status, orders)| serde_json::json!({"status": status, "orders": orders})).collect::<Vec<_>>(),
        "top_skus": top.iter().map(|(sku, units)| serde_json::json!({"sku": sku, "units": units})).collect::<Vec<_>>(),
        "platform_orders": by_platform,
    })
}

fn of(body: &Value) -> Value {
    let platform_orders: BTreeMap<String, i64> = body["by_platform"]
        .as_array()
        .expect("by_platform")
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().expect("platform").to_owned(),
                p["orders"].as_i64().expect("orders"),
            )
        })
        .collect();
    serde_json::json!({
        "orders": body["orders"],
        "revenue": body["revenue"],
        "by_status": body["by_status"],
        "top_skus": body["top_skus"],
        "platform_orders": platform_orders,
    })
}

javelin_storage::backend_tests! {
    async fn the_dashboard_adds_up_what_the_orders_hold(db) {
        let app = TestApp::start_with_admin(db).await;
        let amazon = app.db.connection("amazon").await.expect("connection");
        let flipkart = app.db.connection("flipkart").await.expect("connection");
        // 40 days of orders, then a third of them updated: cancelled or shipped, and priced anew.
        let mut orders: Vec<(bool, Order)> = (0..140).map(order).collect();
        for (n, (_, order)) in orders.iter_mut().enumerate().filter(|(n, _)| n % 3 == 0) {
            order.status = if n % 2 == 0 { OrderStatus::Cancelled } else { OrderStatus::Shipped };
            order.updated_at += Duration::hours(1);
            order.total = order.total.and_then(|total| Money::from_minor(total.minor() + 7, total.currency()).ok());
        }
        for round in [&(0..140).map(order).collect::<Vec<_>>(), &orders] {
            for (connection, platform, wanted) in [(amazon, "amazon", false), (flipkart, "flipkart", true)] {
                let page: Vec<Order> = round.iter().filter(|(f, _)| *f == wanted).map(|(_, o)| o.clone()).collect();
                let mut tx = app.db.storage.begin().await.expect("begin");
                tx.upsert_orders(connection, platform, &page, Timestamp::now()).await.expect("upsert");
                tx.commit().await.expect("commit");
            }
        }
        let stock = |sku: &str, available: i64| StockLevel {
            marketplace_id: None,
            sku: sku.into(),
            location: "fbm".into(),
            product_id: None,
            title: Some(format!("{sku} title")),
            available,
            reserved: 0,
            inbound: 0,
            unfulfillable: 0,
            updated_at: None,
        };
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_stock(amazon, &[stock("SKU-LOW", 2), stock("SKU-PLENTY", 50)], Timestamp::now()).await.expect("stock");
        tx.commit().await.expect("commit");
        let token = app.api_token().await;

        // Whole days, and a period cut inside days at both ends.
        for (query, from, before) in [
            ("from=2026-09-03&to=2026-09-20", start() + Duration::days(2), start() + Duration::days(20)),
            ("from=2026-09-03T05:00:00Z&to=2026-10-01T13:00:00Z", start() + Duration::hours(53), start() + Duration::days(30) + Duration::hours(13) + Duration::microseconds(1)),
            ("from=2026-09-01&to=2026-12-31", start(), start() + Duration::days(122)),
        ] {
            let (status, body) = dashboard(&app, &token, query).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(of(&body), expected(&orders, from, before), "{query}");
            let by_day: i64 = body["by_day"].as_array().expect("by_day").iter().map(|d| d["orders"].as_i64().expect("n")).sum();
            assert_eq!(Some(by_day), body["orders"].as_i64(), "the days add up to the period: {query}");
        }
        let (_, body) = dashboard(&app, &token, "from=2026-09-01&to=2026-12-31").await;
        let currencies: Vec<&str> = body["revenue"].as_array().expect("revenue").iter().map(|m| m["currency"].as_str().expect("c")).collect();
        assert_eq!(currencies, ["EUR", "INR", "USD"], "one sum per currency, never added together");
        assert_eq!(body["connections"].as_array().expect("connections").len(), 2);
        assert_eq!(
            body["low_stock"],
            serde_json::json!([{"sku": "SKU-LOW", "title": "SKU-LOW title", "total_available": 2, "threshold": 5}]),
            "SKUs at or below their threshold"
        );
        assert!(body["open"]["waiting_to_ship"].as_i64().is_some_and(|n| n > 0), "{body}");

        for (query, named) in [("from=yesterday", "from"), ("to=2026-02-30", "to"), ("from=2026-02-01&to=2026-01-01", "to"), ("period=year", "period")] {
            let (status, body) = dashboard(&app, &token, query).await;
            assert_eq!(status, 422, "{query}: {body}");
            assert!(body["fields"][named].as_str().is_some(), "{query}: {body}");
        }

        app.login_admin().await;
        let page = app.get("/?from=2026-09-01&to=2026-10-15").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("page");
        assert!(html.matches("<svg").count() >= 4, "orders, three currencies' revenue, statuses");
        for id in ["id=\"by-day\"", "id=\"by-status\"", "id=\"top-skus\"", "id=\"health\"", "id=\"low-stock\"", "#0072B2"] {
            assert!(html.contains(id), "{id} missing");
        }
        let bad = app.get("/?from=someday").await;
        assert_eq!(bad.status(), 422);
        assert!(bad.text().await.expect("page").contains("from must be a date"));
    }
}
