//! Credentials at rest: every secret sealed by the [`Vault`], bound to the connection and field
//! it belongs to, and written in the same transaction as the rows that go with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use javelin_marketplaces::{Account, IssuedToken};
use javelin_storage::{Connection, ConnectionStatus, NewConnection, Storage, StorageError, StoredSecret, Timestamp};

use super::view::ShownCredentials;
use crate::vault::{Sealed, Vault, VaultError, connection_field};

/// The field of the access token a marketplace issued; Javelin's own, not the seller's.
const ACCESS_TOKEN: &str = "access_token";

/// Storage and the vault together: what reads and writes a connection's secrets. Cheap to clone.
#[derive(Clone)]
pub struct CredentialStore {
    storage: Storage,
    vault: Arc<Vault>,
}

/// What a finished check writes.
pub(crate) struct CheckRecord<'a> {
    pub(crate) status: ConnectionStatus,
    pub(crate) message: &'a str,
    pub(crate) label: Option<&'a str>,
    pub(crate) access_token: Option<&'a IssuedToken>,
}

impl<'a> CheckRecord<'a> {
    /// A check that failed: Connection Error, saying why.
    pub(crate) fn failed(message: &'a str) -> Self {
        Self {
            status: ConnectionStatus::Error,
            message,
            label: None,
            access_token: None,
        }
    }
}

impl CredentialStore {
    pub fn new(storage: Storage, vault: Arc<Vault>) -> Self {
        Self { storage, vault }
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.storage
    }

    pub(crate) fn seal(&self, plaintext: &str, place: &str) -> Sealed {
        self.vault.seal(plaintext, place)
    }

    pub(crate) fn open(&self, sealed: &Sealed, place: &str) -> Result<String, VaultError> {
        self.vault.open(sealed, place)
    }

    /// `value` sealed for its place, given at `set_at`, working until `expires_at`.
    fn seal_field(
        &self,
        connection_id: i64,
        field: &str,
        value: &str,
        set_at: Timestamp,
        expires_at: Option<Timestamp>,
    ) -> StoredSecret {
        let sealed = self.vault.seal(value, &connection_field(connection_id, field));
        StoredSecret {
            connection_id,
            field: field.to_owned(),
            key_id: sealed.key_id,
            nonce: sealed.nonce,
            ciphertext: sealed.ciphertext,
            expires_at,
            set_at,
        }
    }

    fn open_field(&self, secret: &StoredSecret) -> Result<String, VaultError> {
        self.vault
            .open(&sealed(secret), &connection_field(secret.connection_id, &secret.field))
    }

    /// Creates a connection with its secrets, in one transaction.
    pub(crate) async fn create(
        &self,
        new: &NewConnection<'_>,
        secrets: &[(&str, &str)],
    ) -> Result<Connection, StorageError> {
        let mut tx = self.storage.begin().await?;
        let connection = tx.insert_connection(new).await?;
        for (field, value) in secrets {
            tx.put_secret(&self.seal_field(connection.id, field, value, new.now, None), new.now)
                .await?;
        }
        tx.commit().await?;
        Ok(connection)
    }

    /// A connection's credentials, decrypted, with its access token while that is valid at
    /// `now` and the marketplaces it syncs.
    pub async fn account(
        &self,
        connection: &Connection,
        now: Timestamp,
    ) -> Result<Result<Account, VaultError>, StorageError> {
        let marketplace_ids = self
            .storage
            .connection_marketplaces(connection.id)
            .await?
            .into_iter()
            .filter(|marketplace| marketplace.sync_enabled)
            .map(|marketplace| marketplace.marketplace_id)
            .collect();
        let mut account = Account {
            region: connection.region.clone(),
            marketplace_id: connection.marketplace_id.clone(),
            selling_partner_id: connection.selling_partner_id.clone(),
            marketplace_ids,
            ..Account::default()
        };
        for secret in self.storage.connection_secrets(connection.id).await? {
            let plain = match self.open_field(&secret) {
                Ok(plain) => plain,
                Err(err) => return Ok(Err(err)),
            };
            if secret.field == ACCESS_TOKEN {
                account.access_token = secret.expires_at.filter(|at| *at > now).map(|_| plain);
            } else {
                account.secrets.insert(secret.field, plain);
            }
        }
        Ok(Ok(account))
    }

    /// The credentials of connections as they may be shown (masked), by connection id; the
    /// access tokens Javelin keeps are not the seller's and are left out.
    pub(crate) fn masked(&self, secrets: Vec<StoredSecret>) -> BTreeMap<i64, ShownCredentials> {
        let mut shown: BTreeMap<i64, ShownCredentials> = BTreeMap::new();
        for secret in secrets.into_iter().filter(|secret| secret.field != ACCESS_TOKEN) {
            let plain = self.open_field(&secret).ok();
            let text = super::view::shown(&secret.field, plain.as_deref());
            let own = shown.entry(secret.connection_id).or_default();
            own.set_at.insert(secret.field.clone(), secret.set_at);
            own.masked.insert(secret.field, text);
        }
        shown
    }

    /// The access token kept for a connection, while it is valid at `now`.
    pub async fn stored_access_token(
        &self,
        connection_id: i64,
        now: Timestamp,
    ) -> Result<Option<String>, StorageError> {
        let secrets = self.storage.connection_secrets(connection_id).await?;
        Ok(secrets
            .iter()
            .find(|secret| secret.field == ACCESS_TOKEN && secret.expires_at.is_some_and(|at| at > now))
            .and_then(|secret| self.open_field(secret).ok()))
    }

    /// Keeps a new access token, sealed, for its lifetime from `now`.
    pub async fn save_access_token(
        &self,
        connection_id: i64,
        token: &IssuedToken,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.storage.begin().await?;
        tx.put_secret(&self.access_token_secret(connection_id, token, now), now)
            .await?;
        tx.commit().await
    }

    fn access_token_secret(&self, connection_id: i64, token: &IssuedToken, now: Timestamp) -> StoredSecret {
        let lifetime = time::Duration::try_from(token.lifetime).unwrap_or(time::Duration::ZERO);
        self.seal_field(connection_id, ACCESS_TOKEN, &token.value, now, Some(now + lifetime))
    }

    /// Records a check's outcome and the access token it got, together.
    pub(crate) async fn record_check(
        &self,
        connection_id: i64,
        record: CheckRecord<'_>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        self.replace_and_record(connection_id, &[], Some(record), now).await
    }

    /// Replaces some of a connection's credentials with new values, set at `now`, and records
    /// the check that proved them (if one did), in one transaction.
    pub(crate) async fn replace_and_record(
        &self,
        connection_id: i64,
        replaced: &[(&str, &str)],
        record: Option<CheckRecord<'_>>,
        now: Timestamp,
    ) -> Result<(), StorageError> {
        let mut tx = self.storage.begin().await?;
        for (field, value) in replaced {
            tx.put_secret(&self.seal_field(connection_id, field, value, now, None), now)
                .await?;
        }
        if let Some(record) = record {
            if let Some(token) = record.access_token {
                tx.put_secret(&self.access_token_secret(connection_id, token, now), now)
                    .await?;
            }
            tx.record_connection_test(connection_id, record.status, record.message, record.label, now)
                .await?;
        }
        tx.commit().await
    }
}

/// Why a key rotation changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ResealError {
    #[error("connection {connection_id} field {field} cannot be decrypted ({source}); nothing was changed")]
    Undecryptable {
        connection_id: i64,
        field: String,
        source: VaultError,
    },
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Every stored secret, decrypted and sealed again under a new key, ready to replace the
/// stored ones in one transaction. Nothing is written until [`Reseal::commit`].
pub struct Reseal {
    storage: Storage,
    secrets: Vec<StoredSecret>,
}

impl Reseal {
    /// Opens every secret with whichever of `vault`'s keys sealed it and seals it again under
    /// its current key; fails, changing nothing, if any secret cannot be opened.
    pub async fn prepare(storage: &Storage, vault: Vault) -> Result<Self, ResealError> {
        let store = CredentialStore::new(storage.clone(), Arc::new(vault));
        let mut secrets = Vec::new();
        for secret in storage.all_secrets().await? {
            let plain = store.open_field(&secret).map_err(|source| ResealError::Undecryptable {
                connection_id: secret.connection_id,
                field: secret.field.clone(),
                source,
            })?;
            secrets.push(store.seal_field(
                secret.connection_id,
                &secret.field,
                &plain,
                secret.set_at,
                secret.expires_at,
            ));
        }
        Ok(Self {
            storage: storage.clone(),
            secrets,
        })
    }

    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// Replaces every stored ciphertext, all or none.
    pub async fn commit(self, now: Timestamp) -> Result<(), StorageError> {
        let mut tx = self.storage.begin().await?;
        tx.reseal_secrets(&self.secrets, now).await?;
        tx.commit().await
    }
}

fn sealed(secret: &StoredSecret) -> Sealed {
    Sealed {
        key_id: secret.key_id.clone(),
        nonce: secret.nonce.clone(),
        ciphertext: secret.ciphertext.clone(),
    }
}
