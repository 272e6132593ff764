//! A Javelin process killed in the middle of a sync, then started again: the sync resumes
//! from what it had stored, and in the end every order is there once — on SQLite and
//! PostgreSQL.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{ADMIN_EMAIL, ADMIN_PASSWORD, Process, api_client, start_sandbox};
use javelin_sandbox::SandboxOptions;
use javelin_storage::{JobState, OrderCursor, SyncKind};
use serde_json::{Value, json};

const NA: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];
/// A key for both processes, so that the second reads what the first stored.
const MASTER_KEY: &str = "qvsT3Mv6DJcK9WJDTDl3LBBEhHVcKGk2v2B8b0bJzRM=";

fn javelin(db_url: &str, data: &std::path::Path, sandbox: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_javelin"));
    command
        .current_dir(data)
        .env("DATABASE_URL", db_url)
        .env("JAVELIN_DATA_DIR", data)
        .env("JAVELIN_LISTEN", "127.0.0.1:0")
        .env("JAVELIN_MASTER_KEY", MASTER_KEY)
        .env("JAVELIN_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("JAVELIN_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("AMAZON_LWA_TOKEN_URL", format!("{sandbox}/amazon/auth/o2/token"))
        .env("AMAZON_CONSENT_URL", format!("{sandbox}/amazon"))
        .env("AMAZON_SPAPI_URL", format!("{sandbox}/amazon"))
        .env("FLIPKART_API_URL", format!("{sandbox}/flipkart"))
        .env("JAVELIN_SYNC_LEASE_SECONDS", "3")
        // The sync killed is the first, over 30 days of searchOrders pages.
        .env("JAVELIN_HISTORY_DAYS", "0")
        .env("JAVELIN_LOG", "warn,javelin=info,javelin_sync=debug")
        .env("JAVELIN_LOG_FORMAT", "json")
        .env_remove("FRONTEND_URL")
        .env_remove("AMAZON_OAUTH_REDIRECT_URI");
    command
}

fn is_event(line: &str, message: &str) -> Option<Value> {
    serde_json::from_str::<Value>(line)
        .ok()
        .filter(|event| event["message"] == message)
}

/// Kills Javelin in the middle of a sync, lets `pause` pass, starts it again, and checks that
/// the sync ends with every order once; returns the job as it ended.
async fn kill_and_restart(
    db: &javelin_storage::testing::TestDatabase,
    pause: time::Duration,
) -> javelin_storage::SyncJob {
    // Thirty pages of North American orders, paced after a burst of twenty.
    let (sandbox, sandbox_base) = start_sandbox(SandboxOptions {
        orders: 9000,
        time_scale: 200.0,
        ..SandboxOptions::default()
    })
    .await;
    let data = tempfile::tempdir().expect("data folder");
    let mut first = Process::spawn(&mut javelin(&db.url, data.path(), &sandbox_base));
    let base = serving_url(&mut first);
    let api = api_client();
    let login = json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD});
    let token: Value = call(api.post(format!("{base}/api/v1/auth/token")).json(&login)).await;
    let token = token["token"].as_str().expect("token").to_owned();
    let creds = sandbox.credentials().amazon.clone();
    let account = json!({"platform": "amazon", "client_id": creds.client_id, "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"});
    let created = call(
        api.post(format!("{base}/api/v1/connections"))
            .bearer_auth(&token)
            .json(&account),
    )
    .await;
    let id = created["id"].as_i64().expect("id");
    let sync = |base: &str| {
        let request = api
            .post(format!("{base}/api/v1/connections/{id}/sync"))
            .bearer_auth(&token)
            .json(&json!({"kind": "orders"}));
        async move { call(request).await["job_id"].as_i64().expect("job") }
    };
    let job = sync(&base).await;

    // Killed while pacing through the pages after the burst (connecting started a sync of
    // stock too: its pages do not count).
    for _ in 0..22 {
        first.wait_for_line("a stored page of orders", |line| {
            is_event(line, "page stored").is_some_and(|event| event["kind"] == "orders")
        });
    }
    first.kill();
    let stopped = db.storage.get_job(job).await.expect("job").expect("exists");
    assert_eq!(stopped.state, JobState::Running, "killed mid-way");
    assert!(stopped.pages >= 22 && stopped.cursor.is_some(), "{stopped:?}");
    let stored_before = db.storage.count_orders(Some(id)).await.expect("count");

    // Amazon's limits have recovered by the time the second process starts.
    sandbox.clock().advance(pause);
    let mut second = Process::spawn(&mut javelin(&db.url, data.path(), &sandbox_base));
    let second_base = serving_url(&mut second);
    wait_for_success(&mut second, job);
    let finished = db.storage.get_job(job).await.expect("job").expect("exists");
    assert_eq!(
        (finished.state, finished.attempts),
        (JobState::Succeeded, 2),
        "{finished:?}"
    );
    assert!(db.storage.count_orders(Some(id)).await.expect("count") > stored_before);

    // Orders that changed while Javelin was down left the window of the resumed sync: the
    // next one brings them. Then Javelin holds exactly what Amazon had when it stopped
    // reading, each order once.
    let next = sync(&second_base).await;
    wait_for_success(&mut second, next);
    let watermark = db
        .storage
        .watermark(id, SyncKind::Orders, "")
        .await
        .expect("read")
        .expect("moved");
    let settled = watermark.datetime() - time::Duration::microseconds(1);
    let expected: BTreeSet<(String, String)> = sandbox
        .amazon_orders_at(&NA, settled)
        .into_iter()
        .map(|order| (order.id, order.status.to_lowercase()))
        .collect();
    let mut held = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = db
            .storage
            .list_orders(&javelin_storage::OrderFilter::connection(Some(id)), 500, cursor)
            .await
            .expect("orders");
        let Some(last) = page.last() else { break };
        cursor = Some(OrderCursor {
            purchased_at: last.purchased_at,
            id: last.id,
        });
        held.extend(
            page.into_iter()
                .map(|order| (order.external_id, order.platform_status.to_lowercase())),
        );
    }
    assert!(expected.len() > 2900, "{}", expected.len());
    assert_eq!(
        held.len() as i64,
        db.storage.count_orders(Some(id)).await.expect("count"),
        "no order twice"
    );
    let missing: Vec<_> = expected.difference(&held).take(5).collect();
    let unexpected: Vec<_> = held.difference(&expected).take(5).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing {missing:?}; unexpected {unexpected:?}"
    );
    second.terminate();
    finished
}

/// The JSON answer of a request.
async fn call(request: reqwest::RequestBuilder) -> Value {
    request.send().await.expect("request").json().await.expect("JSON")
}

/// Where a starting Javelin serves.
fn serving_url(process: &mut Process) -> String {
    process.wait_for_log("Javelin is serving")["frontend_url"]
        .as_str()
        .map(|url| url.trim_end_matches('/').to_owned())
        .expect("front-end URL")
}

fn wait_for_success(process: &mut Process, job: i64) {
    process.wait_for_line(&format!("job {job} to succeed"), |line| {
        is_event(line, "sync job succeeded").is_some_and(|event| event["job"] == job)
    });
}

javelin_storage::backend_tests! {
    async fn a_killed_sync_resumes_and_loses_and_doubles_nothing(db) {
        let finished = kill_and_restart(&db, time::Duration::hours(1)).await;
        // Thirty pages in all: the second process went on from the first one's last page.
        assert!((30..40).contains(&finished.pages), "resumed, not started over: {finished:?}");
    }

    async fn a_killed_sync_whose_page_token_expired_reads_again_from_its_watermark(db) {
        // Amazon's page tokens live 24 hours: the second process reads the stream again, from
        // the watermark that moved only with the last page the first process stored.
        let finished = kill_and_restart(&db, time::Duration::hours(25)).await;
        assert!(finished.pages >= 22 + 30, "started over: {finished:?}");
    }
}
