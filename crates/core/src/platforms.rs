use javelin_storage::{ConnectionStatus, NewPlatform, Platform, Storage, Timestamp};

use crate::connections::ConnectionView;
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
    pub connections: Vec<ConnectionView>,
}

impl PlatformCard {
    /// The platform's status is its worst connection's: an error outweighs an incomplete
    /// configuration, which outweighs connected; no connection at all is Not Connected.
    pub fn new(platform: Platform, connections: Vec<ConnectionView>) -> Self {
        let rank = |status: ConnectionStatus| match status {
            ConnectionStatus::Error => 3,
            ConnectionStatus::Incomplete => 2,
            ConnectionStatus::Connected => 1,
            ConnectionStatus::NotConnected => 0,
        };
        let status = connections
            .iter()
            .map(|c| c.status)
            .max_by_key(|s| rank(*s))
            .unwrap_or(ConnectionStatus::NotConnected);
        Self {
            platform: platform.code,
            name: platform.name,
            status,
            connections,
        }
    }
}
