//! Flipkart shipments: the sandbox seller's orders (some in two shipments), whose items move
//! through Flipkart's states as time passes, searched by `POST /v3/shipments/filter` (pages
//! followed through `nextPageUrl`) and fetched whole by `GET /v3/shipments?orderIds=`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::{error, gate};
use crate::Sandbox;
use crate::data::{Product, rng};

pub(crate) const PRE_DISPATCH: [&str; 5] = [
    "APPROVED",
    "PACKING_IN_PROGRESS",
    "PACKED",
    "FORM_FAILED",
    "READY_TO_DISPATCH",
];
pub(crate) const POST_DISPATCH: [&str; 3] = ["SHIPPED", "DELIVERED", "PICKUP_COMPLETE"];
const DEFAULT_PAGE: usize = 20;
const CANCELLATION_TYPES: [&str; 3] = ["buyerCancellation", "sellerCancellation", "marketplaceCancellation"];

#[derive(Clone, Debug)]
struct SimItem {
    id: String,
    sku: String,
    fsn: String,
    title: String,
    quantity: u32,
    /// Rupees.
    price: i64,
}

/// One shipment of an order: its items move through the states together.
#[derive(Clone, Debug)]
pub(crate) struct SimShipment {
    id: String,
    pub(crate) order_id: String,
    order_date: OffsetDateTime,
    items: Vec<SimItem>,
    timeline: Vec<(OffsetDateTime, &'static str)>,
    cancellation_type: Option<&'static str>,
    hold: bool,
    fbf: bool,
    location: String,
}

impl SimShipment {
    fn at(&self, now: OffsetDateTime) -> Option<(OffsetDateTime, &'static str)> {
        self.timeline.iter().rev().find(|(when, _)| *when <= now).copied()
    }

    /// The shipment as Flipkart sends it at `now` (times in IST, with milliseconds).
    fn json(&self, now: OffsetDateTime) -> Option<Value> {
        let (updated, status) = self.at(now)?;
        let cancelled = status == "CANCELLED";
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| {
                let total = item.price * i64::from(item.quantity);
                json!({"orderItemId": item.id, "orderId": self.order_id, "orderDate": ist(self.order_date),
                    "status": status, "quantity": item.quantity, "fsn": item.fsn, "sku": item.sku,
                    "listingId": format!("LST{}ABCDEF", item.fsn), "title": item.title, "hsn": "6109",
                    "paymentType": "PREPAID", "cancellationGroupId": format!("grp{}", item.id),
                    "cancellationDate": if cancelled { Value::String(ist(updated)) } else { Value::Null },
                    "priceComponents": {"sellingPrice": item.price, "totalPrice": total, "customerPrice": total,
                        "shippingCharge": 0, "flipkartDiscount": 0},
                    "serviceProfile": if self.fbf { "FBF" } else { "NON_FBF" }, "is_replacement": false})
            })
            .collect();
        Some(
            json!({"shipmentId": self.id, "dispatchByDate": ist(self.order_date + Duration::days(2)),
            "dispatchAfterDate": ist(self.order_date), "updatedAt": ist(updated), "locationId": self.location,
            "hold": self.hold && PRE_DISPATCH.contains(&status), "mps": false, "packagingPolicy": "DEFAULT",
            "shipmentType": "NORMAL", "subShipments": [{"subShipmentId": "SS-1", "packages": []}],
            "orderItems": items, "forms": []}),
        )
    }
}

fn ist(at: OffsetDateTime) -> String {
    let offset = UtcOffset::from_hms(5, 30, 0).unwrap_or(UtcOffset::UTC);
    let local = at.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+05:30",
        local.year(),
        u8::from(local.month()),
        local.day(),
        local.hour(),
        local.minute(),
        local.second(),
        local.millisecond()
    )
}

/// The seller's orders as shipments: `count` orders over the 30 days before `start` (and, when
/// `live`, one every five minutes over the three days after it).
pub(crate) fn generate(
    seed: u64,
    count: usize,
    live: bool,
    start: OffsetDateTime,
    catalogue: &[Product],
    locations: &[String],
) -> Vec<SimShipment> {
    let mut rng = rng(seed, "flipkart orders");
    let window = Duration::days(30).whole_seconds();
    let mut dates: Vec<OffsetDateTime> = (0..count)
        .map(|_| start - Duration::seconds(rng.random_range(600..window)))
        .collect();
    if live {
        dates.extend((1..=(3 * 24 * 12)).map(|k| start + Duration::minutes(5 * k)));
    }
    let mut shipments = Vec::new();
    for (n, order_date) in dates.into_iter().enumerate() {
        let order_id = format!(
            "OD{:018}",
            100_000_000_000_000_000u64 + n as u64 * 7919 + rng.random_range(0..7919)
        );
        let parts = if rng.random_bool(0.2) { 2 } else { 1 };
        for part in 0..parts {
            let items: Vec<SimItem> = (0..rng.random_range(1..=2))
                .map(|i| {
                    let product = &catalogue[rng.random_range(0..catalogue.len())];
                    SimItem {
                        id: format!("{:016}", 1_000_000_000_000_000u64 + (n as u64) * 100 + part * 10 + i),
                        sku: product.sku.clone(),
                        fsn: product.fsn.clone(),
                        title: product.title.clone(),
                        quantity: rng.random_range(1..=2),
                        price: product.price_cents / 100 * 10 + 9,
                    }
                })
                .collect();
            let minutes =
                |rng: &mut rand::rngs::StdRng, low: i64, high: i64| Duration::minutes(rng.random_range(low..=high));
            let mut timeline = vec![(order_date, "APPROVED")];
            let mut cancellation_type = None;
            if rng.random_bool(0.1) {
                timeline.push((order_date + minutes(&mut rng, 30, 600), "CANCELLED"));
                cancellation_type = Some(CANCELLATION_TYPES[rng.random_range(0..CANCELLATION_TYPES.len())]);
            } else {
                let packed = order_date + minutes(&mut rng, 60, 600);
                let ready = packed + minutes(&mut rng, 30, 300);
                let shipped = ready + minutes(&mut rng, 120, 1440);
                let delivered = shipped + minutes(&mut rng, 1440, 4320);
                timeline.extend([
                    (packed, "PACKED"),
                    (ready, "READY_TO_DISPATCH"),
                    (shipped, "SHIPPED"),
                    (delivered, "DELIVERED"),
                ]);
            }
            shipments.push(SimShipment {
                id: format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    rng.random::<u32>(),
                    rng.random::<u16>(),
                    rng.random_range(0..0xfff),
                    rng.random_range(0..0xfff),
                    rng.random::<u64>() & 0xffff_ffff_ffff
                ),
                order_id: order_id.clone(),
                order_date,
                items,
                timeline,
                cancellation_type,
                hold: rng.random_bool(0.05),
                fbf: rng.random_bool(0.2),
                location: locations[rng.random_range(0..locations.len())].clone(),
            });
        }
    }
    shipments
}

/// How an order stands, as the sandbox knows it: its items with their states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShipmentState {
    pub order_id: String,
    pub item_id: String,
    pub status: &'static str,
}

impl SimShipment {
    pub(crate) fn states(&self, now: OffsetDateTime) -> Vec<ShipmentState> {
        let Some((_, status)) = self.at(now) else {
            return Vec::new();
        };
        self.items
            .iter()
            .map(|item| ShipmentState {
                order_id: self.order_id.clone(),
                item_id: item.id.clone(),
                status,
            })
            .collect()
    }
}

fn parse_time(value: Option<&Value>) -> Result<Option<OffsetDateTime>, String> {
    match value.and_then(Value::as_str) {
        None => Ok(None),
        Some(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(Some)
            .map_err(|_| format!("{text:?} is not an ISO 8601 date-time")),
    }
}

/// The shipments a filter (`POST` body, or the one a `next_token` carries) selects at `now`, in
/// the order of their last change. Pages are counted by position, as Flipkart's are.
fn select<'a>(
    shipments: &'a [SimShipment],
    request: &Value,
    now: OffsetDateTime,
) -> Result<Vec<&'a SimShipment>, String> {
    let filter = request.get("filter").ok_or("filter is required")?;
    let kind = filter.get("type").and_then(Value::as_str);
    let allowed: &[&str] = match kind {
        Some("preDispatch") => &PRE_DISPATCH,
        Some("postDispatch") => &POST_DISPATCH,
        Some("cancelled") => &["CANCELLED"],
        _ => return Err("filter.type must be preDispatch, postDispatch or cancelled".into()),
    };
    let states: Vec<&str> = filter
        .get("states")
        .and_then(Value::as_array)
        .map(|states| states.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| allowed.to_vec());
    if let Some(bad) = states.iter().find(|state| !allowed.contains(state)) {
        return Err(format!(
            "state {bad} is not valid for filter type {}",
            kind.unwrap_or("")
        ));
    }
    let cancellation = filter.get("cancellationType").and_then(Value::as_str);
    if kind == Some("cancelled") && cancellation.is_none() {
        return Err("cancellationType is mandatory for cancelled shipments".into());
    }
    let hold = filter.get("hold").and_then(Value::as_bool).unwrap_or(false);
    let range_key = if kind == Some("cancelled") {
        "cancellationDate"
    } else {
        "modifiedDate"
    };
    let range = filter.get(range_key);
    let from = parse_time(range.and_then(|r| r.get("from")))?;
    let to = parse_time(range.and_then(|r| r.get("to")))?;
    let profiles: Vec<&str> = filter
        .get("serviceProfiles")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| vec!["NON_FBF"]);
    let mut selected: Vec<(OffsetDateTime, &SimShipment)> = shipments
        .iter()
        .filter_map(|shipment| {
            let (updated, status) = shipment.at(now)?;
            let profile = if shipment.fbf { "FBF" } else { "NON_FBF" };
            let held = shipment.hold && PRE_DISPATCH.contains(&status);
            let wanted = states.contains(&status)
                && profiles.contains(&profile)
                && (kind != Some("preDispatch") || held == hold)
                && (kind != Some("cancelled") || shipment.cancellation_type == cancellation)
                && from.is_none_or(|from| updated >= from)
                && to.is_none_or(|to| updated <= to);
            wanted.then_some((updated, shipment))
        })
        .collect();
    selected.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    // Flipkart sorts by dispatch date unless told otherwise; only the direction matters here.
    if request.pointer("/sort/order").and_then(Value::as_str) == Some("desc") {
        selected.reverse();
    }
    Ok(selected.into_iter().map(|(_, shipment)| shipment).collect())
}

/// A page of a filter's shipments from `offset`, with the next page's URL.
fn page(sandbox: &Sandbox, request: Value, offset: usize) -> Response {
    let now = sandbox.clock.now();
    let state = sandbox.flipkart();
    let selected = match select(&state.shipments, &request, now) {
        Ok(selected) => selected,
        Err(message) => return error(StatusCode::BAD_REQUEST, "bad_request", &message),
    };
    let size = request
        .pointer("/pagination/pageSize")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_PAGE, |size| size.clamp(1, 100) as usize);
    let shipments: Vec<Value> = selected
        .iter()
        .skip(offset)
        .take(size)
        .filter_map(|shipment| shipment.json(now))
        .collect();
    let more = offset + size < selected.len();
    let next = more.then(|| {
        let token = json!({"request": request, "offset": offset + size});
        format!(
            "/v3/shipments/filter?next_token={}",
            URL_SAFE_NO_PAD.encode(token.to_string())
        )
    });
    axum::Json(json!({"hasMore": more, "nextPageUrl": next, "shipments": shipments})).into_response()
}

/// `POST /sellers/v3/shipments/filter`.
pub(crate) async fn filter_shipments(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, crate::operation::FLIPKART_FILTER_SHIPMENTS).await {
        return refused;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "The request body is not JSON");
    };
    page(&sandbox, request, 0)
}

/// `GET /sellers/v3/shipments/filter?next_token=…`.
pub(crate) async fn next_page(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, crate::operation::FLIPKART_FILTER_SHIPMENTS).await {
        return refused;
    }
    let token = query
        .get("next_token")
        .and_then(|token| URL_SAFE_NO_PAD.decode(token).ok())
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    let Some(token) = token else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "next_token is not valid");
    };
    let offset = token.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
    page(&sandbox, token.get("request").cloned().unwrap_or_default(), offset)
}

/// `GET /sellers/v3/shipments?orderIds=…` (or `shipmentIds`, `orderItemIds`).
pub(crate) async fn by_ids(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, crate::operation::FLIPKART_SHIPMENTS_BY_ID).await {
        return refused;
    }
    let kinds: Vec<(&String, &String)> = query
        .iter()
        .filter(|(key, _)| matches!(key.as_str(), "orderIds" | "shipmentIds" | "orderItemIds"))
        .collect();
    let [(kind, ids)] = kinds.as_slice() else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "give exactly one of shipmentIds, orderIds, orderItemIds",
        );
    };
    let ids: Vec<&str> = ids.split(',').filter(|id| !id.is_empty()).collect();
    if ids.is_empty() || ids.len() > 100 {
        return error(StatusCode::BAD_REQUEST, "bad_request", "give between 1 and 100 ids");
    }
    let now = sandbox.clock.now();
    let state = sandbox.flipkart();
    let shipments: Vec<Value> = state
        .shipments
        .iter()
        .filter(|shipment| match kind.as_str() {
            "orderIds" => ids.contains(&shipment.order_id.as_str()),
            "shipmentIds" => ids.contains(&shipment.id.as_str()),
            _ => shipment.items.iter().any(|item| ids.contains(&item.id.as_str())),
        })
        .filter_map(|shipment| shipment.json(now))
        .collect();
    axum::Json(json!({"shipments": shipments})).into_response()
}
