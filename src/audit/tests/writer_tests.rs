use std::collections::BTreeSet;
use std::fs;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::super::files::backup_path;
use super::super::{verify_chain, AuditError, AuditLog, ProblemKind, ZERO_HASH};
use super::{log_files, read_entries, sample_event, test_config, write_entries};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_rotate_and_verify() {
    const TASKS: usize = 50;
    const PER_TASK: usize = 40;
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 4096, 1000);
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");

    let mut handles = Vec::new();
    for task in 0..TASKS {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            for index in 0..PER_TASK {
                log.record(sample_event(task * PER_TASK + index))
                    .await
                    .expect("record entry");
            }
        }));
    }
    for handle in handles {
        handle.await.expect("task finished");
    }
    log.shutdown().await;

    let files = log_files(&config.path);
    assert!(
        files.len() > 100,
        "expected many rotated files, found {}",
        files.len()
    );
    for file in &files {
        let size = fs::metadata(file).expect("stat log file").len();
        assert!(size <= 4096, "{} has {size} bytes", file.display());
    }

    let entries = read_entries(&config.path);
    assert_eq!(entries.len(), TASKS * PER_TASK);
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    let expected: Vec<u64> = (1..=(TASKS * PER_TASK) as u64).collect();
    assert_eq!(seqs, expected, "entries must be in seq order across files");
    let request_ids: BTreeSet<&str> = entries
        .iter()
        .map(|entry| entry.request_id.as_str())
        .collect();
    assert_eq!(
        request_ids.len(),
        TASKS * PER_TASK,
        "every record must be stored once"
    );
    assert_eq!(entries[0].prev_hash, ZERO_HASH);

    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries_checked, (TASKS * PER_TASK) as u64);
    assert_eq!(report.last_seq, Some((TASKS * PER_TASK) as u64));
}

#[tokio::test]
async fn entry_fields_and_timestamp_format() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 2);
    write_entries(&config, 1).await;

    let text = fs::read_to_string(&config.path).expect("read log");
    let keys = [
        "seq",
        "timestamp",
        "event_type",
        "user",
        "resource_type",
        "resource_id",
        "status",
        "details",
        "request_id",
        "client_ip",
        "prev_hash",
        "hash",
    ];
    let mut last_position = 0;
    for key in keys {
        let position = text.find(&format!("\"{key}\":")).expect("member present");
        assert!(
            position >= last_position,
            "member {key} is out of order in {text}"
        );
        last_position = position;
    }

    let entry = &read_entries(&config.path)[0];
    assert_eq!(entry.seq, 1);
    assert_eq!(entry.status, super::super::AuditStatus::Success);
    assert_eq!(entry.user, "j******e@example.com");
    assert!(
        entry.timestamp.ends_with('Z'),
        "timestamp {} must be UTC with Z",
        entry.timestamp
    );
    OffsetDateTime::parse(&entry.timestamp, &Rfc3339).expect("timestamp is RFC 3339");
}

#[tokio::test]
async fn restart_continues_chain() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024, 100);
    write_entries(&config, 5).await;

    // Drop without shutdown: acknowledged entries are already written.
    let log = AuditLog::open(config.clone())
        .await
        .expect("reopen audit log");
    for number in 0..5 {
        log.record(sample_event(number))
            .await
            .expect("record entry");
    }
    drop(log);

    let log = AuditLog::open(config.clone())
        .await
        .expect("reopen audit log again");
    log.record(sample_event(99)).await.expect("record entry");
    log.shutdown().await;

    let seqs: Vec<u64> = read_entries(&config.path)
        .iter()
        .map(|entry| entry.seq)
        .collect();
    assert_eq!(seqs, (1..=11).collect::<Vec<u64>>());
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries_checked, 11);
}

/// Entries larger than the 64 KiB read step make the tail scan join lines across steps.
#[tokio::test]
async fn restart_after_large_entries() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    for size in [100_000, 70_000, 150_000] {
        let event = sample_event(size).details(serde_json::json!({ "blob": "x".repeat(size) }));
        log.record(event).await.expect("record large entry");
    }
    log.shutdown().await;

    write_entries(&config, 1).await;

    let seqs: Vec<u64> = read_entries(&config.path)
        .iter()
        .map(|entry| entry.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn restart_continues_from_newest_backup() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    write_entries(&config, 3).await;
    fs::rename(&config.path, backup_path(&config.path, 1)).expect("move current file to backup");

    write_entries(&config, 2).await;

    let seqs: Vec<u64> = read_entries(&config.path)
        .iter()
        .map(|entry| entry.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn restart_after_cut_off_line() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    write_entries(&config, 3).await;
    let mut text = fs::read_to_string(&config.path).expect("read log");
    text.push_str("{\"seq\":4,\"timest");
    fs::write(&config.path, &text).expect("append cut-off line");

    write_entries(&config, 1).await;

    let text = fs::read_to_string(&config.path).expect("read log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[3], "{\"seq\":4,\"timest");
    let third: super::super::StoredEntry = serde_json::from_str(lines[2]).expect("third entry");
    let new_entry: super::super::StoredEntry = serde_json::from_str(lines[4]).expect("new entry");
    assert_eq!(new_entry.seq, 4);
    assert_eq!(new_entry.prev_hash, third.hash);

    let report = verify_chain(&config.path).expect("verify");
    let problem = report.problem.expect("cut-off line is reported");
    assert_eq!(problem.kind, ProblemKind::Malformed);
    assert_eq!(problem.line, 4);
}

#[tokio::test]
async fn rotation_keeps_configured_backups() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024, 2);
    write_entries(&config, 40).await;

    assert!(backup_path(&config.path, 1).exists());
    assert!(backup_path(&config.path, 2).exists());
    assert!(!backup_path(&config.path, 3).exists());
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.last_seq, Some(40));
    assert!(
        report.first_seq > Some(1),
        "older entries must have been rotated away"
    );
}

#[tokio::test]
async fn rotation_without_backups_replaces_file() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024, 0);
    write_entries(&config, 20).await;

    assert_eq!(log_files(&config.path), vec![config.path.clone()]);
    assert!(fs::metadata(&config.path).expect("stat log").len() <= 1024);
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.last_seq, Some(20));
}

#[tokio::test]
async fn oversized_entry_gets_own_file() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 100, 10);
    write_entries(&config, 3).await;

    let files = log_files(&config.path);
    assert_eq!(files.len(), 3);
    for file in &files {
        let text = fs::read_to_string(file).expect("read log file");
        assert_eq!(
            text.lines().count(),
            1,
            "{} must contain one entry",
            file.display()
        );
    }
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
}

/// Replacing the log folder with a regular file makes writes fail even for root.
#[tokio::test]
async fn write_failure_then_recovery() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    let folder = dir.path().join("logs");
    let moved = dir.path().join("logs.moved");
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    for number in 0..3 {
        log.record(sample_event(number))
            .await
            .expect("record entry");
    }

    fs::rename(&folder, &moved).expect("move log folder away");
    fs::write(&folder, b"not a folder").expect("put a file in its place");
    let result = log.record(sample_event(3)).await;
    assert!(
        matches!(result, Err(AuditError::Unavailable)),
        "got {result:?}"
    );
    assert!(!log.is_healthy());
    assert!(!log.check_writable().await);
    let result = log.record(sample_event(4)).await;
    assert!(
        matches!(result, Err(AuditError::Unavailable)),
        "got {result:?}"
    );

    fs::remove_file(&folder).expect("remove the file");
    fs::rename(&moved, &folder).expect("restore log folder");
    log.record(sample_event(5))
        .await
        .expect("record after recovery");
    assert!(log.is_healthy());
    log.shutdown().await;

    let seqs: Vec<u64> = read_entries(&config.path)
        .iter()
        .map(|entry| entry.seq)
        .collect();
    assert_eq!(
        seqs,
        vec![1, 2, 3, 4],
        "rejected entries must not use a seq"
    );
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn check_writable_recovers_log() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    let folder = dir.path().join("logs");
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    log.record(sample_event(0)).await.expect("record entry");
    assert!(log.check_writable().await);

    fs::remove_dir_all(&folder).expect("remove log folder");
    fs::write(&folder, b"not a folder").expect("put a file in its place");
    assert!(!log.check_writable().await);
    assert!(!log.is_healthy());

    fs::remove_file(&folder).expect("remove the file");
    assert!(
        log.check_writable().await,
        "reopen must recreate the folder"
    );
    assert!(log.is_healthy());
    log.record(sample_event(1))
        .await
        .expect("record after recovery");
    log.shutdown().await;

    // The first entry went with the deleted folder, so the new file starts at seq 2.
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.first_seq, Some(2));
}

/// A directory where the rotation must delete the oldest backup makes rotation fail.
#[tokio::test]
async fn rotation_failure_rejects_and_recovers() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024, 1);
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    let blocker = backup_path(&config.path, 1);
    fs::create_dir_all(&blocker).expect("create blocking folder");

    let mut accepted: u64 = 0;
    let mut rejected = false;
    for number in 0..20 {
        match log.record(sample_event(number)).await {
            Ok(()) => accepted += 1,
            Err(AuditError::Unavailable) => {
                rejected = true;
                break;
            }
            Err(other) => panic!("unexpected error {other}"),
        }
    }
    assert!(rejected, "rotation must fail while the folder blocks it");
    assert!(!log.is_healthy());

    fs::remove_dir(&blocker).expect("remove blocking folder");
    log.record(sample_event(99))
        .await
        .expect("record after recovery");
    log.shutdown().await;

    let entries = read_entries(&config.path);
    assert_eq!(entries.last().map(|entry| entry.seq), Some(accepted + 1));
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
}

#[tokio::test]
async fn open_fails_when_parent_is_file() {
    let dir = tempfile::tempdir().expect("create temp dir");
    fs::write(dir.path().join("logs"), b"not a folder").expect("create file");
    let result = AuditLog::open(test_config(dir.path(), 1024, 1)).await;
    assert!(
        matches!(result, Err(AuditError::Open { .. })),
        "got {result:?}"
    );
}

#[tokio::test]
async fn shutdown_closes_log() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let log = AuditLog::open(test_config(dir.path(), 1024, 1))
        .await
        .expect("open audit log");
    let clone = log.clone();
    log.shutdown().await;
    let result = clone.record(sample_event(0)).await;
    assert!(matches!(result, Err(AuditError::Closed)), "got {result:?}");
    assert!(!clone.is_healthy());
    clone.shutdown().await;
}

#[tokio::test]
async fn disabled_log_drops_entries() {
    let log = AuditLog::disabled();
    log.record(sample_event(0))
        .await
        .expect("disabled log accepts entries");
    assert!(log.is_healthy());
    assert!(log.check_writable().await);
    log.shutdown().await;
}
