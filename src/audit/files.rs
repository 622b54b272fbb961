//! Names of the rotated backup files, where `audit.log.1` is the newest backup and higher
//! numbers are older, and the file operations that rotation needs.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Returns `path` with `.{number}` appended, for example `logs/audit.log.3`.
pub(crate) fn backup_path(path: &Path, number: u32) -> PathBuf {
    with_suffix(path, &format!(".{number}"))
}

/// Returns the path of the lock file that writers of `path` share, for example
/// `logs/audit.log.lock`. Rotation never renames it, so that every writer locks the
/// same file before and after a rotation.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    with_suffix(path, ".lock")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
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
fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Renames `from` to `to`, treating a missing `from` as success.
fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Renames each `audit.log.N` to `audit.log.N+1` from the oldest down, then `audit.log`
/// to `audit.log.1`. Backups numbered `backups` or higher are deleted instead of
/// renamed. With `backups` 0 the current file is deleted. A number missing from the
/// sequence stays missing after the shift.
pub(crate) fn shift_backups(path: &Path, backups: u32) -> io::Result<()> {
    if backups == 0 {
        return remove_if_exists(path);
    }
    // Descending order, so each rename goes to a number that is already free.
    for number in existing_backups(path)?.into_iter().rev() {
        let backup = backup_path(path, number);
        if number >= backups {
            remove_if_exists(&backup)?;
        } else {
            rename_if_exists(&backup, &backup_path(path, number + 1))?;
        }
    }
    rename_if_exists(path, &backup_path(path, 1))
}

/// Relation between the file at a path and an open file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathState {
    /// The path names the open file, whose current length in bytes is `len`.
    Same { len: u64 },
    /// The path names another file, for example after another writer rotated the log.
    Replaced,
    /// Nothing is at the path, or either file could not be inspected.
    Missing,
}

/// Compares the open `file` with the file currently at `path` by device and inode.
#[cfg(unix)]
pub(crate) fn compare_with_path(file: &File, path: &Path) -> PathState {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(at_path)) if open.dev() == at_path.dev() && open.ino() == at_path.ino() => {
            PathState::Same { len: open.len() }
        }
        (Ok(_), Ok(_)) => PathState::Replaced,
        _ => PathState::Missing,
    }
}

// NOTE: without inode numbers this compares only the lengths, so a file replaced by
// another one of the same length is not noticed.
#[cfg(not(unix))]
pub(crate) fn compare_with_path(file: &File, path: &Path) -> PathState {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(at_path)) if at_path.is_file() && open.len() == at_path.len() => {
            PathState::Same { len: open.len() }
        }
        (Ok(_), Ok(at_path)) if at_path.is_file() => PathState::Replaced,
        _ => PathState::Missing,
    }
}
