//! Stock as a channel reports it.

use time::OffsetDateTime;

/// One SKU's quantities in one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockLevel {
    /// Amazon marketplace; `None` where stock is not per marketplace (Flipkart).
    pub marketplace_id: Option<String>,
    pub sku: String,
    /// `fba`, `fbm`, or a Flipkart location id.
    pub location: String,
    /// ASIN or FSN.
    pub product_id: Option<String>,
    pub title: Option<String>,
    pub available: i64,
    pub reserved: i64,
    pub inbound: i64,
    pub unfulfillable: i64,
    /// When the channel last changed it, if it says.
    pub updated_at: Option<OffsetDateTime>,
}
