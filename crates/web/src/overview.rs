//! What the dashboard shows, for the page and for `GET /api/v1/dashboard`: a period's figures
//! (core) and each connection's health (sync).

use javelin_core::orders::{Dashboard, Period};
use javelin_model::Platform;
use javelin_storage::{ConnectionStatus, StockFilter, StorageError, SyncKind, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct Overview {
    #[serde(flatten)]
    pub figures: Dashboard,
    /// SKUs at or below their low-stock threshold, by SKU, the first [`LOW_LISTED`].
    pub low_stock: Vec<LowStock>,
    pub connections: Vec<ConnectionHealth>,
}

/// Low-stock SKUs listed on the dashboard; the Inventory page lists them all.
const LOW_LISTED: u32 = 20;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct LowStock {
    pub sku: String,
    pub title: Option<String>,
    pub total_available: i64,
    pub threshold: i64,
}

/// A connection's health at a glance.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct ConnectionHealth {
    pub id: i64,
    #[schema(value_type = Platform)]
    pub platform: String,
    pub label: String,
    pub status: ConnectionStatus,
    /// Amazon, from 30 days before its client secret expires: rotate it, with the days left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_warning: Option<String>,
    pub sync: Vec<KindHealth>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct KindHealth {
    pub kind: SyncKind,
    pub last_success_at: Option<Timestamp>,
    /// `None` when the schedule is switched off.
    pub next_run_at: Option<Timestamp>,
    pub running: bool,
    /// The last run's error, when it failed.
    pub last_error: Option<String>,
}

pub(crate) async fn load(state: &AppState, period: Period) -> Result<Overview, StorageError> {
    let (figures, connections, low_stock) = futures_util::future::try_join3(
        state.catalog.dashboard(period, state.sync.now()),
        health(state),
        low_stock(state),
    )
    .await?;
    Ok(Overview {
        figures,
        low_stock,
        connections,
    })
}

async fn low_stock(state: &AppState) -> Result<Vec<LowStock>, StorageError> {
    let filter = StockFilter {
        low_stock: true,
        ..StockFilter::default()
    };
    let skus = state.storage.list_skus(&filter, LOW_LISTED, None).await?;
    Ok(skus
        .into_iter()
        .map(|sku| LowStock {
            sku: sku.sku,
            title: sku.title,
            total_available: sku.total_available,
            threshold: sku.threshold,
        })
        .collect())
}

async fn health(state: &AppState) -> Result<Vec<ConnectionHealth>, StorageError> {
    let mut connections = Vec::new();
    for connection in state.connections.list().await? {
        let health = state.sync.health(connection.id).await?;
        connections.push(ConnectionHealth {
            id: connection.id,
            platform: connection.platform.code().to_owned(),
            label: connection.label,
            status: connection.status,
            credentials_warning: connection.credentials_warning,
            sync: health
                .kinds
                .into_iter()
                .map(|kind| KindHealth {
                    kind: kind.kind,
                    last_success_at: kind.last_success.and_then(|job| job.finished_at),
                    next_run_at: kind.schedule.enabled.then_some(kind.schedule.next_run_at),
                    running: kind.active.is_some(),
                    last_error: kind.failure.and_then(|job| job.error),
                })
                .collect(),
        });
    }
    Ok(connections)
}
