//! `GET /api/v1/dashboard?from=&to=`: the dashboard's figures for scripts. Contract: the names
//! of the issue (`from`, `to`, `orders`, `revenue`, `by_platform`, `by_status`, `by_day`,
//! `top_skus`, `low_stock`, `connections`) stay.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use javelin_core::orders::PeriodQuery;

use crate::AppState;
use crate::error::{ApiError, ApiErrorBody};
use crate::overview::{self, Overview};

/// `GET /api/v1/dashboard`: `from` and `to` are dates (`to` included) or RFC 3339 times; the last
/// 30 days when absent.
#[utoipa::path(get, path = "/dashboard", tag = "dashboard", params(PeriodQuery), responses(
    (status = 200, description = "The period's figures, open orders now, low stock and each connection's health.", body = Overview),
    (status = 422, description = "A wrong parameter, named in `fields`.", body = ApiErrorBody),
))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let period = query.parse(state.sync.now()).map_err(ApiError::invalid)?;
    Ok(Json(overview::load(&state, period).await?).into_response())
}
