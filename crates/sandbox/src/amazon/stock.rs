//! Amazon stock: FBA `getInventorySummaries` (page tokens that die after 30 seconds) and the
//! merchant-fulfilled quantities of `searchListingsItems`, over the sandbox seller's catalogue.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use javelin_marketplaces::amazon::{GET_INVENTORY_SUMMARIES, SEARCH_LISTINGS_ITEMS};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::Duration;

use super::{gate, sp_api_error, sp_api_response};
use crate::Sandbox;
use crate::data::{Product, rng};

const FBA_PAGE: usize = 50;
const FBA_TOKEN_LIFETIME: Duration = Duration::seconds(30);
/// searchListingsItems pages through at most this many listings.
const LISTINGS_LIMIT: usize = 1000;

/// One SKU's stock in one marketplace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimStock {
    pub sku: String,
    pub marketplace_id: String,
    pub fba_available: i64,
    pub fba_reserved: i64,
    pub fba_inbound: i64,
    pub fba_unfulfillable: i64,
    pub fbm_available: Option<i64>,
    product: Product,
}

impl SimStock {
    /// Gives the product a new title from now on (its listings show it).
    pub(crate) fn rename(&mut self, sku: &str, title: &str) {
        if self.sku == sku {
            title.clone_into(&mut self.product.title);
        }
    }
}

/// The stock of every product in every marketplace of the seller.
pub(crate) fn generate(seed: u64, marketplace_ids: &[&str], catalogue: &[Product]) -> Vec<SimStock> {
    let mut rng = rng(seed, "amazon stock");
    marketplace_ids
        .iter()
        .flat_map(|id| catalogue.iter().map(move |product| (*id, product)))
        .map(|(id, product)| SimStock {
            sku: product.sku.clone(),
            marketplace_id: id.to_owned(),
            fba_available: if product.fba { rng.random_range(0..200) } else { 0 },
            fba_reserved: if product.fba { rng.random_range(0..10) } else { 0 },
            fba_inbound: if product.fba { rng.random_range(0..50) } else { 0 },
            fba_unfulfillable: if product.fba { rng.random_range(0..3) } else { 0 },
            fbm_available: product.fbm.then(|| rng.random_range(0..100)),
            product: product.clone(),
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct FbaToken {
    marketplace: String,
    offset: usize,
    issued: i64,
}

fn invalid(message: &str) -> Response {
    sp_api_error(StatusCode::BAD_REQUEST, "InvalidInput", message, "")
}

/// `GET /fba/inventory/v1/summaries`.
pub(crate) async fn inventory_summaries(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let rate = match gate(
        &sandbox,
        &headers,
        &GET_INVENTORY_SUMMARIES,
        crate::operation::GET_INVENTORY_SUMMARIES,
    )
    .await
    {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    let param = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    if param("granularityType") != Some("Marketplace") {
        return invalid("granularityType must be Marketplace.");
    }
    let (Some(granularity), Some(marketplace)) = (param("granularityId"), param("marketplaceIds")) else {
        return invalid("granularityId and marketplaceIds are required.");
    };
    if marketplace.contains(',') || granularity != marketplace {
        return invalid("marketplaceIds takes exactly one marketplace, the granularityId.");
    }
    let now = sandbox.clock.now();
    let mut offset = 0;
    if let Some(text) = param("nextToken") {
        let Some(token) = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<FbaToken>(&bytes).ok())
        else {
            return invalid("We could not decode your NextToken.");
        };
        if now.unix_timestamp() - token.issued > FBA_TOKEN_LIFETIME.whole_seconds() {
            return invalid("The NextToken has expired.");
        }
        if token.marketplace != marketplace {
            return invalid("The NextToken belongs to another marketplace.");
        }
        offset = token.offset;
    }
    let details = param("details") == Some("true");
    let state = sandbox.amazon();
    let held: Vec<&SimStock> = state
        .stock
        .iter()
        .filter(|s| s.marketplace_id == marketplace && s.product.fba)
        .collect();
    let summaries: Vec<Value> = held
        .iter()
        .skip(offset)
        .take(FBA_PAGE)
        .map(|s| {
            let mut summary = json!({"asin": s.product.asin, "fnSku": s.product.asin, "sellerSku": s.sku,
                "condition": "NewItem", "lastUpdatedTime": "", "productName": s.product.title,
                "totalQuantity": s.fba_available + s.fba_reserved + s.fba_inbound + s.fba_unfulfillable});
            if details {
                summary["inventoryDetails"] = json!({"fulfillableQuantity": s.fba_available,
                    "inboundWorkingQuantity": s.fba_inbound, "inboundShippedQuantity": 0, "inboundReceivingQuantity": 0,
                    "reservedQuantity": {"totalReservedQuantity": s.fba_reserved},
                    "unfulfillableQuantity": {"totalUnfulfillableQuantity": s.fba_unfulfillable}});
            }
            summary
        })
        .collect();
    let mut body = json!({"payload": {"granularity": {"granularityType": "Marketplace", "granularityId": marketplace},
        "inventorySummaries": summaries}});
    if offset + FBA_PAGE < held.len() {
        let token = FbaToken {
            marketplace: marketplace.to_owned(),
            offset: offset + FBA_PAGE,
            issued: now.unix_timestamp(),
        };
        body["pagination"] =
            json!({"nextToken": URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())});
    }
    sp_api_response(StatusCode::OK, body, Some(rate))
}

/// `GET /listings/2021-08-01/items/{sellerId}`.
pub(crate) async fn search_listings(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(seller): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let rate = match gate(
        &sandbox,
        &headers,
        &SEARCH_LISTINGS_ITEMS,
        crate::operation::SEARCH_LISTINGS_ITEMS,
    )
    .await
    {
        Ok(rate) => rate,
        Err(refused) => return refused,
    };
    if seller != sandbox.credentials.amazon.selling_partner_id {
        return sp_api_error(
            StatusCode::FORBIDDEN,
            "Unauthorized",
            "Access to requested resource is denied.",
            "The seller id does not match the access token.",
        );
    }
    let param = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(marketplace) = param("marketplaceIds") else {
        return invalid("marketplaceIds is required.");
    };
    let size = match param("pageSize").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(size)) if (1..=20).contains(&size) => size,
        _ => return invalid("pageSize must be between 1 and 20."),
    };
    let offset = match param("pageToken") {
        Some(text) => match URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
        {
            Some(text) => text.parse::<usize>().unwrap_or(usize::MAX),
            None => return invalid("The pageToken is not valid."),
        },
        None => 0,
    };
    let state = sandbox.amazon();
    let listed: Vec<&SimStock> = state
        .stock
        .iter()
        .filter(|s| s.marketplace_id == marketplace)
        .take(LISTINGS_LIMIT)
        .collect();
    let items: Vec<Value> = listed
        .iter()
        .skip(offset)
        .take(size)
        .map(|s| {
            let mut availability = Vec::new();
            if let Some(quantity) = s.fbm_available {
                availability.push(json!({"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}));
            }
            if s.product.fba {
                availability.push(json!({"fulfillmentChannelCode": "AMAZON_NA"}));
            }
            json!({"sku": s.sku, "summaries": [{"marketplaceId": marketplace, "asin": s.product.asin,
                "productType": "PRODUCT", "conditionType": "new_new", "status": ["BUYABLE"], "itemName": s.product.title}],
                "fulfillmentAvailability": availability})
        })
        .collect();
    let mut body = json!({"numberOfResults": listed.len(), "items": items});
    if offset.saturating_add(size) < listed.len() {
        body["pagination"] = json!({"nextToken": URL_SAFE_NO_PAD.encode((offset + size).to_string())});
    }
    sp_api_response(StatusCode::OK, body, Some(rate))
}
