//! Orders API v2026-01-01 `searchOrders`: every order of the account's marketplaces updated
//! since a watermark, with its items, a hundred a page; each mapped into the one order model.

use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Amazon, rfc3339};
use crate::connector::{OrdersPage, Skipped};
use crate::{MarketplaceError, Operation, Session};

pub const SEARCH_ORDERS: Operation = Operation {
    name: "searchOrders",
    rate: 0.0056,
    burst: 20,
};

pub const GET_ORDER: Operation = Operation {
    name: "getOrder",
    rate: 0.5,
    burst: 30,
};

/// What Javelin stores of an order besides the order itself; buyer names and addresses are not
/// asked for.
const INCLUDED_DATA: &str = "FULFILLMENT,PROCEEDS,RECIPIENT";
const PAGE_SIZE: &str = "100";
/// The orders that still need the seller.
const OPEN_STATUSES: &str = "PENDING_AVAILABILITY,PENDING,UNSHIPPED,PARTIALLY_SHIPPED";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchOrdersResponse {
    #[serde(default)]
    orders: Vec<Value>,
    #[serde(default)]
    pagination: Option<Pagination>,
    #[serde(default)]
    last_updated_before: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOrder {
    order_id: String,
    created_time: String,
    last_updated_time: String,
    sales_channel: SalesChannel,
    #[serde(default)]
    recipient: Option<Recipient>,
    #[serde(default)]
    proceeds: Option<OrderProceeds>,
    #[serde(default)]
    fulfillment: Option<OrderFulfillment>,
    order_items: Vec<WireItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SalesChannel {
    #[serde(default)]
    marketplace_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    #[serde(default)]
    delivery_address: Option<Address>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Address {
    city: Option<String>,
    state_or_region: Option<String>,
    postal_code: Option<String>,
    country_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderProceeds {
    grand_total: Option<WireMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderFulfillment {
    fulfillment_status: String,
    #[serde(default)]
    fulfilled_by: Option<String>,
    #[serde(default)]
    ship_by_window: Option<Window>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Window {
    latest_date_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    order_item_id: String,
    quantity_ordered: u32,
    product: Product,
    #[serde(default)]
    proceeds: Option<ItemProceeds>,
    #[serde(default)]
    fulfillment: Option<ItemFulfillment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Product {
    asin: Option<String>,
    title: Option<String>,
    seller_sku: Option<String>,
    price: Option<ItemPrice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemPrice {
    unit_price: Option<WireMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemProceeds {
    proceeds_total: Option<WireMoney>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ItemFulfillment {
    #[serde(default)]
    quantity_fulfilled: Option<u32>,
}

/// `{"amount": "11.01", "currencyCode": "USD"}`; the amount may come as a number too.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireMoney {
    amount: Value,
    currency_code: String,
}

impl WireMoney {
    fn parse(&self) -> Result<Money, String> {
        let amount = match &self.amount {
            Value::String(text) => text.clone(),
            Value::Number(number) => number.to_string(),
            other => return Err(format!("the amount {other} is not a number")),
        };
        Money::parse(&amount, &self.currency_code).map_err(|err| err.to_string())
    }
}

fn parse_time(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| format!("{text:?} is not an ISO 8601 time"))
}

fn status(fulfillment: &str) -> Option<OrderStatus> {
    Some(match fulfillment {
        "PENDING" | "PENDING_AVAILABILITY" => OrderStatus::Pending,
        "UNSHIPPED" => OrderStatus::Unshipped,
        "PARTIALLY_SHIPPED" => OrderStatus::PartiallyShipped,
        "SHIPPED" => OrderStatus::Shipped,
        "CANCELLED" => OrderStatus::Cancelled,
        "UNFULFILLABLE" => OrderStatus::Unfulfillable,
        _ => return None,
    })
}

/// One order of a searchOrders answer, or why it cannot be kept.
fn map_order(value: Value) -> Result<Order, Skipped> {
    let id = value.get("orderId").and_then(Value::as_str).map(str::to_owned);
    let skipped = |reason: String| Skipped { id: id.clone(), reason };
    let wire: WireOrder = serde_json::from_value(value).map_err(|err| skipped(format!("unexpected shape ({err})")))?;
    let fulfillment = wire
        .fulfillment
        .as_ref()
        .ok_or_else(|| skipped("no fulfillment status".into()))?;
    let order_status = status(&fulfillment.fulfillment_status)
        .ok_or_else(|| skipped(format!("unknown status {}", fulfillment.fulfillment_status)))?;
    let ship_by = match fulfillment
        .ship_by_window
        .as_ref()
        .and_then(|w| w.latest_date_time.as_deref())
    {
        Some(text) => Some(parse_time(text).map_err(skipped)?),
        None => None,
    };
    let total = match wire.proceeds.as_ref().and_then(|p| p.grand_total.as_ref()) {
        Some(money) => Some(money.parse().map_err(skipped)?),
        None => None,
    };
    let mut items = Vec::with_capacity(wire.order_items.len());
    for item in &wire.order_items {
        let unit_price = match item.product.price.as_ref().and_then(|p| p.unit_price.as_ref()) {
            Some(money) => Some(money.parse().map_err(skipped)?),
            None => None,
        };
        let line_total = match item.proceeds.as_ref().and_then(|p| p.proceeds_total.as_ref()) {
            Some(money) => Some(money.parse().map_err(skipped)?),
            None => None,
        };
        items.push(OrderItem {
            external_id: item.order_item_id.clone(),
            sku: item.product.seller_sku.clone(),
            product_id: item.product.asin.clone(),
            title: item.product.title.clone(),
            quantity: item.quantity_ordered,
            quantity_shipped: item
                .fulfillment
                .as_ref()
                .and_then(|f| f.quantity_fulfilled)
                .unwrap_or(0),
            unit_price,
            line_total,
        });
    }
    let address = wire.recipient.and_then(|r| r.delivery_address);
    let order = Order {
        external_id: wire.order_id,
        marketplace_id: wire.sales_channel.marketplace_id,
        status: order_status,
        platform_status: fulfillment.fulfillment_status.clone(),
        fulfillment_channel: fulfillment.fulfilled_by.as_deref().map(|by| match by {
            "AMAZON" => "AFN".to_owned(),
            "MERCHANT" => "MFN".to_owned(),
            other => other.to_owned(),
        }),
        purchased_at: parse_time(&wire.created_time).map_err(skipped)?,
        updated_at: parse_time(&wire.last_updated_time).map_err(skipped)?,
        ship_by,
        total,
        ship_to: address.map_or_else(ShipTo::default, |a| ShipTo {
            city: a.city,
            region: a.state_or_region,
            postal_code: a.postal_code,
            country: a.country_code,
        }),
        items,
    };
    match order.problem() {
        Some(problem) => Err(skipped(problem)),
        None => Ok(order),
    }
}

/// Reads a searchOrders answer: each order mapped or skipped with its reason.
pub(crate) fn read_page(url: &str, body: &str) -> Result<OrdersPage, MarketplaceError> {
    let page: SearchOrdersResponse = serde_json::from_str(body)
        .map_err(|err| crate::http::malformed(url, format!("an unexpected format ({err})")))?;
    let watermark = match page.last_updated_before.as_deref() {
        Some(text) => Some(parse_time(text).map_err(|reason| crate::http::malformed(url, reason))?),
        None => None,
    };
    Ok(OrdersPage {
        orders: page.orders.into_iter().map(map_order).collect(),
        next: page
            .pagination
            .and_then(|p| p.next_token)
            .filter(|token| !token.is_empty()),
        watermark,
    })
}

impl Amazon {
    /// One page of the orders of the account's marketplaces updated after `since`, continuing
    /// from `token` when given (with every other parameter as the first page had it).
    pub(crate) async fn search_orders(
        &self,
        session: &Session<'_>,
        since: OffsetDateTime,
        token: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        self.search(session, vec![("lastUpdatedAfter", rfc3339(since)?)], token)
            .await
    }

    /// One page of the orders placed after `since` that still wait to be shipped (pending,
    /// unshipped, partly shipped): what a seller needs first from a new connection.
    pub async fn open_orders(
        &self,
        session: &Session<'_>,
        since: OffsetDateTime,
        token: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        let filter = vec![
            ("createdAfter", rfc3339(since)?),
            ("fulfillmentStatuses", OPEN_STATUSES.to_owned()),
        ];
        self.search(session, filter, token).await
    }

    /// searchOrders with these filters, continuing from `token` when given.
    async fn search(
        &self,
        session: &Session<'_>,
        filter: Vec<(&str, String)>,
        token: Option<&str>,
    ) -> Result<OrdersPage, MarketplaceError> {
        let (base, marketplace_ids) = self.account_base(session.account)?;
        let mut query = filter;
        query.extend([
            ("marketplaceIds", marketplace_ids.join(",")),
            ("includedData", INCLUDED_DATA.to_owned()),
            ("maxResultsPerPage", PAGE_SIZE.to_owned()),
        ]);
        if let Some(token) = token {
            query.push(("paginationToken", token.to_owned()));
        }
        let (url, answer) = self
            .sp_get(&base, "/orders/2026-01-01/orders", &query, session, &SEARCH_ORDERS)
            .await?;
        read_page(&url, &answer.body)
    }

    /// `getOrder`: one order as it stands now, or why it cannot be kept.
    pub async fn get_order(
        &self,
        session: &Session<'_>,
        order_id: &str,
    ) -> Result<Result<Order, Skipped>, MarketplaceError> {
        let (base, _) = self.account_base(session.account)?;
        let path = format!(
            "/orders/2026-01-01/orders/{}",
            url::form_urlencoded::byte_serialize(order_id.as_bytes()).collect::<String>()
        );
        let query = [("includedData", INCLUDED_DATA.to_owned())];
        let (url, answer) = self.sp_get(&base, &path, &query, session, &GET_ORDER).await?;
        #[derive(Deserialize)]
        struct GetOrderResponse {
            order: Value,
        }
        let wrapped: GetOrderResponse = serde_json::from_str(&answer.body)
            .map_err(|err| crate::http::malformed(&url, format!("an unexpected format ({err})")))?;
        Ok(map_order(wrapped.order))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Amazon's own static-sandbox answers for searchOrders, read as the client reads them.
    #[test]
    fn amazon_static_sandbox_answers_parse() {
        let cases: Vec<Value> =
            serde_json::from_str(include_str!("../../data/amazon-sandbox/orders2026-searchOrders.json"))
                .expect("the cases are JSON");
        let mut orders = 0;
        for case in cases.iter().filter(|case| case["status"] == 200) {
            let body = case["response"].to_string();
            let page = read_page("https://sandbox.sellingpartnerapi-fe.amazon.com/x", &body).expect("a page");
            for order in page.orders {
                let order = order.unwrap_or_else(|skipped| panic!("{:?}: {}", skipped.id, skipped.reason));
                assert!(!order.items.is_empty());
                orders += 1;
            }
        }
        assert!(orders > 0);
    }

    #[test]
    fn orders_map_into_the_model() {
        let body = serde_json::json!({"orders": [{
            "orderId": "902-1845936-5435065", "createdTime": "2026-11-01T10:00:00Z",
            "lastUpdatedTime": "2026-11-02T08:30:00.123Z",
            "salesChannel": {"channelName": "AMAZON", "marketplaceId": "ATVPDKIKX0DER"},
            "recipient": {"deliveryAddress": {"name": "Not Stored", "addressLine1": "Not stored either",
                "city": "Seattle", "stateOrRegion": "WA", "postalCode": "98101", "countryCode": "US"}},
            "proceeds": {"grandTotal": {"amount": "35.97", "currencyCode": "USD"}},
            "fulfillment": {"fulfillmentStatus": "PARTIALLY_SHIPPED", "fulfilledBy": "MERCHANT",
                "shipByWindow": {"latestDateTime": "2026-11-03T23:59:59Z"}},
            "orderItems": [{"orderItemId": "1", "quantityOrdered": 3,
                "product": {"asin": "B000000001", "sellerSku": "MUG-1", "title": "Mug",
                    "price": {"unitPrice": {"amount": "11.99", "currencyCode": "USD"}}},
                "proceeds": {"proceedsTotal": {"amount": "35.97", "currencyCode": "USD"}},
                "fulfillment": {"quantityFulfilled": 1, "quantityUnfulfilled": 2}}]
        }, {
            "orderId": "902-0000000-0000002", "createdTime": "yesterday", "lastUpdatedTime": "2026-11-02T08:30:00Z",
            "salesChannel": {"channelName": "AMAZON"}, "fulfillment": {"fulfillmentStatus": "SHIPPED"}, "orderItems": []
        }, {"orderId": "902-0000000-0000003"}],
        "pagination": {"nextToken": "abc+/="}, "lastUpdatedBefore": "2026-11-02T09:00:00Z"});
        let page = read_page("https://x", &body.to_string()).expect("page");
        assert_eq!(page.next.as_deref(), Some("abc+/="));
        assert_eq!(page.watermark, Some(parse_time("2026-11-02T09:00:00Z").expect("time")));
        let mut results = page.orders.into_iter();
        let order = results.next().expect("one").expect("mapped");
        assert_eq!(
            (order.status, order.platform_status.as_str()),
            (OrderStatus::PartiallyShipped, "PARTIALLY_SHIPPED")
        );
        assert_eq!(order.fulfillment_channel.as_deref(), Some("MFN"));
        assert_eq!(order.total, Money::parse("35.97", "USD").ok());
        assert_eq!(order.ship_to.postal_code.as_deref(), Some("98101"));
        let item = &order.items[0];
        assert_eq!(
            (item.quantity, item.quantity_shipped, item.sku.as_deref()),
            (3, 1, Some("MUG-1"))
        );
        assert_eq!(item.unit_price, Money::parse("11.99", "USD").ok());
        let bad_time = results.next().expect("two").expect_err("skipped");
        assert_eq!(bad_time.id.as_deref(), Some("902-0000000-0000002"));
        assert!(bad_time.reason.contains("\"yesterday\""), "{}", bad_time.reason);
        let shapeless = results.next().expect("three").expect_err("skipped");
        assert!(shapeless.reason.starts_with("unexpected shape"), "{}", shapeless.reason);
    }
}
