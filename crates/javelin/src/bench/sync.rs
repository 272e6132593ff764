//! `javelin bench sync`: a whole Javelin and an in-process sandbox; one sync of the sandbox's
//! orders into a fresh store, timed, beside the least time Amazon's published rate limit
//! allows for the pages it needed (the burst at once, then one page per refill interval).

use std::time::{Duration, Instant};

use javelin_marketplaces::amazon::{AmazonEndpoints, SEARCH_ORDERS};
use javelin_sandbox::{Sandbox, SandboxOptions, operation};
use javelin_storage::JobState;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::{AdminSeed, Config, LogFormat};
use crate::server::Server;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a bench password";

pub async fn run(orders: usize, time_scale: f64, url: Option<&str>) -> anyhow::Result<()> {
    anyhow::ensure!(time_scale > 0.0, "--time-scale must be more than 0");
    javelin_marketplaces::http::ensure_crypto_provider();
    let sandbox = Sandbox::new(SandboxOptions {
        orders,
        time_scale,
        ..SandboxOptions::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let sandbox_base = format!("http://{}", listener.local_addr()?);
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let db = super::scratch(url).await?;
    let data = tempfile::tempdir()?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let at = |path: &str| url::Url::parse(&format!("{sandbox_base}{path}"));
    let config = Config {
        database_url: db.url.clone(),
        database_is_explicit: true,
        data_dir: data.path().to_owned(),
        listen: listener.local_addr()?,
        frontend_url: base.parse()?,
        frontend_url_explicit: true,
        amazon_oauth_redirect_uri: format!("{base}/connections/amazon/oauth/callback").parse()?,
        amazon_oauth_redirect_uri_set: false,
        master_key: None,
        amazon: AmazonEndpoints {
            lwa_token_url: at("/amazon/auth/o2/token")?,
            consent_base: Some(at("/amazon")?),
            spapi_base: Some(at("/amazon")?),
        },
        flipkart_api_url: at("/flipkart")?,
        admin: Some(AdminSeed {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        log_filter: "warn".into(),
        log_format: LogFormat::Pretty,
        sync: javelin_sync::SyncSettings {
            // Only the sync measured runs.
            schedules: false,
            ..javelin_sync::SyncSettings::default()
        },
        edge: crate::edge::EdgeLimits::default(),
        check_time_limit: javelin_core::connections::CHECK_TIME_LIMIT,
    };
    let server = Server::with_listener(&config, listener).await?;
    let engine = server.sync();
    let stop = CancellationToken::new();
    let serving = tokio::spawn(server.run(stop.clone().cancelled_owned()));

    let http = reqwest::Client::new();
    let call = |request: reqwest::RequestBuilder| async move {
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{status}: {body}");
        anyhow::Ok(body)
    };
    let token = call(
        http.post(format!("{base}/api/v1/auth/token"))
            .json(&json!({"email": EMAIL, "password": PASSWORD})),
    )
    .await?["token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let creds = sandbox.credentials().amazon.clone();
    let account = json!({"platform": "amazon", "client_id": creds.client_id, "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"});
    let connection = call(
        http.post(format!("{base}/api/v1/connections"))
            .bearer_auth(&token)
            .json(&account),
    )
    .await?;
    let id = connection["id"].as_i64().unwrap_or_default();

    let mut events = engine.subscribe();
    let started = Instant::now();
    let queued = call(
        http.post(format!("{base}/api/v1/connections/{id}/sync"))
            .bearer_auth(&token)
            .json(&json!({"kind": "orders"})),
    )
    .await?;
    let job_id = queued["job_id"].as_i64().unwrap_or_default();
    loop {
        let event = events.recv().await?;
        if event.job_id == job_id && matches!(event.state, JobState::Succeeded | JobState::Failed) {
            break;
        }
    }
    let elapsed = started.elapsed();
    let job = db
        .storage
        .get_job(job_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the job disappeared"))?;
    stop.cancel();
    serving.await??;
    if let Some(error) = &job.error {
        anyhow::bail!("the sync failed: {error}");
    }

    let pages = u32::try_from(job.pages).unwrap_or(u32::MAX);
    let rate = SEARCH_ORDERS.rate * time_scale;
    let least = Duration::from_secs_f64(f64::from(pages.saturating_sub(SEARCH_ORDERS.burst)) / rate);
    println!(
        "javelin bench sync: {orders} sandbox orders, time scale {time_scale}, {}",
        super::backend(url)
    );
    println!("  orders stored      {:>8}", job.created);
    println!(
        "  pages read         {:>8}   (searchOrders: a burst of {}, then {:.3} calls/s)",
        job.pages, SEARCH_ORDERS.burst, rate
    );
    println!("  elapsed            {:>8.2} s", elapsed.as_secs_f64());
    println!(
        "  rate-limit least   {:>8.2} s   (the reference: {} pages at once, the rest one every {:.2} s)",
        least.as_secs_f64(),
        pages.min(SEARCH_ORDERS.burst),
        1.0 / rate
    );
    if least.is_zero() {
        println!("  ratio                   —   (every page fit in the burst; ask for more --orders)");
    } else {
        println!(
            "  ratio              {:>8.3}",
            elapsed.as_secs_f64() / least.as_secs_f64()
        );
    }
    println!(
        "  429s drawn         {:>8}",
        sandbox.throttled(operation::SEARCH_ORDERS)
    );
    Ok(())
}
