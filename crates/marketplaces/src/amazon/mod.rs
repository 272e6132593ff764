//! Amazon: the Seller Central consent page, Login with Amazon (LWA) tokens, and SP-API.

mod errors;
pub mod marketplaces;

use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use url::Url;

pub use errors::AmazonError;
pub use marketplaces::{Marketplace, Region};

use crate::http::{join, unreachable};
use crate::{Account, AccountCheck, CheckError, Connector, IssuedToken};

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
        let base = match &self.endpoints.consent_base {
            Some(base) => base.as_str().to_owned(),
            None => marketplace.seller_central_url.clone(),
        };
        let mut url = Url::parse(&join(&Url::parse(&base)?, "/apps/authorize/consent"))?;
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

    /// Exchanges an authorisation code from the consent redirect for tokens.
    pub async fn exchange_code(
        &self,
        client: &LwaClient<'_>,
        code: &str,
        redirect_uri: &Url,
    ) -> Result<LwaTokens, AmazonError> {
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
    pub async fn refresh(&self, client: &LwaClient<'_>, refresh_token: &str) -> Result<LwaTokens, AmazonError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client.client_id),
            ("client_secret", client.client_secret),
        ])
        .await
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<LwaTokens, AmazonError> {
        let url = self.endpoints.lwa_token_url.as_str();
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(|err| AmazonError::Unavailable(unreachable(url, &err)))?;
        read_json(response, true).await
    }

    /// `GET /sellers/v1/marketplaceParticipations`: the seller's stores and marketplaces.
    pub async fn marketplace_participations(
        &self,
        region: Region,
        marketplace: &Marketplace,
        access_token: &str,
    ) -> Result<Vec<Participation>, AmazonError> {
        let base = match (&self.endpoints.spapi_base, region.api_host(marketplace)) {
            (Some(base), _) => base.clone(),
            (None, Some(host)) => Url::parse(host).map_err(|err| AmazonError::Unavailable(err.to_string()))?,
            (None, None) => {
                return Err(AmazonError::Unavailable(format!("no SP-API host for region {region}")));
            }
        };
        let url = join(&base, "/sellers/v1/marketplaceParticipations");
        let response = self
            .http
            .get(&url)
            .header("x-amz-access-token", access_token)
            .send()
            .await
            .map_err(|err| AmazonError::Unavailable(unreachable(&url, &err)))?;
        let body: Payload<Vec<Participation>> = read_json(response, false).await?;
        Ok(body.payload)
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(response: reqwest::Response, lwa: bool) -> Result<T, AmazonError> {
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|err| AmazonError::Unavailable(err.to_string()))?;
    if !status.is_success() {
        return Err(errors::from_response_body(status.as_u16(), &body, lwa));
    }
    // The body may hold tokens: never quote it.
    serde_json::from_str(&body)
        .map_err(|err| AmazonError::Unavailable(format!("Amazon answered in an unexpected format ({err})")))
}

/// Turns Amazon's refusal into a message that says what to do.
pub fn explain(err: &AmazonError) -> CheckError {
    match err {
        AmazonError::Lwa { error, .. } if error == "invalid_client" => CheckError::Rejected(format!(
            "Amazon rejected the Client ID or Client Secret ({err}). Check both in Developer Central; \
             LWA client secrets expire every 180 days."
        )),
        AmazonError::Lwa { error, .. } if error == "invalid_grant" => CheckError::Rejected(format!(
            "Amazon rejected the refresh token ({err}). The authorisation may have been revoked or may \
             belong to another application or region: connect the account again."
        )),
        AmazonError::Lwa { .. } => CheckError::Rejected(format!("Login with Amazon refused the request ({err}).")),
        AmazonError::SpApi { status: 429, .. } => CheckError::Rejected(format!(
            "Amazon's rate limit for this check was reached ({err}). It allows about one check a minute; try again shortly."
        )),
        AmazonError::SpApi { status: 403, .. } => CheckError::Rejected(format!(
            "Amazon SP-API refused access ({err}). Check that the Region matches the Seller Central \
             account that granted the refresh token, and that the app has the Selling Partner Insights role."
        )),
        AmazonError::SpApi { .. } => CheckError::Rejected(format!("Amazon SP-API answered with an error ({err}).")),
        AmazonError::Unavailable(reason) => CheckError::Unavailable(reason.clone()),
    }
}

#[async_trait::async_trait]
impl Connector for Amazon {
    fn platform(&self) -> &'static str {
        "amazon"
    }

    /// getMarketplaceParticipations allows about one call a minute after a burst of 15.
    fn check_reuse_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(60)
    }

    /// Refreshes the access token and lists the seller's marketplace participations.
    async fn check(&self, account: &Account) -> Result<AccountCheck, CheckError> {
        let client = LwaClient {
            client_id: account.secret("client_id")?,
            client_secret: account.secret("client_secret")?,
        };
        let refresh_token = account.secret("refresh_token")?;
        let marketplace_id = account.marketplace_id.as_deref().unwrap_or_default();
        let marketplace = marketplaces::find(marketplace_id)
            .ok_or_else(|| CheckError::Rejected(format!("Unknown Amazon marketplace {marketplace_id:?}.")))?;
        let region = account
            .region
            .as_deref()
            .and_then(|region| region.parse::<Region>().ok())
            .ok_or_else(|| CheckError::Rejected("Choose the API region: NA, EU, FE or SANDBOX.".into()))?;

        let issued_at = OffsetDateTime::now_utc();
        let tokens = self
            .refresh(&client, refresh_token)
            .await
            .map_err(|err| explain(&err))?;
        let participations = self
            .marketplace_participations(region, marketplace, &tokens.access_token)
            .await
            .map_err(|err| explain(&err))?;
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
        Ok(AccountCheck {
            label: store,
            message,
            tokens: vec![IssuedToken {
                field: "access_token",
                value: tokens.access_token,
                // Refreshed a minute early, so a token never expires mid-call.
                expires_at: issued_at + Duration::seconds(tokens.expires_in) - Duration::minutes(1),
            }],
        })
    }
}
