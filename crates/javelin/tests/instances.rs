//! Several Javelin instances on one database (PostgreSQL in production; SQLite too): a queued
//! job is run by exactly one of them, and a job whose instance died is taken over once its
//! lease runs out.

mod common;

use common::TestApp;
use javelin::server::Server;
use javelin_sandbox::{SandboxOptions, operation};
use javelin_storage::{JobOrigin, JobState, SyncKind};
use tokio_util::sync::CancellationToken;

/// Another instance of the app's Javelin: same database, same master key, its own engine.
async fn instance(app: &TestApp) -> javelin_sync::Sync {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let server = Server::with_clock(&app.config, listener, app.clock.clock())
        .await
        .expect("another instance starts");
    server.sync()
}

async fn connected(db: javelin_storage::testing::TestDatabase) -> (TestApp, i64) {
    // Enough products for several pages of FBA stock per marketplace.
    let options = SandboxOptions {
        orders: 900,
        products: 240,
        time_scale: 1000.0,
        ..SandboxOptions::default()
    };
    let app = TestApp::start_with_sandbox(db, options, |config| {
        config.admin = Some(javelin::config::AdminSeed {
            email: common::ADMIN_EMAIL.into(),
            password: common::ADMIN_PASSWORD.into(),
        });
    })
    .await;
    app.login_admin().await;
    let id = app.connect_amazon_manually().await;
    (app, id)
}

javelin_storage::backend_tests! {
    async fn sign_in_failures_on_one_instance_slow_down_the_next_try_on_another(db) {
        let app = TestApp::start_with_admin(db).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let other = format!("http://{}", listener.local_addr().expect("address"));
        let server = Server::with_clock(&app.config, listener, app.clock.clock()).await.expect("another instance starts");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        let sign_in = |base: String, password: &'static str| async move {
            common::api_client()
                .post(format!("{base}/api/v1/auth/token"))
                .json(&serde_json::json!({"email": common::ADMIN_EMAIL, "password": password}))
                .send()
                .await
                .expect("POST")
                .status()
        };
        for _ in 0..4 {
            assert_eq!(sign_in(app.base.clone(), "wrong password").await, 401);
        }
        assert_eq!(sign_in(other.clone(), common::ADMIN_PASSWORD).await, 429, "the other instance counts the same failures");
        app.clock.advance(time::Duration::seconds(1));
        assert_eq!(sign_in(other, common::ADMIN_PASSWORD).await, 200);
        let _ = stop.send(());
        serving.await.expect("stops").expect("cleanly");
    }

    async fn a_queued_job_is_run_by_exactly_one_instance(db) {
        let (app, id) = connected(db).await;
        let instances = [instance(&app).await, instance(&app).await, instance(&app).await];
        // Queued behind the running app's back (its workers sleep until told), then claimed by
        // three instances at once.
        let now = app.clock.now();
        let (job, _) = app.db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Seller, now).await.expect("enqueue");
        let stop = CancellationToken::new();
        let (a, b, c) = tokio::join!(instances[0].run_next(&stop), instances[1].run_next(&stop), instances[2].run_next(&stop));
        let ran: Vec<_> = [a, b, c].into_iter().filter_map(|outcome| outcome.expect("run")).collect();
        assert_eq!(ran.len(), 1, "one instance ran it: {ran:?}");
        let done = &ran[0];
        assert_eq!((done.id, done.state, done.attempts), (job.id, JobState::Succeeded, 1), "{done:?}");
        assert_eq!(app.sandbox.calls(operation::SEARCH_ORDERS), done.pages as u64, "each page read once");
        assert_eq!(app.db.storage.count_orders(Some(id)).await.expect("count"), done.created);
    }

    async fn a_job_whose_instance_died_is_taken_over_when_its_lease_ends(db) {
        let (app, id) = connected(db).await;
        let survivor = instance(&app).await;
        let now = app.clock.now();
        let (job, _) = app.db.storage.enqueue_job(id, SyncKind::Orders, JobOrigin::Seller, now).await.expect("enqueue");
        let lease = now + time::Duration::minutes(2);
        let held = app.db.storage.claim_job("died-mid-sync", now, lease).await.expect("claim").expect("claimed");
        assert_eq!(held.id, job.id);
        let stop = CancellationToken::new();
        assert!(survivor.run_next(&stop).await.expect("run").is_none(), "a live lease is respected");
        app.clock.advance(time::Duration::minutes(3));
        let taken = survivor.run_next(&stop).await.expect("run").expect("taken over");
        assert_eq!((taken.id, taken.state, taken.attempts), (job.id, JobState::Succeeded, 2), "{taken:?}");
        assert!(taken.created > 100, "{taken:?}");
        let mut tx = app.db.storage.begin().await.expect("begin");
        assert!(!tx.finish_job(job.id, "died-mid-sync", Some("late"), app.clock.now()).await.expect("finish"), "the dead instance's word no longer counts");
    }

    async fn a_stock_job_resumed_after_its_page_token_expired_reads_the_stream_again(db) {
        let (app, id) = connected(db).await;
        let survivor = instance(&app).await;
        let stop = CancellationToken::new();
        let storage = &app.db.storage;
        let fba_rows = |rows: &[javelin_storage::StoredStock]| rows.iter().filter(|row| row.location == "fba").count();
        storage.enqueue_job(id, SyncKind::Inventory, JobOrigin::Seller, app.clock.now()).await.expect("enqueue");
        let first = survivor.run_next(&stop).await.expect("run").expect("ran");
        assert_eq!(first.state, JobState::Succeeded, "{first:?}");
        let held = fba_rows(&storage.list_stock(&javelin_storage::StockFilter::connection(Some(id)), 500, None).await.expect("stock"));
        assert!(held > 100, "several pages of FBA stock: {held}");

        // An instance died after its first FBA page; the page token it left is a minute old,
        // and Amazon's live 30 seconds.
        let now = app.clock.now();
        let (job, _) = storage.enqueue_job(id, SyncKind::Inventory, JobOrigin::Seller, now).await.expect("enqueue");
        storage.claim_job("died-mid-sync", now, now + time::Duration::minutes(2)).await.expect("claim").expect("claimed");
        let issued = app.sandbox.clock().now().unix_timestamp() - 60;
        let token = serde_json::json!({"marketplace": "ATVPDKIKX0DER", "offset": 50, "issued": issued});
        let token = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token.to_string());
        let cursor = serde_json::json!({"stream": 0, "page": token, "since": null}).to_string();
        let mut tx = storage.begin().await.expect("begin");
        let page = javelin_storage::PageProgress { fetched: 50, ..javelin_storage::PageProgress::default() };
        assert!(tx.record_page(job.id, "died-mid-sync", &page, Some(&cursor)).await.expect("page"));
        tx.commit().await.expect("commit");

        app.clock.advance(time::Duration::minutes(3));
        let resumed = survivor.run_next(&stop).await.expect("run").expect("taken over");
        assert_eq!((resumed.state, resumed.attempts, resumed.error.as_deref()), (JobState::Succeeded, 2, None), "{resumed:?}");
        let rows = storage.list_stock(&javelin_storage::StockFilter::connection(Some(id)), 500, None).await.expect("stock");
        assert_eq!(fba_rows(&rows), held, "nothing pruned, nothing missing");
        let started = resumed.started_at.expect("started");
        assert!(rows.iter().all(|row| row.synced_at >= started), "every level read again from the first page");
    }
}
