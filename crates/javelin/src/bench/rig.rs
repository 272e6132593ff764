//! What the sync benchmarks share: an in-process sandbox and a whole Javelin wired to it on a
//! fresh store, an API token, connections, and jobs run to their end and timed.

use std::time::{Duration, Instant};

use javelin_marketplaces::amazon::AmazonEndpoints;
use javelin_sandbox::{Sandbox, SandboxOptions};
use javelin_storage::testing::TestDatabase;
use javelin_storage::{JobState, SyncJob};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{AdminSeed, Config, LogFormat};
use crate::server::Server;

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "a bench password";

pub struct Rig {
    pub sandbox: Sandbox,
    pub db: TestDatabase,
    base: String,
    token: String,
    http: reqwest::Client,
    engine: javelin_sync::Sync,
    stop: CancellationToken,
    serving: JoinHandle<anyhow::Result<()>>,
    _data: tempfile::TempDir,
}

impl Rig {
    /// The sandbox with `options`, and Javelin on a fresh store of the kind `url` names (SQLite
    /// when none), syncing only what the benchmark asks for.
    pub async fn start(
        options: SandboxOptions,
        url: Option<&str>,
        sync: javelin_sync::SyncSettings,
    ) -> anyhow::Result<Self> {
        javelin_marketplaces::http::ensure_crypto_provider();
        let sandbox = Sandbox::new(options);
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
                // Only the jobs measured run.
                schedules: false,
                history_on_connect: None,
                ..sync
            },
            edge: crate::edge::EdgeLimits::default(),
            check_time_limit: javelin_core::connections::CHECK_TIME_LIMIT,
        };
        let server = Server::with_listener(&config, listener).await?;
        let engine = server.sync();
        let stop = CancellationToken::new();
        let serving = tokio::spawn(server.run(stop.clone().cancelled_owned()));
        let mut rig = Self {
            sandbox,
            db,
            base,
            token: String::new(),
            http: reqwest::Client::new(),
            engine,
            stop,
            serving,
            _data: data,
        };
        let signed_in = rig
            .post("/api/v1/auth/token", &json!({"email": EMAIL, "password": PASSWORD}))
            .await?;
        rig.token = signed_in["token"].as_str().unwrap_or_default().to_owned();
        Ok(rig)
    }

    /// `POST` JSON to Javelin's API; the answer, or an error with what it said.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status}: {body}");
        Ok(body)
    }

    /// Connects the sandbox's North American Amazon account; its id.
    pub async fn connect_amazon(&self) -> anyhow::Result<i64> {
        let creds = self.sandbox.credentials().amazon.clone();
        let account = json!({"platform": "amazon", "client_id": creds.client_id, "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA"});
        let connection = self.post("/api/v1/connections", &account).await?;
        connection["id"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("no connection id in {connection}"))
    }

    /// Queues a job with `POST path body` and waits for it to end: the job and the time taken.
    pub async fn run_job(&self, path: &str, body: &Value) -> anyhow::Result<(SyncJob, Duration)> {
        let mut events = self.engine.subscribe();
        let started = Instant::now();
        let queued = self.post(path, body).await?;
        let job_id = queued["job_id"].as_i64().unwrap_or_default();
        loop {
            let event = events.recv().await?;
            if event.job_id == job_id && matches!(event.state, JobState::Succeeded | JobState::Failed) {
                break;
            }
        }
        let elapsed = started.elapsed();
        let job = self
            .db
            .storage
            .get_job(job_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the job disappeared"))?;
        if let Some(error) = &job.error {
            anyhow::bail!("the job failed: {error}");
        }
        Ok((job, elapsed))
    }

    /// Stops Javelin.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop.cancel();
        self.serving.await??;
        Ok(())
    }
}
