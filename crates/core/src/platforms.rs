use javelin_storage::{ConnectionStatus, NewPlatform, Platform, Storage, Timestamp};
use serde::Serialize;

/// The platforms Javelin supports, written to the database at every start.
pub const SUPPORTED: [NewPlatform<'static>; 2] = [
    NewPlatform {
        code: "amazon",
        name: "Amazon",
        sort_order: 1,
    },
    NewPlatform {
        code: "flipkart",
        name: "Flipkart",
        sort_order: 2,
    },
];

/// Makes sure every supported platform is present, so "platform not appearing" cannot happen.
pub async fn initialise(storage: &Storage) -> javelin_storage::Result<()> {
    storage.ensure_platforms(&SUPPORTED, Timestamp::now()).await
}

/// What the Connect Platforms page and `GET /api/v1/platforms` show of one platform.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformCard {
    pub platform: String,
    pub name: String,
    pub status: ConnectionStatus,
}

/// Every platform with its overall status, in display order.
pub async fn cards(storage: &Storage) -> javelin_storage::Result<Vec<PlatformCard>> {
    let platforms = storage.list_platforms().await?;
    Ok(platforms
        .into_iter()
        .map(|Platform { code, name, .. }| PlatformCard {
            platform: code,
            name,
            // Connections arrive with the Connect Platforms issue; until then none exist.
            status: ConnectionStatus::NotConnected,
        })
        .collect())
}
