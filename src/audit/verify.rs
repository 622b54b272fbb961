//! Offline check of the hash chain across the current log file and its backups.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::entry::{parse_line, ChainPosition, ZERO_HASH};
use super::files::{backup_path, existing_backups};

/// Kind of the first problem found in the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The entry's `hash` does not match its content or its `prev_hash`.
    Modified,
    /// `seq` skips values that never appear later, as after deleting lines or a whole
    /// backup file in the middle.
    Removed,
    /// `seq` repeats or goes back, a skipped `seq` appears later, or `prev_hash` does
    /// not match the hash of the entry before.
    InsertedOrReordered,
    /// The last line of a file does not end with a newline, because its write was cut
    /// off, for example by a crash.
    CutOff,
    /// A complete line is not a valid entry: invalid JSON, missing members or a badly
    /// formed hash. A cut-off write looks like this once the writer has appended
    /// entries after it.
    Malformed,
}

impl ProblemKind {
    /// Returns the snake_case name of the kind, for logs and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Modified => "modified",
            ProblemKind::Removed => "removed",
            ProblemKind::InsertedOrReordered => "inserted_or_reordered",
            ProblemKind::CutOff => "cut_off",
            ProblemKind::Malformed => "malformed",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ProblemKind::Modified => "entry modified",
            ProblemKind::Removed => "entries removed",
            ProblemKind::InsertedOrReordered => "entry inserted or reordered",
            ProblemKind::CutOff => "last line cut off",
            ProblemKind::Malformed => "line malformed",
        })
    }
}

/// Formats a count with its noun in the singular or plural.
fn count(number: u64, singular: &str, plural: &str) -> String {
    format!("{number} {}", if number == 1 { singular } else { plural })
}

/// The first problem found, with its location. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainProblem {
    pub kind: ProblemKind,
    pub file: PathBuf,
    pub line: u64,
    pub detail: String,
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} line {}: {}: {}",
            self.file.display(),
            self.line,
            self.kind,
            self.detail
        )
    }
}

/// Result of [`verify_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Log files found, oldest first. Files after the first problem are not read.
    pub files: Vec<PathBuf>,
    /// Entries that passed every check before the first problem, or all entries.
    pub entries_checked: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub problem: Option<ChainProblem>,
}

impl VerifyReport {
    /// Returns whether the chain has no problem.
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.problem, self.first_seq, self.last_seq) {
            (Some(problem), _, _) => write!(
                formatter,
                "audit chain broken at {problem} ({} verified before it)",
                count(self.entries_checked, "entry", "entries")
            ),
            (None, Some(first), Some(last)) => write!(
                formatter,
                "audit chain verified: {} in {}, seq {first} to {last}",
                count(self.entries_checked, "entry", "entries"),
                count(self.files.len() as u64, "file", "files")
            ),
            (None, _, _) => write!(
                formatter,
                "audit chain verified: no entries in {}",
                count(self.files.len() as u64, "file", "files")
            ),
        }
    }
}

/// Errors that stop verification before any problem in the chain can be reported.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("no audit log found at {path} or its backups")]
    NotFound { path: PathBuf },
    #[error("failed to read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Verifies the hash chain of the log at `path` and of its backups.
///
/// Reads `path.N` for every backup number N that exists, from the highest (oldest) to
/// `path.1`, and then `path`. Each line must end with a newline, be a valid entry, have
/// a `hash` that matches its content, have `seq` one above the entry before and a
/// `prev_hash` equal to that entry's `hash`. The first entry read is the anchor. Its
/// `prev_hash` can be checked only when its `seq` is 1, where it must be 64 zeros,
/// because older entries may have been rotated away.
///
/// Stops at the first problem, except that after a `seq` gap it reads on to tell a
/// removed entry from one that moved. Deleting the oldest files, or the newest entries
/// at the end, leaves no gap and is not detected, and neither is a rewrite that
/// recomputes every hash after the change, because the chain has no secret key.
///
/// NOTE: files are read one after the other without locking, so a rotation that runs
/// while this reads can cause a false report. Verify a log that is not being written,
/// or run it again to confirm.
pub fn verify_chain(path: &Path) -> Result<VerifyReport, VerifyError> {
    let files = log_files_oldest_first(path)?;
    if files.is_empty() {
        return Err(VerifyError::NotFound {
            path: path.to_path_buf(),
        });
    }

    let mut verification = Verification::default();
    'files: for file in &files {
        let io_error = |source| VerifyError::Io {
            path: file.clone(),
            source,
        };
        let mut reader = BufReader::new(File::open(file).map_err(io_error)?);
        let mut raw = Vec::new();
        let mut line_number = 0u64;
        loop {
            raw.clear();
            if reader.read_until(b'\n', &mut raw).map_err(io_error)? == 0 {
                break;
            }
            line_number += 1;
            if verification.visit(file, line_number, &raw) {
                break 'files;
            }
        }
    }

    let checker = verification.checker;
    Ok(VerifyReport {
        files,
        entries_checked: checker.entries_checked,
        first_seq: checker.first_seq,
        last_seq: checker.previous.map(|position| position.seq),
        problem: verification.problem,
    })
}

/// Lists the backups from oldest to newest, then the current file if it exists.
fn log_files_oldest_first(path: &Path) -> Result<Vec<PathBuf>, VerifyError> {
    let numbers = existing_backups(path).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = numbers
        .iter()
        .rev()
        .map(|&number| backup_path(path, number))
        .collect();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    Ok(files)
}

/// State of a verification run: the chain checks, the first problem and, after a `seq`
/// gap, the missing range to look for in later lines.
#[derive(Default)]
struct Verification {
    checker: Checker,
    problem: Option<ChainProblem>,
    missing: Option<Range<u64>>,
}

impl Verification {
    /// Checks one raw line, including its newline if any. Returns true when verification
    /// is finished.
    fn visit(&mut self, file: &Path, line: u64, raw: &[u8]) -> bool {
        if let Some(missing) = &self.missing {
            return self.reclassify_gap_if_found(missing.clone(), file, line, raw);
        }

        let Err(finding) = self.checker.check_line(raw) else {
            return false;
        };
        self.problem = Some(ChainProblem {
            kind: finding.kind,
            file: file.to_path_buf(),
            line,
            detail: finding.detail,
        });
        self.missing = finding.missing;
        self.missing.is_none()
    }

    /// After a `seq` gap, turns the problem into [`ProblemKind::InsertedOrReordered`] if
    /// this line contains one of the missing entries. Returns true in that case.
    fn reclassify_gap_if_found(
        &mut self,
        missing: Range<u64>,
        file: &Path,
        line: u64,
        raw: &[u8],
    ) -> bool {
        let Some(seq) = raw
            .strip_suffix(b"\n")
            .and_then(|content| parse_line(content).ok())
            .map(|parsed| parsed.entry.seq)
        else {
            return false;
        };
        if !missing.contains(&seq) {
            return false;
        }
        if let Some(problem) = &mut self.problem {
            problem.kind = ProblemKind::InsertedOrReordered;
            problem.detail = format!(
                "{}, but the entry with seq {seq} appears later, at {} line {line}, so entries were reordered",
                problem.detail,
                file.display()
            );
        }
        true
    }
}

/// A failed check of one line.
struct Finding {
    kind: ProblemKind,
    detail: String,
    /// For a `seq` gap, the missing values.
    missing: Option<Range<u64>>,
}

impl Finding {
    fn new(kind: ProblemKind, detail: String) -> Self {
        Finding {
            kind,
            detail,
            missing: None,
        }
    }
}

/// Chain checks that carry over from one line to the next.
#[derive(Default)]
struct Checker {
    previous: Option<ChainPosition>,
    entries_checked: u64,
    first_seq: Option<u64>,
}

impl Checker {
    fn check_line(&mut self, raw: &[u8]) -> Result<(), Finding> {
        let Some(content) = raw.strip_suffix(b"\n") else {
            return Err(Finding::new(
                ProblemKind::CutOff,
                "the last line does not end with a newline, so its write was cut off".to_string(),
            ));
        };
        let parsed =
            parse_line(content).map_err(|message| Finding::new(ProblemKind::Malformed, message))?;
        let entry = parsed.entry;
        if !parsed.hash_matches {
            return Err(Finding::new(
                ProblemKind::Modified,
                format!(
                    "the hash of the entry with seq {} does not match its content",
                    entry.seq
                ),
            ));
        }

        match &self.previous {
            None => check_anchor(entry.seq, &entry.prev_hash)?,
            Some(previous) => check_link(previous, entry.seq, &entry.prev_hash)?,
        }

        self.first_seq.get_or_insert(entry.seq);
        self.entries_checked += 1;
        self.previous = Some(ChainPosition {
            seq: entry.seq,
            hash: entry.hash,
        });
        Ok(())
    }
}

fn check_anchor(seq: u64, prev_hash: &str) -> Result<(), Finding> {
    if seq == 1 && prev_hash != ZERO_HASH {
        return Err(Finding::new(
            ProblemKind::InsertedOrReordered,
            "the entry with seq 1 must have a prev_hash of 64 zeros".to_string(),
        ));
    }
    Ok(())
}

fn check_link(previous: &ChainPosition, seq: u64, prev_hash: &str) -> Result<(), Finding> {
    let expected = previous.seq.saturating_add(1);
    if seq > expected {
        return Err(Finding {
            kind: ProblemKind::Removed,
            detail: format!(
                "seq jumps from {} to {seq}, so {} entries are missing",
                previous.seq,
                seq - expected
            ),
            missing: Some(expected..seq),
        });
    }
    if seq < expected {
        return Err(Finding::new(
            ProblemKind::InsertedOrReordered,
            format!(
                "seq {seq} follows seq {}, but seq must increase by 1",
                previous.seq
            ),
        ));
    }
    if prev_hash != previous.hash {
        return Err(Finding::new(
            ProblemKind::InsertedOrReordered,
            format!(
                "prev_hash does not match the hash of the entry with seq {}",
                previous.seq
            ),
        ));
    }
    Ok(())
}
