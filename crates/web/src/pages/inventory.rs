//! The Inventory page: one row per SKU across connections, filtered by account, search words
//! and low stock (kept in the address), a page at a time; and the low-stock threshold form.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use axum_extra::extract::CookieJar;
use javelin_core::connections::FieldErrors;
use javelin_core::inventory::{InventoryQuery, MAX_SEARCH_CHARS, MAX_THRESHOLD, ThresholdError};
use javelin_core::orders::QueryError;
use javelin_storage::SkuStock;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Identity;
use crate::error::PageError;
use crate::flash::{self, Flash, FlashKind};
use crate::pages::catalog::Accounts;
use crate::pages::{Layout, Section};

/// SKUs per page.
const PAGE: u32 = 50;

/// Read times closer than this read as one moment.
const SAME_READ: time::Duration = time::Duration::minutes(1);

#[derive(Template, WebTemplate)]
#[template(path = "inventory.html")]
pub(crate) struct InventoryPage {
    layout: Layout,
    accounts: Accounts,
    /// The filters as asked, to show them again and to keep them across pages.
    query: InventoryQuery,
    errors: FieldErrors,
    skus: Vec<SkuStock>,
    next_cursor: Option<String>,
}

impl InventoryPage {
    fn is_filtered(&self) -> bool {
        !filters(&self.query, None).is_empty()
    }

    /// This view's query string (with its `?`, or empty) at another cursor (`None`: the first
    /// page), the filters kept.
    fn query_string(&self, cursor: Option<&str>) -> String {
        match filters(&self.query, cursor) {
            query if query.is_empty() => query,
            query => format!("?{query}"),
        }
    }

    /// Whether the SKU's rows were read at noticeably different times.
    fn read_apart(&self, sku: &SkuStock) -> bool {
        sku.oldest_read + SAME_READ <= sku.newest_read
    }

    fn low_only(&self) -> bool {
        self.query.low_stock.trim() == "true"
    }

    fn max_search(&self) -> usize {
        MAX_SEARCH_CHARS
    }

    fn max_threshold(&self) -> i64 {
        MAX_THRESHOLD
    }
}

/// The filters of `query` (and `cursor`) as a query string, without the `?`; empty ones left out.
fn filters(query: &InventoryQuery, cursor: Option<&str>) -> String {
    let cursor = cursor.map(str::trim).filter(|cursor| !cursor.is_empty());
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("connection_id", &query.connection_id),
        ("q", &query.q),
        ("low_stock", &query.low_stock),
    ] {
        if !value.trim().is_empty() {
            out.append_pair(name, value.trim());
        }
    }
    if let Some(cursor) = cursor {
        out.append_pair("cursor", cursor);
    }
    out.finish()
}

/// `GET /inventory`, with the filters of `GET /api/v1/inventory` in the query string. A wrong
/// one answers 422 and says which.
pub(crate) async fn page(
    State(state): State<AppState>,
    identity: Identity,
    Extension(flash): Extension<Flash>,
    Query(query): Query<InventoryQuery>,
) -> Result<Response, PageError> {
    let accounts = Accounts::load(&state, query.connection_id.trim().parse().ok()).await?;
    let mut page = InventoryPage {
        layout: Layout::new(Section::Inventory, identity, flash),
        accounts,
        query,
        errors: FieldErrors::default(),
        skus: Vec::new(),
        next_cursor: None,
    };
    let request = match page.query.parse() {
        Ok(request) => request,
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    match state
        .inventory
        .skus(&request.filter, PAGE, request.cursor.as_deref())
        .await
    {
        Ok(found) => {
            page.skus = found.rows;
            page.next_cursor = found.next_cursor;
            Ok(page.into_response())
        }
        Err(QueryError::BadCursor) => {
            page.errors.add(
                "cursor",
                "This page's place in the list is not one Javelin gave out: start again from the first SKU.",
            );
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(QueryError::Storage(err)) => Err(err.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct ThresholdForm {
    sku: String,
    threshold: String,
    /// The page's filters and place, to return to.
    #[serde(default)]
    back: String,
}

/// `POST /inventory/thresholds`: a SKU's low-stock threshold, from its row on the page.
pub(crate) async fn set_threshold(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ThresholdForm>,
) -> Result<Response, PageError> {
    // Only the page's own parameters go back into the address.
    let kept = format!("/inventory?{}", form.back.trim_start_matches('?'))
        .parse::<Uri>()
        .ok()
        .and_then(|uri| Query::<InventoryQuery>::try_from_uri(&uri).ok())
        .map(|Query(kept)| kept)
        .unwrap_or_default();
    let back = match filters(&kept, Some(&kept.cursor)) {
        query if query.is_empty() => "/inventory".to_owned(),
        query => format!("/inventory?{query}"),
    };
    let sku = form.sku.trim();
    let set = match form.threshold.trim().parse::<i64>() {
        Ok(threshold) => state.inventory.set_threshold(sku, threshold).await,
        Err(_) => Err(ThresholdError::OutOfRange),
    };
    let (kind, message) = match set {
        Ok(threshold) => (
            FlashKind::Success,
            format!("Low-stock threshold of {sku} set to {threshold}."),
        ),
        Err(ThresholdError::OutOfRange) => (
            FlashKind::Error,
            format!("The low-stock threshold of {sku} must be a whole number from 0 to {MAX_THRESHOLD}."),
        ),
        Err(ThresholdError::UnknownSku) => (
            FlashKind::Error,
            format!("No connected account holds stock of {sku} any more: sync, then try again."),
        ),
        Err(ThresholdError::Storage(err)) => return Err(err.into()),
    };
    Ok(flash::redirect(&state, jar, kind, &message, &back))
}
