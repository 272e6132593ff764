//! Flipkart stock: the seller's active listings (`POST /listings/v3/product/search`, 20 a
//! batch), then each listing's locations (`GET /listings/v3/{skus}`, 10 SKUs a call), whose
//! answer says per SKU whether it was found.

use std::collections::BTreeMap;

use javelin_model::StockLevel;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Flipkart;
use crate::connector::{Skipped, StockPage};
use crate::{MarketplaceError, Session};

pub(crate) const STREAM: &str = "listings";
/// Listings per search batch, and SKUs per details call, as Flipkart allows.
const BATCH: usize = 20;
const SKUS_PER_CALL: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchResponse {
    #[serde(default)]
    listing_data: Vec<SearchedListing>,
}

#[derive(Deserialize)]
struct SearchedListing {
    sku: String,
}

#[derive(Deserialize)]
struct DetailsResponse {
    #[serde(default)]
    available: BTreeMap<String, Value>,
    #[serde(default)]
    unavailable: Vec<String>,
    #[serde(default)]
    invalid: Vec<String>,
}

#[derive(Deserialize)]
struct Detail {
    product_id: Option<String>,
    #[serde(default)]
    locations: Vec<Location>,
}

#[derive(Deserialize)]
struct Location {
    id: String,
    #[serde(default)]
    inventory: i64,
    #[serde(default)]
    pending_inventory: i64,
}

/// One SKU's detail: a stock level per location.
fn map_detail(sku: &str, value: Value) -> Vec<Result<StockLevel, Skipped>> {
    let skipped = |reason: String| {
        vec![Err(Skipped {
            id: Some(sku.to_owned()),
            reason,
        })]
    };
    let detail: Detail = match serde_json::from_value(value) {
        Ok(detail) => detail,
        Err(err) => return skipped(format!("unexpected shape ({err})")),
    };
    if detail
        .locations
        .iter()
        .any(|l| l.inventory < 0 || l.pending_inventory < 0)
    {
        return skipped("a negative quantity".into());
    }
    detail
        .locations
        .into_iter()
        .map(|location| {
            Ok(StockLevel {
                marketplace_id: None,
                sku: sku.to_owned(),
                location: location.id,
                product_id: detail.product_id.clone(),
                title: None,
                available: location.inventory,
                reserved: location.pending_inventory,
                inbound: 0,
                unfulfillable: 0,
                updated_at: None,
            })
        })
        .collect()
}

fn map_details(details: DetailsResponse) -> Vec<Result<StockLevel, Skipped>> {
    let refused = details
        .unavailable
        .into_iter()
        .map(|sku| (sku, "Flipkart has no listing with this SKU"))
        .chain(
            details
                .invalid
                .into_iter()
                .map(|sku| (sku, "Flipkart calls this SKU invalid")),
        )
        .map(|(sku, reason)| {
            Err(Skipped {
                id: Some(sku),
                reason: reason.to_owned(),
            })
        });
    details
        .available
        .into_iter()
        .flat_map(|(sku, value)| map_detail(&sku, value))
        .chain(refused)
        .collect()
}

fn encode(sku: &str) -> String {
    url::form_urlencoded::byte_serialize(sku.as_bytes()).collect()
}

impl Flipkart {
    /// The stock of one batch of active listings; `cursor` is the batch number.
    pub(crate) async fn listings_page(
        &self,
        session: &Session<'_>,
        cursor: Option<&str>,
    ) -> Result<StockPage, MarketplaceError> {
        let batch: u64 = match cursor {
            Some(text) => text.parse().map_err(|_| MarketplaceError::Rejected {
                detail: format!("{text:?} is not a listings batch"),
            })?,
            None => 0,
        };
        let body = json!({"batchNo": batch, "internalState": "ACTIVE"});
        let found: SearchResponse = self
            .call(
                session,
                reqwest::Method::POST,
                "/listings/v3/product/search",
                Some(&body),
            )
            .await?;
        let mut levels = Vec::new();
        let skus: Vec<&str> = found.listing_data.iter().map(|l| l.sku.as_str()).collect();
        for chunk in skus.chunks(SKUS_PER_CALL) {
            let path = format!(
                "/listings/v3/{}",
                chunk.iter().map(|sku| encode(sku)).collect::<Vec<_>>().join(",")
            );
            let details: DetailsResponse = self.call(session, reqwest::Method::GET, &path, None).await?;
            levels.extend(map_details(details));
        }
        Ok(StockPage {
            levels,
            next: (found.listing_data.len() == BATCH).then(|| (batch + 1).to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sku_of_a_200_answer_is_accounted_for() {
        let body = json!({
            "available": {
                "TEE-1": {"product_id": "TSHDBN3326TEZHQZ", "listing_status": "ACTIVE",
                    "locations": [{"id": "LOC1", "status": "ENABLED", "inventory": 12, "pending_inventory": 2},
                                  {"id": "LOC2", "status": "DISABLED", "inventory": 0}]},
                "TEE-2": {"product_id": "X", "locations": [{"id": "LOC1", "inventory": -3}]},
                "TEE-3": {"locations": "none"}
            },
            "unavailable": ["GONE-1"],
            "invalid": ["bad sku"]
        });
        let details: DetailsResponse = serde_json::from_value(body).expect("shape");
        let results = map_details(details);
        let levels: Vec<(String, String, i64, i64)> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|l| (l.sku.clone(), l.location.clone(), l.available, l.reserved))
            .collect();
        assert_eq!(
            levels,
            [
                ("TEE-1".into(), "LOC1".into(), 12, 2),
                ("TEE-1".into(), "LOC2".into(), 0, 0)
            ]
        );
        let skipped: Vec<(Option<String>, String)> = results
            .into_iter()
            .filter_map(Result::err)
            .map(|s| (s.id, s.reason))
            .collect();
        assert_eq!(skipped.len(), 4, "{skipped:?}");
        assert!(skipped.contains(&(Some("GONE-1".into()), "Flipkart has no listing with this SKU".into())));
        assert!(skipped.contains(&(Some("TEE-2".into()), "a negative quantity".into())));
    }
}
