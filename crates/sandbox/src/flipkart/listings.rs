//! Flipkart listings: the seller's active listings in batches of 20
//! (`POST /listings/v3/product/search`), and each one's stock per location
//! (`GET /listings/v3/{skus}`, at most 10 SKUs), answered SKU by SKU inside a 200.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::{Value, json};

use super::{error, gate};
use crate::Sandbox;
use crate::data::{Product, rng};

const BATCH: usize = 20;

/// A listing and its stock per location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimListing {
    pub sku: String,
    pub fsn: String,
    /// Location id, stock, units pending dispatch.
    pub locations: Vec<(String, i64, i64)>,
    /// Listed by the search but gone by the time its details are asked for.
    pub vanished: bool,
}

pub(crate) fn generate(seed: u64, catalogue: &[Product], locations: &[String]) -> Vec<SimListing> {
    let mut rng = rng(seed, "flipkart listings");
    catalogue
        .iter()
        .enumerate()
        .map(|(n, product)| SimListing {
            sku: product.sku.clone(),
            fsn: product.fsn.clone(),
            locations: locations
                .iter()
                .map(|location| (location.clone(), rng.random_range(0..150), rng.random_range(0..5)))
                .collect(),
            vanished: n % 17 == 5,
        })
        .collect()
}

/// `POST /sellers/listings/v3/product/search`.
pub(crate) async fn search(State(sandbox): State<Sandbox>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, crate::operation::FLIPKART_LISTINGS).await {
        return refused;
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let (Some(batch), Some(state)) = (
        request.get("batchNo").and_then(Value::as_u64),
        request.get("internalState").and_then(Value::as_str),
    ) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "batchNo and internalState are required",
        );
    };
    let listings = &sandbox.flipkart().listings;
    let active: Vec<&SimListing> = if state == "ACTIVE" {
        listings.iter().collect()
    } else {
        Vec::new()
    };
    let data: Vec<Value> = active
        .iter()
        .skip(batch as usize * BATCH)
        .take(BATCH)
        .map(|l| {
            json!({"listingId": format!("LST{}ABCDEF", l.fsn), "sellerId": "sandbox", "productId": l.fsn,
            "sku": l.sku, "status": "ACTIVE"})
        })
        .collect();
    axum::Json(json!({"totalListingsCount": active.len(), "listingData": data})).into_response()
}

/// `GET /sellers/listings/v3/{skus}`.
pub(crate) async fn details(State(sandbox): State<Sandbox>, headers: HeaderMap, Path(skus): Path<String>) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, crate::operation::FLIPKART_LISTINGS).await {
        return refused;
    }
    let skus: Vec<String> = skus
        .split(',')
        .map(|sku| {
            url::form_urlencoded::parse(format!("s={sku}").as_bytes())
                .next()
                .map_or_else(String::new, |(_, v)| v.into_owned())
        })
        .collect();
    if skus.is_empty() || skus.len() > 10 {
        return error(StatusCode::BAD_REQUEST, "bad_request", "give between 1 and 10 SKUs");
    }
    let state = sandbox.flipkart();
    let mut available = serde_json::Map::new();
    let mut unavailable = Vec::new();
    let mut invalid = Vec::new();
    for sku in skus {
        if sku.chars().any(char::is_whitespace) {
            invalid.push(sku);
            continue;
        }
        match state.listings.iter().find(|l| l.sku == sku && !l.vanished) {
            Some(listing) => {
                let locations: Vec<Value> = listing
                    .locations
                    .iter()
                    .map(|(id, inventory, pending)| {
                        json!({"id": id, "status": "ENABLED", "inventory": inventory,
                        "pending_inventory": pending})
                    })
                    .collect();
                available.insert(
                    sku,
                    json!({"listing_id": format!("LST{}ABCDEF", listing.fsn),
                    "product_id": listing.fsn, "listing_status": "ACTIVE", "locations": locations,
                    "price": {"mrp": 999, "selling_price": 799, "currency": "INR"}}),
                );
            }
            None => unavailable.push(sku),
        }
    }
    axum::Json(json!({"available": available, "unavailable": unavailable, "invalid": invalid})).into_response()
}
