//! History imports through Amazon's order reports, against the sandbox's Reports API, on
//! SQLite and PostgreSQL: the import ends with exactly the sandbox's orders, converges with
//! what searchOrders brought, and says what went wrong when a report does.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::{TestApp, api_client, with_admin};
use javelin_sandbox::SandboxOptions;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The sandbox's marketplaces of a North American account.
const NA: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];

/// Orders over 90 days, limits a thousand times faster, reports as slow as Amazon's (ten
/// minutes each, by the sandbox's clock, which the tests move on).
fn ninety_days() -> SandboxOptions {
    SandboxOptions {
        orders: 400,
        days: 90,
        time_scale: 1000.0,
        report_processing: time::Duration::minutes(10) * 1000,
        ..SandboxOptions::default()
    }
}

/// Reports are asked about every few milliseconds.
fn quick_polls(config: &mut javelin::config::Config) {
    with_admin(config);
    config.sync.report_poll = Duration::from_millis(10);
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let (status, body) = app.api_get(token, path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// `YYYY-MM-DD` of `days` ago by the app's clock.
fn days_ago(app: &TestApp, days: i64) -> String {
    (app.clock.clock().now().datetime() - time::Duration::days(days))
        .date()
        .to_string()
}

async fn import(app: &TestApp, token: &str, id: i64, from: &str) -> (StatusCode, Value) {
    let response = api_client()
        .post(app.url(&format!("/api/v1/connections/{id}/import")))
        .bearer_auth(token)
        .json(&json!({"from": from}))
        .send()
        .await
        .expect("POST");
    (response.status(), response.json().await.expect("JSON"))
}

/// Waits (at most a minute) for a job's event that `wanted` accepts; returns the job then.
async fn wait_for(
    app: &TestApp,
    job_id: i64,
    wanted: impl Fn(&javelin_storage::SyncJob) -> bool,
) -> javelin_storage::SyncJob {
    let mut events = app.sync.as_ref().expect("running").subscribe();
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let job = app.db.storage.get_job(job_id).await.expect("job").expect("exists");
            if wanted(&job) {
                return job;
            }
            let _ = events.recv().await;
        }
    })
    .await
    .expect("the job gets there within a minute")
}

/// Imports and lets the sandbox's reports finish as soon as the job waits for them.
async fn import_to_the_end(app: &TestApp, token: &str, id: i64, from: &str) -> javelin_storage::SyncJob {
    let (status, body) = import(app, token, id, from).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job_id = body["job_id"].as_i64().expect("job id");
    let job = wait_for(app, job_id, |job| {
        job.note.contains("preparing the report") || job.finished_at.is_some()
    })
    .await;
    if job.finished_at.is_none() {
        // Amazon is at work: a day later every report is done.
        app.sandbox.clock().advance(time::Duration::days(1));
    }
    wait_for(app, job_id, |job| job.finished_at.is_some()).await
}

/// Every order Javelin holds for the connection: id → (item id, quantity) pairs.
async fn held(app: &TestApp, token: &str, id: i64) -> BTreeMap<String, BTreeSet<(String, i64)>> {
    app.all_orders(token, id)
        .await
        .iter()
        .map(|order| {
            let items = common::item_quantities(order).into_iter().collect();
            (order["external_id"].as_str().expect("id").to_owned(), items)
        })
        .collect()
}

/// The sandbox's orders of `marketplaces` placed since `from`, as `held` shows them.
fn expected(app: &TestApp, from: &str, marketplaces: &[&str]) -> BTreeMap<String, BTreeSet<(String, i64)>> {
    let from = time::Date::parse(from, time::macros::format_description!("[year]-[month]-[day]")).expect("date");
    let since = from.with_time(time::Time::MIDNIGHT).assume_utc();
    app.sandbox
        .amazon_orders(marketplaces)
        .into_iter()
        .filter(|order| order.created >= since)
        .map(|order| {
            (
                order.id,
                order
                    .items
                    .into_iter()
                    .map(|(id, quantity)| (id, i64::from(quantity)))
                    .collect(),
            )
        })
        .collect()
}

javelin_storage::backend_tests! {
    async fn an_import_brings_exactly_the_sandbox_orders_and_again_changes_nothing(db) {
        // Reports ready at once: nothing moves at Amazon between the two imports.
        let options = SandboxOptions { report_processing: time::Duration::ZERO, ..ninety_days() };
        let app = TestApp::start_with_sandbox(db, options, quick_polls).await;
        let token = app.api_token().await;
        let id = app.connect_by_api(&token, &app.amazon_connection("")).await;
        // Titles a parser that applies CSV quoting rules breaks on, and columns nobody documented.
        let sku = app.sandbox.amazon_stock()[0].sku.clone();
        assert!(app.sandbox.rename_amazon_product(&sku, "\"Deluxe\" mug\\twith a tab-like escape") > 0);
        app.sandbox.add_report_columns(&["is-sold-by-ab", "zz-new-column"]);
        // Canada switched off: a report covers the whole region, and only Amazon.com is kept.
        let system = javelin_core::Actor::system();
        app.sync.as_ref().expect("running").set_marketplaces(&system, id, &[NA[0]]).await.expect("marketplaces");

        let from = days_ago(&app, 89);
        let job = import_to_the_end(&app, &token, id, &from).await;
        assert_eq!((job.state, job.error.as_deref()), (javelin_storage::JobState::Succeeded, None), "{job:?}");
        let want = expected(&app, &from, &NA[..1]);
        assert!(expected(&app, &from, &NA[1..]).len() > 10, "Canada has orders to leave out");
        assert!(want.len() > 40, "{} orders", want.len());
        assert_eq!(held(&app, &token, id).await, want, "exactly the sandbox's orders and items");
        assert_eq!(job.created as usize, want.len());
        let renamed = get(&app, &token, &format!("/api/v1/orders?connection_id={id}&q={sku}")).await;
        let titles: BTreeSet<&str> = renamed["orders"].as_array().expect("orders").iter()
            .flat_map(|o| o["items"].as_array().expect("items").iter())
            .filter(|i| i["sku"] == sku.as_str())
            .filter_map(|i| i["title"].as_str())
            .collect();
        assert_eq!(titles, BTreeSet::from(["\"Deluxe\" mug\\twith a tab-like escape"]));
        // Three reports of 30 days, one per window, whatever the marketplaces.
        assert_eq!(app.sandbox.calls(javelin_sandbox::operation::CREATE_REPORT), 3);

        // Again: the same orders, nothing new, nothing changed.
        let again = import_to_the_end(&app, &token, id, &from).await;
        assert_eq!((again.state, again.created, again.updated), (javelin_storage::JobState::Succeeded, 0, 0), "{again:?}");
        assert_eq!(held(&app, &token, id).await, want);
    }

    async fn reports_and_search_orders_converge_on_one_record_per_order_in_its_newest_state(db) {
        let app = TestApp::start_with_sandbox(db, ninety_days(), quick_polls).await;
        let token = app.api_token().await;
        let id = app.connect_by_api(&token, &app.amazon_connection("")).await;
        // searchOrders first (the last 30 days), then the reports over the same days and more.
        let mut events = app.sync.as_ref().expect("running").subscribe();
        let response = api_client().post(app.url(&format!("/api/v1/connections/{id}/sync"))).bearer_auth(&token)
            .json(&json!({"kind": "orders"})).send().await.expect("POST");
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        app.settle(&mut events, id).await;
        let from_api = held(&app, &token, id).await.len();
        assert!(from_api > 0);
        // Two days on, orders have shipped or been cancelled: the reports carry the newer state.
        app.sandbox.clock().advance(time::Duration::days(2));
        let from = days_ago(&app, 60);
        let job = import_to_the_end(&app, &token, id, &from).await;
        assert_eq!(job.state, javelin_storage::JobState::Succeeded, "{job:?}");
        assert!(job.updated > 0, "newer states replaced older ones: {job:?}");
        let want = expected(&app, &from, &NA);
        assert_eq!(held(&app, &token, id).await, want, "one record per order");
        let orders = get(&app, &token, &format!("/api/v1/orders?connection_id={id}&limit=200")).await;
        let now = app.sandbox.amazon_orders(&NA).into_iter().map(|o| (o.id, o.status)).collect::<BTreeMap<_, _>>();
        for order in orders["orders"].as_array().expect("orders") {
            let status = order["status"].as_str().expect("status");
            let sandbox = now[order["external_id"].as_str().expect("id")];
            let agrees = match sandbox {
                "SHIPPED" => status == "shipped" || status == "delivered",
                other => status == other.to_ascii_lowercase(),
            };
            assert!(agrees, "{} is {status} in Javelin, {sandbox} at Amazon", order["external_id"]);
        }
    }

    async fn report_failures_say_what_happened(db) {
        let app = TestApp::start_with_sandbox(db, ninety_days(), quick_polls).await;
        let token = app.api_token().await;
        let id = app.connect_by_api(&token, &app.amazon_connection("")).await;

        // Windows before the first order: Amazon cancels their reports; the import still succeeds.
        let job = import_to_the_end(&app, &token, id, &days_ago(&app, 120)).await;
        assert_eq!(job.state, javelin_storage::JobState::Succeeded, "{job:?}");
        let reports = app.sandbox.amazon_reports();
        let cancelled = reports.iter().filter(|r| r.status == "CANCELLED").count();
        // 120 days and some hours: four windows of 30 days and a few hours' one, the two oldest
        // before the sandbox's first order.
        assert_eq!((reports.len(), cancelled), (5, 2), "{reports:#?}");

        // A download cut off half way: a new link, and the window is read whole.
        app.sandbox.truncate_next_document();
        let job = import_to_the_end(&app, &token, id, &days_ago(&app, 20)).await;
        assert_eq!(job.state, javelin_storage::JobState::Succeeded, "{job:?}");
        assert_eq!(held(&app, &token, id).await.len(), expected(&app, &days_ago(&app, 120), &NA).len());

        // FATAL: the job fails, saying it is on Amazon's side.
        app.sandbox.fail_next_report();
        let job = import_to_the_end(&app, &token, id, &days_ago(&app, 10)).await;
        assert_eq!(job.state, javelin_storage::JobState::Failed);
        let error = job.error.expect("an error");
        assert!(error.contains("Amazon could not make the report (FATAL)"), "{error}");

        // Wrong requests: a date too far back or malformed, a Flipkart account.
        let (status, body) = import(&app, &token, id, "2020-01-01").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, _) = import(&app, &token, id, "yesterday").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let flipkart = app.connect_by_api(&token, &app.flipkart_connection()).await;
        let (status, body) = import(&app, &token, flipkart, &days_ago(&app, 10)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["error"].as_str().expect("error").contains("Amazon's order reports"), "{body}");
    }

    async fn reconciliation_finds_and_repairs_orders_deleted_from_the_store(db) {
        let options = SandboxOptions { report_processing: time::Duration::ZERO, ..ninety_days() };
        let app = TestApp::start_with_sandbox(db, options, quick_polls).await;
        let token = app.api_token().await;
        let amazon = app.connect_by_api(&token, &app.amazon_connection("")).await;
        let flipkart = app.connect_by_api(&token, &app.flipkart_connection()).await;
        let mut events = app.sync.as_ref().expect("running").subscribe();
        for id in [amazon, flipkart] {
            let response = api_client().post(app.url(&format!("/api/v1/connections/{id}/sync"))).bearer_auth(&token)
                .json(&json!({"kind": "orders"})).send().await.expect("POST");
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            app.settle(&mut events, id).await;
        }
        let whole = [held(&app, &token, amazon).await, held(&app, &token, flipkart).await];

        // Javelin loses orders of the last days: three of Amazon's, two of Flipkart's.
        let now = app.sandbox.clock().now();
        let recent_amazon: Vec<String> = app.sandbox.amazon_orders(&NA).into_iter()
            .filter(|order| order.updated > now - time::Duration::days(2) && whole[0].contains_key(&order.id))
            .map(|order| order.id).take(3).collect();
        let two_days = (app.clock.clock().now() - time::Duration::days(2)).to_rfc3339();
        let placed = get(&app, &token, &format!("/api/v1/orders?connection_id={flipkart}&from={two_days}&limit=2")).await;
        let recent_flipkart: Vec<String> = placed["orders"].as_array().expect("orders").iter()
            .map(|order| order["external_id"].as_str().expect("id").to_owned()).collect();
        assert_eq!((recent_amazon.len(), recent_flipkart.len()), (3, 2));
        for id in recent_amazon.iter().chain(&recent_flipkart) {
            // The search document goes first (SQLite keys it by rowid, PostgreSQL by a reference).
            let order = format!("(SELECT id FROM orders WHERE external_id = '{id}')");
            let key = if app.db.url.starts_with("sqlite:") { "rowid" } else { "order_id" };
            app.db.storage.execute_unprepared(&format!("DELETE FROM order_search WHERE {key} = {order}")).await.expect("delete");
            app.db.storage.execute_unprepared(&format!("DELETE FROM orders WHERE external_id = '{id}'")).await.expect("delete");
        }
        assert_eq!(held(&app, &token, amazon).await.len(), whole[0].len() - 3);

        for (id, lost) in [(amazon, 3), (flipkart, 2)] {
            let response = api_client().post(app.url(&format!("/api/v1/connections/{id}/reconcile"))).bearer_auth(&token).send().await.expect("POST");
            assert_eq!(response.status(), StatusCode::ACCEPTED);
            let job_id = response.json::<Value>().await.expect("JSON")["job_id"].as_i64().expect("job id");
            let job = wait_for(&app, job_id, |job| job.finished_at.is_some()).await;
            assert_eq!((job.state, job.created), (javelin_storage::JobState::Succeeded, lost), "{job:?}");
            assert!(job.fetched >= lost, "the orders compared: {job:?}");
        }
        assert_eq!(app.sandbox.calls(javelin_sandbox::operation::GET_ORDER), 3, "only the missing ones fetched");
        assert_eq!([held(&app, &token, amazon).await, held(&app, &token, flipkart).await], whole, "repaired");
        // The card's sync panel says what the last reconciliation did.
        app.login_admin().await;
        let page = app.get("/connections").await.text().await.expect("page");
        assert!(page.contains("3 missing and 0 out of date fetched again · the last 3 days checked"), "{page}");
        assert!(page.contains("2 missing and 0 out of date fetched again · the last 7 days checked"), "{page}");

        // Nightly: a day after the last one, the schedule queues the next.
        let engine = app.sync.as_ref().expect("running");
        let storage = &app.db.storage;
        let latest = |id| async move { storage.latest_job(id, javelin_storage::SyncKind::Reconcile).await.expect("job").expect("one") };
        let last = latest(amazon).await.id;
        engine.queue_due().await.expect("queue");
        assert_eq!(latest(amazon).await.id, last, "not within the day");
        app.clock.advance(time::Duration::hours(25));
        engine.queue_due().await.expect("queue");
        for id in [amazon, flipkart] {
            let next = latest(id).await;
            assert_eq!(next.origin, javelin_storage::JobOrigin::Schedule, "{next:?}");
        }
    }

    async fn a_new_amazon_connection_brings_its_open_orders_first_then_its_history(db) {
        let options = SandboxOptions { days: 60, ..ninety_days() };
        let app = TestApp::start_with_sandbox(db, options, |config| {
            quick_polls(config);
            config.sync.history_on_connect = Some(time::Duration::days(90));
        })
        .await;
        let token = app.api_token().await;
        let id = app.connect_by_api(&token, &app.amazon_connection("")).await;
        let connected_at = app.clock.clock().now();
        let job = app.db.storage.latest_job(id, javelin_storage::SyncKind::History).await.expect("job").expect("queued with the connection");

        // While Amazon prepares the reports, every order waiting to be shipped is there already.
        let waiting = wait_for(&app, job.id, |job| job.note.contains("preparing the report")).await;
        assert_eq!(waiting.finished_at, None);
        let since = app.sandbox.clock().now() - time::Duration::days(30);
        let open: BTreeSet<String> = app.sandbox.amazon_orders(&NA).into_iter()
            .filter(|order| order.created >= since && matches!(order.status, "PENDING" | "UNSHIPPED" | "PARTIALLY_SHIPPED"))
            .map(|order| order.id).collect();
        assert!(!open.is_empty());
        assert_eq!(held(&app, &token, id).await.into_keys().collect::<BTreeSet<_>>(), open, "the open orders, and only they, first");
        assert_eq!(app.sandbox.calls(javelin_sandbox::operation::CREATE_REPORT), 3, "three reports for 90 days");

        // Then the reports bring the rest.
        app.sandbox.clock().advance(time::Duration::days(1));
        let done = wait_for(&app, job.id, |job| job.finished_at.is_some()).await;
        assert_eq!(done.state, javelin_storage::JobState::Succeeded, "{done:?}");
        let everything: BTreeSet<String> = app.sandbox.amazon_orders(&NA).into_iter().map(|order| order.id).collect();
        assert_eq!(held(&app, &token, id).await.into_keys().collect::<BTreeSet<_>>(), everything);
        // The first orders sync reads only what the reports cannot: the last two hours.
        let watermark = app.db.storage.watermark(id, javelin_storage::SyncKind::Orders, "").await.expect("watermark");
        assert_eq!(watermark, Some(connected_at - time::Duration::hours(2)));
    }
}
