use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A random token of 256 bits, URL-safe base64, with an optional prefix that tells what it is.
pub(crate) fn random_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    // The operating system's random source failing is not something to recover from.
    getrandom::fill(&mut bytes).expect("operating system randomness is available");
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// What the database keeps of a bearer secret: its SHA-256. The tokens carry 256 random bits,
/// so a fast hash is enough (unlike passwords).
pub(crate) fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
