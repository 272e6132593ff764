//! Flipkart Seller API: the OAuth token endpoint (client credentials, HTTP Basic), shipments
//! and listings, with a seller's hourly call budget and injected faults.

mod listings;
mod shipments;

pub use listings::SimListing;
pub use shipments::ShipmentState;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;
use time::{Duration, OffsetDateTime};

use crate::limits::{Faults, Limits, SLOW, fault_response};
use crate::{Sandbox, SandboxOptions, basic_credentials, random_hex};

/// Flipkart's sample lifetime: about 60 days.
const TOKEN_SECONDS: i64 = 5_183_999;

pub(crate) struct FlipkartState {
    tokens: HashMap<String, OffsetDateTime>,
    pub(crate) limits: Limits,
    pub(crate) faults: Faults,
    pub(crate) shipments: Vec<shipments::SimShipment>,
    pub(crate) listings: Vec<SimListing>,
}

impl FlipkartState {
    pub(crate) fn new(options: &SandboxOptions, start: OffsetDateTime) -> Self {
        let catalogue = crate::data::catalogue(options.seed, options.products);
        let locations: Vec<String> = (0..2)
            .map(|n| {
                let digest = sha2::Sha256::digest(format!("javelin-sandbox:{}:location:{n}", options.seed));
                let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
                format!("LOC{hex}")
            })
            .collect();
        Self {
            tokens: HashMap::new(),
            limits: Limits::new(options.time_scale),
            faults: Faults::new(options.fault_rate, crate::data::rng(options.seed, "flipkart faults")),
            shipments: shipments::generate(
                options.seed,
                options.orders / 2,
                options.live,
                start,
                &catalogue,
                &locations,
            ),
            listings: listings::generate(options.seed, &catalogue, &locations),
        }
    }

    /// The items of every order placed by `now`, with their states.
    pub(crate) fn states(&self, now: OffsetDateTime) -> Vec<ShipmentState> {
        self.shipments
            .iter()
            .flat_map(|shipment| shipment.states(now))
            .collect()
    }
}

pub(crate) fn router() -> Router<Sandbox> {
    Router::new()
        .route("/oauth-service/oauth/token", get(token))
        .route(
            "/sellers/v3/shipments/filter",
            post(shipments::filter_shipments).get(shipments::next_page),
        )
        .route("/sellers/v3/shipments/filter/", post(shipments::filter_shipments))
        .route("/sellers/v3/shipments", get(shipments::by_ids))
        .route("/sellers/listings/v3/product/search", post(listings::search))
        .route("/sellers/listings/v3/{skus}", get(listings::details))
}

/// Lets a Seller API call through, or answers it: no or a bad token (401), a fault drawn (and
/// a second's wait for a slow one), the seller's call budget spent (429).
pub(crate) async fn gate(sandbox: &Sandbox, headers: &HeaderMap, counted_as: &'static str) -> Result<(), Response> {
    sandbox.count(counted_as);
    let now = sandbox.clock.now();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let slow = {
        let mut state = sandbox.flipkart();
        match token.and_then(|token| state.tokens.get(token).copied()) {
            None => {
                let shown = token.unwrap_or("");
                return Err(error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    &format!("Invalid access token: {shown}"),
                ));
            }
            Some(expires_at) if expires_at <= now => {
                return Err(error(StatusCode::UNAUTHORIZED, "invalid_token", "Access token expired"));
            }
            Some(_) => {}
        }
        let fault = state.faults.draw();
        if let Some(response) = fault.and_then(|fault| fault_response(fault, false)) {
            return Err(response);
        }
        if !state.limits.take(&javelin_marketplaces::flipkart::SELLER_API, now) {
            return Err(error(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many requests",
            ));
        }
        fault.is_some()
    };
    if slow {
        tokio::time::sleep(SLOW).await;
    }
    Ok(())
}

fn error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

#[derive(Deserialize)]
struct TokenQuery {
    grant_type: Option<String>,
}

/// `GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api`, Basic auth.
async fn token(State(sandbox): State<Sandbox>, headers: HeaderMap, Query(query): Query<TokenQuery>) -> Response {
    sandbox.count(crate::operation::FLIPKART_TOKEN);
    let Some((app_id, secret)) = basic_credentials(&headers) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Full authentication is required to access this resource",
        );
    };
    let app = &sandbox.credentials.flipkart;
    if app_id != app.api_key {
        return error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            &format!("No client with requested id: {app_id}"),
        );
    }
    if secret != app.api_secret {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "Bad credentials");
    }
    if query.grant_type.as_deref() != Some("client_credentials") {
        return error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        );
    }
    let access_token = random_hex(16);
    sandbox.flipkart().tokens.insert(
        access_token.clone(),
        sandbox.clock.now() + Duration::seconds(TOKEN_SECONDS),
    );
    axum::Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": "Seller_Api",
    }))
    .into_response()
}
