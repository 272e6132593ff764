//! `javelin bench views`: the Orders, Inventory and Dashboard answers of the configured store
//! (a million orders from `javelin bench seed`, say), served by the real server on loopback:
//! each view's latency beside `/healthz` (what HTTP alone costs here), the CSV export's rows per
//! second beside a plain SELECT of the same rows, and many clients at once beside the same
//! clients on `/healthz`, with the process's resident memory.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{peak_rss_mb, reset_peak_rss, rss_mb_now};
use crate::config::Config;
use crate::server::Server;

/// Requests a view is warmed with before it is timed.
const WARM_UP: usize = 5;
/// Orders skipped to reach a deep page (page 4,001 of 50).
const DEEP: usize = 200_000;

pub struct Options {
    pub requests: usize,
    pub clients: usize,
    pub seconds: u64,
}

pub async fn run(options: Options, config: &Config) -> anyhow::Result<()> {
    let Some(admin) = config.admin.clone() else {
        bail!("set JAVELIN_ADMIN_EMAIL and JAVELIN_ADMIN_PASSWORD to a user of this store (created when it has none)");
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = Server::with_listener(config, listener).await?;
    let storage = server.storage();
    let stop = CancellationToken::new();
    let serving = tokio::spawn(server.run(stop.clone().cancelled_owned()));
    println!(
        "javelin bench views on {} ({} orders), served at {base}",
        crate::config::redacted_database_url(&config.database_url),
        storage.count_orders(None).await?
    );

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.clients.max(1))
        .build()?;
    let token = sign_in(&http, &base, &admin.email, &admin.password).await?;
    let client = Client {
        http,
        base: base.clone(),
        token: Some(token.clone()),
    };
    let browser = Client {
        http: reqwest::Client::builder().cookie_store(true).build()?,
        base,
        token: None,
    };
    let measured = async {
        let csrf = browser.sign_in(&admin.email, &admin.password).await?;
        let measured = measure(&client, &browser, &options, &storage).await;
        browser.sign_out(&csrf).await.and(measured)
    }
    .await;
    // The token is the benchmark's own: it goes whatever the measurement did.
    let revoked = client
        .http
        .delete(format!("{}/api/v1/auth/token", client.base))
        .bearer_auth(&token)
        .send()
        .await;
    stop.cancel();
    serving.await??;
    measured?;
    revoked.context("could not revoke the benchmark's API token")?;
    Ok(())
}

async fn measure(
    client: &Client,
    browser: &Client,
    options: &Options,
    storage: &javelin_storage::Storage,
) -> anyhow::Result<()> {
    let (api, pages) = views(client).await?;
    println!("\n  latency of {} requests one after another, ms", options.requests);
    println!("  {:<44} {:>7} {:>7} {:>7} {:>7}", "view", "p50", "p95", "p99", "goal");
    let floor = client.latencies("/healthz", options.requests).await?;
    print_row("GET /healthz (the reference)", &floor, None);
    for (views, client) in [(&api, client), (&pages, browser)] {
        for view in views {
            let times = client.latencies(&view.path, options.requests).await?;
            print_row(&view.name, &times, Some(view.goal_ms));
        }
    }

    println!(
        "\n  {} clients at once for {} s each (process memory: server and clients)",
        options.clients, options.seconds
    );
    println!(
        "  {:<44} {:>9} {:>7} {:>7} {:>7} {:>8}",
        "path", "req/s", "p50", "p95", "p99", "peak MB"
    );
    let duration = Duration::from_secs(options.seconds);
    for (path, note) in [("/healthz", " (the reference)"), ("/api/v1/orders", "")] {
        reset_peak_rss();
        let load = client.load(path, options.clients, duration).await?;
        println!(
            "  {:<44} {:>9.0} {:>7.1} {:>7.1} {:>7.1} {:>8.0}",
            format!("GET {path}{note}"),
            load.requests as f64 / load.seconds,
            percentile(&load.times, 50),
            percentile(&load.times, 95),
            percentile(&load.times, 99),
            peak_rss_mb()
        );
    }

    println!("\n  CSV export of every order");
    let plain = plain_select(storage).await?;
    let exported = client.export().await?;
    println!(
        "  {:<44} {:>9.0} rows/s  ({} rows in {:.2} s)",
        "GET /api/v1/orders.csv",
        exported.rows as f64 / exported.seconds,
        exported.rows,
        exported.seconds
    );
    println!(
        "  {:<44} {:>9.0} rows/s  ({} rows in {:.2} s, the reference)",
        "plain SELECT of the same columns, same order",
        plain.rows as f64 / plain.seconds,
        plain.rows,
        plain.seconds
    );
    println!(
        "  resident memory at each quarter of the export: {} MB",
        exported
            .rss_mb
            .iter()
            .map(|mb| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    Ok(())
}

struct View {
    name: String,
    path: String,
    goal_ms: u32,
}

/// The views measured, in the API and as pages: the orders list under each filter and deep
/// down, searches for words taken from the newest order, the dashboard's periods, inventory.
async fn views(client: &Client) -> anyhow::Result<(Vec<View>, Vec<View>)> {
    let newest = client.get_json("/api/v1/orders?limit=1").await?;
    let order = newest["orders"]
        .get(0)
        .context("the store has no orders: fill it with `javelin bench seed` first")?;
    let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
    let connection = order["connection_id"].as_i64().unwrap_or_default();
    let item = &order["items"][0];
    let title_words: Vec<String> = text(&item["title"])
        .split_whitespace()
        .take(2)
        .map(str::to_owned)
        .collect();
    let (external_id, sku) = (text(&order["external_id"]), text(&item["sku"]));
    if external_id.is_empty() || sku.is_empty() || title_words.is_empty() {
        bail!("the newest order has no marketplace id, SKU or title to search for: {order}");
    }
    let deep = client.cursor_after(DEEP).await?;
    let today = time::OffsetDateTime::now_utc().date();
    let year_ago = today - time::Duration::days(365);
    let two_years_ago = today - time::Duration::days(729);

    let view = |name: &str, path: String, goal_ms| View {
        name: name.to_owned(),
        path,
        goal_ms,
    };
    let order_id = order["id"].as_i64().unwrap_or_default();
    let sku = query_value(&sku);
    let pages = vec![
        view("page: dashboard, 30 days", "/".into(), 20),
        view(
            "page: dashboard, two years",
            format!("/?from={two_years_ago}&to={today}"),
            100,
        ),
        view("page: orders", "/orders".into(), 10),
        view(
            "page: orders, page 4,001",
            format!("/orders?cursor={}", query_value(&deep)),
            10,
        ),
        view("page: orders, search an SKU", format!("/orders?q={sku}"), 50),
        view("page: an order", format!("/orders/{order_id}"), 10),
        view("page: inventory", "/inventory".into(), 10),
        view("page: inventory, low stock", "/inventory?low_stock=true".into(), 10),
    ];
    let api = vec![
        view("orders, newest", "/api/v1/orders".into(), 10),
        view(
            "orders, platform=flipkart",
            "/api/v1/orders?platform=flipkart".into(),
            10,
        ),
        view("orders, status=cancelled", "/api/v1/orders?status=cancelled".into(), 10),
        view(
            "orders, fulfillment_channel=AFN",
            "/api/v1/orders?fulfillment_channel=AFN".into(),
            10,
        ),
        view(
            "orders, one connection",
            format!("/api/v1/orders?connection_id={connection}"),
            10,
        ),
        view(
            "orders, a week a year ago",
            format!(
                "/api/v1/orders?from={year_ago}&to={}",
                year_ago + time::Duration::days(7)
            ),
            10,
        ),
        view(
            "orders, page 4,001",
            format!("/api/v1/orders?cursor={}", query_value(&deep)),
            10,
        ),
        view("search an SKU", format!("/api/v1/orders?q={sku}"), 50),
        view(
            "search an order id",
            format!("/api/v1/orders?q={}", query_value(&external_id)),
            50,
        ),
        view(
            "search two title words",
            format!("/api/v1/orders?q={}", query_value(&title_words.join(" "))),
            50,
        ),
        view("dashboard, today", "/api/v1/dashboard?period=today".into(), 20),
        view("dashboard, 7 days", "/api/v1/dashboard?period=7d".into(), 20),
        view("dashboard, 30 days", "/api/v1/dashboard?period=30d".into(), 20),
        view(
            "dashboard, two years",
            format!("/api/v1/dashboard?from={two_years_ago}&to={today}"),
            100,
        ),
        view("inventory", "/api/v1/inventory".into(), 10),
        view("inventory, low stock", "/api/v1/inventory?low_stock=true".into(), 10),
    ];
    Ok((api, pages))
}

/// The form token in a page's hidden `csrf_token` field.
fn form_token(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn query_value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A script with a bearer token, or a browser with its session cookie.
struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn request(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self.http.get(format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.request(path).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// Signs in through the login form, as a person does; returns the session's form token.
    async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<String> {
        let login = self.request("/login").send().await?.text().await?;
        let csrf = form_token(&login).context("no form token on the login page")?;
        let form = [("csrf_token", csrf.as_str()), ("email", email), ("password", password)];
        let signed_in = self
            .http
            .post(format!("{}/login", self.base))
            .form(&form)
            .send()
            .await?;
        // Signed in, the form sends the browser on to the dashboard; else it shows itself again.
        if signed_in.url().path() != "/" {
            bail!("signing in as {email} through the login form failed");
        }
        form_token(&signed_in.text().await?).context("no form token on the dashboard")
    }

    async fn sign_out(&self, csrf: &str) -> anyhow::Result<()> {
        let form = [("csrf_token", csrf)];
        let response = self
            .http
            .post(format!("{}/logout", self.base))
            .form(&form)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("signing out answered {}", response.status());
        }
        Ok(())
    }

    /// The cursor of the page that starts `skip` orders down, newest first.
    async fn cursor_after(&self, skip: usize) -> anyhow::Result<String> {
        let mut cursor = String::new();
        for _ in 0..skip / 500 {
            let page = self
                .get_json(&format!("/api/v1/orders?limit=500&cursor={}", query_value(&cursor)))
                .await?;
            match page["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        Ok(cursor)
    }

    /// Milliseconds each of `count` requests took, after a few untimed ones.
    async fn latencies(&self, path: &str, count: usize) -> anyhow::Result<Vec<f64>> {
        let mut times = Vec::with_capacity(count);
        for n in 0..WARM_UP + count {
            let started = Instant::now();
            let response = self.request(path).send().await?;
            let status = response.status();
            response.bytes().await?;
            if !status.is_success() {
                bail!("GET {path} answered {status}");
            }
            if n >= WARM_UP {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        Ok(times)
    }

    /// Reads the whole export as it arrives, counting its rows.
    async fn export(&self) -> anyhow::Result<Streamed> {
        let started = Instant::now();
        let mut response = self.request("/api/v1/orders.csv").send().await?;
        if !response.status().is_success() {
            bail!("GET /api/v1/orders.csv answered {}", response.status());
        }
        let mut lines = 0usize;
        let mut rss_mb = Vec::new();
        let mut next_sample = Instant::now();
        while let Some(chunk) = response.chunk().await? {
            lines += chunk.iter().filter(|byte| **byte == b'\n').count();
            if next_sample <= Instant::now() {
                rss_mb.push(rss_mb_now());
                next_sample = Instant::now() + Duration::from_millis(250);
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        rss_mb.push(rss_mb_now());
        let quarters = (1..=4).map(|q| rss_mb[(rss_mb.len() * q).div_ceil(4) - 1]).collect();
        Ok(Streamed {
            rows: lines.saturating_sub(1),
            seconds,
            rss_mb: quarters,
        })
    }

    /// `clients` requests in flight at all times for `duration`.
    async fn load(&self, path: &str, clients: usize, duration: Duration) -> anyhow::Result<Load> {
        let started = Instant::now();
        let until = started + duration;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let request = self.request(path);
            tasks.spawn(async move {
                let mut times = Vec::new();
                while Instant::now() < until {
                    let Some(request) = request.try_clone() else {
                        bail!("the request cannot be repeated");
                    };
                    let sent = Instant::now();
                    let response = request.send().await?;
                    let status = response.status();
                    response.bytes().await?;
                    if !status.is_success() {
                        bail!("answered {status}");
                    }
                    times.push(sent.elapsed().as_secs_f64() * 1000.0);
                }
                Ok(times)
            });
        }
        let mut times = Vec::new();
        while let Some(done) = tasks.join_next().await {
            times.extend(done??);
        }
        Ok(Load {
            requests: times.len(),
            seconds: started.elapsed().as_secs_f64(),
            times,
        })
    }
}

struct Streamed {
    rows: usize,
    seconds: f64,
    rss_mb: Vec<f64>,
}

struct Load {
    requests: usize,
    seconds: f64,
    times: Vec<f64>,
}

async fn sign_in(http: &reqwest::Client, base: &str, email: &str, password: &str) -> anyhow::Result<String> {
    let response = http
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"email": email, "password": password, "label": "javelin bench views"}))
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    match body["token"].as_str() {
        Some(token) if status.is_success() => Ok(token.to_owned()),
        _ => bail!("signing in as {email} failed ({status}): {body}"),
    }
}

/// The reference of the export: the same columns in the same order, straight from the database.
async fn plain_select(storage: &javelin_storage::Storage) -> anyhow::Result<Streamed> {
    let started = Instant::now();
    // On the runtime's workers, as a request's handler would read it.
    let storage = storage.clone();
    let rows = tokio::spawn(async move { storage.read_orders_plainly().await }).await??;
    Ok(Streamed {
        rows,
        seconds: started.elapsed().as_secs_f64(),
        rss_mb: Vec::new(),
    })
}

fn print_row(name: &str, times: &[f64], goal_ms: Option<u32>) {
    let goal = goal_ms.map(|ms| format!("≤{ms}")).unwrap_or_default();
    println!(
        "  {name:<44} {:>7.1} {:>7.1} {:>7.1} {goal:>7}",
        percentile(times, 50),
        percentile(times, 95),
        percentile(times, 99)
    );
}

/// The `p`th percentile (nearest rank) of some times.
fn percentile(times: &[f64], p: usize) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or(f64::NAN)
}
