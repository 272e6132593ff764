//! Where the services get the time: the system clock, or a clock a test sets and moves, so
//! that expiry, leases, schedules and reuse windows are driven by tests instead of waited for.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use javelin_storage::Timestamp;

/// The time source of the services. Cheap to clone; clones share a manual clock's time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Unix microseconds of a manual clock; `None` reads the system clock.
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    pub fn now(&self) -> Timestamp {
        match &self.manual {
            None => Timestamp::now(),
            // Every value stored was a valid timestamp's micros.
            Some(micros) => Timestamp::from_unix_micros(micros.load(Ordering::SeqCst)).unwrap_or_else(Timestamp::now),
        }
    }
}

/// A clock that stands still until moved: the handle tests keep, while the services hold its
/// [`ManualClock::clock`].
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn starting_at(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start.unix_micros())))
    }

    pub fn clock(&self) -> Clock {
        Clock {
            manual: Some(self.0.clone()),
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock().now()
    }

    pub fn advance(&self, by: time::Duration) {
        let micros = i64::try_from(by.whole_microseconds()).unwrap_or(i64::MAX);
        self.0.fetch_add(micros, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced() {
        let start = Timestamp::parse_rfc3339("2026-11-27T10:00:00Z").expect("valid");
        let hand = ManualClock::starting_at(start);
        let clock = hand.clock();
        assert_eq!(clock.now(), start);
        hand.advance(time::Duration::seconds(61));
        assert_eq!(clock.clone().now(), start + time::Duration::seconds(61));
        assert!(Clock::system().now() > start - time::Duration::days(3650));
    }
}
