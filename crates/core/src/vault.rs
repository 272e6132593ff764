//! Encryption of secrets at rest: XChaCha20-Poly1305 with a fresh random 192-bit nonce per
//! value, and associated data naming where the value belongs (e.g. `connection:7:client_secret`),
//! so that a ciphertext copied to another row or field fails to decrypt.
//!
//! The master key never enters the database. Each ciphertext records the id of the key that
//! sealed it (derived from the key itself), so a wrong key is recognised before any decryption.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// A 256-bit master key.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    #[error("the master key must be 32 bytes encoded as base64 ({0})")]
    BadKey(String),
    #[error("a secret was sealed with master key {0}, which is not the configured key")]
    UnknownKey(String),
    #[error("a stored secret failed its integrity check: it was altered or moved to another record")]
    Tampered,
}

impl MasterKey {
    /// 32 fresh random bytes for a new key.
    pub fn random_bytes() -> [u8; 32] {
        Key::generate().into()
    }

    pub fn generate() -> Self {
        Self::from_bytes(&Self::random_bytes())
    }

    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // The id names the key without revealing it: 8 bytes of a domain-separated hash.
        let digest = Sha256::new()
            .chain_update(b"javelin master key id\0")
            .chain_update(bytes)
            .finalize();
        let id = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self {
            id,
            cipher: XChaCha20Poly1305::new(&Key::from(*bytes)),
        }
    }

    /// Parses base64 of exactly 32 bytes (surrounding white space ignored).
    pub fn from_base64(text: &str) -> Result<(Self, [u8; 32]), VaultError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|err| VaultError::BadKey(err.to_string()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|bytes: Vec<u8>| VaultError::BadKey(format!("got {} bytes", bytes.len())))?;
        Ok((Self::from_bytes(&bytes), bytes))
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// An encrypted value as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// Seals and opens secrets with the current master key; opens with earlier keys during a rotation.
#[derive(Clone, Debug)]
pub struct Vault {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl Vault {
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// A vault that seals with `current` and can still open what `previous` sealed.
    pub fn rotating(current: MasterKey, previous: MasterKey) -> Self {
        Self {
            current,
            previous: vec![previous],
        }
    }

    fn key(&self, key_id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id == key_id)
    }

    pub fn seal(&self, plaintext: &str, associated_data: &str) -> Sealed {
        let nonce = XNonce::generate();
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: associated_data.as_bytes(),
        };
        // Encryption only fails for messages beyond 256 GiB.
        let ciphertext = self
            .current
            .cipher
            .encrypt(&nonce, payload)
            .expect("secret fits the cipher's limits");
        Sealed {
            key_id: self.current.id.clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    pub fn open(&self, sealed: &Sealed, associated_data: &str) -> Result<String, VaultError> {
        let key = self
            .key(&sealed.key_id)
            .ok_or_else(|| VaultError::UnknownKey(sealed.key_id.clone()))?;
        let nonce = XNonce::try_from(sealed.nonce.as_slice()).map_err(|_| VaultError::Tampered)?;
        let payload = Payload {
            msg: &sealed.ciphertext,
            aad: associated_data.as_bytes(),
        };
        let plaintext = key.cipher.decrypt(&nonce, payload).map_err(|_| VaultError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| VaultError::Tampered)
    }
}

/// Where a connection's secret belongs, bound into its ciphertext.
pub fn connection_field(connection_id: i64, field: &str) -> String {
    format!("connection:{connection_id}:{field}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let vault = Vault::new(MasterKey::generate());
        let a = vault.seal("Atzr|secret", &connection_field(1, "refresh_token"));
        let b = vault.seal("Atzr|secret", &connection_field(1, "refresh_token"));
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(
            vault.open(&a, &connection_field(1, "refresh_token")).as_deref(),
            Ok("Atzr|secret")
        );
    }

    #[test]
    fn tampering_and_moving_are_detected() {
        let vault = Vault::new(MasterKey::generate());
        let mut sealed = vault.seal("secret", &connection_field(1, "client_secret"));
        assert_eq!(
            vault.open(&sealed, &connection_field(2, "client_secret")),
            Err(VaultError::Tampered)
        );
        assert_eq!(
            vault.open(&sealed, &connection_field(1, "refresh_token")),
            Err(VaultError::Tampered)
        );
        sealed.ciphertext[0] ^= 1;
        assert_eq!(
            vault.open(&sealed, &connection_field(1, "client_secret")),
            Err(VaultError::Tampered)
        );
    }

    #[test]
    fn wrong_key_is_named() {
        let sealed = Vault::new(MasterKey::generate()).seal("secret", "x");
        let other = Vault::new(MasterKey::generate());
        assert_eq!(
            other.open(&sealed, "x"),
            Err(VaultError::UnknownKey(sealed.key_id.clone()))
        );
    }

    #[test]
    fn rotation_opens_old_and_seals_new() {
        let old = MasterKey::generate();
        let sealed = Vault::new(old.clone()).seal("secret", "x");
        let new = MasterKey::generate();
        let rotating = Vault::rotating(new.clone(), old);
        assert_eq!(rotating.open(&sealed, "x").as_deref(), Ok("secret"));
        assert_eq!(rotating.seal("secret", "x").key_id, new.id());
    }

    #[test]
    fn debugging_output_names_the_key_without_showing_it() {
        let bytes = [0xab; 32];
        let key = MasterKey::from_bytes(&bytes);
        let shown = format!("{key:?} {:?}", Vault::new(key.clone()));
        assert!(shown.contains(key.id()), "{shown}");
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("abab"),
            "{shown}"
        );
        assert!(!shown.contains(&STANDARD.encode(bytes)), "{shown}");
    }

    #[test]
    fn keys_parse_from_base64() {
        let (key, bytes) = MasterKey::from_base64(&STANDARD.encode([7u8; 32])).expect("valid key");
        assert_eq!(bytes, [7u8; 32]);
        assert_eq!(key.id().len(), 16);
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("not base64!").is_err());
    }
}
