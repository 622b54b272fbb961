//! Finds the last entry on disk, so that a restarted or recovered writer continues the
//! hash chain from it.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use super::entry::{parse_line, ChainPosition};
use super::files::{backup_path, existing_backups};

/// Number of bytes read per step when scanning a file from its end.
const SCAN_CHUNK_BYTES: usize = 64 * 1024;

/// Returns the chain position of the newest entry on disk.
///
/// Looks in the current file first and then in the backups from newest to oldest, so
/// a missing or empty current file continues from `audit.log.1`. Returns `None` when
/// no file contains a valid entry.
pub(crate) fn find_chain_position(path: &Path) -> io::Result<Option<ChainPosition>> {
    if let Some(position) = last_entry_in_file(path)? {
        return Ok(Some(position));
    }
    for number in existing_backups(path)? {
        if let Some(position) = last_entry_in_file(&backup_path(path, number))? {
            return Ok(Some(position));
        }
    }
    Ok(None)
}

/// Returns whether `file` is not empty and its last byte is not a newline, which means
/// that a write was cut off, for example by a crash.
pub(crate) fn ends_with_partial_line(file: &mut File, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Returns the position of the last complete line of `path` that is a valid entry, or
/// `None` for a missing file or one without such a line.
///
/// Bytes after the last newline (a cut-off write) are ignored. Complete lines that are
/// not valid entries are skipped with a warning. Such a line is usually a cut-off
/// write that a later write terminated, and the verifier reports it.
fn last_entry_in_file(path: &Path) -> io::Result<Option<ChainPosition>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let len = file.metadata()?.len();

    let mut found = None;
    let mut skipped_lines = 0u64;
    scan_lines_backward(&mut file, len, |line| match parse_line(line) {
        Ok(parsed) => {
            found = Some(ChainPosition {
                seq: parsed.entry.seq,
                hash: parsed.entry.hash,
            });
            true
        }
        Err(_) => {
            skipped_lines += 1;
            false
        }
    })?;

    if skipped_lines > 0 {
        tracing::warn!(
            path = %path.display(),
            skipped_lines,
            "audit log ends with lines that are not valid entries, so the chain continues from the last valid entry"
        );
    }
    Ok(found)
}

/// Calls `visit` with each complete line of `file`, from the last to the first, without
/// the newline, until `visit` returns true. Bytes after the last newline are not a
/// complete line and are skipped.
fn scan_lines_backward(
    file: &mut File,
    len: u64,
    mut visit: impl FnMut(&[u8]) -> bool,
) -> io::Result<()> {
    let mut buffer = vec![0u8; SCAN_CHUNK_BYTES];
    // Bytes between the start of the chunks read so far and the newline after them,
    // which belong to a line whose start has not been read yet.
    let mut pending: Vec<u8> = Vec::new();
    let mut passed_last_newline = false;
    let mut pos = len;

    while pos > 0 {
        let start = pos.saturating_sub(SCAN_CHUNK_BYTES as u64);
        // The difference is at most SCAN_CHUNK_BYTES, so it fits in usize.
        let chunk = &mut buffer[..(pos - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        pos = start;

        let mut end = chunk.len();
        while let Some(newline) = chunk[..end].iter().rposition(|&byte| byte == b'\n') {
            let mut line = chunk[newline + 1..end].to_vec();
            line.append(&mut pending);
            if passed_last_newline && visit(&line) {
                return Ok(());
            }
            passed_last_newline = true;
            end = newline;
        }
        let mut head = chunk[..end].to_vec();
        head.append(&mut pending);
        pending = head;
    }

    if passed_last_newline {
        visit(&pending);
    }
    Ok(())
}
