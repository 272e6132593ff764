//! The HTTP client every marketplace call goes through.

use std::time::Duration;

use crate::{MarketplaceError, Unavailability};

/// Sent on every call; Amazon requires a user agent naming the language.
pub const USER_AGENT: &str = concat!(
    "Javelin/",
    env!("CARGO_PKG_VERSION"),
    " (Language=Rust; Platform=Linux)"
);

/// Installs the process-wide TLS crypto provider (ring, the one sqlx uses too); idempotent.
pub fn ensure_crypto_provider() {
    // Fails only when a provider is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with timeouts and no redirects: a token endpoint that redirects is not followed,
/// so credentials are never sent anywhere but where they were meant to go.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    ensure_crypto_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        // Also for requests given a longer total, such as report downloads.
        .read_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// `base` + `path`, keeping any path prefix of the base (`http://127.0.0.1:8001/amazon`).
pub(crate) fn join(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// The host of a URL, to name in errors.
pub(crate) fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A request that got no answer.
pub(crate) fn unreachable(url: &str, err: &reqwest::Error) -> MarketplaceError {
    let reason = if err.is_timeout() {
        "the request timed out".to_owned()
    } else if err.is_connect() {
        "the connection failed".to_owned()
    } else {
        err.to_string()
    };
    MarketplaceError::Unavailable {
        host: host_of(url),
        cause: Unavailability::Network(reason),
    }
}

/// An answer that is not in the marketplace's documented shape.
pub(crate) fn malformed(url: &str, what: impl Into<String>) -> MarketplaceError {
    MarketplaceError::Unavailable {
        host: host_of(url),
        cause: Unavailability::Malformed(what.into()),
    }
}

/// The status, the `Retry-After` delay (seconds form) and the body of an answer.
pub(crate) async fn read(url: &str, response: reqwest::Response) -> Result<Answer, MarketplaceError> {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // Amazon's current rate for the operation, when it says (x-amzn-RateLimit-Limit).
    let rate_limit = response
        .headers()
        .get("x-amzn-ratelimit-limit")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|rate| rate.is_finite() && *rate > 0.0);
    let body = response.text().await.map_err(|err| unreachable(url, &err))?;
    Ok(Answer {
        status,
        retry_after,
        rate_limit,
        body,
    })
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) rate_limit: Option<f64>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The errors every marketplace shares: throttling and server failures. `detail` is the
    /// marketplace's own description of the error.
    pub(crate) fn common_error(&self, url: &str, detail: &str) -> Option<MarketplaceError> {
        match self.status {
            429 => Some(MarketplaceError::Throttled {
                retry_after: self.retry_after,
                detail: detail.to_owned(),
            }),
            500..=599 => Some(MarketplaceError::Unavailable {
                host: host_of(url),
                cause: Unavailability::Server {
                    status: self.status,
                    detail: detail.to_owned(),
                },
            }),
            _ => None,
        }
    }
}
