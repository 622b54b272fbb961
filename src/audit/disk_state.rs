//! Brings the writer's view of the log up to date with the disk: the open file, its
//! length and the chain position, which other writers change between two batches.

use std::fs::{self, OpenOptions};
use std::io;

use super::files::{compare_with_path, parent_dir, PathState};
use super::log_file::LogFile;
use super::tail::{ends_with_partial_line, find_chain_position};

impl LogFile {
    /// Makes `file` the file at the configured path and `chain` the position of the last
    /// entry on disk, so that the next write continues the chain of every writer.
    ///
    /// Reopens the file when it is closed or the path names another file, which happens
    /// after another writer rotated the log or after the file was moved or deleted.
    /// Reads the tail again when the file's length differs from the length after this
    /// writer's last write, because another writer appended. Without the first check,
    /// writes to a rotated or deleted file would succeed and be lost.
    ///
    /// Call it only while holding the writer lock, so that no other writer changes the
    /// file between this check and the write.
    pub(super) fn sync_with_disk(&mut self) -> io::Result<()> {
        let Some(file) = &mut self.file else {
            return self.reopen();
        };
        match compare_with_path(file, &self.config.path) {
            PathState::Same { len } if len == self.file_len => Ok(()),
            PathState::Same { len } => {
                // Another writer may have crashed in the middle of a line, which the next
                // write must terminate.
                self.needs_newline = ends_with_partial_line(file, len)?;
                self.file_len = len;
                self.reconcile_chain()
            }
            PathState::Replaced => {
                tracing::debug!(path = %self.config.path.display(), "audit log was rotated or replaced since the last write, reopening it");
                self.file = None;
                self.reopen()
            }
            PathState::Missing => {
                tracing::warn!(path = %self.config.path.display(), "audit log file was moved or deleted, reopening it");
                self.file = None;
                self.reopen()
            }
        }
    }

    /// Opens the current file, creating its folder, and reconciles the chain with the
    /// entries on disk.
    pub(super) fn reopen(&mut self) -> io::Result<()> {
        fs::create_dir_all(parent_dir(&self.config.path))?;
        self.open_current_file()?;
        self.reconcile_chain()
    }

    /// Opens or creates the file at the configured path for appending and reads its
    /// length and whether it ends with a cut-off line.
    pub(super) fn open_current_file(&mut self) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.config.path)?;
        let len = file.metadata()?.len();
        self.needs_newline = ends_with_partial_line(&mut file, len)?;
        self.file_len = len;
        self.file = Some(file);
        Ok(())
    }

    /// Moves the chain forward to the last entry on disk when that entry is newer than
    /// the chain position. That happens on startup, after another writer appended, and
    /// when a failed write could not be rolled back.
    ///
    /// An older or missing entry on disk means that entries were removed. The chain then
    /// keeps its position, so that the next entry shows the gap to the verifier instead
    /// of starting a new chain at seq 1.
    ///
    /// NOTE: with `backups` 0, rotation deletes the old file. If another writer rotated
    /// and its first write to the new file failed, no entry on disk records the newest
    /// position, so the writers can continue from different positions and the verifier
    /// reports a break.
    fn reconcile_chain(&mut self) -> io::Result<()> {
        let path = &self.config.path;
        let on_disk = find_chain_position(path)?;
        let disk_seq = on_disk.as_ref().map_or(0, |position| position.seq);

        match on_disk {
            Some(position) if position.seq > self.chain.seq => {
                tracing::debug!(
                    path = %path.display(),
                    disk_seq,
                    previous_seq = self.chain.seq,
                    "audit chain continues after entries found on disk"
                );
                self.chain = position;
            }
            _ if disk_seq < self.chain.seq => {
                tracing::warn!(
                    path = %path.display(),
                    disk_seq,
                    written_seq = self.chain.seq,
                    "audit log on disk ends before the last entry written, so entries were removed outside the writer"
                );
            }
            _ => {}
        }
        Ok(())
    }
}
