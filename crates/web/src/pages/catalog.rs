//! The Orders pages: what sync brought in, newest first, a page at a time, and each order.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use javelin_core::connections::FieldErrors;
use javelin_core::orders::{FULFILLMENT_CHANNELS, OrderDetail, OrderQuery, OrderView, QueryError};
use javelin_model::{OrderStatus, Platform};

use crate::AppState;
use crate::auth::Identity;
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{Layout, Section};

/// Rows per page.
const PAGE: u32 = 50;

/// The connections, for the filter and for naming each row's account.
pub(crate) struct Accounts {
    pub(crate) choices: Vec<(i64, String)>,
    names: HashMap<i64, String>,
    pub(crate) chosen: Option<i64>,
}

impl Accounts {
    pub(crate) async fn load(state: &AppState, chosen: Option<i64>) -> Result<Self, PageError> {
        let choices: Vec<(i64, String)> = state
            .connections
            .list()
            .await?
            .iter()
            .map(|c| (c.id, format!("{} · {}", c.platform.name(), c.display_name())))
            .collect();
        Ok(Self {
            names: choices.iter().cloned().collect(),
            choices,
            chosen,
        })
    }

    pub(crate) fn name(&self, id: &i64) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("Disconnected account {id}"))
    }

    pub(crate) fn is_chosen(&self, id: &i64) -> bool {
        self.chosen == Some(*id)
    }
}

/// The badge colour of an order's status: waiting, moving, done, or stopped.
fn status_class(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "incomplete",
        OrderStatus::Unshipped | OrderStatus::PartiallyShipped => "running",
        OrderStatus::Shipped | OrderStatus::Delivered => "connected",
        OrderStatus::ReturnRequested | OrderStatus::Unfulfillable => "error",
        OrderStatus::Cancelled | OrderStatus::Returned => "not_connected",
    }
}

/// "AFN" is Amazon's warehouse, "MFN" the seller's, and so on.
fn channel_label(channel: Option<&str>) -> &'static str {
    match channel {
        Some("AFN") => "Amazon (FBA)",
        Some("MFN") => "Seller (FBM)",
        Some("FBF") => "Flipkart (FBF)",
        Some("FBF_LITE") => "Flipkart (FBF Lite)",
        Some("SELLER") => "Seller",
        Some(_) => "Other",
        None => "",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "orders.html")]
pub(crate) struct OrdersPage {
    layout: Layout,
    accounts: Accounts,
    /// The filters as asked, to show them again and to keep them across pages.
    query: OrderQuery,
    errors: FieldErrors,
    orders: Vec<OrderView>,
    next_cursor: Option<String>,
}

impl OrdersPage {
    fn status_class(&self, status: &OrderStatus) -> &'static str {
        status_class(*status)
    }

    fn channel(&self, channel: &Option<String>) -> &'static str {
        channel_label(channel.as_deref())
    }

    fn statuses(&self) -> [OrderStatus; 9] {
        OrderStatus::ALL
    }

    fn channels(&self) -> [(&'static str, &'static str); 5] {
        FULFILLMENT_CHANNELS.map(|code| (code, self.channel(&Some(code.to_owned()))))
    }

    fn platforms(&self) -> [Platform; 2] {
        Platform::ALL
    }

    fn is_filtered(&self) -> bool {
        self.query_string(None) != "?"
    }

    /// This view's address with another cursor (`None`: the first page), the filters kept.
    fn query_string(&self, cursor: Option<&str>) -> String {
        let q = &self.query;
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("q", &q.q),
            ("platform", &q.platform),
            ("connection_id", &q.connection_id),
            ("status", &q.status),
            ("fulfillment_channel", &q.fulfillment_channel),
            ("from", &q.from),
            ("to", &q.to),
        ] {
            if !value.trim().is_empty() {
                query.append_pair(name, value.trim());
            }
        }
        if let Some(cursor) = cursor {
            query.append_pair("cursor", cursor);
        }
        format!("?{}", query.finish())
    }
}

/// `GET /orders`, with the filters of `GET /api/v1/orders` in the query string. A wrong one
/// answers 422 and says which.
pub(crate) async fn orders(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    Query(query): Query<OrderQuery>,
) -> Result<Response, PageError> {
    let accounts = Accounts::load(&state, query.connection_id.parse().ok()).await?;
    let mut page = OrdersPage {
        layout: Layout::new(Section::Orders, identity, flash),
        accounts,
        query,
        errors: FieldErrors::default(),
        orders: Vec::new(),
        next_cursor: None,
    };
    let fetched = match page.query.parse() {
        Ok(request) => state
            .catalog
            .orders(&request.filter, PAGE, request.cursor.as_deref())
            .await
            .map_err(|err| match err {
                QueryError::BadCursor => {
                    let mut errors = FieldErrors::default();
                    errors.add(
                        "cursor",
                        "This page's place in the list is not one Javelin gave out: start again from the newest.",
                    );
                    Ok(errors)
                }
                QueryError::Storage(err) => Err(PageError::from(err)),
            }),
        Err(errors) => Err(Ok(errors)),
    };
    match fetched {
        Ok(found) => {
            page.orders = found.rows;
            page.next_cursor = found.next_cursor;
            Ok(page.into_response())
        }
        Err(Ok(errors)) => {
            page.errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(Err(err)) => Err(err),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "order.html")]
pub(crate) struct OrderPage {
    layout: Layout,
    account: String,
    detail: OrderDetail,
}

impl OrderPage {
    fn status_class(&self, status: &OrderStatus) -> &'static str {
        status_class(*status)
    }

    fn channel(&self, channel: &Option<String>) -> &'static str {
        channel_label(channel.as_deref())
    }

    /// A status of the history in words (the stored code when it is not one Javelin knows).
    fn status_label(&self, code: &str) -> String {
        code.parse::<OrderStatus>()
            .map(|status| status.label().to_owned())
            .unwrap_or_else(|_| code.to_owned())
    }

    fn marketplace_name(&self) -> &'static str {
        if self.detail.order.platform == "amazon" {
            "Seller Central"
        } else {
            "Flipkart Seller Hub"
        }
    }
}

/// `GET /orders/{id}`.
pub(crate) async fn order(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    Path(id): Path<String>,
) -> Result<OrderPage, PageError> {
    let id: i64 = id.parse().map_err(|_| PageError::NotFound)?;
    let detail = state.catalog.order(id).await?.ok_or(PageError::NotFound)?;
    let accounts = Accounts::load(&state, None).await?;
    Ok(OrderPage {
        layout: Layout::new(Section::Orders, identity, flash),
        account: accounts.name(&detail.order.connection_id),
        detail,
    })
}
