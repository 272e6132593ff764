//! The filters of the Inventory page and of `GET /api/v1/inventory` as they arrive in a query
//! string: each parameter checked, and named in the error when it is wrong.

use javelin_storage::StockFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::connections::FieldErrors;
use crate::orders::{page_limit, page_limit_schema};

/// The longest search a seller types: a title's words, an ASIN, a SKU.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The query string as sent; an empty parameter counts as not sent (as an HTML form sends it).
/// Each is read as text and checked here, so that a wrong one is named; the OpenAPI document
/// says what each takes.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct InventoryQuery {
    /// A connection's id.
    #[param(value_type = i64, minimum = 1)]
    pub connection_id: String,
    /// Words of a SKU, an ASIN or FSN, or a title.
    pub q: String,
    /// `true`: only SKUs at or below their low-stock threshold.
    #[param(value_type = bool)]
    pub low_stock: String,
    #[param(schema_with = page_limit_schema)]
    pub limit: String,
    /// The `next_cursor` of the page before.
    pub cursor: String,
}

/// A checked query: what to list, how many, from where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryRequest {
    pub filter: StockFilter,
    pub limit: u32,
    /// The opaque cursor of the page asked for, checked when the page is read.
    pub cursor: Option<String>,
}

impl InventoryQuery {
    pub fn parse(&self) -> Result<InventoryRequest, FieldErrors> {
        let mut errors = FieldErrors::default();
        let given = |value: &str| Some(value.trim()).filter(|value| !value.is_empty()).map(str::to_owned);
        let mut filter = StockFilter::default();
        if let Some(id) = given(&self.connection_id) {
            match id.parse::<i64>() {
                Ok(id) if id > 0 => filter.connection_id = Some(id),
                _ => errors.add("connection_id", "connection_id must be a connection's number."),
            }
        }
        if let Some(q) = given(&self.q) {
            if q.chars().count() > MAX_SEARCH_CHARS {
                errors.add("q", format!("q must be at most {MAX_SEARCH_CHARS} characters."));
            } else {
                filter.search = Some(q);
            }
        }
        match given(&self.low_stock).as_deref() {
            None | Some("false") => {}
            Some("true") => filter.low_stock = true,
            Some(_) => errors.add("low_stock", "low_stock must be true or false."),
        }
        let limit = page_limit(&self.limit, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(InventoryRequest {
            filter,
            limit,
            cursor: given(&self.cursor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> InventoryQuery {
        let mut query = InventoryQuery::default();
        for (name, value) in pairs {
            let field = match *name {
                "connection_id" => &mut query.connection_id,
                "q" => &mut query.q,
                "low_stock" => &mut query.low_stock,
                "limit" => &mut query.limit,
                _ => &mut query.cursor,
            };
            *field = (*value).to_owned();
        }
        query
    }

    #[test]
    fn every_filter_is_read() {
        let request = query(&[
            ("connection_id", "3"),
            ("q", "  blue mug "),
            ("low_stock", "true"),
            ("limit", "500"),
            ("cursor", "abc"),
        ])
        .parse()
        .expect("valid");
        let expected = StockFilter {
            connection_id: Some(3),
            search: Some("blue mug".into()),
            low_stock: true,
        };
        assert_eq!(request.filter, expected);
        assert_eq!((request.limit, request.cursor.as_deref()), (500, Some("abc")));
        let empty = query(&[("q", " "), ("low_stock", "false"), ("limit", "")])
            .parse()
            .expect("valid");
        assert_eq!(
            (empty.filter, empty.limit, empty.cursor),
            (StockFilter::default(), 50, None)
        );
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let long = "x".repeat(MAX_SEARCH_CHARS + 1);
        for (name, value) in [
            ("connection_id", "x"),
            ("connection_id", "-2"),
            ("q", long.as_str()),
            ("low_stock", "yes"),
            ("limit", "0"),
            ("limit", "501"),
        ] {
            let errors = query(&[(name, value)]).parse().expect_err(value);
            assert!(
                errors.get(name).is_some_and(|message| message.contains(name)),
                "{name}={value}: {errors:?}"
            );
            assert_eq!(errors.0.len(), 1, "{name}={value}");
        }
        query(&[("q", &"x".repeat(MAX_SEARCH_CHARS))])
            .parse()
            .expect("long enough");
    }
}
