//! Amazon's two error shapes — Login with Amazon's flat OAuth object and SP-API's `errors[]`
//! — read into [`MarketplaceError`].

use serde::Deserialize;

use crate::http::Answer;
use crate::{Credential, MarketplaceError};

/// LWA's flat OAuth error body.
#[derive(Deserialize)]
struct LwaErrorBody {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// SP-API's `{"errors":[{code,message,details}]}`.
#[derive(Deserialize)]
struct SpApiErrorBody {
    errors: Vec<SpApiErrorItem>,
}

#[derive(Deserialize)]
struct SpApiErrorItem {
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: String,
}

/// A refusal from the LWA token endpoint.
pub(crate) fn lwa(url: &str, answer: &Answer) -> MarketplaceError {
    let Ok(body) = serde_json::from_str::<LwaErrorBody>(&answer.body) else {
        return unexpected(url, answer);
    };
    let detail = format!("{}: {}", body.error, body.error_description);
    if let Some(common) = answer.common_error(url, &detail) {
        return common;
    }
    match body.error.as_str() {
        "invalid_client" | "unauthorized_client" => MarketplaceError::Unauthorized {
            credential: Credential::Client,
            detail,
        },
        "invalid_grant" => MarketplaceError::Unauthorized {
            credential: Credential::Grant,
            detail,
        },
        "server_error" | "temporarily_unavailable" => MarketplaceError::Unavailable {
            host: crate::http::host_of(url),
            cause: crate::Unavailability::Server {
                status: answer.status,
                detail,
            },
        },
        _ => MarketplaceError::Rejected { detail },
    }
}

/// A refusal from an SP-API operation.
pub(crate) fn sp_api(url: &str, answer: &Answer) -> MarketplaceError {
    let first = serde_json::from_str::<SpApiErrorBody>(&answer.body)
        .ok()
        .and_then(|body| body.errors.into_iter().next());
    let Some(first) = first else {
        return unexpected(url, answer);
    };
    let detail = if first.details.is_empty() {
        format!("{}: {}", first.code, first.message)
    } else {
        format!("{}: {} {}", first.code, first.message, first.details)
    };
    if let Some(common) = answer.common_error(url, &detail) {
        return common;
    }
    match answer.status {
        401 | 403 => MarketplaceError::Unauthorized {
            credential: Credential::Permission,
            detail,
        },
        _ => MarketplaceError::Rejected { detail },
    }
}

/// An error answer in neither of Amazon's shapes (a proxy's page, a truncated body).
fn unexpected(url: &str, answer: &Answer) -> MarketplaceError {
    let snippet: String = answer.body.chars().take(200).collect();
    answer.common_error(url, "").unwrap_or_else(|| {
        crate::http::malformed(
            url,
            format!("HTTP {} with an unexpected body: {snippet}", answer.status),
        )
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Unavailability;

    const URL: &str = "https://sellingpartnerapi-na.amazon.com/orders/2026-01-01/orders";

    fn answer(status: u16, body: &str, retry_after: Option<u64>) -> Answer {
        Answer {
            status,
            retry_after: retry_after.map(Duration::from_secs),
            rate_limit: None,
            body: body.to_owned(),
        }
    }

    fn sp(code: &str) -> String {
        format!(r#"{{"errors":[{{"code":"{code}","message":"m","details":""}}]}}"#)
    }

    #[test]
    fn sp_api_errors_are_sorted_by_what_to_do() {
        assert_eq!(
            sp_api(URL, &answer(429, &sp("QuotaExceeded"), Some(7))),
            MarketplaceError::Throttled {
                retry_after: Some(Duration::from_secs(7)),
                detail: "QuotaExceeded: m".into()
            }
        );
        assert!(matches!(
            sp_api(URL, &answer(403, &sp("Unauthorized"), None)),
            MarketplaceError::Unauthorized {
                credential: Credential::Permission,
                ..
            }
        ));
        assert_eq!(
            sp_api(URL, &answer(400, &sp("InvalidInput"), None)),
            MarketplaceError::Rejected {
                detail: "InvalidInput: m".into()
            }
        );
        assert_eq!(
            sp_api(URL, &answer(503, &sp("ServiceUnavailable"), None)),
            MarketplaceError::Unavailable {
                host: "sellingpartnerapi-na.amazon.com".into(),
                cause: Unavailability::Server {
                    status: 503,
                    detail: "ServiceUnavailable: m".into()
                }
            }
        );
        // A gateway's HTML page: a server error still, and a client error is "malformed".
        assert!(matches!(
            sp_api(URL, &answer(502, "<html>Bad Gateway</html>", None)),
            MarketplaceError::Unavailable {
                cause: Unavailability::Server { status: 502, .. },
                ..
            }
        ));
        assert!(matches!(
            sp_api(URL, &answer(404, "<html>Not Found</html>", None)),
            MarketplaceError::Unavailable {
                cause: Unavailability::Malformed(what),
                ..
            } if what.contains("HTTP 404")
        ));
    }

    #[test]
    fn lwa_errors_name_the_credential() {
        let body = |error: &str| format!(r#"{{"error":"{error}","error_description":"d"}}"#);
        let credential = |status, error| match lwa(URL, &answer(status, &body(error), None)) {
            MarketplaceError::Unauthorized { credential, .. } => Some(credential),
            _ => None,
        };
        assert_eq!(credential(401, "invalid_client"), Some(Credential::Client));
        assert_eq!(credential(400, "unauthorized_client"), Some(Credential::Client));
        assert_eq!(credential(400, "invalid_grant"), Some(Credential::Grant));
        assert_eq!(credential(400, "invalid_request"), None);
        assert!(matches!(
            lwa(URL, &answer(400, &body("temporarily_unavailable"), None)),
            MarketplaceError::Unavailable { .. }
        ));
        assert!(lwa(URL, &answer(500, &body("server_error"), None)).is_transient());
        assert!(!lwa(URL, &answer(400, &body("invalid_scope"), None)).is_transient());
    }
}
