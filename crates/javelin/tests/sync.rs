//! Sync against the marketplace sandbox, on SQLite and PostgreSQL: every order and stock level
//! the sandbox has reaches Javelin exactly once, in its latest state, whatever goes wrong on
//! the way.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestApp, api_client, sample};
use javelin_sandbox::SandboxOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The sandbox's marketplaces of a North American account.
const NA: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];

/// A sandbox a thousand times faster than Amazon's limits: a sync of hundreds of orders takes
/// moments, still paced exactly.
fn fast(orders: usize) -> SandboxOptions {
    SandboxOptions {
        orders,
        time_scale: 1000.0,
        ..SandboxOptions::default()
    }
}

async fn connect_amazon(app: &TestApp, token: &str) -> i64 {
    let creds = sample(app).amazon;
    let body = json!({"platform": "amazon", "client_id": creds.client_id, "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"});
    let response = api_client()
        .post(app.url("/api/v1/connections"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let created: Value = response.json().await.expect("JSON");
    assert_eq!(created["status"], "connected", "{created}");
    created["id"].as_i64().expect("id")
}

/// Starts a sync of `kind` and waits (at most a minute) for its jobs to end; returns them.
async fn sync(app: &TestApp, token: &str, id: i64, kind: &str) -> Vec<Value> {
    let mut events = app.sync.as_ref().expect("running").subscribe();
    let response = api_client()
        .post(app.url(&format!("/api/v1/connections/{id}/sync")))
        .bearer_auth(token)
        .json(&json!({"kind": kind}))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.expect("JSON");
    let mut waiting: BTreeSet<i64> = queued["job_ids"]
        .as_array()
        .expect("job ids")
        .iter()
        .map(|id| id.as_i64().expect("id"))
        .collect();
    assert_eq!(Some(&queued["job_id"]), queued["job_ids"].get(0));
    let ids = waiting.clone();
    tokio::time::timeout(Duration::from_secs(60), async {
        while !waiting.is_empty() {
            let event = events.recv().await.expect("job events");
            if matches!(
                event.state,
                javelin_storage::JobState::Succeeded | javelin_storage::JobState::Failed
            ) {
                waiting.remove(&event.job_id);
            }
        }
    })
    .await
    .expect("the sync ends within a minute");
    let mut jobs = Vec::new();
    for job in ids {
        jobs.push(get(app, token, &format!("/api/v1/sync-jobs/{job}")).await);
    }
    jobs
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = api_client()
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.expect("JSON")
}

/// Every order of a connection, following the cursors.
async fn all_orders(app: &TestApp, token: &str, id: i64) -> Vec<Value> {
    let mut orders = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/orders?connection_id={id}&limit=97");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(app, token, &path).await;
        orders.extend(page["orders"].as_array().expect("orders").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return orders,
        }
    }
}

/// Amazon's word for Javelin's status.
fn javelin_status(amazon: &str) -> &'static str {
    match amazon {
        "PENDING" => "pending",
        "UNSHIPPED" => "unshipped",
        "PARTIALLY_SHIPPED" => "partially_shipped",
        "SHIPPED" => "shipped",
        "CANCELLED" => "cancelled",
        other => panic!("the sandbox has no status {other}"),
    }
}

/// An order as the comparison sees it: id, status, item ids with quantities.
type Summary = (String, String, Vec<(String, i64)>);

/// What Javelin holds against what the sandbox has, settled: orders change in Amazon's answers
/// only two minutes after they change.
async fn compare(app: &TestApp, token: &str, id: i64) -> usize {
    let held: BTreeSet<Summary> = all_orders(app, token, id)
        .await
        .iter()
        .map(|order| {
            let mut items: Vec<(String, i64)> = order["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| {
                    (
                        i["external_item_id"].as_str().expect("id").to_owned(),
                        i["quantity"].as_i64().expect("quantity"),
                    )
                })
                .collect();
            items.sort();
            (
                order["external_id"].as_str().expect("id").to_owned(),
                order["status"].as_str().expect("status").to_owned(),
                items,
            )
        })
        .collect();
    let settled = app.sandbox.clock().now() - time::Duration::minutes(2);
    let expected: BTreeSet<Summary> = app
        .sandbox
        .amazon_orders(&NA)
        .into_iter()
        .filter(|order| order.updated < settled)
        .map(|order| {
            let mut items: Vec<(String, i64)> = order.items.into_iter().map(|(id, q)| (id, i64::from(q))).collect();
            items.sort();
            (order.id, javelin_status(order.status).to_owned(), items)
        })
        .collect();
    assert_eq!(held.len(), expected.len(), "as many orders as the sandbox has");
    let missing: Vec<_> = expected.difference(&held).take(3).collect();
    let extra: Vec<_> = held.difference(&expected).take(3).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, unexpected {extra:?}"
    );
    held.len()
}

javelin_storage::backend_tests! {
    async fn amazon_orders_arrive_once_in_their_latest_state(db) {
        let app = TestApp::start_with_sandbox(db, fast(600), |config| {
            config.admin = Some(javelin::config::AdminSeed { email: common::ADMIN_EMAIL.into(), password: common::ADMIN_PASSWORD.into() });
        })
        .await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;

        let jobs = sync(&app, &token, id, "orders").await;
        let job = &jobs[0];
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(job["kind"], "orders");
        let count = compare(&app, &token, id).await;
        assert!(count > 100, "more than a page: {count}");
        assert_eq!(job["created"].as_i64(), Some(count as i64), "{job}");
        assert_eq!((job["updated"].as_i64(), job["skipped"].as_i64()), (Some(0), Some(0)), "{job}");
        assert!(job["progress"]["pages"].as_i64() >= Some(2), "{job}");
        let order = &all_orders(&app, &token, id).await[0];
        for key in ["id", "platform", "connection_id", "external_id", "marketplace_id", "status", "platform_status",
            "fulfillment_channel", "purchased_at", "updated_at", "ship_by", "total", "items"] {
            assert!(order.get(key).is_some(), "{key} in {order}");
        }
        assert!(order["total"]["amount"].is_string() && order["total"]["currency"].is_string(), "{order}");
        assert!(order["purchased_at"].as_str().expect("time").ends_with('Z'));

        // Again: nothing new, nothing doubled.
        let again = &sync(&app, &token, id, "orders").await[0];
        assert_eq!((again["status"].as_str(), again["created"].as_i64()), (Some("succeeded"), Some(0)), "{again}");
        assert_eq!(compare(&app, &token, id).await, count);

        // Three days later orders have shipped or been cancelled, and access tokens expired.
        app.sandbox.clock().advance(time::Duration::days(3));
        let later = &sync(&app, &token, id, "orders").await[0];
        assert_eq!(later["status"], "succeeded", "{later}");
        assert!(later["updated"].as_i64() > Some(0), "status changes arrive: {later}");
        assert_eq!(later["created"].as_i64(), Some(0), "{later}");
        assert_eq!(compare(&app, &token, id).await, count);
        let listed = get(&app, &token, &format!("/api/v1/connections/{id}/sync-jobs")).await;
        assert_eq!(listed.as_array().map(Vec::len), Some(3));
        assert_eq!(listed[0]["id"], later["id"], "newest first");
    }
}
