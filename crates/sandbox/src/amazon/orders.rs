//! Orders API v2026-01-01: `searchOrders` and `getOrder` over the sandbox seller's orders,
//! generated from the seed across its marketplaces, whose status moves on as time passes.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use javelin_marketplaces::amazon::{GET_ORDER, Marketplace, SEARCH_ORDERS, marketplaces};
use javelin_model::Money;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{gate, sp_api_error, sp_api_response};
use crate::Sandbox;
use crate::data::{Product, rng};

/// Amazon keeps `...Before` at least this far in the past.
const SETTLING: Duration = Duration::minutes(2);
const TOKEN_LIFETIME: Duration = Duration::hours(24);

#[derive(Clone, Debug)]
pub(crate) struct SimItem {
    pub(crate) id: String,
    pub(crate) sku: String,
    pub(crate) asin: String,
    pub(crate) title: String,
    pub(crate) quantity: u32,
    pub(crate) unit_minor: i64,
}

/// An order of the sandbox seller.
#[derive(Clone, Debug)]
pub(crate) struct SimOrder {
    pub(crate) id: String,
    pub(crate) marketplace_id: String,
    pub(crate) currency: String,
    pub(crate) created: OffsetDateTime,
    pub(crate) amazon_fulfils: bool,
    pub(crate) items: Vec<SimItem>,
    /// When its status changed, to what, and how many units were shipped by then.
    timeline: Vec<(OffsetDateTime, &'static str, u32)>,
    ship_by: OffsetDateTime,
    /// City, state or region, postal code, country.
    pub(crate) address: (&'static str, &'static str, &'static str, &'static str),
    /// Rendered with a broken field, to test that one bad order does not stop a sync.
    pub(crate) corrupt: bool,
}

/// How an order stands at a moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderState {
    pub id: String,
    pub marketplace_id: String,
    pub status: &'static str,
    /// When it was placed (`createdTime`, the reports' `purchase-date`).
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    /// Item ids with their quantities.
    pub items: Vec<(String, u32)>,
}

fn address(marketplace: &Marketplace) -> (&'static str, &'static str, &'static str, &'static str) {
    match marketplace.country_code.as_str() {
        "US" => ("Seattle", "WA", "98101", "US"),
        "CA" => ("Toronto", "ON", "M5H 2N2", "CA"),
        "UK" => ("London", "England", "EC1A 1BB", "GB"),
        "DE" => ("Berlin", "Berlin", "10115", "DE"),
        "IN" => ("Bengaluru", "Karnataka", "560001", "IN"),
        "JP" => ("Tokyo", "Tokyo", "150-0002", "JP"),
        _ => ("Springfield", "", "00000", "US"),
    }
}

/// Hundredths of a main unit in the marketplace's minor unit (yen are taken as they are).
fn minor_units(cents: i64, currency: &str) -> i64 {
    if matches!(currency, "KWD" | "BHD" | "OMR" | "JOD") {
        cents * 10
    } else {
        cents
    }
}

impl SimOrder {
    fn generate(
        n: u64,
        created: OffsetDateTime,
        marketplace: &Marketplace,
        catalogue: &[Product],
        rng: &mut impl Rng,
    ) -> Self {
        let id = format!(
            "{:03}-{:07}-{:07}",
            rng.random_range(111..999),
            n % 10_000_000,
            rng.random_range(0..10_000_000)
        );
        let count = if rng.random_bool(0.3) {
            rng.random_range(2..=4)
        } else {
            1
        };
        let items: Vec<SimItem> = (0..count)
            .map(|i| {
                let product = &catalogue[rng.random_range(0..catalogue.len())];
                SimItem {
                    id: format!("{}{:02}", id.replace('-', ""), i),
                    sku: product.sku.clone(),
                    asin: product.asin.clone(),
                    title: product.title.clone(),
                    quantity: if rng.random_bool(0.8) {
                        1
                    } else {
                        rng.random_range(2..=3)
                    },
                    unit_minor: minor_units(product.price_cents, &marketplace.default_currency),
                }
            })
            .collect();
        let units: u32 = items.iter().map(|i| i.quantity).sum();
        let amazon_fulfils = rng.random_bool(0.4);
        let minutes = |low: i64, high: i64, rng: &mut dyn rand::RngCore| {
            Duration::minutes(rand::Rng::random_range(rng, low..=high))
        };
        let mut timeline = Vec::new();
        if rng.random_bool(0.1) {
            timeline.push((created, "PENDING", 0));
            timeline.push((created + minutes(60, 24 * 60, rng), "CANCELLED", 0));
        } else {
            let confirmed = created + minutes(5, 30, rng);
            timeline.push((created, "PENDING", 0));
            timeline.push((confirmed, "UNSHIPPED", 0));
            let ship_after = if amazon_fulfils { (120, 24 * 60) } else { (240, 72 * 60) };
            let shipped = confirmed + minutes(ship_after.0, ship_after.1, rng);
            if units > 1 && rng.random_bool(0.3) {
                let partly = confirmed + (shipped - confirmed) / 2;
                timeline.push((partly, "PARTIALLY_SHIPPED", 1));
            }
            timeline.push((shipped, "SHIPPED", units));
        }
        Self {
            id,
            marketplace_id: marketplace.marketplace_id.clone(),
            currency: marketplace.default_currency.clone(),
            created,
            amazon_fulfils,
            items,
            timeline,
            ship_by: created + Duration::days(2),
            address: address(marketplace),
            corrupt: false,
        }
    }

    /// Its status, last change and units shipped at `now`; `None` before it was placed.
    pub(crate) fn at(&self, now: OffsetDateTime) -> Option<(&'static str, OffsetDateTime, u32)> {
        self.timeline
            .iter()
            .rev()
            .find(|(when, _, _)| *when <= now)
            .map(|(when, status, shipped)| (*status, *when, *shipped))
    }

    pub(crate) fn state(&self, now: OffsetDateTime) -> Option<OrderState> {
        let (status, updated, _) = self.at(now)?;
        Some(OrderState {
            id: self.id.clone(),
            marketplace_id: self.marketplace_id.clone(),
            status,
            created: self.created,
            updated,
            items: self.items.iter().map(|i| (i.id.clone(), i.quantity)).collect(),
        })
    }

    /// Gives every item of `sku` this title from now on; how many items it renamed.
    pub(crate) fn rename(&mut self, sku: &str, title: &str) -> usize {
        let mut renamed = 0;
        for item in self.items.iter_mut().filter(|item| item.sku == sku) {
            title.clone_into(&mut item.title);
            renamed += 1;
        }
        renamed
    }

    fn money(&self, minor: i64) -> Value {
        let amount =
            Money::from_minor(minor, &self.currency).map_or_else(|_| minor.to_string(), |m| m.amount().to_string());
        json!({"amount": amount, "currencyCode": self.currency})
    }

    /// The order as Amazon sends it at `now`.
    fn json(&self, now: OffsetDateTime) -> Option<Value> {
        let (status, updated, mut shipped) = self.at(now)?;
        let marketplace = marketplaces::find(&self.marketplace_id);
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                let fulfilled = shipped.min(item.quantity);
                shipped -= fulfilled;
                json!({
                    "orderItemId": item.id,
                    "quantityOrdered": item.quantity,
                    "product": {"asin": item.asin, "title": item.title, "sellerSku": item.sku,
                        "condition": {"conditionType": "NEW"},
                        "price": {"unitPrice": self.money(item.unit_minor)}},
                    "proceeds": {"proceedsTotal": self.money(item.unit_minor * i64::from(item.quantity))},
                    "fulfillment": {"quantityFulfilled": fulfilled, "quantityUnfulfilled": item.quantity - fulfilled}
                })
            })
            .collect();
        let total: i64 = self.items.iter().map(|i| i.unit_minor * i64::from(i.quantity)).sum();
        let (city, state, postal, country) = self.address;
        let mut order = json!({
            "orderId": self.id,
            "createdTime": format_time(self.created),
            "lastUpdatedTime": format_time(updated),
            "programs": [],
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": self.marketplace_id,
                "marketplaceName": marketplace.map(|m| m.domain.trim_start_matches("www.").to_owned())},
            "recipient": {"deliveryAddress": {"city": city, "stateOrRegion": state, "postalCode": postal,
                "countryCode": country}},
            "proceeds": {"grandTotal": self.money(total)},
            "fulfillment": {"fulfillmentStatus": status,
                "fulfilledBy": if self.amazon_fulfils { "AMAZON" } else { "MERCHANT" },
                "fulfillmentServiceLevel": "STANDARD",
                "shipByWindow": {"earliestDateTime": format_time(self.created), "latestDateTime": format_time(self.ship_by)}},
            "orderItems": items,
        });
        if self.corrupt {
            order["createdTime"] = json!("the day before yesterday");
        }
        Some(order)
    }
}

pub(crate) fn format_time(at: OffsetDateTime) -> String {
    // A UTC time within years 0..=9999 always formats.
    at.format(&Rfc3339).unwrap_or_default()
}

fn parse_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The seller's orders: `count` spread over the `days` days before `start`, and, when `live`,
/// one every two minutes over the three days after it (the demo's stream of new orders).
pub(crate) fn generate(
    seed: u64,
    count: usize,
    days: u32,
    live: bool,
    start: OffsetDateTime,
    marketplace_ids: &[&str],
    catalogue: &[Product],
) -> Vec<SimOrder> {
    let mut rng = rng(seed, "amazon orders");
    let markets: Vec<&Marketplace> = marketplace_ids.iter().filter_map(|id| marketplaces::find(id)).collect();
    // At least one second past the ten settling minutes below, so that the range is never empty.
    let window = Duration::days(i64::from(days)).whole_seconds().max(601);
    let mut orders: Vec<SimOrder> = (0..count as u64)
        .map(|n| {
            // Placed at least ten minutes before the start, so that all are settled.
            let created = start - Duration::seconds(rng.random_range(600..window));
            let market = markets[rng.random_range(0..markets.len())];
            SimOrder::generate(n, created, market, catalogue, &mut rng)
        })
        .collect();
    if live {
        for k in 1..=(3 * 24 * 30) {
            let created = start + Duration::minutes(2 * k);
            let market = markets[rng.random_range(0..markets.len())];
            orders.push(SimOrder::generate(
                count as u64 + k as u64,
                created,
                market,
                catalogue,
                &mut rng,
            ));
        }
    }
    orders
}

/// What a page token carries: the query it continues, and the last order it listed (so that
/// an order changing in the meantime moves out of the window without pushing another past
/// the reader).
#[derive(Serialize, Deserialize, PartialEq)]
struct PageToken {
    after: String,
    before: String,
    created: bool,
    marketplaces: String,
    /// `fulfillmentStatuses`, as given (empty: every status).
    #[serde(default)]
    statuses: String,
    last: Option<(i64, String)>,
    issued: i64,
}

fn invalid(message: &str) -> Response {
    sp_api_error(StatusCode::BAD_REQUEST, "InvalidInput", message, "")
}

/// `GET /orders/2026-01-01/orders`.
pub(crate) async fn search_orders(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let rate = match gate(&sandbox, &headers, &SEARCH_ORDERS, crate::operation::SEARCH_ORDERS).await {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let now = sandbox.clock.now();
    let param = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let (created, after) = match (param("createdAfter"), param("lastUpdatedAfter")) {
        (Some(after), None) => (true, after),
        (None, Some(after)) => (false, after),
        _ => return invalid("Exactly one of createdAfter and lastUpdatedAfter is required."),
    };
    let Some(after_at) = parse_time(after) else {
        return invalid("createdAfter / lastUpdatedAfter must be an ISO 8601 date-time.");
    };
    let before_name = if created { "createdBefore" } else { "lastUpdatedBefore" };
    let before_at = match param(before_name) {
        Some(text) => match parse_time(text) {
            Some(at) if at > now - SETTLING => {
                return invalid(&format!(
                    "{before_name} must be at least 2 minutes before the request time."
                ));
            }
            Some(at) if at < after_at => return invalid(&format!("{before_name} must be after the After date.")),
            Some(at) => at,
            None => return invalid(&format!("{before_name} must be an ISO 8601 date-time.")),
        },
        None => now - SETTLING,
    };
    let wanted = param("marketplaceIds").unwrap_or_default();
    let ids: Vec<&str> = wanted.split(',').filter(|id| !id.is_empty()).collect();
    if ids.is_empty() || ids.len() > 50 {
        return invalid("marketplaceIds must name between 1 and 50 marketplaces.");
    }
    let size = match param("maxResultsPerPage").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(size)) if (1..=100).contains(&size) => size,
        _ => return invalid("maxResultsPerPage must be between 1 and 100."),
    };
    let mut token = PageToken {
        after: format_time(after_at),
        before: format_time(before_at),
        created,
        marketplaces: wanted.to_owned(),
        statuses: param("fulfillmentStatuses").unwrap_or_default().to_owned(),
        last: None,
        issued: now.unix_timestamp(),
    };
    if let Some(text) = param("paginationToken") {
        let Some(given) = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<PageToken>(&bytes).ok())
        else {
            return invalid("We could not decode your paginationToken.");
        };
        if now.unix_timestamp() - given.issued > TOKEN_LIFETIME.whole_seconds() {
            return invalid("The paginationToken has expired.");
        }
        // Only the page size and included data may change between pages.
        let same = |token: &PageToken| {
            (
                token.after.clone(),
                token.created,
                token.marketplaces.clone(),
                token.statuses.clone(),
            )
        };
        if same(&given) != same(&token) {
            return invalid("The parameters of a paginationToken request must match the first request.");
        }
        token = given;
    }
    let before_at = parse_time(&token.before).unwrap_or(before_at);
    let state = sandbox.amazon();
    let mut found: Vec<(OffsetDateTime, &SimOrder)> = state
        .orders
        .iter()
        .filter(|order| ids.contains(&order.marketplace_id.as_str()))
        .filter_map(|order| {
            let (status, updated, _) = order.at(now)?;
            let key = if created { order.created } else { updated };
            let wanted_status = token.statuses.is_empty() || token.statuses.split(',').any(|s| s == status);
            (key >= after_at && key < before_at && wanted_status).then_some((key, order))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let rest: Vec<&(OffsetDateTime, &SimOrder)> = found
        .iter()
        .filter(|(key, order)| {
            token
                .last
                .as_ref()
                .is_none_or(|(micros, id)| (key.unix_timestamp_nanos() / 1000, &order.id) > (i128::from(*micros), id))
        })
        .collect();
    let listed: Vec<&(OffsetDateTime, &SimOrder)> = rest.iter().take(size).copied().collect();
    let page: Vec<Value> = listed.iter().filter_map(|(_, order)| order.json(now)).collect();
    let mut body = json!({"orders": page});
    if rest.len() > size
        && let Some((key, order)) = listed.last()
    {
        token.last = Some(((key.unix_timestamp_nanos() / 1000) as i64, order.id.clone()));
        let next = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default());
        body["pagination"] = json!({"nextToken": next});
    }
    body[if created { "createdBefore" } else { "lastUpdatedBefore" }] = json!(format_time(before_at));
    sp_api_response(StatusCode::OK, body, Some(rate))
}

/// `GET /orders/2026-01-01/orders/{orderId}`.
pub(crate) async fn get_order(State(sandbox): State<Sandbox>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let rate = match gate(&sandbox, &headers, &GET_ORDER, crate::operation::GET_ORDER).await {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let now = sandbox.clock.now();
    let state = sandbox.amazon();
    match state
        .orders
        .iter()
        .find(|order| order.id == id)
        .and_then(|order| order.json(now))
    {
        Some(order) => sp_api_response(StatusCode::OK, json!({"order": order}), Some(rate)),
        None => sp_api_response(
            StatusCode::NOT_FOUND,
            json!({"errors": [{"code": "NotFound", "message": "The order was not found.", "details": ""}]}),
            Some(rate),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn orders_spread_over_the_days_asked_for() {
        let start = datetime!(2026-05-20 12:00 UTC);
        let catalogue = crate::data::catalogue(0, 40);
        let orders = generate(
            0,
            50_000,
            90,
            false,
            start,
            &super::super::SELLER_MARKETPLACES,
            &catalogue,
        );
        assert_eq!(orders.len(), 50_000);
        let oldest = orders.iter().map(|order| order.created).min().expect("orders");
        let newest = orders.iter().map(|order| order.created).max().expect("orders");
        assert!(
            oldest >= start - Duration::days(90) && oldest < start - Duration::days(89),
            "{oldest}"
        );
        assert!(newest <= start - Duration::minutes(10), "{newest}");
        // Thirty days (the default) draws the same orders as before `days` existed.
        let thirty = generate(0, 3, 30, false, start, &super::super::SELLER_MARKETPLACES, &catalogue);
        let drawn: Vec<(&str, i64)> = thirty
            .iter()
            .map(|order| (order.id.as_str(), (start - order.created).whole_seconds()))
            .collect();
        // Taken from the generator as it was with its fixed 30 days.
        assert_eq!(
            drawn,
            [
                ("979-0000000-1758135", 404_739),
                ("311-0000001-8902709", 1_368_358),
                ("941-0000002-4439893", 170_362)
            ]
        );
    }
}
