//! How fast a connector may call: each operation's published rate limit, and the pacing the
//! caller applies (the sync engine's token buckets; none for a one-off check).

use std::time::Duration;

/// An operation of a marketplace's API with the rate limit it publishes: `rate` calls a second
/// once a burst of `burst` calls is spent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Operation {
    pub name: &'static str,
    pub rate: f64,
    pub burst: u32,
}

/// What paces a connector's calls.
#[async_trait::async_trait]
pub trait Pace: Send + Sync {
    /// Waits until `operation` may be called again.
    async fn ready(&self, operation: &Operation);
    /// The marketplace said which rate applies to `operation` now.
    fn rate_observed(&self, operation: &Operation, rate: f64);
    /// The marketplace refused a call of `operation` for going too fast.
    fn throttled(&self, operation: &Operation, retry_after: Option<Duration>);
}

/// No pacing, for a single call such as a connection test.
pub struct Unpaced;

#[async_trait::async_trait]
impl Pace for Unpaced {
    async fn ready(&self, _: &Operation) {}
    fn rate_observed(&self, _: &Operation, _: f64) {}
    fn throttled(&self, _: &Operation, _: Option<Duration>) {}
}
