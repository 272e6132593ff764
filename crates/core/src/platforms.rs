//! The platforms Javelin supports, written to the database at every start.

use javelin_marketplaces::Platform;
use javelin_storage::{NewPlatform, Storage};

use crate::Clock;

/// Makes sure every supported platform is present, so "platform not appearing" cannot happen.
pub async fn initialise(storage: &Storage, clock: &Clock) -> javelin_storage::Result<()> {
    let supported: Vec<NewPlatform<'_>> = Platform::ALL
        .iter()
        .zip(1..)
        .map(|(platform, sort_order)| NewPlatform {
            code: platform.code(),
            name: platform.name(),
            sort_order,
        })
        .collect();
    storage.ensure_platforms(&supported, clock.now()).await
}
