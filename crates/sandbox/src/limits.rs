//! What makes the sandbox a hard marketplace: Amazon's published rate limits, enforced per
//! operation with token buckets (faster by the time scale, and stated in
//! `x-amzn-RateLimit-Limit` as Amazon does), and faults injected at a chosen rate.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use javelin_marketplaces::Operation;
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::json;
use time::OffsetDateTime;

struct Bucket {
    tokens: f64,
    updated: OffsetDateTime,
}

/// The buckets of the sandbox's seller, one per operation.
pub(crate) struct Limits {
    time_scale: f64,
    buckets: HashMap<&'static str, Bucket>,
    /// Calls refused for their rate, by operation.
    pub(crate) throttled: HashMap<&'static str, u64>,
}

impl Limits {
    pub(crate) fn new(time_scale: f64) -> Self {
        Self {
            time_scale: time_scale.max(f64::MIN_POSITIVE),
            buckets: HashMap::new(),
            throttled: HashMap::new(),
        }
    }

    /// The rate an operation has here (its published rate, times the time scale).
    pub(crate) fn rate(&self, operation: &Operation) -> f64 {
        operation.rate * self.time_scale
    }

    /// Takes a call of `operation` at `now`; `false` when its bucket is empty.
    pub(crate) fn take(&mut self, operation: &Operation, now: OffsetDateTime) -> bool {
        let rate = self.rate(operation);
        let burst = f64::from(operation.burst);
        let bucket = self.buckets.entry(operation.name).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        let elapsed = (now - bucket.updated).as_seconds_f64().max(0.0);
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            *self.throttled.entry(operation.name).or_default() += 1;
            false
        }
    }
}

/// A failure the sandbox can inject into an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    Throttle,
    InternalError,
    Unavailable,
    /// The answer comes, a second late.
    Slow,
    /// The connection drops in the middle of the body.
    CutOff,
    /// A 200 whose body is not JSON.
    Malformed,
}

const FAULTS: [Fault; 6] = [
    Fault::Throttle,
    Fault::InternalError,
    Fault::Unavailable,
    Fault::Slow,
    Fault::CutOff,
    Fault::Malformed,
];

/// Faults drawn at a rate, from the seed.
pub(crate) struct Faults {
    pub(crate) rate: f64,
    rng: StdRng,
    pub(crate) injected: u64,
}

impl Faults {
    pub(crate) fn new(rate: f64, rng: StdRng) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            rng,
            injected: 0,
        }
    }

    pub(crate) fn draw(&mut self) -> Option<Fault> {
        if self.rate <= 0.0 || !self.rng.random_bool(self.rate) {
            return None;
        }
        self.injected += 1;
        Some(FAULTS[self.rng.random_range(0..FAULTS.len())])
    }
}

pub(crate) const SLOW: Duration = Duration::from_secs(1);

/// The answer a fault gives instead of the real one (`Slow` has none: the real one follows).
pub(crate) fn fault_response(fault: Fault, amazon: bool) -> Option<Response> {
    let error = |status: StatusCode, code: &str, message: &str| {
        let body = if amazon {
            json!({"errors": [{"code": code, "message": message, "details": ""}]})
        } else {
            json!({"error": code, "error_description": message})
        };
        (status, axum::Json(body)).into_response()
    };
    Some(match fault {
        Fault::Throttle => error(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
        ),
        Fault::InternalError => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            if amazon {
                "InternalFailure"
            } else {
                "DEPENDENT_SYSTEM_CALL_FAILED"
            },
            "We encountered an internal error. Please try again.",
        ),
        Fault::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "<html><body>Service Unavailable</body></html>",
        )
            .into_response(),
        Fault::Malformed => {
            let mut response = (StatusCode::OK, "{\"orders\": [{\"orderId\": ").into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            response
        }
        Fault::CutOff => {
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"orders\": [")),
                Err(std::io::Error::other("the sandbox cut the connection")),
            ];
            let mut response = Body::from_stream(futures_util::stream::iter(parts)).into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            response
        }
        Fault::Slow => return None,
    })
}
