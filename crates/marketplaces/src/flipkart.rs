//! Flipkart Seller API: OAuth client credentials with the application id and secret (the
//! seller's "API Key" and "API Secret"), then Bearer calls. A seller's username and password
//! give no API access (Flipkart's documentation says so).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::http::{join, unreachable};
use crate::{Account, AccountCheck, CheckError, Connector, IssuedToken};

/// Where sellers create the API Key and Secret.
pub const DEVELOPER_ACCESS: &str = "Seller Dashboard → Manage Profile → Developer Access";

#[derive(Clone)]
pub struct Flipkart {
    http: reqwest::Client,
    /// `FLIPKART_API_URL`, by default `https://api.flipkart.net`.
    base: Url,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentPage {
    #[serde(default)]
    shipments: Vec<serde_json::Value>,
    #[serde(default)]
    has_more: bool,
}

impl Flipkart {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    /// `GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api` with HTTP Basic.
    pub async fn token(&self, app_id: &str, app_secret: &str) -> Result<(String, i64), CheckError> {
        let url = join(&self.base, "/oauth-service/oauth/token");
        let basic = STANDARD.encode(format!("{app_id}:{app_secret}"));
        let response = self
            .http
            .get(&url)
            .query(&[("grant_type", "client_credentials"), ("scope", "Seller_Api")])
            .header("authorization", format!("Basic {basic}"))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|err| CheckError::Unavailable(unreachable(&url, &err)))?;
        let status = response.status();
        let body = response
            .text()
            .await
            .map_err(|err| CheckError::Unavailable(err.to_string()))?;
        if status.is_success() {
            let token: TokenResponse = serde_json::from_str(&body)
                .map_err(|err| CheckError::Unavailable(format!("Flipkart answered in an unexpected format ({err})")))?;
            return Ok((token.access_token, token.expires_in));
        }
        let reason = describe(status.as_u16(), &body);
        Err(if status.as_u16() == 401 {
            CheckError::Rejected(format!(
                "Flipkart rejected the API Key or API Secret ({reason}). Check them in {DEVELOPER_ACCESS}; \
                 a new application may still be pending approval."
            ))
        } else {
            CheckError::Rejected(format!("Flipkart's token service answered with an error ({reason})."))
        })
    }

    /// One cheap read: the first page (one shipment) of approved, not yet packed shipments.
    async fn probe(&self, access_token: &str) -> Result<ShipmentPage, CheckError> {
        let url = join(&self.base, "/sellers/v3/shipments/filter");
        let body = serde_json::json!({
            "filter": {"type": "preDispatch", "states": ["APPROVED"]},
            "pagination": {"pageSize": 1},
        });
        let response = self
            .http
            .post(&url)
            .bearer_auth(access_token)
            .json(&body)
            .send()
            .await
            .map_err(|err| CheckError::Unavailable(unreachable(&url, &err)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| CheckError::Unavailable(err.to_string()))?;
        if !status.is_success() {
            // Flipkart quotes a rejected token in its error: never pass that on.
            let reason = describe(status.as_u16(), &text).replace(access_token, "••••");
            return Err(CheckError::Rejected(format!(
                "Flipkart's Seller API refused the shipment search ({reason})."
            )));
        }
        serde_json::from_str(&text)
            .map_err(|err| CheckError::Unavailable(format!("Flipkart answered in an unexpected format ({err})")))
    }
}

fn describe(status: u16, body: &str) -> String {
    match serde_json::from_str::<ErrorBody>(body) {
        Ok(parsed) if !parsed.error.is_empty() => {
            format!("HTTP {status}, {}: {}", parsed.error, parsed.error_description)
        }
        _ => format!("HTTP {status}"),
    }
}

#[async_trait::async_trait]
impl Connector for Flipkart {
    fn platform(&self) -> &'static str {
        "flipkart"
    }

    /// Gets a token with the API Key and Secret, then reads one page of shipments.
    async fn check(&self, account: &Account) -> Result<AccountCheck, CheckError> {
        let (api_key, api_secret) = (account.secret("api_key")?, account.secret("api_secret")?);
        let issued_at = OffsetDateTime::now_utc();
        let (access_token, expires_in) = self.token(api_key, api_secret).await?;
        let page = self.probe(&access_token).await?;
        let pending = match (page.shipments.len(), page.has_more) {
            (0, _) => "no shipments are waiting to be packed".to_owned(),
            (_, true) => "shipments are waiting to be packed".to_owned(),
            (n, false) => format!("{n} shipment is waiting to be packed"),
        };
        Ok(AccountCheck {
            label: None,
            message: format!("Connected to the Flipkart Seller API: {pending}."),
            tokens: vec![IssuedToken {
                field: "access_token",
                value: access_token,
                expires_at: issued_at + Duration::seconds(expires_in) - Duration::hours(1),
            }],
        })
    }
}
