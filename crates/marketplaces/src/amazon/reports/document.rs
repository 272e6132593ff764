//! Reading an all-orders report document as it downloads, never whole in memory: gunzip (when
//! the bytes are gzip, whatever was announced), decode with the charset of the download's
//! `Content-Type`, split into lines and tab-separated fields (Amazon's flat files have no
//! quoting at all, so a field is everything between two tabs), and map columns by header name.
//! Rows of one order come one after another; each order is handed on when its last row is read.

use std::io::Write;

use javelin_model::{Money, Order, OrderItem, OrderStatus, ShipTo};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::amazon::marketplaces;
use crate::connector::Skipped;

use super::WINDOW_EXCEEDED;

/// Why a document could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("Amazon made no report of a window over 30 days (it said: {WINDOW_EXCEEDED})")]
    WindowExceeded,
    #[error("the report is cut off: {0}")]
    Truncated(String),
    #[error("the report has no {0} column")]
    MissingColumn(&'static str),
    #[error("the document is not an orders report (it begins {0:?})")]
    NotAReport(String),
}

/// The columns an order cannot be stored without.
const REQUIRED: [&str; 9] = [
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "sales-channel",
    "sku",
    "quantity",
    "currency",
    "item-price",
];

/// Where each known column is in this document's rows.
struct Columns {
    positions: Vec<(&'static str, usize)>,
}

const KNOWN: [&str; 18] = [
    "amazon-order-id",
    "order-item-id",
    "purchase-date",
    "last-updated-date",
    "order-status",
    "fulfillment-channel",
    "sales-channel",
    "product-name",
    "sku",
    "asin",
    "item-status",
    "quantity",
    "currency",
    "item-price",
    "ship-city",
    "ship-state",
    "ship-postal-code",
    "ship-country",
];

impl Columns {
    fn from_header(line: &str) -> Result<Self, DocumentError> {
        if line.trim() == WINDOW_EXCEEDED {
            return Err(DocumentError::WindowExceeded);
        }
        let names: Vec<&str> = line.split('\t').map(str::trim).collect();
        if !names.contains(&"amazon-order-id") {
            return Err(DocumentError::NotAReport(line.chars().take(80).collect()));
        }
        // Unknown columns (Amazon adds them without notice) are passed over.
        let positions: Vec<(&'static str, usize)> = KNOWN
            .iter()
            .filter_map(|known| names.iter().position(|name| name == known).map(|at| (*known, at)))
            .collect();
        for required in REQUIRED {
            if !positions.iter().any(|(name, _)| *name == required) {
                return Err(DocumentError::MissingColumn(required));
            }
        }
        Ok(Self { positions })
    }

    /// A row's value of a column; empty means no value (trailing empty fields may be missing).
    fn get<'a>(&self, fields: &[&'a str], column: &str) -> Option<&'a str> {
        let at = self.positions.iter().find(|(name, _)| *name == column)?.1;
        fields
            .get(at)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }
}

/// Javelin's status for a report's `order-status` word (§4.6): every "Shipped - …" is shipped,
/// only "Delivered to Buyer" and "Picked Up" prove delivery; an unknown word is not guessed.
pub fn report_status(word: &str) -> Option<OrderStatus> {
    Some(match word {
        "Pending" | "Pending - Waiting for Pick Up" => OrderStatus::Pending,
        "Unshipped" => OrderStatus::Unshipped,
        "PartiallyShipped" | "Shipping" => OrderStatus::PartiallyShipped,
        "Shipped - Delivered to Buyer" | "Shipped - Picked Up" => OrderStatus::Delivered,
        "Cancelled" | "Canceled" => OrderStatus::Cancelled,
        "Unfulfillable" => OrderStatus::Unfulfillable,
        word if word == "Shipped" || word.starts_with("Shipped - ") => OrderStatus::Shipped,
        _ => return None,
    })
}

/// The marketplace of a `sales-channel` value (`Amazon.co.uk` → `A1F83G8C2ARO7P`).
fn marketplace_of(channel: &str) -> Option<&'static str> {
    let wanted = channel.to_ascii_lowercase();
    marketplaces::all()
        .iter()
        .find(|m| m.domain.trim_start_matches("www.") == wanted)
        .map(|m| m.marketplace_id.as_str())
}

/// One order's rows, as they are read.
struct Pending {
    id: String,
    rows: Vec<Result<Row, String>>,
}

/// What one row says of its order and item.
struct Row {
    marketplace_id: Option<&'static str>,
    channel: String,
    status_word: String,
    fulfilled_by: Option<String>,
    purchased_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    ship_to: ShipTo,
    item_id: Option<String>,
    sku: String,
    asin: Option<String>,
    title: Option<String>,
    quantity: u32,
    shipped: bool,
    price: Option<Money>,
}

fn parse_time(column: &str, value: Option<&str>) -> Result<OffsetDateTime, String> {
    let value = value.ok_or_else(|| format!("no {column}"))?;
    OffsetDateTime::parse(value, &Rfc3339)
        .map(|at| at.to_offset(time::UtcOffset::UTC))
        .map_err(|_| format!("{column} {value:?} is not a date and time"))
}

impl Row {
    fn read(columns: &Columns, fields: &[&str]) -> Result<Self, String> {
        let get = |column| columns.get(fields, column);
        let channel = get("sales-channel").unwrap_or_default().to_owned();
        let currency = get("currency");
        let price = match (get("item-price"), currency) {
            (Some(amount), Some(currency)) => {
                Some(Money::parse(amount, currency).map_err(|err| format!("item-price: {err}"))?)
            }
            // Blank: unknown (a merchant-fulfilled order still pending), not zero.
            _ => None,
        };
        let quantity = get("quantity")
            .ok_or("no quantity")?
            .parse::<u32>()
            .map_err(|_| format!("quantity {:?} is not a number", get("quantity").unwrap_or_default()))?;
        Ok(Self {
            marketplace_id: marketplace_of(&channel),
            status_word: get("order-status").ok_or("no order-status")?.to_owned(),
            fulfilled_by: get("fulfillment-channel").map(|by| match by {
                "Amazon" => "AFN".to_owned(),
                "Merchant" => "MFN".to_owned(),
                other => other.to_owned(),
            }),
            purchased_at: parse_time("purchase-date", get("purchase-date"))?,
            updated_at: parse_time("last-updated-date", get("last-updated-date"))?,
            ship_to: ShipTo {
                city: get("ship-city").map(str::to_owned),
                region: get("ship-state").map(str::to_owned),
                postal_code: get("ship-postal-code").map(str::to_owned),
                country: get("ship-country").map(str::to_owned),
            },
            item_id: get("order-item-id").map(str::to_owned),
            sku: get("sku").ok_or("no sku")?.to_owned(),
            asin: get("asin").map(str::to_owned),
            title: get("product-name").map(str::to_owned),
            quantity,
            shipped: get("item-status") == Some("Shipped"),
            price,
            channel,
        })
    }
}

impl Pending {
    /// The order its rows make, or why it cannot be stored.
    fn into_order(self) -> Result<Order, Skipped> {
        let skipped = |reason: String| Skipped {
            id: Some(self.id.clone()),
            reason,
        };
        let rows: Vec<Row> = self.rows.into_iter().collect::<Result<_, _>>().map_err(skipped)?;
        let Some(first) = rows.first() else {
            return Err(skipped("no rows".into()));
        };
        let Some(marketplace_id) = first.marketplace_id else {
            return Err(skipped(match first.channel.as_str() {
                "Non-Amazon" => "a Multi-Channel Fulfillment order for another channel, not an Amazon sale".into(),
                other => format!("sales channel {other:?} is no Amazon marketplace Javelin knows"),
            }));
        };
        let Some(status) = report_status(&first.status_word) else {
            return Err(skipped(format!(
                "order status {:?} is not one Javelin knows; the order comes with the next sync",
                first.status_word
            )));
        };
        // Order-level fields repeat on every row: the latest row's count.
        let latest = rows.iter().max_by_key(|row| row.updated_at).unwrap_or(first);
        let total = rows.iter().try_fold(None::<Money>, |sum, row| {
            let price = row.price?;
            match sum {
                None => Some(Some(price)),
                Some(sum) if sum.currency() == price.currency() => {
                    Money::from_minor(sum.minor().checked_add(price.minor())?, sum.currency())
                        .ok()
                        .map(Some)
                }
                Some(_) => None,
            }
        });
        let items = rows
            .iter()
            .enumerate()
            .map(|(ordinal, row)| OrderItem {
                // Without Amazon's item id, the line's place in the order names it.
                external_id: row
                    .item_id
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}:{ordinal}", row.sku, row.asin.as_deref().unwrap_or(""))),
                sku: Some(row.sku.clone()),
                product_id: row.asin.clone(),
                title: row.title.clone(),
                quantity: row.quantity,
                quantity_shipped: if row.shipped { row.quantity } else { 0 },
                unit_price: row.price.and_then(|line| unit_price(line, row.quantity)),
                line_total: row.price,
            })
            .collect();
        let order = Order {
            external_id: self.id.clone(),
            marketplace_id: Some(marketplace_id.to_owned()),
            status,
            platform_status: latest.status_word.clone(),
            fulfillment_channel: latest.fulfilled_by.clone(),
            purchased_at: latest.purchased_at,
            updated_at: latest.updated_at,
            // The report has no ship-by time: what the API gave stays.
            ship_by: None,
            total: total.flatten(),
            ship_to: latest.ship_to.clone(),
            items,
        };
        match order.problem() {
            Some(problem) => Err(skipped(problem)),
            None => Ok(order),
        }
    }
}

/// The unit price of a line total, when it divides exactly.
fn unit_price(line: Money, quantity: u32) -> Option<Money> {
    let quantity = i64::from(quantity);
    if quantity == 0 || line.minor() % quantity != 0 {
        return None;
    }
    Money::from_minor(line.minor() / quantity, line.currency()).ok()
}

/// Text to orders: lines, the header, rows grouped by order.
struct Lines {
    decoder: encoding_rs::Decoder,
    text: String,
    columns: Option<Columns>,
    current: Option<Pending>,
    ready: Vec<Result<Order, Skipped>>,
    error: Option<DocumentError>,
    rows: u64,
}

impl Lines {
    fn decode(&mut self, bytes: &[u8], last: bool) {
        let needed = self
            .decoder
            .max_utf8_buffer_length(bytes.len())
            .unwrap_or(bytes.len().saturating_mul(3));
        self.text.reserve(needed);
        // With the room reserved above, one call decodes everything (malformed bytes become
        // U+FFFD rather than stopping the import).
        let _ = self.decoder.decode_to_string(bytes, &mut self.text, last);
        let Some(end) = self.text.rfind('\n') else {
            if last {
                let rest = std::mem::take(&mut self.text);
                self.line(&rest);
            }
            return;
        };
        let complete: String = self.text.drain(..=end).collect();
        for line in complete.split('\n') {
            self.line(line);
        }
        if last {
            let rest = std::mem::take(&mut self.text);
            self.line(&rest);
        }
    }

    fn line(&mut self, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() || self.error.is_some() {
            return;
        }
        let Some(columns) = &self.columns else {
            match Columns::from_header(line.trim_start_matches('\u{feff}')) {
                Ok(columns) => self.columns = Some(columns),
                Err(err) => self.error = Some(err),
            }
            return;
        };
        let fields: Vec<&str> = line.split('\t').collect();
        let Some(id) = columns.get(&fields, "amazon-order-id").map(str::to_owned) else {
            return;
        };
        self.rows += 1;
        let row = Row::read(columns, &fields);
        match &mut self.current {
            Some(pending) if pending.id == id => pending.rows.push(row),
            _ => {
                if let Some(done) = self.current.replace(Pending { id, rows: vec![row] }) {
                    self.ready.push(done.into_order());
                }
            }
        }
    }

    fn end(&mut self) {
        if let Some(done) = self.current.take() {
            self.ready.push(done.into_order());
        }
    }
}

impl Write for Lines {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.decode(bytes, false);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

enum Stage {
    /// Before the first two bytes, which say whether it is gzip.
    Sniffing(Vec<u8>),
    Gzip(Box<flate2::write::GzDecoder<Lines>>),
    Plain(Lines),
}

/// An all-orders report document, read as its bytes arrive.
pub struct OrdersDocument {
    stage: Stage,
    charset: &'static encoding_rs::Encoding,
}

impl OrdersDocument {
    /// `charset`: the label in the download's `Content-Type` (UTF-8 without one).
    pub fn new(charset: Option<&str>) -> Self {
        let charset = charset
            .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()))
            .unwrap_or(encoding_rs::UTF_8);
        Self {
            stage: Stage::Sniffing(Vec::new()),
            charset,
        }
    }

    fn lines(&self) -> Lines {
        Lines {
            decoder: self.charset.new_decoder(),
            text: String::new(),
            columns: None,
            current: None,
            ready: Vec::new(),
            error: None,
            rows: 0,
        }
    }

    /// Reads the next bytes of the download.
    pub fn push(&mut self, bytes: &[u8]) -> Result<(), DocumentError> {
        if let Stage::Sniffing(start) = &mut self.stage {
            start.extend_from_slice(bytes);
            if start.len() < 2 {
                return Ok(());
            }
            let start = std::mem::take(start);
            // Gzip announced for plain text happens; so does gzip not announced.
            self.stage = if start.starts_with(&[0x1f, 0x8b]) {
                Stage::Gzip(Box::new(flate2::write::GzDecoder::new(self.lines())))
            } else {
                Stage::Plain(self.lines())
            };
            return self.push(&start);
        }
        match &mut self.stage {
            Stage::Gzip(gzip) => gzip
                .write_all(bytes)
                .map_err(|err| DocumentError::Truncated(err.to_string()))?,
            Stage::Plain(lines) => lines.decode(bytes, false),
            Stage::Sniffing(_) => {}
        }
        match self.lines_mut().and_then(|lines| lines.error.clone()) {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn lines_mut(&mut self) -> Option<&mut Lines> {
        match &mut self.stage {
            Stage::Gzip(gzip) => Some(gzip.get_mut()),
            Stage::Plain(lines) => Some(lines),
            Stage::Sniffing(_) => None,
        }
    }

    /// The orders whose every row has been read so far.
    pub fn take_orders(&mut self) -> Vec<Result<Order, Skipped>> {
        self.lines_mut()
            .map(|lines| std::mem::take(&mut lines.ready))
            .unwrap_or_default()
    }

    /// The end of the download: the last orders, and how many rows the document had.
    pub fn finish(mut self) -> Result<(Vec<Result<Order, Skipped>>, u64), DocumentError> {
        if let Stage::Sniffing(start) = &mut self.stage {
            let start = std::mem::take(start);
            self.stage = Stage::Plain(self.lines());
            if let Stage::Plain(lines) = &mut self.stage {
                lines.decode(&start, false);
            }
        }
        let mut lines = match self.stage {
            Stage::Gzip(gzip) => gzip
                .finish()
                .map_err(|err| DocumentError::Truncated(format!("the compressed data ends early ({err})")))?,
            Stage::Plain(lines) => lines,
            Stage::Sniffing(_) => self.lines(),
        };
        lines.decode(&[], true);
        if let Some(err) = lines.error.take() {
            return Err(err);
        }
        if lines.columns.is_none() {
            return Err(DocumentError::NotAReport(String::new()));
        }
        lines.end();
        Ok((lines.ready, lines.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\torder-item-id\tfulfillment-channel\tsales-channel\tsignature-confirmation-recommended\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\tship-city\tship-state\tship-postal-code\tship-country";

    fn row(order: &str, item: &str, status: &str, channel: &str, title: &str, quantity: u32, price: &str) -> String {
        format!(
            "{order}\t\t2026-05-11T01:01:48+00:00\t2026-05-12T09:00:00+09:00\t{status}\t{item}\tAmazon\t{channel}\tfalse\t{title}\tSKU-{item}\tB0{item}\tShipped\t{quantity}\tUSD\t{price}\tSeattle\tWA\t98101\tUS"
        )
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(text).expect("in memory");
        encoder.finish().expect("in memory")
    }

    /// Reads `bytes` a few at a time, as a download arrives.
    fn read(bytes: &[u8], charset: Option<&str>) -> Result<Vec<Result<Order, Skipped>>, DocumentError> {
        let mut document = OrdersDocument::new(charset);
        let mut orders = Vec::new();
        for chunk in bytes.chunks(7) {
            document.push(chunk)?;
            orders.extend(document.take_orders());
        }
        let (rest, _) = document.finish()?;
        orders.extend(rest);
        Ok(orders)
    }

    #[test]
    fn rows_become_orders_whatever_the_titles_and_extra_columns_hold() {
        let text = [
            HEADER.to_owned(),
            row(
                "111-1",
                "1",
                "Shipped - Delivered to Buyer",
                "Amazon.com",
                "\"Quoted\" mug, 12 oz",
                2,
                "23.98",
            ),
            row(
                "111-1",
                "2",
                "Shipped - Delivered to Buyer",
                "Amazon.com",
                r"Tab\tlike title",
                1,
                "5.00",
            ),
            row("222-2", "3", "Pending", "Amazon.ca", "Plain", 3, ""),
            row("333-3", "4", "Shipped", "Non-Amazon", "MCF", 1, "1.00"),
            row("444-4", "5", "Lost in space", "Amazon.com", "Odd", 1, "1.00"),
        ]
        .join("\r\n")
            + "\n";
        let orders = read(&gzip(text.as_bytes()), Some("UTF-8")).expect("read");
        assert_eq!(orders.len(), 4);
        let first = orders[0].as_ref().expect("an order");
        assert_eq!(
            (first.external_id.as_str(), first.status),
            ("111-1", OrderStatus::Delivered)
        );
        assert_eq!(first.marketplace_id.as_deref(), Some("ATVPDKIKX0DER"));
        assert_eq!(first.fulfillment_channel.as_deref(), Some("AFN"));
        assert_eq!(
            first.updated_at,
            OffsetDateTime::parse("2026-05-12T00:00:00Z", &Rfc3339).expect("time")
        );
        assert_eq!(first.total, Money::parse("28.98", "USD").ok());
        assert_eq!(first.items.len(), 2);
        assert_eq!(first.items[0].title.as_deref(), Some("\"Quoted\" mug, 12 oz"));
        assert_eq!(first.items[0].unit_price, Money::parse("11.99", "USD").ok());
        assert_eq!((first.items[0].quantity, first.items[0].quantity_shipped), (2, 2));
        assert_eq!(first.items[1].title.as_deref(), Some(r"Tab\tlike title"));
        assert_eq!(first.ship_to.postal_code.as_deref(), Some("98101"));
        let pending = orders[1].as_ref().expect("an order");
        assert_eq!(
            (pending.status, pending.total, pending.items[0].line_total),
            (OrderStatus::Pending, None, None)
        );
        assert_eq!(pending.marketplace_id.as_deref(), Some("A2EUQ1WTGCTBG2"));
        let mcf = orders[2].as_ref().expect_err("not a sale");
        assert!(mcf.reason.contains("Multi-Channel"), "{}", mcf.reason);
        let odd = orders[3].as_ref().expect_err("not guessed");
        assert!(odd.reason.contains("\"Lost in space\""), "{}", odd.reason);
    }

    #[test]
    fn plain_text_is_read_even_when_gzip_was_announced_and_cp1252_is_decoded() {
        let mut text = format!(
            "{HEADER}\n{}",
            row("111-1", "1", "Shipped", "Amazon.de", "Caf#", 1, "2.50")
        );
        text = text.replace("USD", "EUR");
        let bytes: Vec<u8> = text.bytes().map(|b| if b == b'#' { 0xE9 } else { b }).collect();
        let orders = read(&bytes, Some("Cp1252")).expect("read");
        let order = orders[0].as_ref().expect("an order");
        assert_eq!(order.items[0].title.as_deref(), Some("Café"));
        assert_eq!(order.total, Money::parse("2.50", "EUR").ok());
    }

    #[test]
    fn what_is_not_a_whole_report_is_refused() {
        assert_eq!(
            read(gzip(WINDOW_EXCEEDED.as_bytes()).as_slice(), None),
            Err(DocumentError::WindowExceeded)
        );
        let whole = gzip(
            format!(
                "{HEADER}\n{}\n",
                row("111-1", "1", "Shipped", "Amazon.com", "x", 1, "1.00")
            )
            .as_bytes(),
        );
        let cut = &whole[..whole.len() - 12];
        assert!(
            matches!(read(cut, None), Err(DocumentError::Truncated(_))),
            "{:?}",
            read(cut, None)
        );
        let no_sku = HEADER.replace("\tsku\t", "\tseller-sku\t");
        assert_eq!(read(no_sku.as_bytes(), None), Err(DocumentError::MissingColumn("sku")));
        assert!(matches!(
            read(b"<html>Access denied</html>", None),
            Err(DocumentError::NotAReport(_))
        ));
        assert!(matches!(read(b"", None), Err(DocumentError::NotAReport(_))));
        // A header alone: a window without orders.
        assert_eq!(read(HEADER.as_bytes(), None), Ok(Vec::new()));
    }

    #[test]
    fn report_words_map_to_statuses_and_unknown_ones_to_none() {
        assert_eq!(
            report_status("Shipped - Returned to Seller"),
            Some(OrderStatus::Shipped)
        );
        assert_eq!(report_status("Shipped - Picked Up"), Some(OrderStatus::Delivered));
        assert_eq!(report_status("Canceled"), Some(OrderStatus::Cancelled));
        assert_eq!(report_status("Shipping"), Some(OrderStatus::PartiallyShipped));
        assert_eq!(report_status("Shippedish"), None);
    }
}
