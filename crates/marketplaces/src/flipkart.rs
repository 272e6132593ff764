//! Flipkart Seller API: OAuth client credentials with the application id and secret (the
//! seller's "API Key" and "API Secret"), then Bearer calls. A seller's username and password
//! give no API access (Flipkart's documentation says so).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use url::Url;

use crate::http::{Answer, join, malformed, unreachable};
use crate::{Account, AccountCheck, Connector, Credential, IssuedToken, MarketplaceError};

/// Where sellers create the API Key and Secret.
pub const DEVELOPER_ACCESS: &str = "Seller Dashboard → Manage Profile → Developer Access";

/// Flipkart's tokens last about 60 days; a new one is fetched a day before that.
const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(24 * 3600);

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

/// Which of Flipkart's services refused: the token service refuses client credentials, the
/// Seller API refuses access tokens.
#[derive(Clone, Copy)]
enum Service {
    Token,
    SellerApi,
}

impl Flipkart {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    /// `GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api` with HTTP Basic.
    pub async fn token(&self, app_id: &str, app_secret: &str) -> Result<IssuedToken, MarketplaceError> {
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
            .map_err(|err| unreachable(&url, &err))?;
        let answer = crate::http::read(&url, response).await?;
        if !answer.is_success() {
            return Err(refusal(&url, &answer, Service::Token));
        }
        // The body holds the token: a parse error never quotes it.
        let token: TokenResponse = serde_json::from_str(&answer.body)
            .map_err(|err| malformed(&url, format!("an unexpected format ({err})")))?;
        Ok(IssuedToken {
            value: token.access_token,
            lifetime: Duration::from_secs(token.expires_in.max(0).unsigned_abs()).saturating_sub(ACCESS_TOKEN_MARGIN),
        })
    }

    /// One cheap read: the first page (one shipment) of approved, not yet packed shipments.
    async fn probe(&self, access_token: &str) -> Result<ShipmentPage, MarketplaceError> {
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
            .map_err(|err| unreachable(&url, &err))?;
        let mut answer = crate::http::read(&url, response).await?;
        if !answer.is_success() {
            // Flipkart quotes a rejected token in its error: never pass that on.
            answer.body = answer.body.replace(access_token, "••••");
            return Err(refusal(&url, &answer, Service::SellerApi));
        }
        serde_json::from_str(&answer.body).map_err(|err| malformed(&url, format!("an unexpected format ({err})")))
    }

    /// The account's stored access token, or a new one from its API key and secret.
    async fn access_token(&self, account: &Account) -> Result<(String, Option<IssuedToken>), MarketplaceError> {
        if let Some(token) = &account.access_token {
            return Ok((token.clone(), None));
        }
        self.new_access_token(account).await
    }

    async fn new_access_token(&self, account: &Account) -> Result<(String, Option<IssuedToken>), MarketplaceError> {
        let issued = self
            .token(account.secret("api_key")?, account.secret("api_secret")?)
            .await?;
        Ok((issued.value.clone(), Some(issued)))
    }
}

/// Flipkart's `{"error","error_description"}`, with the status.
fn refusal(url: &str, answer: &Answer, service: Service) -> MarketplaceError {
    let detail = match serde_json::from_str::<ErrorBody>(&answer.body) {
        Ok(parsed) if !parsed.error.is_empty() => {
            format!("HTTP {}, {}: {}", answer.status, parsed.error, parsed.error_description)
        }
        _ => format!("HTTP {}", answer.status),
    };
    if let Some(common) = answer.common_error(url, &detail) {
        return common;
    }
    match (answer.status, service) {
        (401, Service::Token) => MarketplaceError::Unauthorized {
            credential: Credential::Client,
            detail,
        },
        (401 | 403, _) => MarketplaceError::Unauthorized {
            credential: Credential::Permission,
            detail,
        },
        _ => MarketplaceError::Rejected { detail },
    }
}

#[async_trait::async_trait]
impl Connector for Flipkart {
    /// Reads one page of shipments, with the stored access token or, when there is none or
    /// Flipkart refuses it, a new one from the API Key and Secret.
    async fn check(&self, account: &Account) -> Result<AccountCheck, MarketplaceError> {
        let (token, mut issued) = self.access_token(account).await?;
        let page = match self.probe(&token).await {
            Err(MarketplaceError::Unauthorized { .. }) if issued.is_none() => {
                let (token, new) = self.new_access_token(account).await?;
                issued = new;
                self.probe(&token).await?
            }
            other => other?,
        };
        let pending = match (page.shipments.len(), page.has_more) {
            (0, _) => "no shipments are waiting to be packed".to_owned(),
            (_, true) => "shipments are waiting to be packed".to_owned(),
            (n, false) => format!("{n} shipment is waiting to be packed"),
        };
        Ok(AccountCheck {
            label: None,
            message: format!("Connected to the Flipkart Seller API: {pending}."),
            access_token: issued,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            body: body.to_owned(),
        }
    }

    #[test]
    fn refusals_depend_on_the_service() {
        let body = r#"{"error":"unauthorized","error_description":"Bad credentials"}"#;
        assert_eq!(
            refusal(
                "https://api.flipkart.net/oauth-service/oauth/token",
                &answer(401, body),
                Service::Token
            ),
            MarketplaceError::Unauthorized {
                credential: Credential::Client,
                detail: "HTTP 401, unauthorized: Bad credentials".into()
            }
        );
        assert!(matches!(
            refusal(
                "https://api.flipkart.net/sellers",
                &answer(401, body),
                Service::SellerApi
            ),
            MarketplaceError::Unauthorized {
                credential: Credential::Permission,
                ..
            }
        ));
        assert!(matches!(
            refusal("https://api.flipkart.net/sellers", &answer(429, ""), Service::SellerApi),
            MarketplaceError::Throttled { .. }
        ));
        assert!(matches!(
            refusal(
                "https://api.flipkart.net/sellers",
                &answer(500, r#"{"error":"DEPENDENT_SYSTEM_CALL_FAILED"}"#),
                Service::SellerApi
            ),
            MarketplaceError::Unavailable { .. }
        ));
        assert_eq!(
            refusal(
                "https://api.flipkart.net/sellers",
                &answer(400, "nope"),
                Service::SellerApi
            ),
            MarketplaceError::Rejected {
                detail: "HTTP 400".into()
            }
        );
    }
}
