//! Amazon: the Seller Central consent page, Login with Amazon (LWA) tokens, and SP-API.

mod errors;
mod inventory;
pub mod marketplaces;
mod orders;
pub mod reports;

use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use url::Url;

pub use inventory::{GET_INVENTORY_SUMMARIES, SEARCH_LISTINGS_ITEMS};
pub use marketplaces::{Marketplace, Region};
pub use orders::{GET_ORDER, SEARCH_ORDERS};

use crate::connector::{OrdersPage, StockPage, StockScope};
use crate::http::{Answer, join, malformed, unreachable};
use crate::{Account, AccountCheck, Connector, Credential, IssuedToken, MarketplaceError, Operation, Session, Unpaced};

pub const GET_MARKETPLACE_PARTICIPATIONS: Operation = Operation {
    name: "getMarketplaceParticipations",
    rate: 0.016,
    burst: 15,
};

/// An access token is used until a minute before Amazon's stated expiry, so that it never
/// expires during a call.
const ACCESS_TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// Where Amazon lives; each can be replaced so the local sandbox stands in for it.
#[derive(Clone, Debug)]
pub struct AmazonEndpoints {
    /// `AMAZON_LWA_TOKEN_URL`, by default `https://api.amazon.com/auth/o2/token`.
    pub lwa_token_url: Url,
    /// `AMAZON_CONSENT_URL`: replaces the Seller Central base of the consent URL.
    pub consent_base: Option<Url>,
    /// `AMAZON_SPAPI_URL`: replaces the regional SP-API host.
    pub spapi_base: Option<Url>,
}

impl Default for AmazonEndpoints {
    fn default() -> Self {
        Self {
            // A constant URL that parses.
            lwa_token_url: Url::parse("https://api.amazon.com/auth/o2/token").expect("valid URL"),
            consent_base: None,
            spapi_base: None,
        }
    }
}

/// An LWA application's client credentials.
pub struct LwaClient<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a str,
}

/// Tokens from the LWA token endpoint.
#[derive(Deserialize)]
pub struct LwaTokens {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

impl std::fmt::Debug for LwaTokens {
    /// Tokens are secrets: debugging output shows only their lifetime.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LwaTokens")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// One entry of `getMarketplaceParticipations`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participation {
    pub marketplace: ParticipationMarketplace,
    pub store_name: String,
    pub participation: ParticipationFlags,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipationMarketplace {
    pub id: String,
    pub name: String,
    pub country_code: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipationFlags {
    pub is_participating: bool,
}

#[derive(Deserialize)]
struct Payload<T> {
    payload: T,
}

/// A time as SP-API takes it.
fn rfc3339(at: OffsetDateTime) -> Result<String, MarketplaceError> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|err| MarketplaceError::Rejected {
            detail: err.to_string(),
        })
}

/// One SP-API request: method, path on the regional host, query and JSON body.
struct SpRequest<'a> {
    method: reqwest::Method,
    path: &'a str,
    query: &'a [(&'a str, String)],
    body: Option<&'a serde_json::Value>,
}

/// The Amazon client.
#[derive(Clone)]
pub struct Amazon {
    http: reqwest::Client,
    endpoints: AmazonEndpoints,
}

impl Amazon {
    pub fn new(http: reqwest::Client, endpoints: AmazonEndpoints) -> Self {
        Self { http, endpoints }
    }

    /// The Seller Central page where the seller authorises the application.
    pub fn consent_url(
        &self,
        marketplace: &Marketplace,
        application_id: &str,
        state: &str,
        draft: bool,
        redirect_uri: Option<&Url>,
    ) -> Result<Url, url::ParseError> {
        let mut url = self.seller_central(marketplace, "/apps/authorize/consent")?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("application_id", application_id)
                .append_pair("state", state);
            if draft {
                query.append_pair("version", "beta");
            }
            if let Some(redirect_uri) = redirect_uri {
                query.append_pair("redirect_uri", redirect_uri.as_str());
            }
        }
        Ok(url)
    }

    /// Developer Central, where the developer rotates the application's client secret.
    pub fn developer_central_url(&self, marketplace: &Marketplace) -> Result<Url, url::ParseError> {
        self.seller_central(marketplace, "/sellingpartner/developerconsole")
    }

    /// A page of the marketplace's Seller Central (or of its stand-in).
    fn seller_central(&self, marketplace: &Marketplace, path: &str) -> Result<Url, url::ParseError> {
        let base = match &self.endpoints.consent_base {
            Some(base) => base.clone(),
            None => Url::parse(&marketplace.seller_central_url)?,
        };
        Url::parse(&join(&base, path))
    }

    /// Exchanges an authorisation code from the consent redirect for tokens.
    pub async fn exchange_code(
        &self,
        client: &LwaClient<'_>,
        code: &str,
        redirect_uri: &Url,
    ) -> Result<LwaTokens, MarketplaceError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ])
        .await
    }

    /// Trades a refresh token for a one-hour access token.
    pub async fn refresh(&self, client: &LwaClient<'_>, refresh_token: &str) -> Result<LwaTokens, MarketplaceError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<LwaTokens, MarketplaceError> {
        let url = self.endpoints.lwa_token_url.as_str();
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(|err| unreachable(url, &err))?;
        let answer = crate::http::read(url, response).await?;
        if !answer.is_success() {
            return Err(errors::lwa(url, &answer));
        }
        parse(url, &answer.body)
    }

    /// The SP-API host of a region, or the one `AMAZON_SPAPI_URL` names.
    fn spapi_base(&self, region: Region, marketplace: &Marketplace) -> Result<Url, MarketplaceError> {
        match (&self.endpoints.spapi_base, region.api_host(marketplace)) {
            (Some(base), _) => Ok(base.clone()),
            (None, Some(host)) => Url::parse(host).map_err(|err| malformed(host, err.to_string())),
            (None, None) => Err(MarketplaceError::Rejected {
                detail: format!("no SP-API host for region {region}"),
            }),
        }
    }

    /// The SP-API host of an account and the marketplaces to ask about.
    fn account_base(&self, account: &Account) -> Result<(Url, Vec<String>), MarketplaceError> {
        let (region, marketplace) = region_and_marketplace(account)?;
        let ids = if account.marketplace_ids.is_empty() {
            vec![marketplace.marketplace_id.clone()]
        } else {
            account.marketplace_ids.clone()
        };
        Ok((self.spapi_base(region, marketplace)?, ids))
    }

    /// `GET` an SP-API path when `pace` allows `operation`; tells `pace` the rate Amazon
    /// states and any throttling. Returns the URL called and the successful answer.
    async fn sp_get(
        &self,
        base: &Url,
        path: &str,
        query: &[(&str, String)],
        session: &Session<'_>,
        operation: &Operation,
    ) -> Result<(String, Answer), MarketplaceError> {
        let request = SpRequest {
            method: reqwest::Method::GET,
            path,
            query,
            body: None,
        };
        self.sp_call(base, &request, session, operation).await
    }

    /// An SP-API call of any method, with a JSON body when given; see [`Self::sp_get`].
    async fn sp_call(
        &self,
        base: &Url,
        call: &SpRequest<'_>,
        session: &Session<'_>,
        operation: &Operation,
    ) -> Result<(String, Answer), MarketplaceError> {
        let url = join(base, call.path);
        session.pace.ready(operation).await;
        let mut request = self
            .http
            .request(call.method.clone(), &url)
            .query(call.query)
            .header("x-amz-access-token", session.access_token);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|err| unreachable(&url, &err))?;
        let answer = crate::http::read(&url, response).await?;
        if let Some(rate) = answer.rate_limit {
            session.pace.rate_observed(operation, rate);
        }
        if answer.is_success() {
            return Ok((url, answer));
        }
        let err = errors::sp_api(&url, &answer);
        if let MarketplaceError::Throttled { retry_after, .. } = &err {
            session.pace.throttled(operation, *retry_after);
        }
        Err(err)
    }

    /// `GET /sellers/v1/marketplaceParticipations`: the seller's stores and marketplaces.
    pub async fn marketplace_participations(
        &self,
        region: Region,
        marketplace: &Marketplace,
        access_token: &str,
    ) -> Result<Vec<Participation>, MarketplaceError> {
        let base = self.spapi_base(region, marketplace)?;
        let account = Account::default();
        let session = Session {
            account: &account,
            access_token,
            pace: &Unpaced,
        };
        let (url, answer) = self
            .sp_get(
                &base,
                "/sellers/v1/marketplaceParticipations",
                &[],
                &session,
                &GET_MARKETPLACE_PARTICIPATIONS,
            )
            .await?;
        let body: Payload<Vec<Participation>> = parse(&url, &answer.body)?;
        Ok(body.payload)
    }

    /// The account's stored access token, or a new one from its refresh token.
    async fn stored_or_new_token(&self, account: &Account) -> Result<(String, Option<IssuedToken>), MarketplaceError> {
        if let Some(token) = &account.access_token {
            return Ok((token.clone(), None));
        }
        let issued = self.new_access_token(account).await?;
        Ok((issued.value.clone(), Some(issued)))
    }

    async fn new_access_token(&self, account: &Account) -> Result<IssuedToken, MarketplaceError> {
        let client = LwaClient {
            client_id: account.secret("client_id")?,
            client_secret: account.secret("client_secret")?,
        };
        let tokens = self.refresh(&client, account.secret("refresh_token")?).await?;
        let lifetime = Duration::from_secs(tokens.expires_in.max(0).unsigned_abs()).saturating_sub(ACCESS_TOKEN_MARGIN);
        Ok(IssuedToken {
            value: tokens.access_token,
            lifetime,
        })
    }
}

/// The account's API region and home marketplace.
fn region_and_marketplace(account: &Account) -> Result<(Region, &'static Marketplace), MarketplaceError> {
    let marketplace_id = account.marketplace_id.as_deref().unwrap_or_default();
    let marketplace = marketplaces::find(marketplace_id).ok_or_else(|| MarketplaceError::Rejected {
        detail: format!("unknown Amazon marketplace {marketplace_id:?}"),
    })?;
    let region = account
        .region
        .as_deref()
        .and_then(|region| region.parse::<Region>().ok())
        .ok_or_else(|| MarketplaceError::Rejected {
            detail: "no API region: NA, EU, FE or SANDBOX".into(),
        })?;
    Ok((region, marketplace))
}

/// A successful answer's body. It may hold tokens: a parse error never quotes it.
fn parse<T: serde::de::DeserializeOwned>(url: &str, body: &str) -> Result<T, MarketplaceError> {
    serde_json::from_str(body).map_err(|err| malformed(url, format!("an unexpected format ({err})")))
}

#[async_trait::async_trait]
impl Connector for Amazon {
    /// getMarketplaceParticipations allows about one call a minute after a burst of 15.
    fn check_reuse_window(&self) -> Duration {
        Duration::from_secs(60)
    }

    /// Lists the seller's marketplace participations, with the stored access token or, when
    /// there is none or Amazon refuses it, a new one from the refresh token.
    async fn check(&self, account: &Account) -> Result<AccountCheck, MarketplaceError> {
        let (region, marketplace) = region_and_marketplace(account)?;
        let (token, mut issued) = self.stored_or_new_token(account).await?;
        let participations = match self.marketplace_participations(region, marketplace, &token).await {
            Err(MarketplaceError::Unauthorized {
                credential: Credential::Permission,
                ..
            }) if issued.is_none() => {
                // The stored token was revoked or expired early: one new token, one retry.
                let new = self.new_access_token(account).await?;
                let participations = self.marketplace_participations(region, marketplace, &new.value).await?;
                issued = Some(new);
                participations
            }
            other => other?,
        };
        let store = participations
            .iter()
            .find(|p| p.marketplace.id == marketplace.marketplace_id)
            .or_else(|| participations.first())
            .map(|p| p.store_name.clone());
        let listed: Vec<String> = participations
            .iter()
            .filter(|p| p.participation.is_participating)
            .map(|p| format!("{} ({})", p.marketplace.name, p.marketplace.country_code))
            .collect();
        let message = match &store {
            Some(store) if !listed.is_empty() => {
                format!("Connected to Amazon store “{store}”: selling on {}.", listed.join(", "))
            }
            Some(store) => format!("Connected to Amazon store “{store}”, which takes part in no marketplace yet."),
            None => "Connected to Amazon, but the account takes part in no marketplace.".to_owned(),
        };
        // What this connection can sync: the marketplaces of its region the seller sells in.
        let marketplaces = participations
            .iter()
            .filter(|p| p.participation.is_participating)
            .filter(|p| {
                marketplaces::find(&p.marketplace.id)
                    .is_some_and(|m| region.serves(m) && m.region == marketplace.region)
            })
            .map(|p| {
                (
                    p.marketplace.id.clone(),
                    format!("{} ({})", p.marketplace.name, p.marketplace.country_code),
                )
            })
            .collect();
        Ok(AccountCheck {
            label: store,
            message,
            access_token: issued,
            marketplaces,
        })
    }

    async fn access_token(&self, account: &Account) -> Result<IssuedToken, MarketplaceError> {
        self.new_access_token(account).await
    }

    /// One stream: searchOrders covers every marketplace of the account in each call.
    fn order_streams(&self) -> Vec<String> {
        vec![String::new()]
    }

    async fn orders_page(
        &self,
        session: &Session<'_>,
        _stream: &str,
        since: OffsetDateTime,
        cursor: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        self.search_orders(session, since, cursor).await
    }

    /// Per marketplace: FBA, and FBM when the seller's id is known (the Listings API needs it).
    fn stock_streams(&self, account: &Account) -> Vec<(String, StockScope)> {
        let Ok((_, ids)) = self.account_base(account) else {
            return Vec::new();
        };
        let mut places = vec![inventory::FBA];
        if account.selling_partner_id.is_some() {
            places.push(inventory::FBM);
        }
        ids.iter()
            .flat_map(|id| {
                places.iter().map(move |place| {
                    let scope = StockScope {
                        marketplace_id: Some(id.clone()),
                        location: Some((*place).to_owned()),
                    };
                    (format!("{place}:{id}"), scope)
                })
            })
            .collect()
    }

    async fn stock_page(
        &self,
        session: &Session<'_>,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<StockPage, MarketplaceError> {
        match stream.split_once(':') {
            Some((inventory::FBA, marketplace_id)) => self.inventory_summaries(session, marketplace_id, cursor).await,
            Some((inventory::FBM, marketplace_id)) => self.listings(session, marketplace_id, cursor).await,
            _ => Err(MarketplaceError::Rejected {
                detail: format!("no Amazon stock stream {stream:?}"),
            }),
        }
    }
}
