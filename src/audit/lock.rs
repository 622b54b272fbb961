//! The lock file that serializes writers of the same log, including writers in other
//! processes, around each batch and rotation.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::files::{compare_with_path, lock_path, parent_dir, PathState};

/// Time spent waiting for the lock after which a warning is logged, because a writer
/// holds the lock only while it writes one batch.
const SLOW_LOCK_WARNING: Duration = Duration::from_secs(1);

/// Number of times `acquire` opens the lock file again after finding that the locked file
/// is no longer at its path. The second attempt normally succeeds, because writers never
/// delete the lock file.
const MAX_LOCK_ATTEMPTS: u32 = 3;

/// Exclusive advisory lock (flock on Linux) on `<log path>.lock`, taken around each batch.
///
/// The lock is on a separate file because rotation renames the log file, and a lock on
/// a renamed file would no longer exclude a writer that opens the new file. The lock
/// file stays open between batches, and `acquire` checks after locking that it is still
/// the file at its path, so that a deleted lock folder does not leave two writers
/// locking different files.
///
/// NOTE: `acquire` waits without a time limit. A process that stops while it holds the
/// lock, without exiting, blocks every other writer of the log until it continues or
/// exits, which releases the lock.
pub(crate) struct WriterLock {
    path: PathBuf,
    /// `None` before the first lock and after a failure, until the next attempt reopens it.
    file: Option<File>,
    /// Whether this writer holds the lock now.
    locked: bool,
    /// Whether the filesystem has rejected locks as unsupported, which is logged once.
    unsupported_logged: bool,
}

impl WriterLock {
    /// Creates the lock for the log at `log_path` without touching the disk.
    pub fn new(log_path: &Path) -> Self {
        WriterLock {
            path: lock_path(log_path),
            file: None,
            locked: false,
            unsupported_logged: false,
        }
    }

    /// Blocks until this writer holds the lock, creating the folder and the lock file if
    /// needed.
    ///
    /// Where the filesystem does not support locks, this logs a warning once and returns
    /// without a lock, so that writing goes on unprotected instead of stopping.
    pub fn acquire(&mut self) -> io::Result<()> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let file = match self.file.take() {
                Some(file) => file,
                None => open_lock_file(&self.path)?,
            };
            if !self.lock(&file)? {
                self.file = Some(file);
                return Ok(());
            }
            if matches!(compare_with_path(&file, &self.path), PathState::Same { .. }) {
                self.file = Some(file);
                self.locked = true;
                return Ok(());
            }

            // Closing the file releases the lock on it.
            drop(file);
            if attempts >= MAX_LOCK_ATTEMPTS {
                return Err(io::Error::other(format!(
                    "lock file {} was replaced after each of {attempts} attempts to lock it, so check which program deletes or moves it",
                    self.path.display()
                )));
            }
            tracing::warn!(path = %self.path.display(), "audit log lock file was moved or deleted, reopening it");
        }
    }

    /// Releases the lock taken by [`WriterLock::acquire`]. Does nothing when it is not held.
    pub fn release(&mut self) {
        if !self.locked {
            return;
        }
        self.locked = false;
        if let Some(file) = &self.file {
            if let Err(error) = file.unlock() {
                tracing::warn!(path = %self.path.display(), %error, "failed to unlock the audit log lock file, so it is closed instead");
                // No other handle shares this open file, so closing it releases the lock.
                self.file = None;
            }
        }
    }

    /// Locks `file`, waiting while another writer holds it. Returns false when the
    /// filesystem does not support locks.
    fn lock(&mut self, file: &File) -> io::Result<bool> {
        let error = match file.try_lock() {
            Ok(()) => return Ok(true),
            Err(TryLockError::Error(error)) => error,
            Err(TryLockError::WouldBlock) => {
                let started = Instant::now();
                match lock_blocking(file) {
                    Ok(()) => {
                        self.warn_if_slow(started.elapsed());
                        return Ok(true);
                    }
                    Err(error) => error,
                }
            }
        };

        if error.kind() != io::ErrorKind::Unsupported {
            return Err(error);
        }
        if !self.unsupported_logged {
            self.unsupported_logged = true;
            tracing::warn!(
                path = %self.path.display(),
                %error,
                "the filesystem does not support locking the audit log, so writers in other processes can fork its hash chain"
            );
        }
        Ok(false)
    }

    fn warn_if_slow(&self, waited: Duration) {
        if waited >= SLOW_LOCK_WARNING {
            tracing::warn!(
                path = %self.path.display(),
                waited_ms = waited.as_millis() as u64,
                "waited long for another writer to release the audit log lock"
            );
        }
    }
}

fn open_lock_file(path: &Path) -> io::Result<File> {
    fs::create_dir_all(parent_dir(path))?;
    // std leaves it unspecified whether locking a file that is not open for writing
    // fails, so the file is opened for writing, although nothing is ever written to it.
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
}

/// Calls the blocking `File::lock` again when a signal interrupts the wait.
fn lock_blocking(file: &File) -> io::Result<()> {
    loop {
        match file.lock() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
