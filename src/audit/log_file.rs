//! The open log file and chain state, owned by the writer thread: batch writes under the
//! writer lock, rotation by size, and recovery after write errors.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::entry::{encode_line, ChainPosition};
use super::event::AuditEvent;
use super::files::{parent_dir, shift_backups};
use super::lock::WriterLock;
use super::writer::{AuditConfig, AuditError};

/// Number of consecutive failures between two repeated warnings while the log stays
/// unavailable. The first failure is always logged as an error.
const FAILURE_WARNING_INTERVAL: u64 = 100;

/// An event queued by `AuditLog::record`, with the time of the call and the channel
/// that receives the outcome.
pub(crate) struct PendingEntry {
    pub event: AuditEvent,
    pub timestamp: OffsetDateTime,
    pub ack: oneshot::Sender<Result<(), AuditError>>,
}

/// Encoded lines that go into the current file in one write, with the chain position
/// after the last of them and the acknowledgements to send once they are written.
struct Segment {
    bytes: Vec<u8>,
    position: ChainPosition,
    acks: Vec<oneshot::Sender<Result<(), AuditError>>>,
}

/// State of the writer thread: the writer lock, the open current file, its size and the
/// chain position.
///
/// Other writers of the same path, in this process or in others, append and rotate
/// between two batches of this one. So each batch takes the lock and then brings `file`,
/// `file_len`, `needs_newline` and `chain` up to date with the disk (the `disk_state`
/// module) before it decides about rotation and encodes entries.
pub(crate) struct LogFile {
    pub(super) config: AuditConfig,
    lock: WriterLock,
    /// `None` after a write error, until the next attempt reopens the file.
    pub(super) file: Option<File>,
    /// Length of `file` as of this writer's last write or check under the lock. Another
    /// length on disk means that another writer has appended since.
    pub(super) file_len: u64,
    /// Whether the file ends with a cut-off line, which the next write terminates with
    /// a newline so that a new entry never continues it.
    pub(super) needs_newline: bool,
    /// Position of the last entry that this or another writer wrote, which the next
    /// entry links to.
    pub(super) chain: ChainPosition,
    healthy: Arc<AtomicBool>,
    failed_attempts: u64,
}

impl LogFile {
    /// Creates the folder, the lock file and the current file, and finds the chain
    /// position on disk while holding the writer lock. Waits while another writer holds
    /// the lock.
    pub fn open(config: AuditConfig, healthy: Arc<AtomicBool>) -> io::Result<Self> {
        let mut log = LogFile {
            lock: WriterLock::new(&config.path),
            config,
            file: None,
            file_len: 0,
            needs_newline: false,
            chain: ChainPosition::start(),
            healthy,
            failed_attempts: 0,
        };
        log.lock.acquire()?;
        let opened = log.reopen();
        log.lock.release();
        opened.map(|()| log)
    }

    /// Writes the entries in order while holding the writer lock and sends each
    /// acknowledgement.
    ///
    /// Entries go out in as few writes as rotation allows. A failed lock, write or
    /// rotation rejects the entries of that write and every later entry of the batch with
    /// [`AuditError::Unavailable`] and leaves the chain at the last entry written.
    pub fn write_batch(&mut self, entries: Vec<PendingEntry>) {
        if let Err(error) = self.lock.acquire() {
            self.note_failure("lock", &error);
            reject_all(entries);
            return;
        }
        self.write_batch_locked(entries);
        self.lock.release();
    }

    fn write_batch_locked(&mut self, entries: Vec<PendingEntry>) {
        if let Err(error) = self.sync_with_disk() {
            self.note_failure("open", &error);
            reject_all(entries);
            return;
        }

        let mut segment = self.new_segment();
        let mut remaining = entries.into_iter();
        while let Some(entry) = remaining.next() {
            let (line, position) = match encode_entry(&segment.position, &entry) {
                Ok(encoded) => encoded,
                Err(message) => {
                    tracing::error!(event_type = %entry.event.event_type, %message, "failed to encode audit entry");
                    let _ = entry.ack.send(Err(AuditError::Encode(message)));
                    continue;
                }
            };

            if self.would_exceed_max(&segment, line.len()) {
                if !self.write_segment(segment, false) || !self.rotate_or_note_failure() {
                    reject_all(std::iter::once(entry).chain(remaining));
                    return;
                }
                segment = self.new_segment();
            }
            segment.bytes.extend_from_slice(&line);
            segment.position = position;
            segment.acks.push(entry.ack);
        }

        let sync = self.config.fsync;
        self.write_segment(segment, sync);
    }

    /// Takes the writer lock, reopens the file if it is closed or no longer at its path,
    /// and returns whether the log can accept writes. A full disk shows only when the
    /// next write fails.
    pub fn check_writable(&mut self) -> bool {
        let checked = match self.lock.acquire() {
            Ok(()) => {
                let synced = self.sync_with_disk();
                self.lock.release();
                synced
            }
            Err(error) => Err(error),
        };
        match checked {
            Ok(()) => {
                self.note_success();
                true
            }
            Err(error) => {
                self.note_failure("reopen", &error);
                false
            }
        }
    }

    /// Syncs written data to the disk with fdatasync, for a clean shutdown.
    pub fn sync(&mut self) {
        if let Some(file) = &self.file {
            if let Err(error) = file.sync_data() {
                tracing::error!(path = %self.config.path.display(), %error, "failed to sync audit log");
            }
        }
    }

    fn new_segment(&self) -> Segment {
        let bytes = if self.needs_newline {
            b"\n".to_vec()
        } else {
            Vec::new()
        };
        Segment {
            bytes,
            position: self.chain.clone(),
            acks: Vec::new(),
        }
    }

    /// Returns whether appending `line_len` bytes after `segment` would take a file that
    /// is not empty past `max_bytes`. An empty file takes any entry, so an entry larger
    /// than `max_bytes` gets a file of its own.
    fn would_exceed_max(&self, segment: &Segment, line_len: usize) -> bool {
        let size = self.file_len + segment.bytes.len() as u64;
        size > 0 && size + line_len as u64 > self.config.max_bytes
    }

    /// Writes the segment, syncs it if `sync` is set, advances the chain and acknowledges
    /// its entries. Returns false after a failure, which rejects the segment's entries.
    fn write_segment(&mut self, segment: Segment, sync: bool) -> bool {
        if segment.bytes.is_empty() {
            return true;
        }
        let result = match self.file.as_mut() {
            Some(file) => write_and_sync(file, &segment.bytes, sync),
            None => Err(io::Error::other("audit log file is not open")),
        };

        match result {
            Ok(()) => {
                self.file_len += segment.bytes.len() as u64;
                self.needs_newline = false;
                self.chain = segment.position;
                // The health flag changes before the acknowledgements, so that a caller
                // sees the new state as soon as `record` returns.
                self.note_success();
                for ack in segment.acks {
                    let _ = ack.send(Ok(()));
                }
                true
            }
            Err(error) => {
                self.roll_back_partial_write();
                self.note_failure("write", &error);
                for ack in segment.acks {
                    let _ = ack.send(Err(AuditError::Unavailable));
                }
                false
            }
        }
    }

    /// Truncates the file to its length before the failed write, so that no rejected
    /// entry stays on disk. If that fails too, the next reopen continues the chain from
    /// the last entry on disk instead.
    fn roll_back_partial_write(&mut self) {
        let Some(file) = &self.file else { return };
        if let Err(error) = file.set_len(self.file_len) {
            tracing::warn!(
                path = %self.config.path.display(),
                %error,
                "failed to remove a partial audit log write, so entries of the rejected batch may remain on disk"
            );
        }
    }

    fn rotate_or_note_failure(&mut self) -> bool {
        match self.rotate() {
            Ok(()) => true,
            Err(error) => {
                self.note_failure("rotate", &error);
                false
            }
        }
    }

    /// Shifts the backups (see `shift_backups`) and starts an empty current file. The
    /// caller holds the writer lock, so no other writer appends to the old file after
    /// the rename, and the others reopen the new file before their next batch.
    ///
    /// The file is synced first even when `fsync` is off, because rotation is the point
    /// where it is closed for good.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_data()?;
        }
        let path = self.config.path.clone();
        let backups = self.config.backups;
        shift_backups(&path, backups)?;

        self.open_current_file()?;
        if self.config.fsync {
            File::open(parent_dir(&path))?.sync_all()?;
        }
        tracing::info!(path = %path.display(), backups, "rotated audit log");
        Ok(())
    }

    /// Closes the file so that the next attempt reopens it, marks the log unhealthy and
    /// logs the first failure and every `FAILURE_WARNING_INTERVAL`th after it.
    fn note_failure(&mut self, action: &str, error: &io::Error) {
        self.file = None;
        self.failed_attempts += 1;
        let path = self.config.path.display();
        if self.healthy.swap(false, Ordering::SeqCst) {
            tracing::error!(path = %path, action, %error, "audit log is unavailable, and records are rejected until a write succeeds");
        } else if self
            .failed_attempts
            .is_multiple_of(FAILURE_WARNING_INTERVAL)
        {
            tracing::warn!(path = %path, action, %error, failed_attempts = self.failed_attempts, "audit log is still unavailable");
        }
    }

    fn note_success(&mut self) {
        if !self.healthy.swap(true, Ordering::SeqCst) {
            tracing::info!(
                path = %self.config.path.display(),
                failed_attempts = self.failed_attempts,
                "audit log is available again"
            );
        }
        self.failed_attempts = 0;
    }
}

impl Drop for LogFile {
    /// Marks the log unhealthy once the writer thread stops, after a shutdown or a panic.
    fn drop(&mut self) {
        self.healthy.store(false, Ordering::SeqCst);
    }
}

fn encode_entry(
    previous: &ChainPosition,
    entry: &PendingEntry,
) -> Result<(Vec<u8>, ChainPosition), String> {
    let timestamp = entry
        .timestamp
        .format(&Rfc3339)
        .map_err(|error| format!("failed to format timestamp: {error}"))?;
    encode_line(previous, &timestamp, &entry.event)
        .map_err(|error| format!("failed to serialize entry: {error}"))
}

fn write_and_sync(file: &mut File, bytes: &[u8], sync: bool) -> io::Result<()> {
    file.write_all(bytes)?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

fn reject_all(entries: impl IntoIterator<Item = PendingEntry>) {
    for entry in entries {
        let _ = entry.ack.send(Err(AuditError::Unavailable));
    }
}
