//! The API of inventory: stock rows with the Inventory page's filters, the CSV export, and
//! each SKU's low-stock threshold. Contract: scripts rely on these names and shapes.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use javelin_core::connections::FieldErrors;
use javelin_core::inventory::{InventoryQuery, StockView, ThresholdError};
use serde::Serialize;

use crate::AppState;
use crate::error::ApiError;

#[derive(Serialize)]
struct StockBody {
    items: Vec<StockView>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/inventory` with the filters of [`InventoryQuery`]: stock rows by SKU. A wrong
/// parameter answers 422, naming it.
pub(crate) async fn inventory(
    State(state): State<AppState>,
    Query(query): Query<InventoryQuery>,
) -> Result<Response, ApiError> {
    let request = query.parse().map_err(ApiError::invalid)?;
    let page = state
        .inventory
        .stock(&request.filter, request.limit, request.cursor.as_deref())
        .await?;
    Ok(Json(StockBody {
        items: page.rows,
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// `GET /api/v1/inventory.csv` with the filters of `GET /api/v1/inventory` (not `limit` nor
/// `cursor`: every row they let through), streamed.
pub(crate) async fn inventory_csv(
    State(state): State<AppState>,
    Query(query): Query<InventoryQuery>,
) -> Result<Response, ApiError> {
    let request = query.parse().map_err(ApiError::invalid)?;
    let chunks = state.inventory.stock_csv(request.filter).map_err(|err| {
        // The status line has gone: all that is left is to cut the download short.
        tracing::error!(error = %err, "CSV export failed");
        std::io::Error::other(err.to_string())
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"inventory.csv\""),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

#[derive(Serialize)]
struct ThresholdBody {
    sku: String,
    threshold: i64,
}

/// `PUT /api/v1/inventory/{sku}/threshold` with `{"threshold": N}` → the SKU's new threshold.
pub(crate) async fn set_threshold(
    State(state): State<AppState>,
    Path(sku): Path<String>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let invalid = |message: String| {
        let mut fields = FieldErrors::default();
        fields.add("threshold", message);
        ApiError::invalid(fields)
    };
    let wanted = body
        .get("threshold")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| invalid(ThresholdError::OutOfRange.to_string()))?;
    let threshold = state
        .inventory
        .set_threshold(&sku, wanted)
        .await
        .map_err(|err| match err {
            ThresholdError::OutOfRange => invalid(err.to_string()),
            ThresholdError::UnknownSku => ApiError::new(StatusCode::NOT_FOUND, err.to_string()),
            ThresholdError::Storage(err) => err.into(),
        })?;
    Ok(Json(ThresholdBody { sku, threshold }).into_response())
}
