//! The all-orders flat file (`amazon-reports.md` §4.2): one tab-separated row per order item,
//! with no quoting of any kind, encoded in the region's charset and gzip-compressed.

use std::borrow::Cow;
use std::io::Write;

use encoding_rs::{EncoderResult, Encoding, SHIFT_JIS, UTF_8, WINDOWS_1252};
use flate2::Compression;
use flate2::write::GzEncoder;
use javelin_marketplaces::amazon::marketplaces;
use javelin_marketplaces::amazon::reports::ALL_ORDERS_COLUMNS;
use javelin_model::Money;
use time::format_description::well_known::Rfc3339;
use time::macros::offset;
use time::{Duration, OffsetDateTime, UtcOffset};

use super::channel_name;
use super::orders::{SimItem, SimOrder};

/// How long after shipping a report calls an order delivered (the simulator has no carrier).
const DELIVERED_AFTER: Duration = Duration::days(3);

/// What the download's `Content-Type` names, and how the text is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Charset {
    pub(crate) label: &'static str,
    encoding: &'static Encoding,
}

/// The charset of a region's files, as users found them (§3): UTF-8 in North America, Cp1252
/// in Europe, windows-31j (Shift_JIS) in the Far East.
pub(crate) fn charset(region: &str) -> Charset {
    let (label, encoding) = match region {
        "EU" => ("Cp1252", WINDOWS_1252),
        "FE" => ("windows-31j", SHIFT_JIS),
        _ => ("UTF-8", UTF_8),
    };
    Charset { label, encoding }
}

/// Which order items a file holds, and when its content is taken.
pub(crate) struct Selection {
    /// Rows by `last-updated-date` (otherwise by `purchase-date`).
    pub(crate) by_last_update: bool,
    pub(crate) start: OffsetDateTime,
    pub(crate) end: OffsetDateTime,
    /// The moment processing ended: the orders as they stood then.
    pub(crate) at: OffsetDateTime,
}

/// A header column: a documented one, or an extra one with the value every row gives it.
#[derive(Debug, PartialEq, Eq)]
enum Column {
    Known(&'static str),
    Extra(String, &'static str),
}

impl Column {
    fn name(&self) -> &str {
        match self {
            Self::Known(name) => name,
            Self::Extra(name, _) => name,
        }
    }
}

/// The documented columns (no `cpf` by last update), `order-item-id` after `order-status` as
/// in newer files, and the extra columns spread over the line.
fn columns(by_last_update: bool, extra: &[String]) -> Vec<Column> {
    let mut columns = Vec::with_capacity(ALL_ORDERS_COLUMNS.len() + 1 + extra.len());
    for name in ALL_ORDERS_COLUMNS {
        if by_last_update && name == "cpf" {
            continue;
        }
        columns.push(Column::Known(name));
        if name == "order-status" {
            columns.push(Column::Known("order-item-id"));
        }
    }
    for (i, name) in extra.iter().enumerate() {
        if columns.iter().any(|column| column.name() == name) {
            continue;
        }
        // Amazon's new columns turn up anywhere, not only at the end.
        let at = (4 + 9 * i) % (columns.len() + 1);
        let value = if i % 2 == 0 { "false" } else { "" };
        columns.insert(at, Column::Extra(name.clone(), value));
    }
    columns
}

/// The report's word for an order status (§4.6).
fn order_status(status: &'static str, updated: OffsetDateTime, at: OffsetDateTime) -> &'static str {
    match status {
        "PENDING" => "Pending",
        "UNSHIPPED" => "Unshipped",
        "PARTIALLY_SHIPPED" => "Shipping",
        "SHIPPED" if at - updated > DELIVERED_AFTER => "Shipped - Delivered to Buyer",
        "SHIPPED" => "Shipped",
        "CANCELLED" => "Cancelled",
        other => other,
    }
}

/// A time as the files write it: RFC 3339 with a numeric offset, Japan's in local time.
fn report_time(at: OffsetDateTime, offset: UtcOffset) -> String {
    let local = at.checked_to_offset(offset).unwrap_or(at);
    // Years 0..=9999 always format; the sandbox's dates are near now.
    let text = local.format(&Rfc3339).unwrap_or_default();
    match text.strip_suffix('Z') {
        Some(rest) => format!("{rest}+00:00"),
        None => text,
    }
}

/// A decimal amount with the currency's minor digits (`12.30`, `1230` for yen).
fn amount(minor: i64, currency: &str) -> String {
    Money::from_minor(minor, currency).map_or_else(|_| minor.to_string(), |money| money.amount().to_string())
}

/// Text without the characters that would break a line of a file that has no quoting.
fn clean(text: &str) -> Cow<'_, str> {
    if text.contains(['\t', '\n', '\r']) {
        Cow::Owned(text.replace(['\t', '\n', '\r'], " "))
    } else {
        Cow::Borrowed(text)
    }
}

/// One row: an item of an order, with the order's fields.
struct Line<'a> {
    order: &'a SimOrder,
    item: &'a SimItem,
    status: &'static str,
    order_status: &'static str,
    item_status: &'static str,
    purchase: &'a str,
    updated: &'a str,
    channel: &'a str,
}

impl Line<'_> {
    fn field(&self, column: &str) -> Cow<'_, str> {
        let order = self.order;
        let (city, state, postal, country) = order.address;
        // Amazon leaves a seller-fulfilled order's prices blank while it is pending.
        let priced = order.amazon_fulfils || self.status != "PENDING";
        let money = |minor: i64| {
            Cow::Owned(if priced {
                amount(minor, &order.currency)
            } else {
                String::new()
            })
        };
        let text = match column {
            "amazon-order-id" => &order.id,
            "purchase-date" => self.purchase,
            "last-updated-date" => self.updated,
            "order-status" => self.order_status,
            "order-item-id" => &self.item.id,
            "fulfillment-channel" if order.amazon_fulfils => "Amazon",
            "fulfillment-channel" => "Merchant",
            "sales-channel" => self.channel,
            "ship-service-level" => "Standard",
            "product-name" => return clean(&self.item.title),
            "sku" => return clean(&self.item.sku),
            "asin" => &self.item.asin,
            "item-status" => self.item_status,
            "quantity" => return Cow::Owned(self.item.quantity.to_string()),
            "currency" => &order.currency,
            "item-price" => return money(self.item.unit_minor.saturating_mul(i64::from(self.item.quantity))),
            "item-tax" | "shipping-price" => return money(0),
            "ship-city" => city,
            "ship-state" => state,
            "ship-postal-code" => postal,
            "ship-country" => country,
            "is-business-order" => "false",
            // merchant-order-id, order-channel, the other amounts, promotion-ids, cpf,
            // purchase-order-number, price-designation: blank for these orders.
            _ => "",
        };
        Cow::Borrowed(text)
    }
}

fn push_line<'a>(text: &mut String, fields: impl Iterator<Item = Cow<'a, str>>) {
    for (i, field) in fields.enumerate() {
        if i > 0 {
            text.push('\t');
        }
        text.push_str(&field);
    }
    text.push('\n');
}

/// The file's text and its number of rows, from these orders as they stood at `selection.at`;
/// `None` when no order falls in the window (Amazon then cancels the report).
pub(crate) fn render<'a>(
    orders: impl IntoIterator<Item = &'a SimOrder>,
    selection: &Selection,
    extra: &[String],
) -> Option<(String, usize)> {
    let mut found: Vec<(OffsetDateTime, &SimOrder, &'static str, OffsetDateTime, u32)> = orders
        .into_iter()
        .filter_map(|order| {
            let (status, updated, shipped) = order.at(selection.at)?;
            let key = if selection.by_last_update {
                updated
            } else {
                order.created
            };
            (key >= selection.start && key <= selection.end).then_some((key, order, status, updated, shipped))
        })
        .collect();
    if found.is_empty() {
        return None;
    }
    found.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    let columns = columns(selection.by_last_update, extra);
    let mut text = String::with_capacity(found.len() * 400);
    push_line(&mut text, columns.iter().map(|column| Cow::Borrowed(column.name())));
    let mut rows = 0;
    for (_, order, status, updated, mut shipped) in found {
        let marketplace = marketplaces::find(&order.marketplace_id);
        let offset = if marketplace.is_some_and(|m| m.country_code == "JP") {
            offset!(+9)
        } else {
            UtcOffset::UTC
        };
        let purchase = report_time(order.created, offset);
        let updated_text = report_time(updated, offset);
        let channel = marketplace.map(channel_name).unwrap_or_default();
        for item in &order.items {
            // Shipped units go to the first items first, as getOrder's quantities do.
            let fulfilled = shipped.min(item.quantity);
            shipped -= fulfilled;
            let line = Line {
                order,
                item,
                status,
                order_status: order_status(status, updated, selection.at),
                item_status: match status {
                    "CANCELLED" => "Cancelled",
                    _ if fulfilled == item.quantity => "Shipped",
                    _ => "Unshipped",
                },
                purchase: &purchase,
                updated: &updated_text,
                channel: &channel,
            };
            push_line(
                &mut text,
                columns.iter().map(|column| match column {
                    Column::Known(name) => line.field(name),
                    Column::Extra(_, value) => Cow::Borrowed(*value),
                }),
            );
            rows += 1;
        }
    }
    Some((text, rows))
}

/// The text in the charset; characters it lacks become `?`, as in Amazon's own files (§3).
fn encode(text: &str, encoding: &'static Encoding) -> Vec<u8> {
    if encoding == UTF_8 {
        return text.as_bytes().to_vec();
    }
    let mut encoder = encoding.new_encoder();
    let mut out = Vec::with_capacity(text.len() + 16);
    let mut rest = text;
    loop {
        let (result, read) = encoder.encode_from_utf8_to_vec_without_replacement(rest, &mut out, true);
        rest = rest.get(read..).unwrap_or_default();
        match result {
            EncoderResult::InputEmpty => return out,
            EncoderResult::OutputFull => out.reserve(rest.len() + 16),
            EncoderResult::Unmappable(_) => out.push(b'?'),
        }
    }
}

/// The document as stored: the text in the charset, gzip-compressed.
pub(crate) fn compress(text: &str, charset: Charset) -> std::io::Result<Vec<u8>> {
    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(&encode(text, charset.encoding))?;
    gzip.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn names(by_last_update: bool, extra: &[&str]) -> Vec<String> {
        let extra: Vec<String> = extra.iter().map(|name| (*name).to_owned()).collect();
        columns(by_last_update, &extra)
            .iter()
            .map(|column| column.name().to_owned())
            .collect()
    }

    #[test]
    fn columns_follow_the_documented_list_with_the_item_id_after_the_status() {
        let by_date = names(false, &[]);
        assert_eq!(by_date.len(), 33);
        assert_eq!(
            by_date[..6],
            [
                "amazon-order-id",
                "merchant-order-id",
                "purchase-date",
                "last-updated-date",
                "order-status",
                "order-item-id"
            ]
        );
        assert!(by_date.iter().any(|name| name == "cpf"));
        let by_update = names(true, &[]);
        assert_eq!(by_update.len(), 32);
        assert!(!by_update.iter().any(|name| name == "cpf"));

        let extended = names(false, &["number-of-items", "signature-confirmation-recommended", "sku"]);
        assert_eq!(extended.len(), 35, "a known name is not added twice");
        assert_eq!(extended[4], "number-of-items");
        assert_eq!(extended[13], "signature-confirmation-recommended");
    }

    #[test]
    fn statuses_use_the_reports_words() {
        let at = datetime!(2026-05-20 12:00 UTC);
        assert_eq!(order_status("PARTIALLY_SHIPPED", at, at), "Shipping");
        assert_eq!(order_status("SHIPPED", at - Duration::days(1), at), "Shipped");
        assert_eq!(
            order_status("SHIPPED", at - Duration::days(4), at),
            "Shipped - Delivered to Buyer"
        );
        assert_eq!(order_status("CANCELLED", at, at), "Cancelled");
    }

    #[test]
    fn times_carry_a_numeric_offset() {
        let at = datetime!(2026-05-11 01:01:48 UTC);
        assert_eq!(report_time(at, UtcOffset::UTC), "2026-05-11T01:01:48+00:00");
        assert_eq!(report_time(at, offset!(+9)), "2026-05-11T10:01:48+09:00");
        assert_eq!(amount(1230, "USD"), "12.30");
        assert_eq!(amount(1230, "JPY"), "1230");
    }

    #[test]
    fn characters_outside_the_charset_become_question_marks() {
        assert_eq!(encode("Café Łódź", WINDOWS_1252), b"Caf\xe9 ?\xf3d?");
        // マグ in Shift_JIS; Shift_JIS has no é.
        assert_eq!(encode("マグé", SHIFT_JIS), b"\x83}\x83O?");
        assert_eq!(clean("a\tb\nc"), "a b c");
    }
}
