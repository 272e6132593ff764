//! Calls to a marketplace at exactly the pace it allows: a token bucket per connection and
//! operation, with the operation's published rate and burst adjusted to the rate the
//! marketplace states in its answers. The burst is spent at once, then calls follow at the
//! refill rate, so a long sync neither idles nor draws refusals. When the marketplace throttles
//! anyway, that operation of that connection pauses, with backoff and jitter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use javelin_marketplaces::Operation;
use tokio::time::Instant;

/// How long the backoff grows after throttles in a row, and when they stop counting as in a row.
const MAX_PAUSE: Duration = Duration::from_secs(15 * 60);
const THROTTLES_FORGOTTEN_AFTER: Duration = Duration::from_secs(10 * 60);

struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    updated: Instant,
    paused_until: Option<Instant>,
    throttles_in_a_row: u32,
    last_throttle: Option<Instant>,
}

impl Bucket {
    fn new(operation: &Operation, now: Instant) -> Self {
        let burst = f64::from(operation.burst.max(1));
        Self {
            rate: operation.rate,
            burst,
            tokens: burst,
            updated: now,
            paused_until: None,
            throttles_in_a_row: 0,
            last_throttle: None,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.updated = now;
    }

    /// Takes a token, or says how long until one is due.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        if let Some(until) = self.paused_until {
            if until > now {
                return Err(until - now);
            }
            self.paused_until = None;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// The buckets of every connection and operation of this process. Cheap to share.
pub struct Pacer {
    buckets: Mutex<HashMap<(i64, &'static str), Bucket>>,
    /// For jitter: a xorshift generator, seeded so that tests can repeat a run.
    random: Mutex<u64>,
}

impl Pacer {
    pub fn new(seed: u64) -> Self {
        Self {
            buckets: Mutex::default(),
            random: Mutex::new(seed | 1),
        }
    }

    fn with_bucket<T>(&self, connection: i64, operation: &Operation, f: impl FnOnce(&mut Bucket, Instant) -> T) -> T {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = buckets
            .entry((connection, operation.name))
            .or_insert_with(|| Bucket::new(operation, now));
        f(bucket, now)
    }

    /// How long a call of `operation` would wait now.
    pub fn wait_needed(&self, connection: i64, operation: &Operation) -> Duration {
        self.with_bucket(connection, operation, |bucket, now| {
            let mut probe = Bucket { ..*bucket };
            probe.take(now).err().unwrap_or(Duration::ZERO)
        })
    }

    /// Waits until `operation` may be called for `connection`, and takes its token; returns
    /// how long it waited.
    pub async fn acquire(&self, connection: i64, operation: &Operation) -> Duration {
        let started = Instant::now();
        loop {
            match self.with_bucket(connection, operation, Bucket::take) {
                Ok(()) => return started.elapsed(),
                Err(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    /// The marketplace stated the rate it applies now.
    pub fn observe_rate(&self, connection: i64, operation: &Operation, rate: f64) {
        if rate.is_finite() && rate > 0.0 {
            self.with_bucket(connection, operation, |bucket, now| {
                bucket.refill(now);
                bucket.rate = rate;
            });
        }
    }

    /// The marketplace refused a call for its rate: the bucket is empty, and the operation
    /// waits `retry_after` when given, else one refill interval, doubling with each refusal in a
    /// row, with ±20 % jitter. Returns the pause.
    pub fn throttled(&self, connection: i64, operation: &Operation, retry_after: Option<Duration>) -> Duration {
        let jitter = 0.8 + 0.4 * self.random_unit();
        self.with_bucket(connection, operation, |bucket, now| {
            let recent = bucket
                .last_throttle
                .is_some_and(|at| now.saturating_duration_since(at) < THROTTLES_FORGOTTEN_AFTER);
            bucket.throttles_in_a_row = if recent { bucket.throttles_in_a_row + 1 } else { 1 };
            bucket.last_throttle = Some(now);
            bucket.tokens = 0.0;
            bucket.updated = now;
            let interval = 1.0 / bucket.rate;
            let backoff = interval * 2f64.powi(bucket.throttles_in_a_row.saturating_sub(1).min(16) as i32);
            let pause = match retry_after {
                Some(wait) => wait,
                None => Duration::from_secs_f64((backoff * jitter).min(MAX_PAUSE.as_secs_f64())),
            };
            bucket.paused_until = Some(now + pause);
            pause
        })
    }

    /// The rate calls of `operation` follow once the burst is spent.
    pub fn rate(&self, connection: i64, operation: &Operation) -> f64 {
        self.with_bucket(connection, operation, |bucket, _| bucket.rate)
    }

    /// A number in [0, 1).
    fn random_unit(&self) -> f64 {
        let mut state = self.random.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// "1 call every 3 minutes", "2 calls a second": a rate in words.
pub fn describe_rate(rate: f64) -> String {
    if rate >= 1.0 {
        let calls = rate.round() as u64;
        return format!("{calls} call{} a second", if calls == 1 { "" } else { "s" });
    }
    let seconds = (1.0 / rate).round() as u64;
    match seconds {
        0..=90 => format!("1 call every {seconds} seconds"),
        91..=5399 => format!("1 call every {} minutes", (seconds + 30) / 60),
        _ => format!("1 call every {} hours", (seconds + 1800) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Operation = Operation {
        name: "searchOrders",
        rate: 0.5,
        burst: 3,
    };

    #[tokio::test(start_paused = true)]
    async fn the_burst_goes_at_once_then_calls_follow_the_rate() {
        let pacer = Pacer::new(7);
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(pacer.acquire(1, &SLOW).await, Duration::ZERO);
        }
        let mut at = Vec::new();
        for _ in 0..3 {
            pacer.acquire(1, &SLOW).await;
            at.push(start.elapsed().as_millis());
        }
        assert_eq!(at, [2000, 4000, 6000], "one call every 1/rate seconds");
        // Another connection, or another operation, has its own bucket.
        assert_eq!(pacer.acquire(2, &SLOW).await, Duration::ZERO);
        // The marketplace says the rate is faster now.
        pacer.observe_rate(1, &SLOW, 4.0);
        let before = start.elapsed();
        pacer.acquire(1, &SLOW).await;
        assert_eq!((start.elapsed() - before).as_millis(), 250);
        assert_eq!(pacer.rate(1, &SLOW), 4.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_pauses_with_growing_jittered_backoff() {
        let pacer = Pacer::new(42);
        pacer.acquire(1, &SLOW).await;
        let first = pacer.throttled(1, &SLOW, None);
        assert!(
            (1600..=2400).contains(&first.as_millis()),
            "one interval ±20 %: {first:?}"
        );
        assert_eq!(pacer.wait_needed(1, &SLOW), first);
        let waited = pacer.acquire(1, &SLOW).await;
        assert!(waited >= first, "{waited:?} < {first:?}");
        let second = pacer.throttled(1, &SLOW, None);
        assert!((3200..=4800).contains(&second.as_millis()), "doubled: {second:?}");
        let told = pacer.throttled(1, &SLOW, Some(Duration::from_secs(30)));
        assert_eq!(told, Duration::from_secs(30), "Retry-After wins");
        assert_eq!(pacer.wait_needed(2, &SLOW), Duration::ZERO, "other connections go on");
        // Much later, refusals no longer count as in a row.
        tokio::time::advance(THROTTLES_FORGOTTEN_AFTER + Duration::from_secs(60)).await;
        let fresh = pacer.throttled(1, &SLOW, None);
        assert!(fresh < Duration::from_millis(2401), "{fresh:?}");
    }

    #[test]
    fn rates_read_as_words() {
        assert_eq!(describe_rate(0.0056), "1 call every 3 minutes");
        assert_eq!(describe_rate(0.5), "1 call every 2 seconds");
        assert_eq!(describe_rate(2.0), "2 calls a second");
        assert_eq!(describe_rate(1.0), "1 call a second");
        assert_eq!(describe_rate(1.0 / 7200.0), "1 call every 2 hours");
    }
}
