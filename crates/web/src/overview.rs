//! What the dashboard shows, for the page and for `GET /api/v1/dashboard`: a period's figures
//! (core) and each connection's health (sync).

use javelin_core::orders::{Dashboard, Period};
use javelin_storage::{ConnectionStatus, StorageError, SyncKind, Timestamp};
use serde::Serialize;

use crate::AppState;

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Overview {
    #[serde(flatten)]
    pub figures: Dashboard,
    pub connections: Vec<ConnectionHealth>,
}

/// A connection's health at a glance.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ConnectionHealth {
    pub id: i64,
    pub platform: String,
    pub label: String,
    pub status: ConnectionStatus,
    pub sync: Vec<KindHealth>,
}

#[derive(Clone, Debug, Serialize)]
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
    let (figures, connections) =
        futures_util::future::try_join(state.catalog.dashboard(period, state.sync.now()), health(state)).await?;
    Ok(Overview { figures, connections })
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
