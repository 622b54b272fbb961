//! The open log file and chain state, owned by the writer thread: batch writes,
//! rotation by size, and recovery after write errors.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::entry::{encode_line, ChainPosition};
use super::event::AuditEvent;
use super::files::{
    backup_path, existing_backups, is_file_at_path, lock_for_writing, parent_dir, remove_if_exists,
    rename_if_exists,
};
use super::tail::{ends_with_partial_line, find_chain_position};
use super::writer::{AuditConfig, AuditError};

/// Number of extra attempts, and the pause between them, that opening makes while another
/// writer has the log file locked.
const LOCK_RETRIES: u32 = 20;
const LOCK_RETRY_INTERVAL: Duration = Duration::from_millis(50);

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

/// State of the writer thread: the open current file, its size and the chain position.
pub(crate) struct LogFile {
    config: AuditConfig,
    /// `None` after a write error, until the next attempt reopens the file.
    file: Option<File>,
    file_len: u64,
    /// Whether the file ends with a cut-off line, which the next write terminates with
    /// a newline so that a new entry never continues it.
    needs_newline: bool,
    /// Position of the last entry written, which the next entry links to.
    chain: ChainPosition,
    healthy: Arc<AtomicBool>,
    failed_attempts: u64,
}

impl LogFile {
    /// Creates the folder, opens and locks the current file and finds the chain position
    /// on disk.
    ///
    /// While another writer has the file locked, this retries for up to
    /// `LOCK_RETRIES * LOCK_RETRY_INTERVAL`. That covers a writer thread in this process
    /// that is still finishing after its last handle was dropped.
    pub fn open(config: AuditConfig, healthy: Arc<AtomicBool>) -> io::Result<Self> {
        let mut log = LogFile {
            config,
            file: None,
            file_len: 0,
            needs_newline: false,
            chain: ChainPosition::start(),
            healthy,
            failed_attempts: 0,
        };
        let mut retries = 0;
        loop {
            match log.reopen() {
                Err(error)
                    if error.kind() == io::ErrorKind::WouldBlock && retries < LOCK_RETRIES =>
                {
                    retries += 1;
                    std::thread::sleep(LOCK_RETRY_INTERVAL);
                }
                Err(error) => return Err(error),
                Ok(()) => return Ok(log),
            }
        }
    }

    /// Writes the entries in order and sends each acknowledgement.
    ///
    /// Entries go out in as few writes as rotation allows. A failed write or rotation
    /// rejects the entries of that write and every later entry of the batch with
    /// [`AuditError::Unavailable`] and leaves the chain at the last entry written.
    pub fn write_batch(&mut self, entries: Vec<PendingEntry>) {
        if let Err(error) = self.ensure_open() {
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

    /// Reopens the file if it is closed or no longer at its path, and returns whether the
    /// log can accept writes. A full disk shows only when the next write fails.
    pub fn check_writable(&mut self) -> bool {
        match self.ensure_open() {
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

    /// Renames each `audit.log.N` to `audit.log.N+1` from the oldest down, then `audit.log`
    /// to `audit.log.1`, and starts an empty `audit.log`. Backups numbered `backups` or
    /// higher are deleted instead of renamed. With `backups` 0 the current file is
    /// deleted. A number missing from the sequence stays missing after the shift.
    ///
    /// The file is synced first even when `fsync` is off, because rotation is the point
    /// where it is closed for good.
    fn rotate(&mut self) -> io::Result<()> {
        if let Some(file) = self.file.take() {
            file.sync_data()?;
        }
        let path = self.config.path.clone();
        let backups = self.config.backups;

        if backups == 0 {
            remove_if_exists(&path)?;
        } else {
            // Descending order, so each rename goes to a number that is already free.
            for number in existing_backups(&path)?.into_iter().rev() {
                let backup = backup_path(&path, number);
                if number >= backups {
                    remove_if_exists(&backup)?;
                } else {
                    rename_if_exists(&backup, &backup_path(&path, number + 1))?;
                }
            }
            rename_if_exists(&path, &backup_path(&path, 1))?;
        }

        self.open_current_file()?;
        if self.config.fsync {
            File::open(parent_dir(&path))?.sync_all()?;
        }
        tracing::info!(path = %path.display(), backups, "rotated audit log");
        Ok(())
    }

    /// Checks that the open file is still the one at the configured path and reopens it
    /// otherwise, for example after the file or its folder was deleted or moved. Without
    /// this check, writes to a deleted file would succeed and be lost.
    fn ensure_open(&mut self) -> io::Result<()> {
        if let Some(file) = &self.file {
            if is_file_at_path(file, &self.config.path) {
                return Ok(());
            }
            tracing::warn!(path = %self.config.path.display(), "audit log file was moved or deleted, reopening it");
            self.file = None;
        }
        self.reopen()
    }

    /// Opens the current file, creating its folder, and reconciles the chain with the
    /// entries on disk.
    ///
    /// The chain moves forward to the last entry on disk when that entry is newer than
    /// the last one this writer acknowledged, which happens on startup and when a failed
    /// write could not be rolled back. An older or missing entry on disk means that
    /// entries were removed. The chain then keeps its position, so that the next entry
    /// shows the gap to the verifier instead of starting a new chain at seq 1.
    fn reopen(&mut self) -> io::Result<()> {
        let path = self.config.path.clone();
        fs::create_dir_all(parent_dir(&path))?;
        self.open_current_file()?;

        match find_chain_position(&path)? {
            Some(position) if position.seq > self.chain.seq => {
                if self.chain.seq > 0 {
                    tracing::warn!(
                        path = %path.display(),
                        disk_seq = position.seq,
                        written_seq = self.chain.seq,
                        "entries of a rejected audit log write remained on disk, and the chain continues after them"
                    );
                }
                self.chain = position;
            }
            on_disk => {
                let disk_seq = on_disk.map_or(0, |position| position.seq);
                if disk_seq < self.chain.seq {
                    tracing::warn!(
                        path = %path.display(),
                        disk_seq,
                        written_seq = self.chain.seq,
                        "audit log on disk ends before the last entry written, so entries were removed outside the writer"
                    );
                }
            }
        }
        Ok(())
    }

    fn open_current_file(&mut self) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.config.path)?;
        lock_for_writing(&file, &self.config.path)?;
        let len = file.metadata()?.len();
        self.needs_newline = ends_with_partial_line(&mut file, len)?;
        self.file_len = len;
        self.file = Some(file);
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
