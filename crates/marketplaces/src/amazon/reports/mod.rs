//! Reports API 2021-06-30: the all-orders flat-file reports that bring an account's order
//! history in 30-day windows (`shared/reference/amazon-reports.md`).

mod client;
mod document;

use crate::Operation;

pub use client::{Download, DownloadError, ProcessingStatus, Report, ReportDocument};
pub use document::{DocumentError, OrdersDocument, report_status};

pub const CREATE_REPORT: Operation = Operation {
    name: "createReport",
    rate: 0.0167,
    burst: 15,
};
pub const GET_REPORT: Operation = Operation {
    name: "getReport",
    rate: 2.0,
    burst: 15,
};
pub const GET_REPORT_DOCUMENT: Operation = Operation {
    name: "getReportDocument",
    rate: 0.0167,
    burst: 15,
};

/// Every order placed in the window, one row per item, as it stands when the report is made.
pub const ALL_ORDERS_BY_ORDER_DATE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL";
/// Every order changed in the window, one row per item.
pub const ALL_ORDERS_BY_LAST_UPDATE: &str = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL";

/// The longest window Amazon makes an all-orders report of.
pub const MAX_WINDOW: time::Duration = time::Duration::days(30);

/// How long a report document's download URL works.
pub const DOCUMENT_URL_LIFETIME: time::Duration = time::Duration::minutes(5);

/// What Amazon writes instead of rows for a window over 30 days.
pub const WINDOW_EXCEEDED: &str = "Date range exceeded. Report can be requested only upto 30 days";

/// The documented columns of `GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL`, in order
/// (the by-last-update report has the same without `cpf`); newer files add `order-item-id`
/// after `order-status`, and more.
pub const ALL_ORDERS_COLUMNS: [&str; 32] = [
    "amazon-order-id",
    "merchant-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "order-channel",
    "ship-service-level",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "item-tax",
    "shipping-price",
    "shipping-tax",
    "gift-wrap-price",
    "gift-wrap-tax",
    "item-promotion-discount",
    "ship-promotion-discount",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
    "promotion-ids",
    "cpf",
    "is-business-order",
    "purchase-order-number",
    "price-designation",
];
