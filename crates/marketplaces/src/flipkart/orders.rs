//! Flipkart orders: shipments found by `POST /v3/shipments/filter` (one stream per filter
//! type), completed with every shipment of their orders (`GET /v3/shipments?orderIds=`) so that
//! each order arrives whole, and mapped into the one order model.

use std::collections::BTreeMap;

use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Flipkart;
use crate::connector::{OrdersPage, Skipped};
use crate::{Account, MarketplaceError, Session, Unpaced};

/// The streams of an account's shipments: each filter type, pre-dispatch held shipments
/// apart (Flipkart leaves them out unless asked), cancellations by who cancelled.
pub(crate) const STREAMS: [&str; 6] = [
    "preDispatch",
    "preDispatch:hold",
    "postDispatch",
    "cancelled:buyerCancellation",
    "cancelled:sellerCancellation",
    "cancelled:marketplaceCancellation",
];

const PRE_DISPATCH: [&str; 5] = [
    "APPROVED",
    "PACKING_IN_PROGRESS",
    "PACKED",
    "FORM_FAILED",
    "READY_TO_DISPATCH",
];
const POST_DISPATCH: [&str; 3] = ["SHIPPED", "DELIVERED", "PICKUP_COMPLETE"];
const PAGE_SIZE: u32 = 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FilterResponse {
    #[serde(default)]
    pub(crate) shipments: Vec<Value>,
    #[serde(default)]
    pub(crate) has_more: bool,
    #[serde(default)]
    next_page_url: Option<String>,
}

#[derive(Deserialize)]
struct ShipmentsResponse {
    #[serde(default)]
    shipments: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shipment {
    #[serde(default)]
    dispatch_by_date: Option<String>,
    updated_at: String,
    #[serde(default)]
    order_items: Vec<WireItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    order_item_id: String,
    order_id: String,
    order_date: String,
    status: String,
    quantity: u32,
    fsn: Option<String>,
    sku: Option<String>,
    title: Option<String>,
    #[serde(default)]
    price_components: Option<PriceComponents>,
    #[serde(default)]
    service_profile: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriceComponents {
    selling_price: Option<serde_json::Number>,
    total_price: Option<serde_json::Number>,
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| format!("{text:?} is not an ISO 8601 time"))
}

/// Flipkart prices are rupees as JSON numbers.
fn rupees(number: &serde_json::Number) -> Result<Money, String> {
    Money::parse(&number.to_string(), "INR").map_err(|err| err.to_string())
}

/// An item's status in Javelin's words.
fn item_status(status: &str) -> Option<OrderStatus> {
    Some(match status {
        "APPROVED" | "PACKING_IN_PROGRESS" | "FORM_FAILED" | "PACKED" | "READY_TO_DISPATCH" => OrderStatus::Unshipped,
        "PICKUP_COMPLETE" | "SHIPPED" => OrderStatus::Shipped,
        "DELIVERED" | "COMPLETED" => OrderStatus::Delivered,
        "CANCELLED" => OrderStatus::Cancelled,
        "RETURN_REQUESTED" => OrderStatus::ReturnRequested,
        "RETURNED" => OrderStatus::Returned,
        _ => return None,
    })
}

/// An order's status from its items': the ones not cancelled decide, the least advanced first.
fn order_status(items: &[OrderStatus]) -> OrderStatus {
    let live: Vec<OrderStatus> = items.iter().copied().filter(|s| *s != OrderStatus::Cancelled).collect();
    let all = |wanted: &[OrderStatus]| live.iter().all(|s| wanted.contains(s));
    let any = |wanted: OrderStatus| live.contains(&wanted);
    if live.is_empty() {
        OrderStatus::Cancelled
    } else if any(OrderStatus::ReturnRequested) {
        OrderStatus::ReturnRequested
    } else if all(&[OrderStatus::Returned]) {
        OrderStatus::Returned
    } else if all(&[OrderStatus::Delivered, OrderStatus::Returned]) {
        OrderStatus::Delivered
    } else if all(&[OrderStatus::Shipped, OrderStatus::Delivered, OrderStatus::Returned]) {
        OrderStatus::Shipped
    } else if any(OrderStatus::Unshipped) && live.len() > 1 && !all(&[OrderStatus::Unshipped]) {
        OrderStatus::PartiallyShipped
    } else {
        OrderStatus::Unshipped
    }
}

fn fulfilment(profile: Option<&str>) -> Option<String> {
    Some(
        match profile? {
            "FBF" | "Flipkart_Fulfilment" => "FBF",
            "FBF_LITE" => "FBF_LITE",
            _ => "SELLER",
        }
        .to_owned(),
    )
}

/// Every shipment of one order, mapped into one order.
fn map_order(order_id: &str, shipments: &[Shipment]) -> Result<Order, String> {
    let items: Vec<&WireItem> = shipments
        .iter()
        .flat_map(|shipment| shipment.order_items.iter())
        .filter(|item| item.order_id == order_id)
        .collect();
    let first = items.first().ok_or("the order has no items")?;
    let mut statuses = Vec::with_capacity(items.len());
    let mut words: Vec<&str> = Vec::new();
    let mut mapped = Vec::with_capacity(items.len());
    let mut total: Option<Money> = None;
    let mut purchased_at = parse_time(&first.order_date)?;
    for item in &items {
        let status = item_status(&item.status).ok_or_else(|| format!("unknown status {}", item.status))?;
        statuses.push(status);
        if !words.contains(&item.status.as_str()) {
            words.push(&item.status);
        }
        purchased_at = purchased_at.min(parse_time(&item.order_date)?);
        let prices = item.price_components.as_ref();
        let line_total = prices.and_then(|p| p.total_price.as_ref()).map(rupees).transpose()?;
        let unit_price = prices.and_then(|p| p.selling_price.as_ref()).map(rupees).transpose()?;
        if let Some(line) = line_total {
            let sum = total.map_or(Some(line.minor()), |t| t.minor().checked_add(line.minor()));
            total =
                Some(Money::from_minor(sum.ok_or("the order total is too large")?, "INR").map_err(|e| e.to_string())?);
        }
        let shipped = matches!(
            status,
            OrderStatus::Shipped | OrderStatus::Delivered | OrderStatus::Returned
        );
        mapped.push(OrderItem {
            external_id: item.order_item_id.clone(),
            sku: item.sku.clone(),
            product_id: item.fsn.clone(),
            title: item.title.clone(),
            quantity: item.quantity,
            quantity_shipped: if shipped { item.quantity } else { 0 },
            unit_price,
            line_total,
        });
    }
    let mut updated_at = purchased_at;
    let mut ship_by: Option<OffsetDateTime> = None;
    for shipment in shipments
        .iter()
        .filter(|s| s.order_items.iter().any(|i| i.order_id == order_id))
    {
        updated_at = updated_at.max(parse_time(&shipment.updated_at)?);
        if let Some(date) = &shipment.dispatch_by_date {
            let date = parse_time(date)?;
            ship_by = Some(ship_by.map_or(date, |earliest| earliest.min(date)));
        }
    }
    Ok(Order {
        external_id: order_id.to_owned(),
        marketplace_id: None,
        status: order_status(&statuses),
        platform_status: words.join(","),
        fulfillment_channel: fulfilment(first.service_profile.as_deref()),
        purchased_at,
        updated_at,
        ship_by,
        total,
        ship_to: ShipTo::default(),
        items: mapped,
    })
}

/// The orders of a set of shipments (each complete), or why each cannot be kept.
fn map_orders(shipments: Vec<Value>) -> Vec<Result<Order, Skipped>> {
    let mut parsed = Vec::new();
    let mut results = Vec::new();
    for value in shipments {
        let id = value.get("shipmentId").and_then(Value::as_str).map(str::to_owned);
        match serde_json::from_value::<Shipment>(value) {
            Ok(shipment) => parsed.push(shipment),
            Err(err) => results.push(Err(Skipped {
                id: id.map(|id| format!("shipment {id}")),
                reason: format!("unexpected shape ({err})"),
            })),
        }
    }
    let order_ids: std::collections::BTreeSet<&str> = parsed
        .iter()
        .flat_map(|s| s.order_items.iter().map(|i| i.order_id.as_str()))
        .collect();
    for order_id in order_ids {
        let result = map_order(order_id, &parsed).and_then(|order| match order.problem() {
            Some(problem) => Err(problem),
            None => Ok(order),
        });
        results.push(result.map_err(|reason| Skipped {
            id: Some(order_id.to_owned()),
            reason,
        }));
    }
    results
}

/// The filter of a stream, for orders changed since `since`.
fn filter(stream: &str, since: OffsetDateTime) -> Result<Value, MarketplaceError> {
    let since = since.format(&Rfc3339).map_err(|err| MarketplaceError::Rejected {
        detail: err.to_string(),
    })?;
    let (kind, qualifier) = stream.split_once(':').unwrap_or((stream, ""));
    let mut filter = match kind {
        "preDispatch" => json!({"type": "preDispatch", "states": PRE_DISPATCH, "hold": qualifier == "hold",
            "modifiedDate": {"from": since}}),
        "postDispatch" => json!({"type": "postDispatch", "states": POST_DISPATCH, "modifiedDate": {"from": since}}),
        "cancelled" => json!({"type": "cancelled", "states": ["CANCELLED"], "cancellationType": qualifier,
            "cancellationDate": {"from": since}}),
        _ => {
            return Err(MarketplaceError::Rejected {
                detail: format!("no Flipkart order stream {stream:?}"),
            });
        }
    };
    // Flipkart returns only NORMAL, NON_FBF shipments unless told otherwise.
    filter["shipmentTypes"] = json!(["NORMAL", "SELF", "EXPRESS"]);
    filter["serviceProfiles"] = json!(["NON_FBF", "FBF", "FBF_LITE"]);
    // Newest change first: Flipkart pages by position, and a shipment that changes while the
    // pages are read then moves into the part already read (read twice at worst), never
    // pushing one that has not been read into it (lost).
    let sort_field = if kind == "cancelled" {
        "cancellationDate"
    } else {
        "modifiedDate"
    };
    Ok(json!({"filter": filter, "pagination": {"pageSize": PAGE_SIZE},
        "sort": {"field": sort_field, "order": "desc"}}))
}

impl Flipkart {
    /// A page of a stream's shipments changed since `since` (or the page `cursor`, a
    /// `nextPageUrl`, points at), as whole orders.
    pub(crate) async fn shipments_page(
        &self,
        session: &Session<'_>,
        stream: &str,
        since: OffsetDateTime,
        cursor: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        let page: FilterResponse = match cursor {
            Some(next) => self.call(session, reqwest::Method::GET, next, None).await?,
            None => {
                let body = filter(stream, since)?;
                self.call(session, reqwest::Method::POST, "/v3/shipments/filter", Some(&body))
                    .await?
            }
        };
        let order_ids: std::collections::BTreeSet<String> = page
            .shipments
            .iter()
            .filter_map(|s| s.get("orderItems").and_then(Value::as_array))
            .flatten()
            .filter_map(|item| item.get("orderId").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut shipments = page.shipments;
        if !order_ids.is_empty() {
            // Every shipment of these orders, so that no order is stored with a part missing.
            let ids: Vec<String> = order_ids.into_iter().collect();
            let path = format!("/v3/shipments?orderIds={}", ids.join(","));
            let whole: ShipmentsResponse = self.call(session, reqwest::Method::GET, &path, None).await?;
            let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
            for shipment in shipments.into_iter().chain(whole.shipments) {
                let id = shipment
                    .get("shipmentId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                by_id.insert(id, shipment);
            }
            shipments = by_id.into_values().collect();
        }
        Ok(OrdersPage {
            orders: map_orders(shipments),
            next: page.next_page_url.filter(|url| page.has_more && !url.is_empty()),
            watermark: None,
        })
    }

    /// One cheap read for a connection test: the first approved shipment waiting to be packed.
    pub(crate) async fn probe(&self, access_token: &str) -> Result<FilterResponse, MarketplaceError> {
        let account = Account::default();
        let session = Session {
            account: &account,
            access_token,
            pace: &Unpaced,
        };
        let body = json!({
            "filter": {"type": "preDispatch", "states": ["APPROVED"]},
            "pagination": {"pageSize": 1},
        });
        self.call(&session, reqwest::Method::POST, "/v3/shipments/filter", Some(&body))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipment(id: &str, updated: &str, items: Value) -> Value {
        json!({"shipmentId": id, "dispatchByDate": "2026-11-05T18:00:00.000+05:30", "updatedAt": updated,
            "orderItems": items})
    }

    fn item(id: &str, order: &str, status: &str, total: f64) -> Value {
        json!({"orderItemId": id, "orderId": order, "orderDate": "2026-11-01T10:00:00.000+05:30",
            "status": status, "quantity": 2, "fsn": "TSHDBN3326TEZHQZ", "sku": "TEE-1", "title": "Tee",
            "priceComponents": {"sellingPrice": 249.5, "totalPrice": total, "customerPrice": total},
            "serviceProfile": "NON_FBF"})
    }

    #[test]
    fn shipments_become_whole_orders() {
        let shipments = vec![
            shipment(
                "s1",
                "2026-11-02T10:00:00.000+05:30",
                json!([item("1", "OD1", "SHIPPED", 499.0)]),
            ),
            shipment(
                "s2",
                "2026-11-03T10:00:00.000+05:30",
                json!([item("2", "OD1", "APPROVED", 100.25)]),
            ),
            shipment(
                "s3",
                "2026-11-02T10:00:00.000+05:30",
                json!([item("3", "OD2", "CANCELLED", 10.0), item("4", "OD2", "DELIVERED", 20.0)]),
            ),
            shipment(
                "s4",
                "2026-11-02T10:00:00.000+05:30",
                json!([item("5", "OD3", "LOST_IN_SPACE", 1.0)]),
            ),
            json!({"shipmentId": "s5", "orderItems": "not a list"}),
        ];
        let results = map_orders(shipments);
        let skipped: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|s| s.reason.clone())
            .collect();
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(skipped.iter().any(|r| r == "unknown status LOST_IN_SPACE"));
        let orders: Vec<Order> = results.into_iter().filter_map(Result::ok).collect();
        let od1 = orders.iter().find(|o| o.external_id == "OD1").expect("OD1");
        assert_eq!(od1.status, OrderStatus::PartiallyShipped);
        assert_eq!(od1.platform_status, "SHIPPED,APPROVED");
        assert_eq!(od1.total, Money::parse("599.25", "INR").ok());
        assert_eq!(od1.items.len(), 2);
        assert_eq!(od1.updated_at, parse_time("2026-11-03T04:30:00Z").expect("time"));
        assert_eq!(od1.fulfillment_channel.as_deref(), Some("SELLER"));
        assert_eq!(od1.items[0].quantity_shipped, 2);
        let od2 = orders.iter().find(|o| o.external_id == "OD2").expect("OD2");
        assert_eq!(
            od2.status,
            OrderStatus::Delivered,
            "a cancelled item leaves the delivered one to decide"
        );
    }

    #[test]
    fn an_order_is_as_far_as_its_least_advanced_item() {
        use OrderStatus::*;
        assert_eq!(order_status(&[Unshipped]), Unshipped);
        assert_eq!(order_status(&[Cancelled, Cancelled]), Cancelled);
        assert_eq!(order_status(&[Shipped, Unshipped]), PartiallyShipped);
        assert_eq!(order_status(&[Shipped, Delivered]), Shipped);
        assert_eq!(order_status(&[Delivered, Returned]), Delivered);
        assert_eq!(order_status(&[Returned, Cancelled]), Returned);
        assert_eq!(order_status(&[Delivered, ReturnRequested]), ReturnRequested);
    }

    #[test]
    fn each_stream_has_its_filter() {
        let since = parse_time("2026-11-01T00:00:00Z").expect("time");
        let held = filter("preDispatch:hold", since).expect("filter");
        assert_eq!(held["filter"]["hold"], true);
        assert_eq!(held["filter"]["modifiedDate"]["from"], "2026-11-01T00:00:00Z");
        let cancelled = filter("cancelled:buyerCancellation", since).expect("filter");
        assert_eq!(cancelled["filter"]["cancellationType"], "buyerCancellation");
        assert_eq!(cancelled["sort"], json!({"field": "cancellationDate", "order": "desc"}));
        assert!(STREAMS.iter().all(|stream| filter(stream, since).is_ok()));
        assert!(filter("returns", since).is_err());
    }
}
