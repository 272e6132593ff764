//! What the Reports API tests share: a sandbox served on loopback with an access token, and a
//! reader of flat files as the reference describes them.

#![allow(dead_code)] // Each test binary uses its own share of these helpers.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Mutex;

use javelin_marketplaces::amazon::{Amazon, AmazonEndpoints, LwaClient};
use javelin_sandbox::{OrderState, Sandbox, SandboxOptions};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use url::Url;

pub const NA: [&str; 2] = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"];
pub const EU: [&str; 3] = ["A1F83G8C2ARO7P", "A1PA6795UKMFR9", "A21TJRUUN4KGV"];
pub const JP: &str = "A1VC38T7YXB528";
/// A default report's processing time at time scale 1, and a second more.
pub const PROCESSING: i64 = 601;

pub struct Running {
    pub sandbox: Sandbox,
    pub base: Url,
    pub http: reqwest::Client,
    token: Mutex<String>,
}

pub async fn start(options: SandboxOptions) -> Running {
    let sandbox = Sandbox::new(options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = Url::parse(&format!("http://{}", listener.local_addr().expect("address"))).expect("URL");
    let router = sandbox.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    let running = Running {
        sandbox,
        base,
        http: javelin_marketplaces::http::client().expect("client"),
        token: Mutex::default(),
    };
    running.refresh().await;
    running
}

pub fn rfc(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("format")
}

pub fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().expect("a time"), &Rfc3339).expect("RFC 3339")
}

impl Running {
    pub fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("URL")
    }

    /// A new access token, as Javelin's client gets one.
    pub async fn refresh(&self) {
        let amazon = Amazon::new(
            self.http.clone(),
            AmazonEndpoints {
                lwa_token_url: self.url("/amazon/auth/o2/token"),
                consent_base: Some(self.url("/amazon")),
                spapi_base: Some(self.url("/amazon")),
            },
        );
        let creds = &self.sandbox.credentials().amazon;
        let client = LwaClient {
            client_id: &creds.client_id,
            client_secret: &creds.client_secret,
        };
        let tokens = amazon.refresh(&client, &creds.refresh_token).await.expect("refresh");
        *self.token.lock().expect("token") = tokens.access_token;
    }

    /// Moves the sandbox clock on (never sleeping), with a fresh access token after it.
    pub async fn advance(&self, seconds: i64) {
        self.sandbox.clock().advance(Duration::seconds(seconds));
        self.refresh().await;
    }

    pub fn token(&self) -> String {
        self.token.lock().expect("token").clone()
    }

    pub async fn post_report(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(self.url("/amazon/reports/2021-06-30/reports"))
            .header("x-amz-access-token", self.token())
            .json(body)
            .send()
            .await
            .expect("createReport")
    }

    pub async fn create(
        &self,
        report_type: &str,
        marketplace: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> String {
        let body = json!({"reportType": report_type, "marketplaceIds": [marketplace],
            "dataStartTime": rfc(start), "dataEndTime": rfc(end)});
        let response = self.post_report(&body).await;
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.expect("JSON");
        let id = body["reportId"].as_str().expect("reportId").to_owned();
        assert!(id.chars().all(|c| c.is_ascii_digit()), "{id}");
        id
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("x-amz-access-token", self.token())
            .send()
            .await
            .expect("GET")
    }

    pub async fn report(&self, id: &str) -> Value {
        let response = self.get(&format!("/amazon/reports/2021-06-30/reports/{id}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.expect("JSON")
    }

    pub async fn status(&self, id: &str) -> String {
        self.report(id).await["processingStatus"]
            .as_str()
            .expect("status")
            .to_owned()
    }

    /// A fresh presigned URL of a report's document.
    pub async fn document_url(&self, report: &Value) -> String {
        let id = report["reportDocumentId"].as_str().expect("reportDocumentId");
        let response = self.get(&format!("/amazon/reports/2021-06-30/documents/{id}")).await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["reportDocumentId"], id);
        assert_eq!(body["compressionAlgorithm"], "GZIP");
        body["url"].as_str().expect("url").to_owned()
    }

    /// A plain GET of a download URL: status, `Content-Type`, body.
    pub async fn download(&self, url: &str) -> (u16, String, Vec<u8>) {
        let response = self.http.get(url).send().await.expect("download");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, content_type, response.bytes().await.expect("body").to_vec())
    }

    /// A finished report's document as text, decoded by the charset its download names.
    pub async fn text(&self, report: &Value) -> (String, String) {
        let url = self.document_url(report).await;
        let (status, content_type, body) = self.download(&url).await;
        assert_eq!(status, 200);
        let charset = content_type
            .strip_prefix("text/plain; charset=")
            .expect("a charset")
            .to_owned();
        let bytes = gunzip(&body).expect("gzip");
        let encoding = encoding_rs::Encoding::for_label(charset.as_bytes()).expect("a known charset");
        let (text, _, errors) = encoding.decode(&bytes);
        assert!(!errors, "decodes as {charset}");
        (charset, text.into_owned())
    }
}

pub fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

/// A flat file read as the reference says: `\n` lines, `\t` fields, no quoting, by name.
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn parse(text: &str) -> Self {
        assert!(text.ends_with('\n'));
        let mut lines = text
            .lines()
            .map(|line| line.split('\t').map(str::to_owned).collect::<Vec<_>>());
        let header = lines.next().expect("a header");
        let rows: Vec<Vec<String>> = lines.collect();
        assert!(
            rows.iter().all(|row| row.len() == header.len()),
            "every row has every column"
        );
        Self { header, rows }
    }

    pub fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|column| column == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    pub fn values(&self, name: &str) -> Vec<&str> {
        let at = self.column(name);
        self.rows.iter().map(|row| row[at].as_str()).collect()
    }

    /// (order id, item id, quantity) of every row.
    pub fn items(&self) -> BTreeSet<(String, String, u32)> {
        let (order, item, quantity) = (
            self.column("amazon-order-id"),
            self.column("order-item-id"),
            self.column("quantity"),
        );
        self.rows
            .iter()
            .map(|row| {
                (
                    row[order].clone(),
                    row[item].clone(),
                    row[quantity].parse().expect("quantity"),
                )
            })
            .collect()
    }
}

pub fn items_of<'a>(orders: impl IntoIterator<Item = &'a OrderState>) -> BTreeSet<(String, String, u32)> {
    orders
        .into_iter()
        .flat_map(|order| {
            order
                .items
                .iter()
                .map(|(item, quantity)| (order.id.clone(), item.clone(), *quantity))
        })
        .collect()
}

pub fn report_word(status: &str) -> &'static str {
    match status {
        "PENDING" => "Pending",
        "UNSHIPPED" => "Unshipped",
        "PARTIALLY_SHIPPED" => "Shipping",
        "SHIPPED" => "Shipped",
        "CANCELLED" => "Cancelled",
        _ => "?",
    }
}
