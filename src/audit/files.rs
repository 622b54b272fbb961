//! Names of the rotated backup files, where `audit.log.1` is the newest backup and higher
//! numbers are older, and the file operations that rotation needs.

use std::ffi::OsString;
use std::fs::{self, File, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Returns `path` with `.{number}` appended, for example `logs/audit.log.3`.
pub(crate) fn backup_path(path: &Path, number: u32) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{number}"));
    PathBuf::from(name)
}

/// Returns the folder that contains `path`, which is `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Lists the numbers of the backups of `path` that exist, in ascending order.
///
/// Only names of the form `<file name>.<number>` count, where the number has no
/// leading zero, so `audit.log.1.gz` or `audit.log.01` are ignored. A missing folder
/// has no backups, and neither has a path whose file name is not valid UTF-8.
pub(crate) fn existing_backups(path: &Path) -> io::Result<Vec<u32>> {
    let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{file_name}.");

    let entries = match std::fs::read_dir(parent_dir(path)) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };

    let mut numbers = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(suffix) = name
            .to_str()
            .and_then(|name| name.strip_prefix(prefix.as_str()))
        else {
            continue;
        };
        if let Ok(number) = suffix.parse::<u32>() {
            if number > 0 && number.to_string() == suffix {
                numbers.push(number);
            }
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Deletes the file at `path`, treating a missing file as success.
pub(crate) fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Renames `from` to `to`, treating a missing `from` as success.
pub(crate) fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Returns whether `file` is the file currently at `path`.
#[cfg(unix)]
pub(crate) fn is_file_at_path(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(at_path)) => open.dev() == at_path.dev() && open.ino() == at_path.ino(),
        _ => false,
    }
}

// NOTE: without inode numbers this only checks that some file exists at the path, so
// a file replaced by another one is not noticed.
#[cfg(not(unix))]
pub(crate) fn is_file_at_path(_file: &File, path: &Path) -> bool {
    path.is_file()
}

/// Takes an exclusive advisory lock on `file` (flock on Linux), so that a second writer
/// on the same log fails with `WouldBlock` instead of forking the chain.
///
/// Where the filesystem does not support locks, the file is used without one and a
/// warning is logged.
pub(crate) fn lock_for_writing(file: &File, path: &Path) -> io::Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "another writer has locked {}, so stop it or use another path",
                path.display()
            ),
        )),
        Err(TryLockError::Error(error)) => {
            tracing::warn!(
                path = %path.display(),
                %error,
                "failed to lock the audit log, so a second writer on it would go undetected"
            );
            Ok(())
        }
    }
}
