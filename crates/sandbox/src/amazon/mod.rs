//! Amazon: Login with Amazon's token endpoint, the Seller Central consent page, and SP-API
//! (`getMarketplaceParticipations`; orders, stock and reports in their own modules), with
//! Amazon's token lifetimes, error shapes and rate limits.

mod client_secret;
mod orders;
mod report_document;
mod reports;
mod stock;

pub(crate) use client_secret::rotate_json as rotate_client_secret;
pub use client_secret::{CLIENT_SECRET_LIFETIME, Rotation};
pub use orders::OrderState;
pub use reports::AmazonReport;
pub(crate) use reports::fail_next as reports_fail_next;
pub use stock::SimStock;

use std::collections::{HashMap, HashSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use javelin_marketplaces::Operation;
use javelin_marketplaces::amazon::{GET_MARKETPLACE_PARTICIPATIONS, marketplaces};
use serde::Deserialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::limits::{Faults, Limits, SLOW, fault_response};
use crate::{Credentials, Sandbox, SandboxOptions, basic_credentials, random_hex};

const CODE_LIFETIME: Duration = Duration::minutes(5);
const ACCESS_TOKEN_SECONDS: i64 = 3600;
const STORE_NAME: &str = "Javelin Sandbox Store";
const APP_NAME: &str = "Javelin OMS (sandbox app)";
/// The marketplaces the sandbox seller sells in.
pub(crate) const SELLER_MARKETPLACES: [&str; 6] = [
    "ATVPDKIKX0DER",
    "A2EUQ1WTGCTBG2",
    "A1F83G8C2ARO7P",
    "A1PA6795UKMFR9",
    "A21TJRUUN4KGV",
    "A1VC38T7YXB528",
];

struct CodeGrant {
    redirect_uri: String,
    expires_at: OffsetDateTime,
    used: bool,
}

pub(crate) struct AmazonState {
    codes: HashMap<String, CodeGrant>,
    refresh_tokens: HashSet<String>,
    access_tokens: HashMap<String, OffsetDateTime>,
    pub(crate) client_secrets: client_secret::ClientSecrets,
    pub(crate) limits: Limits,
    pub(crate) faults: Faults,
    pub(crate) orders: Vec<orders::SimOrder>,
    pub(crate) stock: Vec<SimStock>,
    pub(crate) reports: reports::Reports,
}

impl AmazonState {
    pub(crate) fn new(credentials: &Credentials, options: &SandboxOptions, start: OffsetDateTime) -> Self {
        let catalogue = crate::data::catalogue(options.seed, options.products);
        Self {
            codes: HashMap::new(),
            refresh_tokens: HashSet::from([credentials.amazon.refresh_token.clone()]),
            access_tokens: HashMap::new(),
            client_secrets: client_secret::ClientSecrets::new(
                credentials.amazon.client_secret.clone(),
                start,
                options.client_secret_overlap,
            ),
            limits: Limits::new(options.time_scale),
            faults: Faults::new(options.fault_rate, crate::data::rng(options.seed, "amazon faults")),
            orders: orders::generate(
                options.seed,
                options.orders,
                options.days,
                options.live,
                start,
                &SELLER_MARKETPLACES,
                &catalogue,
            ),
            stock: stock::generate(options.seed, &SELLER_MARKETPLACES, &catalogue),
            reports: reports::Reports::new(options),
        }
    }

    /// Makes every refresh token the sandbox issued unusable, as a seller revoking the app does.
    pub(crate) fn revoke_grants(&mut self) {
        self.refresh_tokens.clear();
        self.access_tokens.clear();
    }

    /// The state of every order of the given marketplaces placed by `now`.
    pub(crate) fn order_states(&self, marketplace_ids: &[&str], now: OffsetDateTime) -> Vec<OrderState> {
        self.orders
            .iter()
            .filter(|order| marketplace_ids.contains(&order.marketplace_id.as_str()))
            .filter_map(|order| order.state(now))
            .collect()
    }
}

/// Lets an SP-API call through, or answers it: no or a bad access token (403), a fault drawn
/// (and a second's wait for a slow one), an empty bucket for the operation (429). On the way
/// through, the rate to state in `x-amzn-RateLimit-Limit`.
pub(crate) async fn gate(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    operation: &Operation,
    counted_as: &'static str,
) -> Result<f64, Response> {
    sandbox.count(counted_as);
    let now = sandbox.clock.now();
    let (fault, rate) = {
        let mut state = sandbox.amazon();
        let denied = |details: &str| {
            sp_api_error(
                StatusCode::FORBIDDEN,
                "Unauthorized",
                "Access to requested resource is denied.",
                details,
            )
        };
        let Some(token) = headers.get("x-amz-access-token").and_then(|value| value.to_str().ok()) else {
            return Err(sp_api_error(
                StatusCode::BAD_REQUEST,
                "Unauthorized",
                "Access to requested resource is denied.",
                "Access token is missing in the request header.",
            ));
        };
        match state.access_tokens.get(token) {
            None => {
                return Err(denied(
                    "The access token you provided is revoked, malformed or invalid.",
                ));
            }
            Some(expires_at) if *expires_at <= now => {
                return Err(denied("The access token you provided has expired."));
            }
            Some(_) => {}
        }
        let fault = state.faults.draw();
        if let Some(response) = fault.and_then(|fault| fault_response(fault, true)) {
            return Err(with_request_id(response));
        }
        if !state.limits.take(operation, now) {
            let body = json!({"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]});
            return Err(sp_api_response(StatusCode::TOO_MANY_REQUESTS, body, None));
        }
        (fault, state.limits.rate(operation))
    };
    if fault.is_some() {
        tokio::time::sleep(SLOW).await;
    }
    Ok(rate)
}

pub(crate) fn router() -> Router<Sandbox> {
    Router::new()
        .route("/apps/authorize/consent", get(consent_page))
        .route("/apps/authorize/confirm", post(confirm))
        .route("/auth/o2/token", post(token))
        .route(
            "/sellingpartner/developerconsole",
            get(client_secret::developer_console),
        )
        .route("/sellingpartner/developerconsole/rotate", post(client_secret::rotate))
        .route("/sellers/v1/marketplaceParticipations", get(marketplace_participations))
        .route("/orders/2026-01-01/orders", get(orders::search_orders))
        .route("/orders/2026-01-01/orders/{order_id}", get(orders::get_order))
        .route("/fba/inventory/v1/summaries", get(stock::inventory_summaries))
        .route("/listings/2021-08-01/items/{seller_id}", get(stock::search_listings))
        .route("/reports/2021-06-30/reports", post(reports::create_report))
        .route("/reports/2021-06-30/reports/{report_id}", get(reports::get_report))
        .route(
            "/reports/2021-06-30/documents/{document_id}",
            get(reports::get_report_document),
        )
        // Where report documents download from, as S3 would serve them: no SP-API auth.
        .route("/_documents/{token}", get(reports::download))
}

struct ConsentError {
    code: &'static str,
    message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
struct ConsentPage {
    error: Option<ConsentError>,
    app_name: &'static str,
    store_name: &'static str,
    application_id: String,
    selling_partner_id: String,
    state: String,
    redirect_uri: String,
    confirm_action: &'static str,
}

#[derive(Deserialize)]
struct ConsentQuery {
    #[serde(default)]
    application_id: String,
    #[serde(default)]
    state: String,
    version: Option<String>,
    redirect_uri: Option<String>,
}

/// `GET /apps/authorize/consent`: checks the application and shows Authorize / Deny.
async fn consent_page(State(sandbox): State<Sandbox>, Query(query): Query<ConsentQuery>) -> Response {
    let app = &sandbox.credentials.amazon;
    let mut page = ConsentPage {
        error: None,
        app_name: APP_NAME,
        store_name: STORE_NAME,
        application_id: query.application_id.clone(),
        selling_partner_id: app.selling_partner_id.clone(),
        state: query.state.clone(),
        redirect_uri: String::new(),
        confirm_action: "confirm",
    };
    let error = if query.application_id != app.application_id {
        Some(ConsentError {
            code: "MD9100",
            message: format!(
                "The application ID {:?} does not belong to a registered application.",
                query.application_id
            ),
        })
    } else if sandbox.options.draft_app && query.version.as_deref() != Some("beta") {
        Some(ConsentError {
            code: "MD1000",
            message: "This application is in Draft status: authorizing it needs the version=beta parameter.".into(),
        })
    } else {
        match registered_redirect(&sandbox, query.redirect_uri.as_deref()) {
            Ok(uri) => {
                page.redirect_uri = uri;
                None
            }
            Err(uri) => Some(ConsentError {
                code: "MD5101",
                message: format!(
                    "The redirect URI {uri:?} is not one of the application's registered OAuth redirect URIs."
                ),
            }),
        }
    };
    match error {
        Some(error) => (
            StatusCode::BAD_REQUEST,
            ConsentPage {
                error: Some(error),
                ..page
            },
        )
            .into_response(),
        None => page.into_response(),
    }
}

/// The given redirect URI if registered, or the first registered one when none is given.
fn registered_redirect(sandbox: &Sandbox, given: Option<&str>) -> Result<String, String> {
    let registered = &sandbox.options.redirect_uris;
    match given {
        None => registered.first().map(Url::to_string).ok_or_else(String::new),
        Some(uri) if registered.iter().any(|r| r.as_str() == uri) => Ok(uri.to_owned()),
        Some(uri) => Err(uri.to_owned()),
    }
}

#[derive(Deserialize)]
struct Decision {
    application_id: String,
    state: String,
    redirect_uri: String,
    decision: String,
}

/// `POST /apps/authorize/confirm`: back to the application, with a code or without one.
async fn confirm(State(sandbox): State<Sandbox>, Form(form): Form<Decision>) -> Response {
    let app = &sandbox.credentials.amazon;
    if form.application_id != app.application_id || registered_redirect(&sandbox, Some(&form.redirect_uri)).is_err() {
        return (StatusCode::BAD_REQUEST, "The authorization request is not valid.").into_response();
    }
    let Ok(mut target) = Url::parse(&form.redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "The redirect URI is not a URL.").into_response();
    };
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("state", &form.state);
        if form.decision == "authorize" {
            let code = format!("ANsandbox{}", random_hex(10));
            let grant = CodeGrant {
                redirect_uri: form.redirect_uri.clone(),
                expires_at: sandbox.clock.now() + CODE_LIFETIME,
                used: false,
            };
            sandbox.amazon().codes.insert(code.clone(), grant);
            query
                .append_pair("selling_partner_id", &app.selling_partner_id)
                .append_pair("spapi_oauth_code", &code);
        } else {
            // Amazon documents no error redirect for a cancelled consent; the sandbox adds the
            // standard OAuth parameters, and Javelin treats a missing code as a refusal either way.
            query
                .append_pair("error", "access_denied")
                .append_pair("error_description", "The seller denied the authorization request.");
        }
    }
    Redirect::to(target.as_str()).into_response()
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = (
        status,
        axum::Json(json!({"error_description": description, "error": error})),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The token request's parameters: a form (documented), JSON (Amazon's Java SDK), and client
/// credentials in an HTTP Basic header, as LWA accepts all three.
fn token_params(headers: &HeaderMap, body: &Bytes) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    let mut params: HashMap<String, String> = if is_json {
        serde_json::from_slice::<HashMap<String, Value>>(body)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(key, value)| value.as_str().map(|text| (key, text.to_owned())))
            .collect()
    } else {
        url::form_urlencoded::parse(body).into_owned().collect()
    };
    if let Some((id, secret)) = basic_credentials(headers) {
        params.entry("client_id".into()).or_insert(id);
        params.entry("client_secret".into()).or_insert(secret);
    }
    params
}

/// `POST /auth/o2/token`: the `authorization_code` and `refresh_token` grants.
async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, body: Bytes) -> Response {
    sandbox.count(crate::operation::LWA_TOKEN);
    let params = token_params(&headers, &body);
    let param = |name: &str| params.get(name).map(String::as_str).filter(|value| !value.is_empty());
    let Some(grant_type) = param("grant_type") else {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter : grant_type",
        );
    };
    if !matches!(grant_type, "authorization_code" | "refresh_token") {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    for required in ["client_id", "client_secret"] {
        if param(required).is_none() {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The request is missing a required parameter : {required}"),
            );
        }
    }
    let now = sandbox.clock.now();
    let mut state = sandbox.amazon();
    let secret_accepted = param("client_secret").is_some_and(|secret| state.client_secrets.accepts(secret, now));
    if param("client_id") != Some(sandbox.credentials.amazon.client_id.as_str()) || !secret_accepted {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    let refresh_token = if grant_type == "authorization_code" {
        let (Some(code), Some(redirect_uri)) = (param("code"), param("redirect_uri")) else {
            let missing = if param("code").is_none() {
                "code"
            } else {
                "redirect_uri"
            };
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &format!("The request is missing a required parameter : {missing}"),
            );
        };
        // Expired, reused, unknown, or exchanged with another redirect URI: all invalid_grant.
        let valid = match state.codes.get_mut(code) {
            Some(grant) if !grant.used && grant.expires_at > now && grant.redirect_uri == redirect_uri => {
                grant.used = true;
                true
            }
            Some(grant) => {
                grant.used = true;
                false
            }
            None => false,
        };
        if !valid {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : code",
            );
        }
        let refresh_token = format!("Atzr|{}", random_hex(48));
        state.refresh_tokens.insert(refresh_token.clone());
        refresh_token
    } else {
        let Some(refresh_token) = param("refresh_token") else {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The request is missing a required parameter : refresh_token",
            );
        };
        if !state.refresh_tokens.contains(refresh_token) {
            return lwa_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The request has an invalid grant parameter : refresh_token. User may have revoked or didn't grant the permission.",
            );
        }
        refresh_token.to_owned()
    };
    let access_token = format!("Atza|{}", random_hex(48));
    state
        .access_tokens
        .insert(access_token.clone(), now + Duration::seconds(ACCESS_TOKEN_SECONDS));
    let body = json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
        "refresh_token": refresh_token,
    });
    let mut response = axum::Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn with_request_id(mut response: Response) -> Response {
    if let Ok(id) = HeaderValue::from_str(&random_hex(16)) {
        response.headers_mut().insert("x-amzn-requestid", id);
    }
    response
}

/// An SP-API answer, with the operation's current rate when there is one to state.
pub(crate) fn sp_api_response(status: StatusCode, body: Value, rate: Option<f64>) -> Response {
    let mut response = with_request_id((status, axum::Json(body)).into_response());
    // Amazon sends the current rate on 2xx, 400 and 404 only.
    if let Some(rate) = rate.filter(|_| matches!(status.as_u16(), 200..=299 | 400 | 404))
        && let Ok(value) = HeaderValue::from_str(&format!("{rate}"))
    {
        response.headers_mut().insert("x-amzn-ratelimit-limit", value);
    }
    response
}

pub(crate) fn sp_api_error(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    sp_api_response(
        status,
        json!({"errors": [{"code": code, "message": message, "details": details}]}),
        None,
    )
}

/// `GET /sellers/v1/marketplaceParticipations`.
async fn marketplace_participations(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let rate = match gate(
        &sandbox,
        &headers,
        &GET_MARKETPLACE_PARTICIPATIONS,
        crate::operation::GET_MARKETPLACE_PARTICIPATIONS,
    )
    .await
    {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let payload: Vec<Value> = SELLER_MARKETPLACES
        .iter()
        .filter_map(|id| marketplaces::find(id))
        .map(|m| {
            let name = channel_name(m);
            json!({
                "marketplace": {
                    "id": m.marketplace_id,
                    "countryCode": if m.country_code == "UK" { "GB" } else { m.country_code.as_str() },
                    "name": name,
                    "defaultCurrencyCode": m.default_currency,
                    "defaultLanguageCode": "en_US",
                    "domainName": m.domain,
                },
                "storeName": STORE_NAME,
                "participation": {"isParticipating": true, "hasSuspendedListings": false},
            })
        })
        .collect();
    sp_api_response(StatusCode::OK, json!({"payload": payload}), Some(rate))
}

/// A marketplace's name as Amazon shows it: its domain with a capital first letter
/// (`Amazon.co.uk`), also the reports' `sales-channel`.
pub(crate) fn channel_name(marketplace: &marketplaces::Marketplace) -> String {
    let domain = marketplace.domain.trim_start_matches("www.");
    let mut chars = domain.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
