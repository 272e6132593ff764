//! Amazon stock: what Amazon holds for the seller (FBA, `getInventorySummaries`, one
//! marketplace at a time) and what the seller ships from their own stock (FBM, the DEFAULT
//! fulfilment channel of `searchListingsItems`).

use javelin_model::StockLevel;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Amazon;
use crate::connector::{Skipped, StockPage};
use crate::{MarketplaceError, Operation, Session};

pub const GET_INVENTORY_SUMMARIES: Operation = Operation {
    name: "getInventorySummaries",
    rate: 2.0,
    burst: 2,
};

pub const SEARCH_LISTINGS_ITEMS: Operation = Operation {
    name: "searchListingsItems",
    rate: 5.0,
    burst: 5,
};

/// The stock places of a marketplace, as stream names: `fba:<marketplace>`, `fbm:<marketplace>`.
pub(crate) const FBA: &str = "fba";
pub(crate) const FBM: &str = "fbm";

#[derive(Deserialize)]
struct SummariesResponse {
    #[serde(default)]
    pagination: Option<NextToken>,
    payload: SummariesPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NextToken {
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SummariesPayload {
    #[serde(default)]
    inventory_summaries: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    seller_sku: String,
    asin: Option<String>,
    product_name: Option<String>,
    #[serde(default)]
    last_updated_time: Option<String>,
    inventory_details: Option<Details>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    fulfillable_quantity: i64,
    #[serde(default)]
    inbound_working_quantity: i64,
    #[serde(default)]
    inbound_shipped_quantity: i64,
    #[serde(default)]
    inbound_receiving_quantity: i64,
    reserved_quantity: Option<Reserved>,
    unfulfillable_quantity: Option<Unfulfillable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reserved {
    #[serde(default)]
    total_reserved_quantity: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Unfulfillable {
    #[serde(default)]
    total_unfulfillable_quantity: i64,
}

#[derive(Deserialize)]
struct ListingsResponse {
    #[serde(default)]
    pagination: Option<NextToken>,
    #[serde(default)]
    items: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Listing {
    sku: String,
    #[serde(default)]
    summaries: Vec<ListingSummary>,
    #[serde(default)]
    fulfillment_availability: Vec<Availability>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListingSummary {
    marketplace_id: String,
    asin: Option<String>,
    item_name: Option<String>,
    last_updated_date: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Availability {
    fulfillment_channel_code: String,
    #[serde(default)]
    quantity: Option<i64>,
}

/// Amazon sends `""` for "never".
fn optional_time(text: Option<&str>) -> Option<OffsetDateTime> {
    text.filter(|text| !text.is_empty())
        .and_then(|text| OffsetDateTime::parse(text, &Rfc3339).ok())
}

fn negative(what: &str) -> String {
    format!("a negative {what} quantity")
}

fn map_summary(marketplace_id: &str, value: Value) -> Result<StockLevel, Skipped> {
    let id = value.get("sellerSku").and_then(Value::as_str).map(str::to_owned);
    let skipped = |reason: String| Skipped { id: id.clone(), reason };
    let summary: Summary = serde_json::from_value(value).map_err(|err| skipped(format!("unexpected shape ({err})")))?;
    let details = summary
        .inventory_details
        .ok_or_else(|| skipped("no inventory details".into()))?;
    let inbound =
        details.inbound_working_quantity + details.inbound_shipped_quantity + details.inbound_receiving_quantity;
    let level = StockLevel {
        marketplace_id: Some(marketplace_id.to_owned()),
        sku: summary.seller_sku,
        location: FBA.to_owned(),
        product_id: summary.asin,
        title: summary.product_name,
        available: details.fulfillable_quantity,
        reserved: details.reserved_quantity.map_or(0, |r| r.total_reserved_quantity),
        inbound,
        unfulfillable: details
            .unfulfillable_quantity
            .map_or(0, |u| u.total_unfulfillable_quantity),
        updated_at: optional_time(summary.last_updated_time.as_deref()),
    };
    match [level.available, level.reserved, level.inbound, level.unfulfillable] {
        quantities if quantities.iter().any(|q| *q < 0) => Err(skipped(negative("FBA"))),
        _ => Ok(level),
    }
}

/// A listing's merchant-fulfilled quantity; `None` when it has none (FBA only).
fn map_listing(marketplace_id: &str, value: Value) -> Option<Result<StockLevel, Skipped>> {
    let id = value.get("sku").and_then(Value::as_str).map(str::to_owned);
    let listing: Listing = match serde_json::from_value(value) {
        Ok(listing) => listing,
        Err(err) => {
            return Some(Err(Skipped {
                id,
                reason: format!("unexpected shape ({err})"),
            }));
        }
    };
    let merchant = listing
        .fulfillment_availability
        .iter()
        .find(|availability| availability.fulfillment_channel_code == "DEFAULT")?;
    let available = merchant.quantity.unwrap_or(0);
    if available < 0 {
        return Some(Err(Skipped {
            id,
            reason: negative("merchant"),
        }));
    }
    let summary = listing.summaries.iter().find(|s| s.marketplace_id == marketplace_id);
    Some(Ok(StockLevel {
        marketplace_id: Some(marketplace_id.to_owned()),
        sku: listing.sku,
        location: FBM.to_owned(),
        product_id: summary.and_then(|s| s.asin.clone()),
        title: summary.and_then(|s| s.item_name.clone()),
        available,
        reserved: 0,
        inbound: 0,
        unfulfillable: 0,
        updated_at: optional_time(summary.and_then(|s| s.last_updated_date.as_deref())),
    }))
}

pub(crate) fn read_summaries(url: &str, marketplace_id: &str, body: &str) -> Result<StockPage, MarketplaceError> {
    let page: SummariesResponse = serde_json::from_str(body)
        .map_err(|err| crate::http::malformed(url, format!("an unexpected format ({err})")))?;
    Ok(StockPage {
        levels: page
            .payload
            .inventory_summaries
            .into_iter()
            .map(|value| map_summary(marketplace_id, value))
            .collect(),
        next: page.pagination.and_then(|p| p.next_token).filter(|t| !t.is_empty()),
    })
}

pub(crate) fn read_listings(url: &str, marketplace_id: &str, body: &str) -> Result<StockPage, MarketplaceError> {
    let page: ListingsResponse = serde_json::from_str(body)
        .map_err(|err| crate::http::malformed(url, format!("an unexpected format ({err})")))?;
    Ok(StockPage {
        levels: page
            .items
            .into_iter()
            .filter_map(|value| map_listing(marketplace_id, value))
            .collect(),
        next: page.pagination.and_then(|p| p.next_token).filter(|t| !t.is_empty()),
    })
}

impl Amazon {
    /// A page of what Amazon's fulfilment centres hold for one marketplace. Its `nextToken`
    /// lives 30 seconds: the caller reads the pages back to back.
    pub(crate) async fn inventory_summaries(
        &self,
        session: &Session<'_>,
        marketplace_id: &str,
        token: Option<&str>,
    ) -> Result<StockPage, MarketplaceError> {
        let (base, _) = self.account_base(session.account)?;
        let mut query = vec![
            ("details", "true".to_owned()),
            ("granularityType", "Marketplace".to_owned()),
            ("granularityId", marketplace_id.to_owned()),
            ("marketplaceIds", marketplace_id.to_owned()),
        ];
        if let Some(token) = token {
            query.push(("nextToken", token.to_owned()));
        }
        let (url, answer) = self
            .sp_get(
                &base,
                "/fba/inventory/v1/summaries",
                &query,
                session,
                &GET_INVENTORY_SUMMARIES,
            )
            .await?;
        read_summaries(&url, marketplace_id, &answer.body)
    }

    /// A page of the seller's listings in one marketplace with their merchant-fulfilled
    /// quantity. Amazon pages through at most 1000 listings this way.
    pub(crate) async fn listings(
        &self,
        session: &Session<'_>,
        marketplace_id: &str,
        token: Option<&str>,
    ) -> Result<StockPage, MarketplaceError> {
        let (base, _) = self.account_base(session.account)?;
        let seller_id = session
            .account
            .selling_partner_id
            .as_deref()
            .ok_or(MarketplaceError::MissingCredential("selling_partner_id"))?;
        let mut query = vec![
            ("marketplaceIds", marketplace_id.to_owned()),
            ("includedData", "summaries,fulfillmentAvailability".to_owned()),
            ("pageSize", "20".to_owned()),
        ];
        if let Some(token) = token {
            query.push(("pageToken", token.to_owned()));
        }
        let path = format!("/listings/2021-08-01/items/{}", urlencode(seller_id));
        let (url, answer) = self
            .sp_get(&base, &path, &query, session, &SEARCH_LISTINGS_ITEMS)
            .await?;
        read_listings(&url, marketplace_id, &answer.body)
    }
}

fn urlencode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cases(json: &str) -> Vec<Value> {
        let cases: Vec<Value> = serde_json::from_str(json).expect("the cases are JSON");
        cases.into_iter().filter(|case| case["status"] == 200).collect()
    }

    /// Amazon's own static-sandbox answers, read as the client reads them.
    #[test]
    fn amazon_static_sandbox_answers_parse() {
        let mut levels = 0;
        for case in cases(include_str!(
            "../../data/amazon-sandbox/fbaInventory-getInventorySummaries.json"
        )) {
            let page = read_summaries("https://x", "ATVPDKIKX0DER", &case["response"].to_string()).expect("page");
            for level in page.levels {
                let level = level.unwrap_or_else(|skipped| panic!("{skipped:?}"));
                assert_eq!(level.location, "fba");
                levels += 1;
            }
        }
        for case in cases(include_str!(
            "../../data/amazon-sandbox/listingsItems-searchListingsItems.json"
        )) {
            let page = read_listings("https://x", "ATVPDKIKX0DER", &case["response"].to_string()).expect("page");
            for level in page.levels {
                let level = level.unwrap_or_else(|skipped| panic!("{skipped:?}"));
                assert_eq!(level.location, "fbm");
                levels += 1;
            }
        }
        assert!(levels > 2);
    }

    #[test]
    fn quantities_map_by_place() {
        let body = serde_json::json!({"pagination": {"nextToken": "t"}, "payload": {"inventorySummaries": [
            {"sellerSku": "MUG", "asin": "B01", "productName": "Mug", "lastUpdatedTime": "2026-11-01T00:00:00Z",
             "inventoryDetails": {"fulfillableQuantity": 7, "inboundWorkingQuantity": 1, "inboundShippedQuantity": 2,
                 "inboundReceivingQuantity": 3, "reservedQuantity": {"totalReservedQuantity": 4},
                 "unfulfillableQuantity": {"totalUnfulfillableQuantity": 5}}},
            {"sellerSku": "BAD", "inventoryDetails": {"fulfillableQuantity": -1}},
            {"asin": "no sku"}]}});
        let page = read_summaries("https://x", "ATVPDKIKX0DER", &body.to_string()).expect("page");
        assert_eq!(page.next.as_deref(), Some("t"));
        let level = page.levels[0].clone().expect("mapped");
        assert_eq!(
            (level.available, level.reserved, level.inbound, level.unfulfillable),
            (7, 4, 6, 5)
        );
        assert_eq!(page.levels[1].clone().expect_err("negative").id.as_deref(), Some("BAD"));
        assert!(page.levels[2].is_err());

        let body = serde_json::json!({"items": [
            {"sku": "MUG", "summaries": [{"marketplaceId": "ATVPDKIKX0DER", "asin": "B01", "itemName": "Mug"}],
             "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 12}]},
            {"sku": "FBA-ONLY", "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_NA"}]}]});
        let page = read_listings("https://x", "ATVPDKIKX0DER", &body.to_string()).expect("page");
        assert_eq!(page.levels.len(), 1, "FBA-only listings have no merchant stock");
        let level = page.levels[0].clone().expect("mapped");
        assert_eq!(
            (level.sku.as_str(), level.available, level.title.as_deref()),
            ("MUG", 12, Some("Mug"))
        );
        assert_eq!(page.next, None);
    }
}
