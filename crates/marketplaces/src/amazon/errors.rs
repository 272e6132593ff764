use serde::Deserialize;

/// A failed call to Login with Amazon or SP-API, with what Amazon said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmazonError {
    /// The LWA token endpoint refused: OAuth error code and description.
    Lwa {
        status: u16,
        error: String,
        description: String,
    },
    /// SP-API refused: the first entry of its `errors[]`.
    SpApi {
        status: u16,
        code: String,
        message: String,
        details: String,
    },
    /// No answer, or an answer that is not Amazon's shape.
    Unavailable(String),
}

impl std::fmt::Display for AmazonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Lwa { error, description, .. } => write!(f, "{error}: {description}"),
            Self::SpApi {
                code, message, details, ..
            } if details.is_empty() => write!(f, "{code}: {message}"),
            Self::SpApi {
                code, message, details, ..
            } => write!(f, "{code}: {message} {details}"),
            Self::Unavailable(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for AmazonError {}

/// LWA's flat OAuth error body.
#[derive(Deserialize)]
pub(crate) struct LwaErrorBody {
    pub(crate) error: String,
    #[serde(default)]
    pub(crate) error_description: String,
}

/// SP-API's `{"errors":[{code,message,details}]}`.
#[derive(Deserialize)]
pub(crate) struct SpApiErrorBody {
    pub(crate) errors: Vec<SpApiErrorItem>,
}

#[derive(Deserialize)]
pub(crate) struct SpApiErrorItem {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) details: String,
}

/// Reads an error response: Amazon's shape when it is one, else the status and a snippet.
pub(crate) fn from_response_body(status: u16, body: &str, lwa: bool) -> AmazonError {
    if lwa && let Ok(parsed) = serde_json::from_str::<LwaErrorBody>(body) {
        return AmazonError::Lwa {
            status,
            error: parsed.error,
            description: parsed.error_description,
        };
    }
    if let Ok(parsed) = serde_json::from_str::<SpApiErrorBody>(body)
        && let Some(first) = parsed.errors.into_iter().next()
    {
        return AmazonError::SpApi {
            status,
            code: first.code,
            message: first.message,
            details: first.details,
        };
    }
    let snippet: String = body.chars().take(200).collect();
    AmazonError::Unavailable(format!(
        "Amazon answered HTTP {status} with an unexpected body: {snippet}"
    ))
}
