use crate::db::with_pool;
use crate::{Result, Storage, Timestamp};

/// A consent in progress, as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OAuthState {
    pub user_id: i64,
    /// SHA-256 of the session or API token that started the flow.
    pub binding_hash: Vec<u8>,
    pub platform: String,
    pub region: String,
    pub marketplace_id: String,
    pub application_id: String,
    pub draft: bool,
    /// The sealed LWA client credentials.
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}

/// What [`Storage::take_oauth_state`] found.
#[derive(Debug)]
pub enum StateLookup {
    Unknown,
    /// Used before (a replayed callback).
    AlreadyUsed(OAuthState),
    /// Unused, but the callback came without the session or token that started the flow: left
    /// unused for its owner.
    NotTheOwner(OAuthState),
    /// Now marked used; the caller checks expiry.
    Taken(OAuthState),
}

const STATE_COLUMNS: &str = "user_id, binding_hash, platform, region, marketplace_id, application_id, draft, \
     key_id, nonce, ciphertext, created_at, expires_at, used_at";

impl Storage {
    pub async fn create_oauth_state(&self, state_hash: &[u8], state: &OAuthState) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO oauth_states (state_hash, user_id, binding_hash, platform, region, marketplace_id,
                     application_id, draft, key_id, nonce, ciphertext, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            )
            .bind(state_hash)
            .bind(state.user_id)
            .bind(&state.binding_hash)
            .bind(&state.platform)
            .bind(&state.region)
            .bind(&state.marketplace_id)
            .bind(&state.application_id)
            .bind(state.draft)
            .bind(&state.key_id)
            .bind(&state.nonce)
            .bind(&state.ciphertext)
            .bind(state.created_at)
            .bind(state.expires_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Marks a state used, exactly once, when `binding_hash` is the one that started the flow:
    /// of two callbacks racing with the same state, one gets [`StateLookup::Taken`] and the
    /// other [`StateLookup::AlreadyUsed`]; a callback from anyone else spends nothing.
    pub async fn take_oauth_state(
        &self,
        state_hash: &[u8],
        binding_hash: Option<&[u8]>,
        now: Timestamp,
    ) -> Result<StateLookup> {
        with_pool!(self, |pool| {
            let taken: Option<OAuthState> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "UPDATE oauth_states SET used_at = $2
                 WHERE state_hash = $1 AND used_at IS NULL AND binding_hash = $3 RETURNING {STATE_COLUMNS}"
            )))
            .bind(state_hash)
            .bind(now)
            .bind(binding_hash)
            .fetch_optional(pool)
            .await?;
            if let Some(state) = taken {
                return Ok(StateLookup::Taken(state));
            }
            let stored: Option<OAuthState> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {STATE_COLUMNS} FROM oauth_states WHERE state_hash = $1"
            )))
            .bind(state_hash)
            .fetch_optional(pool)
            .await?;
            Ok(match stored {
                None => StateLookup::Unknown,
                Some(state) if state.used_at.is_some() => StateLookup::AlreadyUsed(state),
                Some(state) => StateLookup::NotTheOwner(state),
            })
        })
    }

    /// Forgets states that expired more than a day ago (kept that long to recognise replays).
    pub async fn delete_old_oauth_states(&self, now: Timestamp) -> Result<u64> {
        with_pool!(self, |pool| {
            let done = sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
                .bind(now - time::Duration::days(1))
                .execute(pool)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
