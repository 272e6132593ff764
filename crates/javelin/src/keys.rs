//! The master key: from `JAVELIN_MASTER_KEY`, or a key file in the data folder created on
//! first start. Javelin never creates a key over existing encrypted data, and refuses to start
//! with a key that did not seal what is stored.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use javelin_core::connections::Reseal;
use javelin_core::vault::{MasterKey, Vault};
use javelin_storage::{Storage, Timestamp};

use crate::config::Config;

const KEY_FILE: &str = "master.key";
/// Written before a rotation commits, promoted after: a crash in between leaves the new key here.
const NEXT_KEY_FILE: &str = "master.key.next";

pub fn key_file(config: &Config) -> PathBuf {
    config.data_dir.join(KEY_FILE)
}

fn read_key_file(path: &Path) -> anyhow::Result<Option<MasterKey>> {
    refuse_shared_key_file(path)?;
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (key, _) = MasterKey::from_base64(&text)
                .with_context(|| format!("the key file {} is not a valid key", path.display()))?;
            Ok(Some(key))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot read the key file {}", path.display())),
    }
}

/// Refuses a key file that users other than its owner may read, as ssh does a private key.
#[cfg(unix)]
fn refuse_shared_key_file(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(path) {
        Ok(metadata) => metadata.permissions().mode(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("cannot read the key file {}", path.display())),
    };
    if mode & 0o077 != 0 {
        bail!(
            "the key file {path} can be read by other users (mode {:o}); it must be its owner's only. \
             Run: chmod 600 {path}",
            mode & 0o777,
            path = path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_shared_key_file(_: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Writes a key file readable by its owner only.
fn write_key_file(path: &Path, bytes: &[u8; 32]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        javelin_storage::create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    file.write_all(STANDARD.encode(bytes).as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok(())
}

/// The vault for this start.
pub async fn open_vault(config: &Config, storage: &Storage) -> anyhow::Result<Vault> {
    Ok(Vault::new(load_key(config, storage).await?))
}

/// The master key, after checking it against what the database holds.
async fn load_key(config: &Config, storage: &Storage) -> anyhow::Result<MasterKey> {
    let stored_ids = storage.secret_key_ids().await?;
    let path = key_file(config);
    let key = match config.master_key {
        Some(bytes) => MasterKey::from_bytes(&bytes),
        None => match read_key_file(&path)? {
            Some(key) => {
                // A rotation that committed but did not get to promote its key file.
                let next = config.data_dir.join(NEXT_KEY_FILE);
                match read_key_file(&next)? {
                    Some(new) if stored_ids.iter().all(|id| id == new.id()) && !stored_ids.is_empty() => {
                        std::fs::rename(&next, &path).with_context(|| format!("cannot promote {}", next.display()))?;
                        tracing::warn!(path = %path.display(), "finished an interrupted key rotation");
                        new
                    }
                    _ => key,
                }
            }
            None if !stored_ids.is_empty() => bail!(
                "the database holds encrypted credentials (master key {}) but there is no key: set JAVELIN_MASTER_KEY \
                 to that key, or restore the key file {}. Javelin will not create a new key over existing data.",
                stored_ids.join(", "),
                path.display()
            ),
            None => {
                let bytes = MasterKey::random_bytes();
                write_key_file(&path, &bytes)?;
                tracing::info!(path = %path.display(), "created a new master key file; back it up with the database");
                MasterKey::from_bytes(&bytes)
            }
        },
    };
    if let Some(other) = stored_ids.iter().find(|id| *id != key.id()) {
        let source = if config.master_key.is_some() {
            "JAVELIN_MASTER_KEY".to_owned()
        } else {
            path.display().to_string()
        };
        bail!(
            "the master key from {source} (key {}) is not the key that encrypted the stored credentials (key {other}). \
             Javelin refuses to start so that nothing is lost: provide the right key (after `javelin key rotate`, \
             the one it printed or wrote).",
            key.id()
        );
    }
    Ok(key)
}

/// `javelin key rotate`: re-encrypts every secret under a new key, in one transaction.
pub async fn rotate(config: &Config, storage: &Storage, new_key: Option<&str>) -> anyhow::Result<()> {
    let old = load_key(config, storage).await?;
    let (new_key, new_bytes) = match new_key {
        Some(text) => MasterKey::from_base64(text).context("--new-key")?,
        None => {
            let bytes = MasterKey::random_bytes();
            (MasterKey::from_bytes(&bytes), bytes)
        }
    };
    if new_key.id() == old.id() {
        bail!("the new key is the current key");
    }
    let reseal = Reseal::prepare(storage, Vault::rotating(new_key.clone(), old)).await?;
    let resealed = reseal.len();
    let file_based = config.master_key.is_none();
    let next = config.data_dir.join(NEXT_KEY_FILE);
    if file_based {
        write_key_file(&next, &new_bytes)?;
    }
    reseal.commit(Timestamp::now()).await?;
    // The key id names which key; the key itself never goes into the log.
    javelin_core::Audit::new(storage.clone(), javelin_core::Clock::system())
        .record(
            &javelin_core::Actor::system(),
            javelin_core::AuditAction::KeyRotated,
            Some(format!("master key {}", new_key.id())),
            Some(format!("{resealed} secrets re-encrypted")),
        )
        .await;
    if file_based {
        let path = key_file(config);
        std::fs::rename(&next, &path)
            .with_context(|| format!("cannot move {} to {}", next.display(), path.display()))?;
        println!(
            "Re-encrypted {resealed} secrets under key {}; the key file {} holds the new key.",
            new_key.id(),
            path.display()
        );
    } else {
        println!(
            "Re-encrypted {resealed} secrets under key {}. Set JAVELIN_MASTER_KEY to this new key before the next start:\n{}",
            new_key.id(),
            STANDARD.encode(new_bytes)
        );
    }
    Ok(())
}
