//! An order as Javelin keeps it, whatever the channel.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Money;

/// Where an order stands, in Javelin's words; the marketplace's own word is kept beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Not yet payable or confirmed (Amazon Pending).
    Pending,
    /// Waiting to be shipped.
    Unshipped,
    PartiallyShipped,
    Shipped,
    Delivered,
    Cancelled,
    ReturnRequested,
    Returned,
    /// The marketplace cannot fulfil it.
    Unfulfillable,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        Self::Pending,
        Self::Unshipped,
        Self::PartiallyShipped,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::ReturnRequested,
        Self::Returned,
        Self::Unfulfillable,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Unshipped => "unshipped",
            Self::PartiallyShipped => "partially_shipped",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::ReturnRequested => "return_requested",
            Self::Returned => "returned",
            Self::Unfulfillable => "unfulfillable",
        }
    }

    /// For people: "Partially shipped".
    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Unshipped => "Unshipped",
            Self::PartiallyShipped => "Partially shipped",
            Self::Shipped => "Shipped",
            Self::Delivered => "Delivered",
            Self::Cancelled => "Cancelled",
            Self::ReturnRequested => "Return requested",
            Self::Returned => "Returned",
            Self::Unfulfillable => "Unfulfillable",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an order status")]
pub struct UnknownStatus(pub String);

impl FromStr for OrderStatus {
    type Err = UnknownStatus;
    fn from_str(code: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.code() == code)
            .ok_or_else(|| UnknownStatus(code.to_owned()))
    }
}

/// Where an order goes, as far as an OMS needs it: no names, streets or phone numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShipTo {
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// The marketplace's order id (Amazon `902-1845936-5435065`, Flipkart `OD…`).
    pub external_id: String,
    pub marketplace_id: Option<String>,
    pub status: OrderStatus,
    pub platform_status: String,
    /// Who fulfils it: Amazon `AFN`/`MFN`, Flipkart `FBF`/`NON_FBF`.
    pub fulfillment_channel: Option<String>,
    pub purchased_at: OffsetDateTime,
    /// When the marketplace last changed it: the newer state wins.
    pub updated_at: OffsetDateTime,
    pub ship_by: Option<OffsetDateTime>,
    pub total: Option<Money>,
    pub ship_to: ShipTo,
    pub items: Vec<OrderItem>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderItem {
    /// The marketplace's id of the line (Amazon orderItemId, Flipkart orderItemId).
    pub external_id: String,
    pub sku: Option<String>,
    /// ASIN or FSN.
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub quantity: u32,
    pub quantity_shipped: u32,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
}

impl OrderItem {
    /// The currency of the item's prices, if it has any.
    pub fn currency(&self) -> Option<&'static str> {
        self.unit_price.or(self.line_total).map(|money| money.currency())
    }
}

impl Order {
    /// Why this order cannot be stored as it is, if it cannot: checked before storing, so that
    /// one bad record is skipped with its reason instead of stopping a sync.
    pub fn problem(&self) -> Option<String> {
        if self.external_id.trim().is_empty() {
            return Some("the order has no id".into());
        }
        let mut ids = std::collections::HashSet::new();
        for item in &self.items {
            if item.external_id.trim().is_empty() {
                return Some("an item has no id".into());
            }
            if !ids.insert(item.external_id.as_str()) {
                return Some(format!("item {} appears twice", item.external_id));
            }
            if let (Some(unit), Some(line)) = (item.unit_price, item.line_total)
                && unit.currency() != line.currency()
            {
                return Some(format!(
                    "item {} is priced in {} and {}",
                    item.external_id,
                    unit.currency(),
                    line.currency()
                ));
            }
            if item.quantity_shipped > item.quantity {
                return Some(format!(
                    "item {} has {} shipped of {} ordered",
                    item.external_id, item.quantity_shipped, item.quantity
                ));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_have_stable_codes() {
        for status in OrderStatus::ALL {
            assert_eq!(status.code().parse(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(serde_json::json!(status.code()))
            );
        }
        assert!("lost".parse::<OrderStatus>().is_err());
    }

    #[test]
    fn inconsistent_orders_say_why() {
        let at = OffsetDateTime::UNIX_EPOCH;
        let item = |id: &str, shipped| OrderItem {
            external_id: id.into(),
            sku: Some("SKU".into()),
            product_id: None,
            title: None,
            quantity: 2,
            quantity_shipped: shipped,
            unit_price: Money::parse("1.00", "USD").ok(),
            line_total: Money::parse("2.00", "USD").ok(),
        };
        let mut order = Order {
            external_id: "1".into(),
            marketplace_id: None,
            status: OrderStatus::Unshipped,
            platform_status: "UNSHIPPED".into(),
            fulfillment_channel: None,
            purchased_at: at,
            updated_at: at,
            ship_by: None,
            total: None,
            ship_to: ShipTo::default(),
            items: vec![item("a", 0), item("b", 2)],
        };
        assert_eq!(order.problem(), None);
        order.items.push(item("c", 3));
        assert_eq!(order.problem().as_deref(), Some("item c has 3 shipped of 2 ordered"));
        order.items.pop();
        order.items[1].line_total = Money::parse("2.00", "EUR").ok();
        assert!(order.problem().is_some_and(|p| p.contains("USD and EUR")));
        order.items[1] = item("a", 0);
        assert_eq!(order.problem().as_deref(), Some("item a appears twice"));
    }
}
