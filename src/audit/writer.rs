//! The public handle of the audit log and the writer thread behind it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::event::AuditEvent;
use super::log_file::{LogFile, PendingEntry};

/// Maximum number of queued requests. `record` waits for a free slot when the queue is
/// full, and the writer takes at most this many entries into one batch.
const QUEUE_CAPACITY: usize = 1024;

/// Location, rotation and durability settings of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Current log file. Backups are this path with `.1` (newest) to `.{backups}`
    /// (oldest) appended. Writers also create `<path>.lock`, which they lock around each
    /// batch and which rotation never renames or deletes.
    pub path: PathBuf,
    /// Size in bytes that a file may reach before the writer rotates it. Lines are never
    /// split, so a single entry larger than this gets a file of its own.
    pub max_bytes: u64,
    /// Number of rotated files kept. With 0, rotation deletes the current file.
    pub backups: u32,
    /// Whether `record` waits for fdatasync as well as write. Without it, acknowledged
    /// entries survive a crash of the process but may be lost on power failure.
    pub fsync: bool,
}

impl Default for AuditConfig {
    /// `logs/audit.log`, 10 MiB per file, 10 backups, no fsync per batch.
    fn default() -> Self {
        AuditConfig {
            path: PathBuf::from("logs/audit.log"),
            max_bytes: 10 * 1024 * 1024,
            backups: 10,
            fsync: false,
        }
    }
}

impl AuditConfig {
    /// Creates the default settings for the log file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        AuditConfig {
            path: path.into(),
            ..AuditConfig::default()
        }
    }
}

/// Errors from opening the audit log and recording entries.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open audit log {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing to the log file failed, and the entry was not recorded. The writer logs
    /// the cause, and the next `record` reopens the file and tries again.
    #[error("audit log is unavailable because writing to it failed, and the next record retries")]
    Unavailable,
    /// The writer thread has stopped, after [`AuditLog::shutdown`] or a panic.
    #[error("audit log writer has stopped")]
    Closed,
    #[error("failed to encode audit entry: {0}")]
    Encode(String),
}

/// Cheap, cloneable handle to an audit log.
///
/// Each opened log has one writer thread. It takes every entry queued at the time and,
/// while holding a lock on `<path>.lock`, writes them with one `write_all` per file that
/// the batch reaches, syncs if configured and acknowledges each. The thread does
/// blocking file I/O and waits for the lock, so it runs outside the async runtime.
///
/// Other writers of the same path, such as an operator command in another process, can
/// append and rotate between two batches. Each batch therefore first reopens the file
/// if another writer rotated it and continues the chain from the last entry on disk.
///
/// Entries already acknowledged are on disk, so dropping the last handle loses none of
/// them. After that drop the thread writes what is still queued in the background and
/// then closes the file. Call [`AuditLog::shutdown`] before the process exits to wait
/// for that and to sync the file.
#[derive(Clone)]
pub struct AuditLog {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Disabled,
    Enabled {
        sender: mpsc::Sender<Command>,
        healthy: Arc<AtomicBool>,
    },
}

enum Command {
    Record(PendingEntry),
    Control(Control),
}

enum Control {
    CheckWritable(oneshot::Sender<bool>),
    Shutdown(oneshot::Sender<()>),
}

impl AuditLog {
    /// Opens the log and starts its writer thread.
    ///
    /// Creates the parent folder, opens the current file for appending and continues
    /// `seq` and the hash chain from the last valid entry on disk, looking in the newest
    /// backup when the current file has none.
    ///
    /// A crash can leave the current file ending with a cut-off line. The next write
    /// starts with a newline so that no entry continues it, and the chain goes on from the
    /// last complete entry. The cut-off line stays in the file, and `verify_chain`
    /// reports it, because removing it would hide that a write was lost.
    ///
    /// Opening takes the writer lock while it reads the file, so it waits while another
    /// writer, in this process or another, writes a batch. Other writers may stay open on
    /// the same path. Opening fails with [`AuditError::Open`] when the folder, the lock
    /// file `<path>.lock` or the log file cannot be created or opened.
    pub async fn open(config: AuditConfig) -> Result<AuditLog, AuditError> {
        let path = config.path.clone();
        let healthy = Arc::new(AtomicBool::new(true));
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let (opened_sender, opened_receiver) = oneshot::channel();

        let thread_healthy = Arc::clone(&healthy);
        std::thread::Builder::new()
            .name("audit-log-writer".to_string())
            .spawn(move || match LogFile::open(config, thread_healthy) {
                Ok(log) => {
                    if opened_sender.send(Ok(())).is_ok() {
                        run_writer(log, receiver);
                    }
                }
                Err(error) => {
                    let _ = opened_sender.send(Err(error));
                }
            })
            .map_err(|source| AuditError::Open {
                path: path.clone(),
                source,
            })?;

        match opened_receiver.await {
            Ok(Ok(())) => Ok(AuditLog {
                inner: Inner::Enabled { sender, healthy },
            }),
            Ok(Err(source)) => Err(AuditError::Open { path, source }),
            Err(_) => Err(AuditError::Closed),
        }
    }

    /// Creates a handle that accepts every entry and drops it, for running without
    /// auditing or measuring its cost.
    pub fn disabled() -> AuditLog {
        AuditLog {
            inner: Inner::Disabled,
        }
    }

    /// Appends `event` to the log with the current time as its timestamp.
    ///
    /// Returns once the line has been written to the file with write(2), and synced with
    /// fdatasync when [`AuditConfig::fsync`] is set. An entry that is already queued is
    /// still written if the returned future is dropped.
    ///
    /// # Errors
    ///
    /// [`AuditError::Unavailable`] when writing failed. The entry then does not count in
    /// the chain, and the writer rolls back any partial write. [`AuditError::Closed`]
    /// after [`AuditLog::shutdown`].
    pub async fn record(&self, event: AuditEvent) -> Result<(), AuditError> {
        let Inner::Enabled { sender, .. } = &self.inner else {
            return Ok(());
        };
        let (ack, ack_receiver) = oneshot::channel();
        let entry = PendingEntry {
            event,
            timestamp: OffsetDateTime::now_utc(),
            ack,
        };
        sender
            .send(Command::Record(entry))
            .await
            .map_err(|_| AuditError::Closed)?;
        ack_receiver.await.map_err(|_| AuditError::Closed)?
    }

    /// Returns false after the last write failed and until a write or
    /// [`AuditLog::check_writable`] succeeds, and after the writer stopped. A disabled
    /// log is always healthy.
    pub fn is_healthy(&self) -> bool {
        match &self.inner {
            Inner::Disabled => true,
            Inner::Enabled { healthy, .. } => healthy.load(Ordering::SeqCst),
        }
    }

    /// Checks that the log file is open and still at its path, reopening it if needed,
    /// for a health endpoint. Waits while another writer holds the writer lock. Returns
    /// false when reopening fails or the writer stopped. A full disk shows only when the
    /// next write fails.
    pub async fn check_writable(&self) -> bool {
        let Inner::Enabled { sender, .. } = &self.inner else {
            return true;
        };
        let (ack, ack_receiver) = oneshot::channel();
        if sender
            .send(Command::Control(Control::CheckWritable(ack)))
            .await
            .is_err()
        {
            return false;
        }
        ack_receiver.await.unwrap_or(false)
    }

    /// Writes every entry queued before this call, syncs the file and stops the writer.
    ///
    /// Later `record` calls on any clone return [`AuditError::Closed`]. Calling it again,
    /// or on a disabled log, returns at once.
    pub async fn shutdown(&self) {
        let Inner::Enabled { sender, .. } = &self.inner else {
            return;
        };
        let (ack, ack_receiver) = oneshot::channel();
        if sender
            .send(Command::Control(Control::Shutdown(ack)))
            .await
            .is_ok()
        {
            let _ = ack_receiver.await;
        }
    }
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner {
            Inner::Disabled => "disabled",
            Inner::Enabled { .. } => "enabled",
        };
        formatter
            .debug_struct("AuditLog")
            .field("state", &state)
            .field("healthy", &self.is_healthy())
            .finish()
    }
}

/// Runs the writer loop until shutdown or until every handle is dropped.
///
/// Each round takes every queued entry, up to `QUEUE_CAPACITY`, and writes them as one
/// batch. A control request ends the round, so it runs after the entries queued before
/// it.
fn run_writer(mut log: LogFile, mut receiver: mpsc::Receiver<Command>) {
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = Vec::new();
        let mut control = None;
        match first {
            Command::Record(entry) => batch.push(entry),
            Command::Control(request) => control = Some(request),
        }
        while control.is_none() && batch.len() < QUEUE_CAPACITY {
            match receiver.try_recv() {
                Ok(Command::Record(entry)) => batch.push(entry),
                Ok(Command::Control(request)) => control = Some(request),
                Err(_) => break,
            }
        }

        if !batch.is_empty() {
            log.write_batch(batch);
        }
        match control {
            Some(Control::CheckWritable(ack)) => {
                let _ = ack.send(log.check_writable());
            }
            Some(Control::Shutdown(ack)) => {
                log.sync();
                // Dropping the file first marks the log unhealthy before `shutdown` returns.
                drop(log);
                let _ = ack.send(());
                return;
            }
            None => {}
        }
    }
    log.sync();
}
