//! The marketplaces Javelin connects to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A marketplace platform, stored and sent by its code (`amazon`, `flipkart`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Amazon,
    Flipkart,
}

impl Platform {
    /// Every platform, in display order.
    pub const ALL: [Platform; 2] = [Platform::Amazon, Platform::Flipkart];

    pub fn code(self) -> &'static str {
        match self {
            Self::Amazon => "amazon",
            Self::Flipkart => "flipkart",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Amazon => "Amazon",
            Self::Flipkart => "Flipkart",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Platform {
    type Err = UnknownPlatform;
    fn from_str(code: &str) -> Result<Self, UnknownPlatform> {
        Self::ALL
            .into_iter()
            .find(|platform| platform.code() == code)
            .ok_or_else(|| UnknownPlatform(code.to_owned()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Javelin does not know the platform {0:?}")]
pub struct UnknownPlatform(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for platform in Platform::ALL {
            assert_eq!(platform.code().parse(), Ok(platform));
            assert_eq!(
                serde_json::to_value(platform).ok(),
                Some(serde_json::json!(platform.code()))
            );
        }
        assert!("ebay".parse::<Platform>().is_err());
    }
}
