//! A real Javelin server on an ephemeral loopback port, over a test database.

#![allow(dead_code)] // Each test binary uses its own share of these helpers.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use javelin::config::{AdminSeed, Config, LogFormat};
use javelin::server::Server;
use javelin_core::ManualClock;
use javelin_marketplaces::amazon::AmazonEndpoints;
use javelin_sandbox::{Sandbox, SandboxOptions};
use javelin_storage::Timestamp;
use javelin_storage::testing::TestDatabase;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use reqwest::{Response, StatusCode};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const ADMIN_EMAIL: &str = "owner@example.com";
pub const ADMIN_PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub base: String,
    /// The marketplace simulators this server is wired to.
    pub sandbox: Sandbox,
    pub sandbox_base: String,
    pub data_dir: tempfile::TempDir,
    /// A browser-like client: keeps cookies, asks for HTML, does not follow redirects.
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub config: Config,
    /// The server's clock: it stands still until a test moves it.
    pub clock: ManualClock,
    /// The server's sync engine, to follow its jobs.
    pub sync: Option<javelin_sync::Sync>,
    /// The listening socket, kept open across restarts so that no other test can take the port.
    socket: std::net::TcpListener,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// The marketplace sandbox on its own loopback port.
pub async fn start_sandbox(options: SandboxOptions) -> (Sandbox, String) {
    let sandbox = Sandbox::new(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("bound address"));
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (sandbox, base)
}

pub fn browser_client() -> reqwest::Client {
    javelin_marketplaces::http::ensure_crypto_provider();
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("text/html,application/xhtml+xml"));
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("HTTP client")
}

impl TestApp {
    /// Starts a server with no users (the first visit shows the setup page).
    pub async fn start(db: TestDatabase) -> Self {
        Self::start_with(db, |_| {}).await
    }

    /// Starts a server whose administrator is created from the configuration.
    pub async fn start_with_admin(db: TestDatabase) -> Self {
        Self::start_with(db, with_admin).await
    }

    pub async fn start_with(db: TestDatabase, adjust: impl FnOnce(&mut Config)) -> Self {
        Self::start_with_sandbox(db, SandboxOptions::default(), adjust).await
    }

    /// Starts a server wired to a sandbox with these data (its redirect URI is set here).
    pub async fn start_with_sandbox(
        db: TestDatabase,
        options: SandboxOptions,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        javelin_marketplaces::http::ensure_crypto_provider();
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        socket.set_nonblocking(true).expect("non-blocking socket");
        let addr = socket.local_addr().expect("bound address");
        let base = format!("http://{addr}");
        let callback: url::Url = format!("{base}/connections/amazon/oauth/callback")
            .parse()
            .expect("valid URL");
        let (sandbox, sandbox_base) = start_sandbox(SandboxOptions {
            redirect_uris: vec![callback.clone()],
            ..options
        })
        .await;
        let sandbox_url = |path: &str| -> url::Url { format!("{sandbox_base}{path}").parse().expect("valid URL") };
        let data_dir = tempfile::tempdir().expect("data folder");
        let mut config = Config {
            database_url: db.url.clone(),
            database_is_explicit: true,
            data_dir: data_dir.path().to_owned(),
            listen: addr,
            frontend_url: base.parse().expect("valid URL"),
            frontend_url_explicit: true,
            amazon_oauth_redirect_uri: callback,
            amazon_oauth_redirect_uri_set: false,
            master_key: None,
            amazon: AmazonEndpoints {
                lwa_token_url: sandbox_url("/amazon/auth/o2/token"),
                consent_base: Some(sandbox_url("/amazon")),
                spapi_base: Some(sandbox_url("/amazon")),
            },
            flipkart_api_url: sandbox_url("/flipkart"),
            admin: None,
            log_filter: "warn".into(),
            log_format: LogFormat::Pretty,
            // Retries without long waits; another instance's jobs are not waited for.
            sync: javelin_sync::SyncSettings {
                retry_delay: Duration::from_millis(20),
                poll: Duration::from_secs(3600),
                schedules: false,
                // A test's first sync reads its 30 days through searchOrders unless it asks otherwise.
                history_on_connect: None,
                ..javelin_sync::SyncSettings::default()
            },
            edge: javelin::edge::EdgeLimits::default(),
            check_time_limit: javelin_core::connections::CHECK_TIME_LIMIT,
        };
        adjust(&mut config);
        let mut app = Self {
            base,
            sandbox,
            sandbox_base,
            data_dir,
            client: browser_client(),
            db,
            config,
            clock: ManualClock::starting_at(Timestamp::now()),
            sync: None,
            socket,
            stop: None,
            task: None,
        };
        app.launch().await;
        app
    }

    /// Serves on (a handle of) the app's socket.
    async fn launch(&mut self) {
        let handle = self.socket.try_clone().expect("a handle of the socket");
        let listener = tokio::net::TcpListener::from_std(handle).expect("a tokio listener");
        let server = Server::with_clock(&self.config, listener, self.clock.clock())
            .await
            .expect("server starts");
        self.sync = Some(server.sync());
        let (stop, stopped) = oneshot::channel::<()>();
        self.task = Some(tokio::spawn(server.run(async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
    }

    /// Stops the server gracefully and starts it again on the same database and port.
    pub async fn restart(&mut self) {
        self.shutdown().await;
        self.launch().await;
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server stopped cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).form(form).send().await.expect("POST")
    }

    /// The page's CSRF token, read from its hidden form field.
    pub async fn csrf_token(&self, path: &str) -> String {
        let html = self.get(path).await.text().await.expect("page body");
        hidden_field(&html, "csrf_token").unwrap_or_else(|| panic!("no csrf_token on {path}: {html}"))
    }

    /// Signs in with the browser client through the login form.
    pub async fn login(&self, email: &str, password: &str) -> Response {
        let token = self.csrf_token("/login").await;
        self.post_form(
            "/login",
            &[("csrf_token", &token), ("email", email), ("password", password)],
        )
        .await
    }

    /// Signs in as the configured administrator and checks it worked.
    pub async fn login_admin(&self) {
        let response = self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/");
    }

    /// An API token for the administrator.
    pub async fn api_token(&self) -> String {
        let response = api_client()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("POST token");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("token string").to_owned()
    }

    /// An administrator's API token that works for `days` (for tests that move the clock far).
    pub async fn api_token_lasting(&self, days: u32) -> String {
        let response = api_client()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "expires_in_days": days}))
            .send()
            .await
            .expect("POST token");
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("token string").to_owned()
    }

    /// An API token for `email`.
    pub async fn token_for(&self, email: &str, password: &str) -> String {
        let response = api_client()
            .post(self.url("/api/v1/auth/token"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("POST token");
        assert_eq!(response.status(), StatusCode::OK, "a token for {email}");
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["token"].as_str().expect("token string").to_owned()
    }

    /// Adds a user through the users API, as the administrator whose token is `admin_token`;
    /// returns the new user's id.
    pub async fn add_user(&self, admin_token: &str, email: &str, password: &str, role: &str) -> i64 {
        let response = api_client()
            .post(self.url("/api/v1/users"))
            .bearer_auth(admin_token)
            .json(&serde_json::json!({"email": email, "password": password, "role": role}))
            .send()
            .await
            .expect("POST user");
        assert_eq!(response.status(), StatusCode::CREATED);
        let text = response.text().await.expect("body");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
        body["id"].as_i64().expect("id")
    }

    /// `GET path` as a script does, with `token`: the status and the JSON answer.
    pub async fn api_get(&self, token: &str, path: &str) -> (u16, serde_json::Value) {
        let response = api_client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON"))
    }
}

/// Has the server create its administrator from the configuration.
pub fn with_admin(config: &mut Config) {
    config.admin = Some(AdminSeed {
        email: ADMIN_EMAIL.into(),
        password: ADMIN_PASSWORD.into(),
    });
}

/// A script's client: no cookies.
pub fn api_client() -> reqwest::Client {
    javelin_marketplaces::http::ensure_crypto_provider();
    reqwest::Client::new()
}

/// A client whose requests come from another loopback address (all of 127.0.0.0/8 is this
/// machine), as a second person would.
pub fn api_client_from(address: [u8; 4]) -> reqwest::Client {
    javelin_marketplaces::http::ensure_crypto_provider();
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(address))
        .build()
        .expect("client")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The `Set-Cookie` header that sets `name`.
pub fn set_cookie(response: &Response, name: &str) -> String {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

pub fn location(response: &Response) -> &str {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
}

/// The value of `<input … name="NAME" value="…">` in a page.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The sandbox's sample credentials.
pub fn sample(app: &TestApp) -> javelin_sandbox::Credentials {
    app.sandbox.credentials().clone()
}

impl TestApp {
    /// Posts a form from the Connect Platforms page, with that page's CSRF token.
    pub async fn post_connect(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token("/connections").await;
        let mut form = vec![("csrf_token", token.as_str())];
        form.extend_from_slice(fields);
        self.post_form(path, &form).await
    }

    /// "Connect Manually" with the sandbox's seller (North America, Amazon.com); returns the
    /// new connection's id.
    pub async fn connect_amazon_manually(&self) -> i64 {
        let creds = sample(self).amazon;
        let response = self
            .post_connect(
                "/connections/amazon",
                &[
                    ("client_id", &creds.client_id),
                    ("client_secret", &creds.client_secret),
                    ("refresh_token", &creds.refresh_token),
                    ("marketplace_id", "ATVPDKIKX0DER"),
                    ("region", "NA"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let connections = self.db.storage.list_connections().await.expect("list");
        connections.last().expect("a connection").id
    }

    /// `POST /api/v1/connections` with `body`, which must connect; returns the connection's id.
    pub async fn connect_by_api(&self, token: &str, body: &serde_json::Value) -> i64 {
        let response = api_client()
            .post(self.url("/api/v1/connections"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST");
        let created: serde_json::Value = response.json().await.expect("JSON");
        assert_eq!(created["status"], "connected", "{created}");
        created["id"].as_i64().expect("id")
    }

    /// "Start OAuth Flow" with the sandbox's sample app; returns the consent URL.
    pub async fn start_oauth(&self, client_secret: &str) -> url::Url {
        let creds = sample(self).amazon;
        let response = self
            .post_connect(
                "/connections/amazon/oauth/start",
                &[
                    ("client_id", &creds.client_id),
                    ("client_secret", client_secret),
                    ("marketplace_id", "ATVPDKIKX0DER"),
                    ("region", "NA"),
                    ("application_id", &creds.application_id),
                    ("draft", "on"),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text().await.unwrap_or_default()
        );
        location(&response).parse().expect("consent URL")
    }

    /// The seller's answer on the sandbox's consent page; returns where Amazon sends them back.
    pub async fn consent(&self, consent_url: &url::Url, decision: &str) -> String {
        let seller = browser_client();
        let page = seller.get(consent_url.as_str()).send().await.expect("consent page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("consent page");
        let field = |name: &str| hidden_field(&html, name).unwrap_or_else(|| panic!("{name} on the consent page"));
        let action = consent_url.join("confirm").expect("confirm URL");
        let response = seller
            .post(action.as_str())
            .form(&[
                ("application_id", field("application_id")),
                ("state", field("state")),
                ("redirect_uri", field("redirect_uri")),
                ("decision", decision.to_owned()),
            ])
            .send()
            .await
            .expect("confirm");
        assert!(response.status().is_redirection());
        location(&response).to_owned()
    }

    /// Follows Amazon's redirect back to Javelin in this browser; returns the flash it leads to.
    pub async fn callback(&self, back: &str) -> String {
        let response = self.client.get(back).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), self.url("/connections"));
        flash_of(&self.get("/connections").await.text().await.expect("page"))
    }

    /// The `POST /api/v1/connections` body that connects the sandbox's Amazon seller with its
    /// refresh token and, unless empty, a Seller ID.
    pub fn amazon_connection(&self, seller: &str) -> serde_json::Value {
        let creds = sample(self).amazon;
        serde_json::json!({"platform": "amazon", "client_id": creds.client_id, "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token, "marketplace_id": "ATVPDKIKX0DER", "region": "NA",
            "selling_partner_id": seller})
    }

    /// The `POST /api/v1/connections` body that connects the sandbox's Flipkart seller.
    pub fn flipkart_connection(&self) -> serde_json::Value {
        let creds = sample(self).flipkart;
        serde_json::json!({"platform": "flipkart", "username": "seller", "password": "a password",
            "api_key": creds.api_key, "api_secret": creds.api_secret})
    }

    /// Waits (at most a minute) until no job of the connection is queued or running; returns
    /// its jobs, newest first.
    pub async fn settle(
        &self,
        events: &mut tokio::sync::broadcast::Receiver<javelin_sync::JobEvent>,
        id: i64,
    ) -> Vec<javelin_storage::SyncJob> {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let jobs = self.db.storage.list_jobs(id, 20).await.expect("jobs");
                if jobs.iter().all(|job| job.finished_at.is_some()) {
                    return jobs;
                }
                // Any change of any job: look again.
                let _ = events.recv().await;
            }
        })
        .await
        .expect("the jobs end within a minute")
    }

    /// Every order of a connection through `GET /api/v1/orders`, page by page (97 a page, so
    /// that page ends fall in odd places).
    pub async fn all_orders(&self, token: &str, connection_id: i64) -> Vec<serde_json::Value> {
        let mut orders = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/orders?connection_id={connection_id}&limit=97");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let (status, page) = self.api_get(token, &path).await;
            assert_eq!(status, 200, "{path}: {page}");
            orders.extend(page["orders"].as_array().expect("orders").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return orders,
            }
        }
    }

    pub async fn platforms(&self, token: &str) -> serde_json::Value {
        api_client()
            .get(self.url("/api/v1/platforms"))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }
}

/// An order's items as the API shows them: (item id, quantity), sorted.
pub fn item_quantities(order: &serde_json::Value) -> Vec<(String, i64)> {
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
    items
}

/// The text of a page's flash message, or "" when it has none.
pub fn flash_of(html: &str) -> String {
    let Some(start) = html.find("class=\"flash ") else {
        return String::new();
    };
    let start = html[start..].find("<span>").map(|i| start + i + 6).unwrap_or(start);
    let end = html[start..].find("</span>").map(|i| start + i).unwrap_or(html.len());
    unescape(&html[start..end])
}

/// Undoes HTML escaping of text.
pub fn unescape(text: &str) -> String {
    [
        ("&quot;", "\""),
        ("&#34;", "\""),
        ("&#x27;", "'"),
        ("&#39;", "'"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
}

/// How long a test waits for a process to say something before it gives up.
const PROCESS_PATIENCE: Duration = Duration::from_secs(60);

/// A child process whose standard error is read line by line, and which is killed when the
/// test ends, however it ends.
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub seen: Vec<String>,
}

impl Process {
    /// Starts `command`, reading what it writes to standard error.
    pub fn spawn(command: &mut Command) -> Self {
        let mut child = command.stderr(Stdio::piped()).spawn().expect("start the process");
        let stderr = child.stderr.take().expect("piped standard error");
        Self::reading(child, stderr)
    }

    /// Starts `command`, reading what it writes to standard output.
    pub fn spawn_reading_stdout(command: &mut Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start the process");
        let stdout = child.stdout.take().expect("piped standard output");
        Self::reading(child, stdout)
    }

    fn reading(child: Child, stream: impl std::io::Read + Send + 'static) -> Self {
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The next line `wanted` accepts; fails the test after a minute, or when the process ends
    /// first.
    pub fn wait_for_line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            let line = match self.lines.recv_timeout(PROCESS_PATIENCE) {
                Ok(line) => line,
                Err(err) => panic!("no {what} ({err}); the process said: {:#?}", self.seen),
            };
            self.seen.push(line.clone());
            if wanted(&line) {
                return line;
            }
        }
    }

    /// The next JSON log event whose message is `message`.
    pub fn wait_for_log(&mut self, message: &str) -> serde_json::Value {
        let is_event =
            |line: &str| serde_json::from_str::<serde_json::Value>(line).is_ok_and(|event| event["message"] == message);
        let line = self.wait_for_line(&format!("log line {message:?}"), is_event);
        serde_json::from_str(&line).expect("a JSON log line")
    }

    /// Kills the process outright (SIGKILL), as a crash or an out-of-memory kill would.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("the process ends");
    }

    /// Sends SIGTERM and waits for the process to end; returns its status and what it said.
    pub fn terminate(mut self) -> (ExitStatus, Vec<String>) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        // Standard error closes when the process ends.
        loop {
            match self.lines.recv_timeout(PROCESS_PATIENCE) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("still running a minute after SIGTERM: {:#?}", self.seen)
                }
            }
        }
        let status = self.child.wait().expect("the process ends");
        (status, std::mem::take(&mut self.seen))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
