//! Javelin's files on disk are its user's only: the folders it creates 0700, the SQLite database
//! 0600 (SQLite gives the `-wal` and `-shm` files the database's mode). They hold customers'
//! addresses and the sealed credentials.

use std::io;
use std::path::Path;

/// Creates `dir` and any missing parent with mode 0700 (an existing folder keeps its mode).
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the database file `path` with mode 0600 when missing (SQLite reads an empty file as
/// an empty database); takes group and other access away from it and its `-wal` and `-shm`
/// files when they have any.
pub(crate) fn private_database(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => tighten(path),
        Err(err) => Err(err),
    }
}

#[cfg(unix)]
fn tighten(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let name = path.as_os_str();
    let companions = ["-wal", "-shm"].map(|suffix| {
        let mut companion = name.to_owned();
        companion.push(suffix);
        std::path::PathBuf::from(companion)
    });
    for file in std::iter::once(path.to_owned()).chain(companions) {
        let mode = match std::fs::metadata(&file) {
            Ok(metadata) => metadata.permissions().mode(),
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_: &Path) -> io::Result<()> {
    Ok(())
}
