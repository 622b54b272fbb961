//! Tests of the audit log. They write only inside temporary folders that they create.

mod mask_tests;
mod multi_writer_tests;
mod verify_tests;
mod writer_tests;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::files::{backup_path, existing_backups};
use super::{AuditConfig, AuditEvent, AuditLog, AuditStatus, StoredEntry};

/// Returns settings for `dir/logs/audit.log` with the given rotation limits.
fn test_config(dir: &Path, max_bytes: u64, backups: u32) -> AuditConfig {
    AuditConfig {
        path: dir.join("logs").join("audit.log"),
        max_bytes,
        backups,
        fsync: false,
    }
}

fn sample_event(number: usize) -> AuditEvent {
    AuditEvent::new("DOCUMENT_UPLOAD", AuditStatus::Success)
        .user_email("jane.doe@example.com")
        .resource("document", format!("doc-{number}"))
        .details(json!({ "number": number, "size_bytes": 1024 }))
        .request(format!("req-{number}"), "127.0.0.1")
}

/// Opens a log, records `count` sample entries one after the other and shuts it down.
async fn write_entries(config: &AuditConfig, count: usize) {
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    for number in 0..count {
        log.record(sample_event(number))
            .await
            .expect("record entry");
    }
    log.shutdown().await;
}

/// Lists the log files oldest first: backups from the highest number, then the current file.
fn log_files(path: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = existing_backups(path)
        .expect("list backups")
        .into_iter()
        .rev()
        .map(|number| backup_path(path, number))
        .collect();
    if path.exists() {
        files.push(path.to_path_buf());
    }
    files
}

/// Parses every line of every log file, oldest first. Panics on a line that is not a
/// whole JSON entry.
fn read_entries(path: &Path) -> Vec<StoredEntry> {
    let mut entries = Vec::new();
    for file in log_files(path) {
        let text = fs::read_to_string(&file).expect("read log file");
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{} does not end with a newline",
            file.display()
        );
        for line in text.lines() {
            let entry: StoredEntry = serde_json::from_str(line).expect("line is a JSON entry");
            entries.push(entry);
        }
    }
    entries
}
