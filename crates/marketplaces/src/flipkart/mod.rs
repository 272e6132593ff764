//! Flipkart Seller API: OAuth client credentials with the application id and secret (the
//! seller's "API Key" and "API Secret"), then Bearer calls. A seller's username and password
//! give no API access (Flipkart's documentation says so).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use url::Url;

mod listings;
mod orders;

use time::OffsetDateTime;

use crate::connector::{OrdersPage, StockPage, StockScope};
use crate::http::{Answer, join, malformed, unreachable};
use crate::{Account, AccountCheck, Connector, Credential, IssuedToken, MarketplaceError, Operation, Session};

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

/// Which of Flipkart's services refused: the token service refuses client credentials, the
/// Seller API refuses access tokens.
#[derive(Clone, Copy)]
enum Service {
    Token,
    SellerApi,
}

/// Flipkart publishes no per-operation limits; its licence allows a seller about 1,000 calls an
/// hour. Every Seller API call draws on that one budget.
pub const SELLER_API: Operation = Operation {
    name: "sellerApi",
    rate: 1000.0 / 3600.0,
    burst: 50,
};

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

    /// A Seller API call (`path` below `/sellers`) once `session` allows it; the answer's body
    /// parsed as `T`. A rejected token is never quoted back.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        session: &Session<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, MarketplaceError> {
        let url = join(&self.base, &format!("/sellers{path}"));
        session.pace.ready(&SELLER_API).await;
        let mut request = self.http.request(method, &url).bearer_auth(session.access_token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|err| unreachable(&url, &err))?;
        let mut answer = crate::http::read(&url, response).await?;
        if !answer.is_success() {
            answer.body = answer.body.replace(session.access_token, "••••");
            let err = refusal(&url, &answer, Service::SellerApi);
            if let MarketplaceError::Throttled { retry_after, .. } = &err {
                session.pace.throttled(&SELLER_API, *retry_after);
            }
            return Err(err);
        }
        serde_json::from_str(&answer.body).map_err(|err| malformed(&url, format!("an unexpected format ({err})")))
    }

    /// The account's stored access token, or a new one from its API key and secret.
    async fn stored_or_new_token(&self, account: &Account) -> Result<(String, Option<IssuedToken>), MarketplaceError> {
        if let Some(token) = &account.access_token {
            return Ok((token.clone(), None));
        }
        let issued = self.new_access_token(account).await?;
        Ok((issued.value.clone(), Some(issued)))
    }

    async fn new_access_token(&self, account: &Account) -> Result<IssuedToken, MarketplaceError> {
        self.token(account.secret("api_key")?, account.secret("api_secret")?)
            .await
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
    /// Reads the first page of approved shipments, with the stored access token or, when
    /// there is none or Flipkart refuses it, a new one from the API Key and Secret.
    async fn check(&self, account: &Account) -> Result<AccountCheck, MarketplaceError> {
        let (token, mut issued) = self.stored_or_new_token(account).await?;
        let page = match self.probe(&token).await {
            Err(MarketplaceError::Unauthorized { .. }) if issued.is_none() => {
                let new = self.new_access_token(account).await?;
                let page = self.probe(&new.value).await?;
                issued = Some(new);
                page
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
            marketplaces: Vec::new(),
        })
    }

    async fn access_token(&self, account: &Account) -> Result<IssuedToken, MarketplaceError> {
        self.new_access_token(account).await
    }

    fn order_streams(&self) -> Vec<String> {
        orders::STREAMS.iter().map(|stream| (*stream).to_owned()).collect()
    }

    async fn orders_page(
        &self,
        session: &Session<'_>,
        stream: &str,
        since: OffsetDateTime,
        cursor: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        self.shipments_page(session, stream, since, cursor).await
    }

    /// One stream: the seller's active listings, with the stock of every location.
    fn stock_streams(&self, _: &Account) -> Vec<(String, StockScope)> {
        let scope = StockScope {
            marketplace_id: None,
            location: None,
        };
        vec![(listings::STREAM.to_owned(), scope)]
    }

    async fn stock_page(
        &self,
        session: &Session<'_>,
        _stream: &str,
        cursor: Option<&str>,
    ) -> Result<StockPage, MarketplaceError> {
        self.listings_page(session, cursor).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            rate_limit: None,
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
