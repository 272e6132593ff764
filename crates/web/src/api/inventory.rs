//! The API of inventory: stock rows with the Inventory page's filters, the CSV export, and
//! each SKU's low-stock threshold. Contract: scripts rely on these names and shapes.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use javelin_core::connections::FieldErrors;
use javelin_core::inventory::{InventoryQuery, MAX_THRESHOLD, StockView, ThresholdError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};

#[derive(Serialize, ToSchema)]
#[schema(as = StockPage)]
struct StockBody {
    items: Vec<StockView>,
    /// The `cursor` of the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// `GET /api/v1/inventory` with the filters of [`InventoryQuery`]: stock rows by SKU. A wrong
/// parameter answers 422, naming it.
#[utoipa::path(get, path = "/inventory", tag = "inventory", params(InventoryQuery), responses(
    (status = 200, description = "A page of stock rows, by SKU.", body = StockBody),
    (status = 422, description = "A wrong parameter, named in `fields`.", body = ApiErrorBody),
))]
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
#[utoipa::path(get, path = "/inventory.csv", tag = "inventory", params(InventoryQuery), responses(
    (status = 200, description = "Every stock row the filters let through, by SKU; `limit` and `cursor` are not read.",
        content_type = "text/csv", body = String),
    (status = 422, description = "A wrong parameter, named in `fields`.", body = ApiErrorBody),
))]
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

#[derive(Serialize, ToSchema)]
#[schema(as = Threshold)]
struct ThresholdBody {
    sku: String,
    threshold: i64,
}

#[derive(Deserialize, ToSchema)]
struct ThresholdRequest {
    #[schema(schema_with = threshold_schema)]
    threshold: i64,
}

fn threshold_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(MAX_THRESHOLD))
        .build()
}

/// `PUT /api/v1/inventory/{sku}/threshold` with `{"threshold": N}` → the SKU's new threshold.
#[utoipa::path(put, path = "/inventory/{sku}/threshold", tag = "inventory",
    params(("sku" = String, Path, description = "The SKU, percent-encoded (`/` as `%2F`).")),
    request_body = ThresholdRequest, responses(
    (status = 200, description = "The SKU's threshold, as now set.", body = ThresholdBody),
    (status = 404, description = "No connected account holds this SKU.", body = ApiErrorBody),
    (status = 422, description = "`threshold` is not a whole number in range: `fields` says so.", body = ApiErrorBody),
))]
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
    // Read from the JSON value, so that anything but a whole number is named as the field.
    let wanted = serde_json::from_value::<ThresholdRequest>(body)
        .map_err(|_| invalid(ThresholdError::OutOfRange.to_string()))?
        .threshold;
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
