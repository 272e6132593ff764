//! The filters of `GET /api/v1/orders` (and, next, of the Orders page) as they arrive in a
//! query string: each parameter checked, and named in the error when it is wrong.

use javelin_model::{OrderStatus, Platform};
use javelin_storage::{OrderFilter, SearchTerms, Timestamp};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};
use utoipa::IntoParams;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::connections::FieldErrors;

/// The most rows a page holds.
pub const MAX_PAGE: u32 = 500;
const DEFAULT_PAGE: u32 = 50;
/// Characters a search may have: an order id, a SKU or a few words.
const MAX_SEARCH: usize = 200;

/// Fulfilment channels as the marketplaces name them: Amazon's warehouse (AFN) or the
/// seller's (MFN); the Flipkart seller's own, Flipkart's (FBF) or FBF Lite.
pub const FULFILLMENT_CHANNELS: [&str; 5] = ["AFN", "MFN", "SELLER", "FBF", "FBF_LITE"];

/// The query string as sent; an empty parameter counts as not sent (as an HTML form sends it).
/// Each is read as text and checked here, so that a wrong one is named; the OpenAPI document
/// says what each takes.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    #[param(value_type = Platform)]
    pub platform: String,
    /// A connection's id.
    #[param(value_type = i64, minimum = 1)]
    pub connection_id: String,
    #[param(value_type = OrderStatus)]
    pub status: String,
    /// In any case.
    #[param(schema_with = fulfillment_channel_schema)]
    pub fulfillment_channel: String,
    /// Purchased at or after: RFC 3339, or a date (from its start, UTC).
    pub from: String,
    /// Purchased at or before: RFC 3339, or a date (to its end, UTC).
    pub to: String,
    /// Words of an order id, a SKU, an ASIN/FSN or an item title (letters and digits), all of
    /// them found, in any case.
    pub q: String,
    #[param(schema_with = page_limit_schema)]
    pub limit: String,
    /// The `next_cursor` of the page before.
    pub cursor: String,
}

fn fulfillment_channel_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(FULFILLMENT_CHANNELS))
        .build()
}

/// A checked query: what to list, how many, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub filter: OrderFilter,
    pub limit: u32,
    /// The opaque cursor of the page asked for, checked when the page is read.
    pub cursor: Option<String>,
}

impl OrderQuery {
    pub fn parse(&self) -> Result<OrderRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given = |value: &str| Some(value.trim()).filter(|value| !value.is_empty()).map(str::to_owned);
        let mut filter = OrderFilter::default();
        if let Some(platform) = given(&self.platform) {
            match Platform::ALL.iter().find(|known| known.code() == platform) {
                Some(known) => filter.platform = Some(known.code().to_owned()),
                None => errors.add("platform", "platform must be amazon or flipkart."),
            }
        }
        if let Some(id) = given(&self.connection_id) {
            match id.parse::<i64>() {
                Ok(id) if id > 0 => filter.connection_id = Some(id),
                _ => errors.add("connection_id", "connection_id must be a connection's number."),
            }
        }
        if let Some(status) = given(&self.status) {
            match status.parse::<OrderStatus>() {
                Ok(status) => filter.status = Some(status),
                Err(_) => errors.add(
                    "status",
                    format!(
                        "status must be one of {}.",
                        OrderStatus::ALL.map(OrderStatus::code).join(", ")
                    ),
                ),
            }
        }
        if let Some(channel) = given(&self.fulfillment_channel) {
            let channel = channel.to_ascii_uppercase();
            if FULFILLMENT_CHANNELS.contains(&channel.as_str()) {
                filter.fulfillment_channel = Some(channel);
            } else {
                errors.add(
                    "fulfillment_channel",
                    format!(
                        "fulfillment_channel must be one of {}.",
                        FULFILLMENT_CHANNELS.join(", ")
                    ),
                );
            }
        }
        (filter.from, filter.before) = bounds(&self.from, &self.to, &mut errors);
        if let Some(q) = given(&self.q) {
            match SearchTerms::parse(&q) {
                Some(terms) if q.chars().count() <= MAX_SEARCH => filter.search = Some(terms),
                Some(_) => errors.add("q", format!("q must be at most {MAX_SEARCH} characters.")),
                None => errors.add(
                    "q",
                    "q must hold an order id, a SKU or words of a title (letters or digits).",
                ),
            }
        }
        let limit = page_limit(&self.limit, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OrderRequest {
            filter,
            limit,
            cursor: given(&self.cursor),
        })
    }
}

/// A page's `limit` parameter: 50 when not sent, else 1 to [`MAX_PAGE`].
pub(crate) fn page_limit(text: &str, errors: &mut FieldErrors) -> u32 {
    let text = text.trim();
    if text.is_empty() {
        return DEFAULT_PAGE;
    }
    match text.parse::<u32>() {
        Ok(limit) if (1..=MAX_PAGE).contains(&limit) => limit,
        _ => {
            errors.add("limit", format!("limit must be a number from 1 to {MAX_PAGE}."));
            DEFAULT_PAGE
        }
    }
}

/// What a page's `limit` takes, for the API's OpenAPI document.
pub(crate) fn page_limit_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(1))
        .maximum(Some(MAX_PAGE))
        .default(Some(DEFAULT_PAGE.into()))
        .build()
}

/// The `from` and `to` parameters of a list: the first moment included and the first left out.
pub(crate) fn bounds(from: &str, to: &str, errors: &mut FieldErrors) -> (Option<Timestamp>, Option<Timestamp>) {
    let mut read = |name: &'static str, text: &str, bound: Bound| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let at = moment(text, bound);
        if at.is_none() {
            errors.add(name, DATE_HELP.replace("{}", name));
        }
        at
    };
    let (from, before) = (read("from", from, Bound::Start), read("to", to, Bound::End));
    if let (Some(from), Some(before)) = (from, before)
        && before <= from
    {
        errors.add("to", "to must not be before from.");
    }
    (from, before)
}

pub(crate) const DATE_HELP: &str = "{} must be a date (2026-01-31) or a time in RFC 3339 (2026-01-31T09:30:00Z).";

#[derive(Clone, Copy)]
pub(crate) enum Bound {
    Start,
    End,
}

/// The first microsecond a `from` includes, or the first a `to` leaves out.
pub(crate) fn moment(text: &str, bound: Bound) -> Option<Timestamp> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        let at = Timestamp::from_datetime(at);
        return Some(match bound {
            Bound::Start => at,
            Bound::End => at + Duration::microseconds(1),
        });
    }
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    let date = match bound {
        Bound::Start => date,
        Bound::End => date.next_day()?,
    };
    Some(Timestamp::from_datetime(date.midnight().assume_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<OrderRequest, FieldErrors> {
        let mut query = OrderQuery::default();
        for (name, value) in pairs {
            let field = match *name {
                "platform" => &mut query.platform,
                "connection_id" => &mut query.connection_id,
                "status" => &mut query.status,
                "fulfillment_channel" => &mut query.fulfillment_channel,
                "from" => &mut query.from,
                "to" => &mut query.to,
                "q" => &mut query.q,
                "limit" => &mut query.limit,
                _ => &mut query.cursor,
            };
            *field = (*value).to_owned();
        }
        query.parse()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::parse(text, &Rfc3339).expect("time"))
    }

    #[test]
    fn every_filter_is_read() {
        let request = parse(&[
            ("platform", "amazon"),
            ("connection_id", "3"),
            ("status", "partially_shipped"),
            ("fulfillment_channel", "afn"),
            ("from", "2026-01-01"),
            ("to", "2026-01-31"),
            ("q", "Yoga-Mat"),
            ("limit", "500"),
            ("cursor", "abc"),
        ])
        .expect("valid");
        let expected = OrderFilter {
            platform: Some("amazon".into()),
            connection_id: Some(3),
            status: Some(OrderStatus::PartiallyShipped),
            fulfillment_channel: Some("AFN".into()),
            from: Some(at("2026-01-01T00:00:00Z")),
            before: Some(at("2026-02-01T00:00:00Z")),
            search: SearchTerms::parse("yoga-mat"),
        };
        assert_eq!(request.filter, expected);
        assert_eq!((request.limit, request.cursor.as_deref()), (500, Some("abc")));
        let empty = parse(&[("platform", ""), ("status", " "), ("limit", "")]).expect("valid");
        assert_eq!(
            (empty.filter, empty.limit, empty.cursor),
            (OrderFilter::default(), 50, None)
        );
    }

    #[test]
    fn times_bound_the_range_inclusively() {
        let request = parse(&[("from", "2026-01-01T10:00:00+05:30"), ("to", "2026-01-01T10:00:00Z")]).expect("valid");
        assert_eq!(request.filter.from, Some(at("2026-01-01T04:30:00Z")));
        assert_eq!(request.filter.before, Some(at("2026-01-01T10:00:00.000001Z")));
    }

    #[test]
    fn each_bad_parameter_is_named() {
        for (name, value) in [
            ("platform", "ebay"),
            ("connection_id", "x"),
            ("connection_id", "0"),
            ("status", "lost"),
            ("fulfillment_channel", "DHL"),
            ("from", "31/01/2026"),
            ("to", "2026-02-30"),
            ("q", "--"),
            ("limit", "0"),
            ("limit", "501"),
            ("limit", "-1"),
        ] {
            let errors = parse(&[(name, value)]).expect_err(value);
            assert!(
                errors.get(name).is_some_and(|message| message.contains(name)),
                "{name}={value}: {errors:?}"
            );
            assert_eq!(errors.0.len(), 1, "{name}={value}");
        }
        let errors = parse(&[("from", "2026-02-01"), ("to", "2026-01-31")]).expect_err("reversed");
        assert!(errors.get("to").is_some());
        parse(&[("from", "2026-01-31"), ("to", "2026-01-31")]).expect("one whole day");
    }
}
