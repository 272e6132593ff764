//! Orders listed with filters: `GET /api/v1/orders` as a script uses it, the Orders page as a
//! seller does.

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

/// `GET /api/v1/orders?{query}`.
async fn orders(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    app.api_get(token, &format!("/api/v1/orders?{query}")).await
}

/// A server holding 30 orders of one Amazon connection: by `n`, unshipped, shipped, cancelled in
/// turn, AFN when `n` is even, bought `n` hours after 2026-09-21T14:13:20Z.
async fn start(db: javelin_storage::testing::TestDatabase) -> TestApp {
    let app = TestApp::start_with_admin(db).await;
    let connection = app.db.connection("amazon").await.expect("connection");
    let statuses = [OrderStatus::Unshipped, OrderStatus::Shipped, OrderStatus::Cancelled];
    let orders: Vec<Order> = (0..30).map(|n| order(n, statuses[n as usize % 3])).collect();
    let mut tx = app.db.storage.begin().await.expect("begin");
    tx.upsert_orders(connection, "amazon", &orders, Timestamp::now())
        .await
        .expect("upsert");
    tx.commit().await.expect("commit");
    app
}

/// The order numbers `n` a page of the Orders page shows, top to bottom.
fn shown(html: &str) -> Vec<i64> {
    html.split("data-order=\"111-")
        .skip(1)
        .map(|rest| rest[..7].parse().expect("n"))
        .collect()
}

javelin_storage::backend_tests! {
    async fn orders_are_filtered_paged_and_bad_parameters_named(db) {
        let app = start(db).await;
        let token = app.api_token().await;

        // Cancelled AFN orders (n % 3 == 2, n even) from hour 8 to hour 20, both bounds included: 8, 14, 20.
        let query = "status=cancelled&fulfillment_channel=AFN&from=2026-09-21T22:13:20Z&to=2026-09-22T10:13:20Z&limit=2";
        let (mut seen, mut next) = (Vec::new(), Some(String::new()));
        while let Some(cursor) = next {
            let (status, body) = orders(&app, &token, &format!("{query}&cursor={cursor}")).await;
            assert_eq!(status, 200, "{body}");
            for order in body["orders"].as_array().expect("orders") {
                assert_eq!((order["status"].as_str(), order["fulfillment_channel"].as_str()), (Some("cancelled"), Some("AFN")));
                seen.push(order["external_id"].as_str().expect("id").to_owned());
            }
            next = body["next_cursor"].as_str().map(str::to_owned);
        }
        let hours: Vec<i64> = seen.iter().map(|id| id[4..11].parse().expect("n")).collect();
        assert_eq!(hours, [20, 14, 8], "newest first, each once: {seen:?}");

        // Search: an order id, a part of one, a SKU or title word with the other filters.
        for (q, expected) in [("111-0000007-0000000", vec![7]), ("0000013", vec![13]), ("mug-1&status=cancelled&limit=3", vec![29, 26, 23])] {
            let (status, body) = orders(&app, &token, &format!("q={q}")).await;
            assert_eq!(status, 200, "{body}");
            let found: Vec<i64> = body["orders"].as_array().expect("orders").iter()
                .map(|order| order["external_id"].as_str().expect("id")[4..11].parse().expect("n")).collect();
            assert_eq!(found, expected, "q={q}");
        }

        for (name, value) in [
            ("platform", "ebay"),
            ("connection_id", "abc"),
            ("status", "lost"),
            ("fulfillment_channel", "DHL"),
            ("from", "yesterday"),
            ("to", "2026-13-01"),
            ("q", "--"),
            ("limit", "1000"),
            ("cursor", "not-ours"),
        ] {
            let (status, body) = orders(&app, &token, &format!("{name}={value}")).await;
            assert_eq!(status, 422, "{name}={value}: {body}");
            assert!(body["fields"][name].as_str().is_some_and(|m| m.contains(name)), "{name}={value}: {body}");
        }
    }

    async fn the_orders_page_filters_keep_across_pages_and_name_bad_ones(db) {
        let app = start(db).await;
        app.login_admin().await;
        let page = app.get("/orders?status=shipped&fulfillment_channel=MFN").await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("page");
        // Shipped (n % 3 == 1) and MFN (odd): 1, 7, 13, 19, 25, newest first.
        assert_eq!(shown(&html), [25, 19, 13, 7, 1]);
        assert!(html.contains(r#"<option value="shipped" selected>"#), "the filter shows what was chosen");
        assert!(html.contains("Clear filters"));

        // More than a page (50): every order, the second page keeps the filters.
        let html = app.get("/orders?from=2026-09-21").await.text().await.expect("page");
        assert_eq!(shown(&html).len(), 30);
        let many: Vec<Order> = (30..100).map(|n| order(n, OrderStatus::Cancelled)).collect();
        let connection = app.db.storage.list_connections().await.expect("list")[0].id;
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_orders(connection, "amazon", &many, Timestamp::now()).await.expect("upsert");
        tx.commit().await.expect("commit");
        let html = app.get("/orders?status=cancelled").await.text().await.expect("page");
        assert_eq!(shown(&html).len(), 50);
        let next = html.split("rel=\"next\"").next().and_then(|head| head.rsplit("href=\"").next()).expect("a next link");
        let next = common::unescape(next.trim_end_matches("\" "));
        assert!(next.starts_with("?status=cancelled&cursor="), "{next}");
        let older = app.get(&format!("/orders{next}")).await.text().await.expect("page");
        let rest = shown(&older);
        assert_eq!(rest.len(), 80 - 50, "cancelled orders: 10 of the first 30 and 70 more");
        assert!(rest.iter().all(|n| n % 3 == 2 || *n >= 30), "{rest:?}");
        assert!(older.contains("← Newest"));

        for (query, param) in [("status=lost", "status"), ("from=31%2F01%2F2026", "from"), ("cursor=bogus", "cursor"), ("platform=ebay", "platform")] {
            let page = app.get(&format!("/orders?{query}")).await;
            assert_eq!(page.status(), 422, "{query}");
            let html = page.text().await.expect("page");
            assert!(html.contains(&format!(r#"<li data-param="{param}">"#)), "{query}: {html}");
            assert!(shown(&html).is_empty());
        }
    }

    async fn an_order_shows_its_items_history_and_marketplace_page(db) {
        let app = start(db).await;
        let token = app.api_token().await;
        let connection = app.db.storage.list_connections().await.expect("list")[0].id;
        let mut shipped = order(3, OrderStatus::Shipped);
        shipped.updated_at += Duration::hours(30);
        shipped.items[0].quantity_shipped = 1;
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_orders(connection, "amazon", &[shipped], Timestamp::now()).await.expect("upsert");
        tx.commit().await.expect("commit");
        let id = app.db.storage.find_order(connection, "111-0000003-0000000").await.expect("find").expect("stored").id;

        let response = api_client().get(app.url(&format!("/api/v1/orders/{id}"))).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!((body["id"].as_i64(), body["status"].as_str()), (Some(id), Some("shipped")));
        assert_eq!(body["items"][0]["quantity_shipped"], 1);
        let history: Vec<&str> = body["history"].as_array().expect("history").iter().map(|h| h["status"].as_str().expect("status")).collect();
        assert_eq!(history, ["unshipped", "shipped"], "{body}");
        assert_eq!(body["marketplace_url"], "https://sellercentral.amazon.com/orders-v3/order/111-0000003-0000000");
        for missing in ["999999", "abc"] {
            let response = api_client().get(app.url(&format!("/api/v1/orders/{missing}"))).bearer_auth(&token).send().await.expect("GET");
            assert_eq!(response.status(), 404, "{missing}");
        }

        app.login_admin().await;
        let list = app.get("/orders").await.text().await.expect("page");
        assert!(list.contains(&format!(r#"<a href="/orders/{id}">111-0000003-0000000</a>"#)), "the list links each order");
        let page = app.get(&format!("/orders/{id}")).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("page");
        assert!(html.contains(r#"<li data-status="unshipped">"#) && html.contains(r#"<li data-status="shipped">"#), "{html}");
        assert!(html.contains(r#"<tr data-item="3">"#));
        assert!(html.contains("Open in Seller Central"));
        assert_eq!(app.get("/orders/999999").await.status(), 404);
    }

    async fn the_csv_export_holds_exactly_the_filtered_orders(db) {
        let app = start(db).await;
        let token = app.api_token().await;
        // More than one batch of the export (1000 orders).
        let connection = app.db.storage.list_connections().await.expect("list")[0].id;
        let more: Vec<Order> = (30..1130).map(|n| order(n, if n % 5 == 0 { OrderStatus::Cancelled } else { OrderStatus::Shipped })).collect();
        let mut tx = app.db.storage.begin().await.expect("begin");
        tx.upsert_orders(connection, "amazon", &more, Timestamp::now()).await.expect("upsert");
        tx.commit().await.expect("commit");

        let export = |query: &'static str| {
            let app = &app;
            let token = &token;
            async move {
                let response = api_client().get(app.url(&format!("/api/v1/orders.csv?{query}"))).bearer_auth(token).send().await.expect("GET");
                assert_eq!(response.status(), 200, "{query}");
                assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
                response.text().await.expect("CSV")
            }
        };
        let csv = export("").await;
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("order_id,platform,connection_id,external_id,marketplace_id,status,platform_status,fulfillment_channel,purchased_at,updated_at,ship_by,total_amount,total_currency,units"));
        let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
        assert_eq!(rows.len(), 1130, "every order once");
        let mut ids: Vec<&str> = rows.iter().map(|row| row[3]).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 1130);
        let first = &rows[0];
        assert_eq!((first[3], first[5], first[11], first[12], first[13]), ("111-0001129-0000000", "shipped", "9.99", "USD", "1"));
        assert_eq!(first[8], "2026-11-07T15:13:20Z", "purchase time in RFC 3339 UTC");

        // Cancelled: 10 of the first 30, and every fifth of the rest (220).
        let cancelled = export("status=cancelled&fulfillment_channel=").await;
        let ids: Vec<&str> = cancelled.lines().skip(1).map(|line| line.split(',').nth(3).expect("id")).collect();
        assert_eq!(ids.len(), 230);
        let listed = {
            let (mut listed, mut next) = (Vec::new(), Some(String::new()));
            while let Some(cursor) = next {
                let (_, body) = orders(&app, &token, &format!("status=cancelled&limit=500&cursor={cursor}")).await;
                listed.extend(body["orders"].as_array().expect("orders").iter().map(|o| o["external_id"].as_str().expect("id").to_owned()));
                next = body["next_cursor"].as_str().map(str::to_owned);
            }
            listed
        };
        assert_eq!(ids, listed, "the export is the list, in its order");

        let found = export("q=0001042").await;
        let ids: Vec<&str> = found.lines().skip(1).map(|line| line.split(',').nth(3).expect("id")).collect();
        assert_eq!(ids, ["111-0001042-0000000"], "a search exports its matches");
        let found = export("q=MUG&status=cancelled").await;
        assert_eq!(found.lines().count(), 231, "words and filters together");

        let response = api_client().get(app.url("/api/v1/orders.csv?status=lost")).bearer_auth(&token).send().await.expect("GET");
        assert_eq!(response.status(), 422);
    }
}
