//! `GET /api/v1/orders` with its filters, as a script uses it.

mod common;

use common::{TestApp, api_client};
use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use javelin_storage::Timestamp;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

fn order(n: i64, status: OrderStatus) -> Order {
    let purchased = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time") + Duration::hours(n);
    Order {
        external_id: format!("111-{n:07}-0000000"),
        marketplace_id: Some("ATVPDKIKX0DER".into()),
        status,
        platform_status: status.code().to_uppercase(),
        fulfillment_channel: Some(if n % 2 == 0 { "AFN" } else { "MFN" }.into()),
        purchased_at: purchased,
        updated_at: purchased + Duration::minutes(5),
        ship_by: None,
        total: Money::parse("9.99", "USD").ok(),
        ship_to: ShipTo::default(),
        items: vec![OrderItem {
            external_id: format!("{n}"),
            sku: Some("MUG-1".into()),
            product_id: None,
            title: Some("Mug".into()),
            quantity: 1,
            quantity_shipped: 0,
            unit_price: Money::parse("9.99", "USD").ok(),
            line_total: Money::parse("9.99", "USD").ok(),
        }],
    }
}

async fn get(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let response = api_client()
        .get(app.url(&format!("/api/v1/orders?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

javelin_storage::backend_tests! {
    async fn orders_are_filtered_paged_and_bad_parameters_named(db) {
        let app = TestApp::start_with_admin(db).await;
        let token = app.api_token().await;
        let connection = app.db.connection("amazon").await.expect("connection");
        let statuses = [OrderStatus::Unshipped, OrderStatus::Shipped, OrderStatus::Cancelled];
        let orders: Vec<Order> = (0..30).map(|n| order(n, statuses[n as usize % 3])).collect();
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_orders(connection, "amazon", &orders, Timestamp::now()).await.expect("upsert");
        tx.commit().await.expect("commit");

        // Cancelled AFN orders (n % 3 == 2, n even) from hour 8 to hour 20, both bounds included: 8, 14, 20.
        let query = "status=cancelled&fulfillment_channel=AFN&from=2026-09-21T22:13:20Z&to=2026-09-22T10:13:20Z&limit=2";
        let (mut seen, mut next) = (Vec::new(), Some(String::new()));
        while let Some(cursor) = next {
            let (status, body) = get(&app, &token, &format!("{query}&cursor={cursor}")).await;
            assert_eq!(status, 200, "{body}");
            for order in body["orders"].as_array().expect("orders") {
                assert_eq!((order["status"].as_str(), order["fulfillment_channel"].as_str()), (Some("cancelled"), Some("AFN")));
                seen.push(order["external_id"].as_str().expect("id").to_owned());
            }
            next = body["next_cursor"].as_str().map(str::to_owned);
        }
        let hours: Vec<i64> = seen.iter().map(|id| id[4..11].parse().expect("n")).collect();
        assert_eq!(hours, [20, 14, 8], "newest first, each once: {seen:?}");

        for (name, value) in [
            ("platform", "ebay"),
            ("connection_id", "abc"),
            ("status", "lost"),
            ("fulfillment_channel", "DHL"),
            ("from", "yesterday"),
            ("to", "2026-13-01"),
            ("q", "mug"),
            ("limit", "1000"),
            ("cursor", "not-ours"),
        ] {
            let (status, body) = get(&app, &token, &format!("{name}={value}")).await;
            assert_eq!(status, 422, "{name}={value}: {body}");
            assert!(body["fields"][name].as_str().is_some_and(|m| m.contains(name)), "{name}={value}: {body}");
        }
    }
}
