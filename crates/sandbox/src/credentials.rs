//! The sample credentials: derived from the seed, so the same on every run.

use serde::Serialize;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct AmazonCredentials {
    pub application_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// A ready grant for the sandbox seller, for manual connects and scripts.
    pub refresh_token: String,
    pub selling_partner_id: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FlipkartCredentials {
    pub api_key: String,
    pub api_secret: String,
}

/// What `javelin sandbox --print-credentials` prints.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Credentials {
    pub amazon: AmazonCredentials,
    pub flipkart: FlipkartCredentials,
}

fn digest(seed: u64, label: &str) -> [u8; 32] {
    Sha256::digest(format!("javelin-sandbox:{seed}:{label}")).into()
}

fn hex(seed: u64, label: &str, len: usize) -> String {
    digest(seed, label)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

fn letters(seed: u64, label: &str, len: usize) -> String {
    digest(seed, label)
        .iter()
        .take(len)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

impl Credentials {
    pub fn from_seed(seed: u64) -> Self {
        let uuid = hex(seed, "application", 32);
        Self {
            amazon: AmazonCredentials {
                application_id: format!(
                    "amzn1.sp.solution.{}-{}-{}-{}-{}",
                    &uuid[..8],
                    &uuid[8..12],
                    &uuid[12..16],
                    &uuid[16..20],
                    &uuid[20..]
                ),
                client_id: format!("amzn1.application-oa2-client.{}", hex(seed, "client id", 32)),
                client_secret: format!("amzn1.oa2-cs.v1.{}", hex(seed, "client secret", 64)),
                refresh_token: format!("Atzr|{}", hex(seed, "refresh token", 64)),
                selling_partner_id: format!("A{}", letters(seed, "seller", 13)),
            },
            flipkart: FlipkartCredentials {
                api_key: hex(seed, "flipkart app id", 36),
                api_secret: hex(seed, "flipkart app secret", 33),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values_other_seed_other_values() {
        let a = Credentials::from_seed(0);
        assert_eq!(a, Credentials::from_seed(0));
        assert_ne!(a.amazon.client_secret, Credentials::from_seed(1).amazon.client_secret);
        assert!(a.amazon.application_id.starts_with("amzn1.sp.solution."));
        assert!(a.amazon.refresh_token.starts_with("Atzr|"));
        assert_eq!(a.amazon.selling_partner_id.len(), 14);
        assert!(a.amazon.selling_partner_id.chars().all(|c| c.is_ascii_uppercase()));
        assert_eq!((a.flipkart.api_key.len(), a.flipkart.api_secret.len()), (36, 33));
    }
}
