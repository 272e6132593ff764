use javelin_storage::{NewPlatform, Platform, Storage, Timestamp};
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

/// A platform's or a connection's state, with the connection guide's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    Connected,
    Incomplete,
    Error,
    NotConnected,
}

impl ConnectionStatus {
    /// The badge text, exactly as the guide names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connected => "Connected",
            Self::Incomplete => "Incomplete Configuration",
            Self::Error => "Connection Error",
            Self::NotConnected => "Not Connected",
        }
    }

    /// The name used in the API and in CSS classes.
    pub fn code(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::Incomplete => "incomplete",
            Self::Error => "error",
            Self::NotConnected => "not_connected",
        }
    }
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
