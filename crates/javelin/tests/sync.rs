//! Sync against the marketplace sandbox, on SQLite and PostgreSQL: every order and stock level
//! the sandbox has reaches Javelin exactly once, in its latest state, whatever goes wrong on
//! the way.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{TestApp, api_client, sample, with_admin};
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
    connect_amazon_as(app, token, "").await
}

async fn connect_amazon_as(app: &TestApp, token: &str, seller: &str) -> i64 {
    app.connect_by_api(token, &app.amazon_connection(seller)).await
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

/// Starts a sync; returns its first job's id.
async fn post_sync(app: &TestApp, token: &str, id: i64, body: Value) -> i64 {
    let response = api_client()
        .post(app.url(&format!("/api/v1/connections/{id}/sync")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.expect("JSON");
    queued["job_id"].as_i64().expect("job id")
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.api_get(token, path).await;
    assert_eq!(status, StatusCode::OK.as_u16(), "{path}");
    body
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

/// What Javelin holds against what the sandbox had when Javelin's last sync stopped reading:
/// just before the watermark it moved to (Amazon lists changes two minutes late).
async fn compare(app: &TestApp, token: &str, id: i64) -> usize {
    let held: BTreeSet<Summary> = app
        .all_orders(token, id)
        .await
        .iter()
        .map(|order| {
            (
                order["external_id"].as_str().expect("id").to_owned(),
                order["status"].as_str().expect("status").to_owned(),
                common::item_quantities(order),
            )
        })
        .collect();
    let watermark = app
        .db
        .storage
        .watermark(id, javelin_storage::SyncKind::Orders, "")
        .await
        .expect("watermark")
        .expect("synced");
    let settled = watermark.datetime() - time::Duration::microseconds(1);
    let expected: BTreeSet<Summary> = app
        .sandbox
        .amazon_orders_at(&NA, settled)
        .into_iter()
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

/// An Amazon connection made through the consent (so Javelin knows the seller's id).
async fn connect_amazon_by_consent(app: &TestApp) -> i64 {
    app.login_admin().await;
    let consent = app.start_oauth(&sample(app).amazon.client_secret).await;
    let back = app.consent(&consent, "authorize").await;
    assert!(app.callback(&back).await.starts_with("Connected"));
    app.db
        .storage
        .list_connections()
        .await
        .expect("list")
        .last()
        .expect("connected")
        .id
}

async fn connect_flipkart(app: &TestApp, token: &str) -> i64 {
    app.connect_by_api(token, &app.flipkart_connection()).await
}

/// Every stock row of a connection, following the cursors: (marketplace, SKU, place, available).
async fn all_stock(app: &TestApp, token: &str, id: i64) -> BTreeSet<(String, String, String, i64)> {
    let mut rows = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/inventory?connection_id={id}&limit=50");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(app, token, &path).await;
        for item in page["items"].as_array().expect("items") {
            rows.insert((
                item["marketplace_id"].as_str().unwrap_or("").to_owned(),
                item["sku"].as_str().expect("sku").to_owned(),
                item["location"].as_str().expect("location").to_owned(),
                item["available"].as_i64().expect("available"),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return rows,
        }
    }
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
        let order = &app.all_orders(&token, id).await[0];
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

    async fn orders_read_again_from_a_date_chosen_during_a_sync(db) {
        // Twenty-odd pages of North American orders: the burst, then a page every 0.3 s.
        let options = SandboxOptions { orders: 7500, time_scale: 200.0, ..SandboxOptions::default() };
        let app = TestApp::start_with_sandbox(db, options, with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;
        let storage = &app.db.storage;
        let mut events = app.sync.as_ref().expect("running").subscribe();
        let first = post_sync(&app, &token, id, json!({"kind": "orders"})).await;
        // Past the burst, the sync is paced: the seller asks for 60 days while it runs.
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let _ = events.recv().await;
                let job = storage.get_job(first).await.expect("job").expect("job");
                assert!(job.finished_at.is_none(), "the sync ended before the seller asked");
                if job.pages >= 21 {
                    break;
                }
            }
        })
        .await
        .expect("the sync passes its burst");
        let from = (app.clock.now() - time::Duration::days(60)).datetime().date();
        let again = post_sync(&app, &token, id, json!({"kind": "orders", "from": from.to_string()})).await;
        assert_eq!(again, first, "the running sync carries on");
        let jobs = tokio::time::timeout(Duration::from_secs(120), async {
            loop {
                let jobs = storage.list_jobs(id, 5).await.expect("jobs");
                if jobs.len() == 2 && jobs.iter().all(|job| job.finished_at.is_some()) {
                    return jobs;
                }
                let _ = events.recv().await;
            }
        })
        .await
        .expect("a second sync follows and ends");
        let count = storage.count_orders(Some(id)).await.expect("count");
        let (second, first) = (&jobs[0], &jobs[1]);
        assert_eq!((first.error.as_deref(), first.created), (None, count));
        assert_eq!((second.error.as_deref(), second.fetched, second.created), (None, count, 0), "every order read again");
        let midnight = time::PrimitiveDateTime::new(from, time::Time::MIDNIGHT).assume_utc();
        let watermark = storage.watermark(id, javelin_storage::SyncKind::Orders, "").await.expect("read").expect("set");
        assert!(watermark.datetime() > midnight + time::Duration::days(59), "the second sync moved it on: {watermark:?}");
        let refused = api_client().post(app.url(&format!("/api/v1/connections/{id}/sync"))).bearer_auth(&token)
            .json(&json!({"kind": "inventory", "from": from.to_string()})).send().await.expect("POST");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let refused = api_client().post(app.url(&format!("/api/v1/connections/{id}/sync"))).bearer_auth(&token)
            .json(&json!({"kind": "orders", "from": "2020-01-01"})).send().await.expect("POST");
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    async fn faults_on_every_side_lose_and_double_nothing(db) {
        let app = TestApp::start_with_sandbox(db, fast(600), with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;
        app.sandbox.set_fault_rate(0.25);
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!(job["status"], "succeeded", "{job}");
        assert!(app.sandbox.faults_injected() > 0, "faults were injected");
        let count = compare(&app, &token, id).await;
        app.sandbox.clock().advance(time::Duration::days(2));
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!(job["status"], "succeeded", "{job}");
        assert_eq!(compare(&app, &token, id).await, count);
        app.sandbox.set_fault_rate(0.0);
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!((job["created"].as_i64(), job["updated"].as_i64()), (Some(0), Some(0)), "{job}");
    }

    async fn one_malformed_order_is_skipped_and_named(db) {
        let app = TestApp::start_with_sandbox(db, fast(300), with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;
        let broken = app.sandbox.amazon_orders(&NA)[7].id.clone();
        assert!(app.sandbox.corrupt_amazon_order(&broken));
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!((job["status"].as_str(), job["skipped"].as_i64()), (Some("succeeded"), Some(1)), "{job}");
        let reason = job["skipped_reasons"][0].as_str().expect("a reason");
        assert!(reason.starts_with(&broken) && reason.contains("the day before yesterday"), "{reason}");
        let held: Vec<String> = app.all_orders(&token, id).await.iter().map(|o| o["external_id"].as_str().expect("id").to_owned()).collect();
        assert_eq!(held.len(), app.sandbox.amazon_orders(&NA).len() - 1);
        assert!(!held.contains(&broken));
    }

    async fn a_revoked_grant_says_reconnect(db) {
        let app = TestApp::start_with_sandbox(db, fast(60), with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;
        assert_eq!(sync(&app, &token, id, "orders").await[0]["status"], "succeeded");
        // The seller revokes the app in Seller Central; the access token Javelin keeps runs out.
        app.sandbox.revoke_amazon_grants();
        app.clock.advance(time::Duration::hours(2));
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!(job["status"], "failed", "{job}");
        let error = job["error"].as_str().expect("error");
        assert!(error.starts_with("Refresh token revoked or expired — reconnect") && error.contains("invalid_grant"), "{error}");
        let platforms = app.platforms(&token).await;
        assert_eq!(platforms[0]["connections"][0]["status"], "error");
        assert_eq!(platforms[0]["connections"][0]["status_message"].as_str(), Some(error));
    }

    async fn a_rotated_client_secret_is_updated_in_place_during_its_overlap(db) {
        // Amazon's rotation, followed through: the new secret given during the overlap keeps the
        // connection syncing; one not given stops it with words that say what to do.
        let app = TestApp::start_with_sandbox(db, fast(60), with_admin).await;
        let token = app.api_token_lasting(365).await;
        let id = connect_amazon(&app, &token).await;
        let update = |secret: String| {
            let (url, token) = (app.url(&format!("/api/v1/connections/{id}/credentials")), token.clone());
            async move {
                let response = api_client().put(url).bearer_auth(token).json(&json!({"client_secret": secret})).send().await.expect("PUT");
                (response.status(), response.json::<Value>().await.expect("JSON"))
            }
        };
        let both_clocks = |by: time::Duration| {
            app.clock.advance(by);
            app.sandbox.clock().advance(by);
        };

        // Rotated in Developer Central: the stored (previous) secret works for 7 days more.
        let rotated = app.sandbox.rotate_amazon_client_secret();
        both_clocks(time::Duration::days(6));
        assert_eq!(sync(&app, &token, id, "orders").await[0]["status"], "succeeded");
        let (status, body) = update("amzn1.oa2-cs.v1.mistyped".into()).await;
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::UNPROCESSABLE_ENTITY, Some(false)), "{body}");
        let (status, body) = update(rotated.client_secret.clone()).await;
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
        both_clocks(time::Duration::days(2));
        assert_eq!(sync(&app, &token, id, "orders").await[0]["status"], "succeeded", "the new secret, after the overlap");
        assert_eq!(app.platforms(&token).await[0]["connections"][0]["status"], "connected");

        // Rotated again, and not given to Javelin before the overlap ends.
        let rotated = app.sandbox.rotate_amazon_client_secret();
        both_clocks(time::Duration::days(7) + time::Duration::minutes(1));
        let job = &sync(&app, &token, id, "orders").await[0];
        assert_eq!(job["status"], "failed", "{job}");
        let error = job["error"].as_str().expect("error");
        assert!(error.contains("invalid_client") && error.contains("The client secret was rotated or has expired — update it"), "{error}");
        let connection = &app.platforms(&token).await[0]["connections"][0];
        assert_eq!((connection["status"].as_str(), connection["status_message"].as_str()), (Some("error"), Some(error)), "{connection}");
        let tested: Value = api_client().post(app.url(&format!("/api/v1/connections/{id}/test"))).bearer_auth(&token).send().await.expect("POST").json().await.expect("JSON");
        assert!(tested["ok"] == false && tested["message"].as_str().expect("message").contains("The client secret was rotated or has expired — update it"), "{tested}");
        // Given now, the same connection is back.
        let (status, body) = update(rotated.client_secret).await;
        assert_eq!((status, body["ok"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
        assert_eq!(app.platforms(&token).await[0]["connections"][0]["status"], "connected");
        assert_eq!(sync(&app, &token, id, "orders").await[0]["status"], "succeeded");
    }

    async fn orders_of_the_last_two_minutes_come_with_the_next_sync(db) {
        let app = TestApp::start_with_sandbox(db, SandboxOptions { live: true, ..fast(60) }, with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon(&app, &token).await;
        sync(&app, &token, id, "orders").await;
        let before = app.all_orders(&token, id).await.len();
        // New orders keep coming; Amazon shows a change two minutes after it.
        app.sandbox.clock().advance(time::Duration::minutes(30));
        let job = &sync(&app, &token, id, "orders").await[0];
        assert!(job["created"].as_i64() > Some(0), "{job}");
        let count = compare(&app, &token, id).await;
        assert!(count > before);
        // The orders changed in the two minutes before that sync come with the next one.
        app.sandbox.clock().advance(time::Duration::minutes(3));
        sync(&app, &token, id, "orders").await;
        assert!(compare(&app, &token, id).await >= count);
    }

    async fn amazon_stock_of_every_marketplace_and_place(db) {
        let options = SandboxOptions { products: 120, ..fast(10) };
        let app = TestApp::start_with_sandbox(db, options, with_admin).await;
        let token = app.api_token().await;
        let id = connect_amazon_by_consent(&app).await;
        let job = &sync(&app, &token, id, "inventory").await[0];
        assert_eq!(job["status"], "succeeded", "{job}");
        let held = all_stock(&app, &token, id).await;
        let mut expected = BTreeSet::new();
        for stock in app.sandbox.amazon_stock().into_iter().filter(|s| NA.contains(&s.marketplace_id.as_str())) {
            if stock.fba_available + stock.fba_reserved + stock.fba_inbound + stock.fba_unfulfillable > 0 || held.contains(&(stock.marketplace_id.clone(), stock.sku.clone(), "fba".to_owned(), 0)) {
                expected.insert((stock.marketplace_id.clone(), stock.sku.clone(), "fba".to_owned(), stock.fba_available));
            }
            if let Some(available) = stock.fbm_available {
                expected.insert((stock.marketplace_id.clone(), stock.sku.clone(), "fbm".to_owned(), available));
            }
        }
        let fba_held = held.iter().filter(|row| row.2 == "fba").count();
        assert!(fba_held > 50, "more than a page of FBA summaries: {fba_held}");
        assert!(held.iter().any(|row| row.2 == "fbm"));
        assert_eq!(held, expected);
        assert_eq!(sync(&app, &token, id, "inventory").await[0]["status"], "succeeded");
        assert_eq!(all_stock(&app, &token, id).await, held, "read again, the same");
    }

    async fn fbm_stock_of_a_manual_connection_needs_its_seller_id(db) {
        let app = TestApp::start_with_sandbox(db, SandboxOptions { products: 30, ..fast(10) }, with_admin).await;
        let token = app.api_token().await;
        let places = |held: &BTreeSet<(String, String, String, i64)>| -> BTreeSet<String> {
            held.iter().map(|row| row.2.clone()).collect()
        };
        let without = connect_amazon(&app, &token).await;
        assert_eq!(sync(&app, &token, without, "inventory").await[0]["status"], "succeeded");
        assert_eq!(places(&all_stock(&app, &token, without).await), BTreeSet::from(["fba".to_owned()]));
        app.login_admin().await;
        let page = app.get("/connections").await.text().await.expect("page");
        assert_eq!(page.matches("Merchant-fulfilled (FBM) stock is not read").count(), 1, "{page}");

        let seller = sample(&app).amazon.selling_partner_id;
        let with = connect_amazon_as(&app, &token, &seller).await;
        assert_eq!(sync(&app, &token, with, "inventory").await[0]["status"], "succeeded");
        let held = all_stock(&app, &token, with).await;
        assert_eq!(places(&held), BTreeSet::from(["fba".to_owned(), "fbm".to_owned()]));
        let page = app.get("/connections").await.text().await.expect("page");
        assert_eq!(page.matches("Merchant-fulfilled (FBM) stock is not read").count(), 1, "only the first");

        let response = api_client()
            .post(app.url("/api/v1/connections"))
            .bearer_auth(&token)
            .json(&json!({"platform": "amazon", "client_id": "amzn1.application-oa2-client.x", "client_secret": "s",
                "refresh_token": "Atzr|x", "marketplace_id": "ATVPDKIKX0DER", "region": "NA",
                "selling_partner_id": "a3f hexample"}))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), 422);
        let refused: Value = response.json().await.expect("JSON");
        assert!(refused.to_string().contains("Merchant Token"), "{refused}");
    }

    async fn flipkart_orders_and_stock_arrive_whole(db) {
        let app = TestApp::start_with_sandbox(db, fast(120), with_admin).await;
        let token = app.api_token().await;
        let id = connect_flipkart(&app, &token).await;
        let jobs = sync(&app, &token, id, "all").await;
        assert!(jobs.iter().all(|job| job["status"] == "succeeded"), "{jobs:?}");
        let held: BTreeSet<(String, String)> = app.all_orders(&token, id)
            .await
            .iter()
            .flat_map(|order| {
                let order_id = order["external_id"].as_str().expect("id").to_owned();
                order["items"].as_array().expect("items").iter().map(move |item| (order_id.clone(), item["external_item_id"].as_str().expect("id").to_owned()))
            })
            .collect();
        let expected: BTreeSet<(String, String)> = app.sandbox.flipkart_items().into_iter().map(|item| (item.order_id, item.item_id)).collect();
        assert!(expected.len() > 40, "more than two pages of shipments");
        assert_eq!(held, expected, "every item of every order");
        let stock_job = jobs.iter().find(|job| job["kind"] == "inventory").expect("stock job");
        let vanished: Vec<String> = app.sandbox.flipkart_listings().into_iter().filter(|l| l.vanished).map(|l| l.sku).collect();
        assert_eq!(stock_job["skipped"].as_i64(), Some(vanished.len() as i64), "{stock_job}");
        assert!(stock_job["skipped_reasons"].as_array().expect("reasons").iter().any(|r| r.as_str().is_some_and(|r| r.contains("no listing with this SKU"))));
        let held = all_stock(&app, &token, id).await;
        let expected: BTreeSet<(String, String, String, i64)> = app.sandbox.flipkart_listings().into_iter().filter(|l| !l.vanished)
            .flat_map(|l| l.locations.into_iter().map(move |(location, available, _)| (String::new(), l.sku.clone(), location, available)))
            .collect();
        assert_eq!(held, expected);
    }
}
