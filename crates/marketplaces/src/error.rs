//! What can go wrong when Javelin calls a marketplace, sorted by what the caller should do:
//! wait (throttled), have the seller fix the credentials (unauthorized), stop asking (rejected),
//! or try again later (unavailable). Built here from status codes, headers and bodies; the
//! words a seller reads are written in `javelin-core`.

use std::fmt;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarketplaceError {
    /// Too many requests: wait, `retry_after` when the marketplace said how long, then retry.
    #[error("throttled: {detail}")]
    Throttled {
        retry_after: Option<Duration>,
        detail: String,
    },
    /// The marketplace refused the account's credentials: retrying will not help.
    #[error("unauthorized ({credential:?}): {detail}")]
    Unauthorized { credential: Credential, detail: String },
    /// The account lacks a credential the call needs (`client_secret`, `api_key`, …).
    #[error("the {0} is missing")]
    MissingCredential(&'static str),
    /// The marketplace understood the request and refused it.
    #[error("rejected: {detail}")]
    Rejected { detail: String },
    /// No usable answer from `host`: retry later.
    #[error("{host} is unavailable: {cause}")]
    Unavailable { host: String, cause: Unavailability },
}

/// Which credential a marketplace refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// The application's client credentials: Amazon's LWA client id and secret, Flipkart's
    /// API key and secret.
    Client,
    /// The seller's grant to the application: Amazon's refresh token or authorization code.
    Grant,
    /// An access token was refused for the call: wrong region, missing role, revoked access.
    Permission,
}

/// Why a marketplace gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailability {
    /// The request did not get an answer (connection refused, timeout).
    Network(String),
    /// The marketplace answered with a server error (5xx).
    Server { status: u16, detail: String },
    /// The answer was not in the shape the marketplace documents.
    Malformed(String),
}

impl fmt::Display for Unavailability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Network(reason) | Self::Malformed(reason) => f.write_str(reason),
            Self::Server { status, detail } if detail.is_empty() => write!(f, "HTTP {status}"),
            Self::Server { status, detail } => write!(f, "HTTP {status}, {detail}"),
        }
    }
}

impl MarketplaceError {
    /// Whether waiting and asking again may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Unavailable { .. })
    }
}
