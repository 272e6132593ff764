//! The API of orders: lists with the Orders page's filters, one order, and the CSV export.
//! Contract: scripts rely on these names and shapes.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use javelin_core::orders::{OrderDetail, OrderQuery, OrderView};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};

#[derive(Serialize, ToSchema)]
#[schema(as = OrderPage)]
struct OrdersBody {
    orders: Vec<OrderView>,
    /// The `cursor` of the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// `GET /api/v1/orders` with the filters of [`OrderQuery`]: newest first. A wrong parameter
/// answers 422, naming it.
#[utoipa::path(get, path = "/orders", tag = "orders", params(OrderQuery), responses(
    (status = 200, description = "A page of orders, newest first.", body = OrdersBody),
    (status = 422, description = "A wrong parameter, named in `fields`.", body = ApiErrorBody),
))]
pub(crate) async fn orders(
    State(state): State<AppState>,
    Query(query): Query<OrderQuery>,
) -> Result<Response, ApiError> {
    let request = query.parse().map_err(ApiError::invalid)?;
    let page = state
        .catalog
        .orders(&request.filter, request.limit, request.cursor.as_deref())
        .await?;
    Ok(Json(OrdersBody {
        orders: page.rows,
        next_cursor: page.next_cursor,
    })
    .into_response())
}

/// `GET /api/v1/orders/{id}`: the order with its items, where it goes, its history, and its
/// page on the marketplace.
#[utoipa::path(get, path = "/orders/{id}", tag = "orders", params(("id" = i64, Path, description = "Javelin's id of the order.")), responses(
    (status = 200, description = "The order.", body = OrderDetail),
    (status = 404, description = "No such order.", body = ApiErrorBody),
))]
pub(crate) async fn order(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let no_such = || ApiError::new(StatusCode::NOT_FOUND, "There is no such order.");
    let id: i64 = id.parse().map_err(|_| no_such())?;
    let detail = state.catalog.order(id).await?.ok_or_else(no_such)?;
    Ok(Json(detail).into_response())
}

/// `GET /api/v1/orders.csv` with the filters of `GET /api/v1/orders` (not `limit` nor
/// `cursor`: every order they let through), streamed.
#[utoipa::path(get, path = "/orders.csv", tag = "orders", params(OrderQuery), responses(
    (status = 200, description = "Every order the filters let through, newest first; `limit` and `cursor` are not read.",
        content_type = "text/csv", body = String),
    (status = 422, description = "A wrong parameter, named in `fields`.", body = ApiErrorBody),
))]
pub(crate) async fn orders_csv(
    State(state): State<AppState>,
    Query(query): Query<OrderQuery>,
) -> Result<Response, ApiError> {
    let request = query.parse().map_err(ApiError::invalid)?;
    let chunks = state.catalog.orders_csv(request.filter).map_err(|err| {
        // The status line has gone: all that is left is to cut the download short.
        tracing::error!(error = %err, "CSV export failed");
        std::io::Error::other(err.to_string())
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"orders.csv\""),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}
