//! Several writers on one log path. Each `AuditLog` opens the lock file on its own, and
//! flock locks taken through separate opens exclude each other even within one process,
//! so two handles here contend for the lock as two processes would.

use std::collections::BTreeSet;
use std::env;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::super::files::lock_path;
use super::super::{verify_chain, AuditConfig, AuditLog, ProblemKind, StoredEntry};
use super::{log_files, read_entries, sample_event, test_config};

/// Environment variables that make `two_processes_interleave` run as a child process,
/// which writes to the log at this path, starting at this sample number.
const CHILD_LOG_VAR: &str = "AUDIT_TEST_CHILD_LOG";
const CHILD_FIRST_SAMPLE_VAR: &str = "AUDIT_TEST_CHILD_FIRST_SAMPLE";

/// Entries that each child process of `two_processes_interleave` records, and the
/// `max_bytes` of its log.
const PER_PROCESS: usize = 300;
const CHILD_MAX_BYTES: u64 = 4096;

/// Returns the sample number that `sample_event` put into the entry's request id.
fn sample_number(entry: &StoredEntry) -> usize {
    entry
        .request_id
        .strip_prefix("req-")
        .and_then(|number| number.parse().ok())
        .expect("request id of a sample event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_interleave_with_rotation() {
    const PER_WRITER: usize = 500;
    const TASKS_PER_WRITER: usize = 10;
    const PER_TASK: usize = PER_WRITER / TASKS_PER_WRITER;
    const MAX_BYTES: u64 = 4096;
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), MAX_BYTES, 1000);
    let writer_a = AuditLog::open(config.clone()).await.expect("open writer A");
    let writer_b = AuditLog::open(config.clone()).await.expect("open writer B");

    // Writer A records the samples 0..500 and writer B the samples 500..1000.
    let mut handles = Vec::new();
    for task in 0..TASKS_PER_WRITER {
        for (writer, first_sample) in [(&writer_a, 0), (&writer_b, PER_WRITER)] {
            let log = writer.clone();
            handles.push(tokio::spawn(async move {
                for index in 0..PER_TASK {
                    let number = first_sample + task * PER_TASK + index;
                    log.record(sample_event(number))
                        .await
                        .expect("record entry");
                }
            }));
        }
    }
    for handle in handles {
        handle.await.expect("task finished");
    }
    writer_a.shutdown().await;
    writer_b.shutdown().await;

    let files = log_files(&config.path);
    assert!(
        files.len() > 10,
        "expected rotations during the run, found {} files",
        files.len()
    );
    for file in &files {
        let size = fs::metadata(file).expect("stat log file").len();
        assert!(size <= MAX_BYTES, "{} has {size} bytes", file.display());
    }
    assert!(
        lock_path(&config.path).exists(),
        "the lock file stays next to the log"
    );

    let entries = read_entries(&config.path);
    assert_eq!(entries.len(), 2 * PER_WRITER);
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    let expected: Vec<u64> = (1..=(2 * PER_WRITER) as u64).collect();
    assert_eq!(seqs, expected, "entries must be in seq order across files");
    let numbers: BTreeSet<usize> = entries.iter().map(sample_number).collect();
    assert_eq!(
        numbers,
        (0..2 * PER_WRITER).collect::<BTreeSet<usize>>(),
        "every record of both writers must be stored once"
    );
    let writer_switches = entries
        .windows(2)
        .filter(|pair| {
            (sample_number(&pair[0]) < PER_WRITER) != (sample_number(&pair[1]) < PER_WRITER)
        })
        .count();
    assert!(
        writer_switches > 0,
        "the writers must have taken turns, but one wrote all its entries first"
    );

    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries_checked, (2 * PER_WRITER) as u64);
    assert_eq!(report.first_seq, Some(1));
    assert_eq!(report.last_seq, Some((2 * PER_WRITER) as u64));
}

/// Writer B plays an operator command: it opens, records one entry and shuts down while
/// writer A stays open, twice. A small `max_bytes` makes both writers rotate.
#[tokio::test]
async fn short_lived_writer_between_records() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024, 100);
    let writer_a = AuditLog::open(config.clone()).await.expect("open writer A");

    for number in 0..3 {
        writer_a
            .record(sample_event(number))
            .await
            .expect("record through writer A");
    }
    for (writer_b_number, writer_a_numbers) in [(100, 3..5), (101, 5..6)] {
        let writer_b = AuditLog::open(config.clone()).await.expect("open writer B");
        writer_b
            .record(sample_event(writer_b_number))
            .await
            .expect("record through writer B");
        writer_b.shutdown().await;

        for number in writer_a_numbers {
            writer_a
                .record(sample_event(number))
                .await
                .expect("record through writer A");
        }
    }
    writer_a.shutdown().await;

    assert!(
        log_files(&config.path).len() > 2,
        "expected rotations during the run"
    );
    let entries = read_entries(&config.path);
    let numbers: Vec<usize> = entries.iter().map(sample_number).collect();
    assert_eq!(numbers, vec![0, 1, 2, 100, 3, 4, 101, 5]);
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<u64>>());

    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries_checked, 8);
    assert_eq!(report.first_seq, Some(1));
    assert_eq!(report.last_seq, Some(8));
}

/// The test holds the lock file as another process would, and appends a cut-off line
/// while holding it, as a writer that crashed during its write leaves behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_waits_for_lock_holder() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), 1024 * 1024, 3);
    let log = AuditLog::open(config.clone())
        .await
        .expect("open audit log");
    log.record(sample_event(0)).await.expect("record entry");

    let lock_file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(lock_path(&config.path))
        .expect("open lock file");
    lock_file.lock().expect("lock the lock file");
    let pending = tokio::spawn({
        let log = log.clone();
        async move { log.record(sample_event(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !pending.is_finished(),
        "record must wait while another writer holds the lock"
    );

    let mut file = OpenOptions::new()
        .append(true)
        .open(&config.path)
        .expect("open log file");
    file.write_all(b"{\"seq\":2,\"timest")
        .expect("append cut-off line");
    lock_file.unlock().expect("unlock the lock file");
    pending
        .await
        .expect("task finished")
        .expect("record after the lock is released");
    log.shutdown().await;

    let text = fs::read_to_string(&config.path).expect("read log");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], "{\"seq\":2,\"timest");
    let first: StoredEntry = serde_json::from_str(lines[0]).expect("first entry");
    let second: StoredEntry = serde_json::from_str(lines[2]).expect("second entry");
    assert_eq!(second.seq, 2);
    assert_eq!(second.prev_hash, first.hash);

    let report = verify_chain(&config.path).expect("verify");
    let problem = report.problem.expect("cut-off line is reported");
    assert_eq!(problem.kind, ProblemKind::Malformed);
    assert_eq!(problem.line, 2);
}

/// Runs the test binary twice more as child processes that write `PER_PROCESS` entries
/// each to one log at the same time. In a child, the test only writes its entries.
#[test]
fn two_processes_interleave() {
    if let Some(path) = env::var_os(CHILD_LOG_VAR) {
        let first_sample: usize = env::var(CHILD_FIRST_SAMPLE_VAR)
            .expect("first sample number")
            .parse()
            .expect("first sample number is an integer");
        write_as_child_process(PathBuf::from(path), first_sample);
        return;
    }

    let dir = tempfile::tempdir().expect("create temp dir");
    let config = test_config(dir.path(), CHILD_MAX_BYTES, 1000);
    let test_binary = env::current_exe().expect("path of the test binary");
    let children: Vec<_> = [0, PER_PROCESS]
        .into_iter()
        .map(|first_sample| {
            Command::new(&test_binary)
                .args([
                    "--exact",
                    "audit::tests::multi_writer_tests::two_processes_interleave",
                    "--test-threads=1",
                ])
                .env(CHILD_LOG_VAR, &config.path)
                .env(CHILD_FIRST_SAMPLE_VAR, first_sample.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start child process")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait for child process");
        assert!(
            output.status.success(),
            "child process failed with {}: {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let files = log_files(&config.path);
    assert!(
        files.len() > 10,
        "expected rotations during the run, found {} files",
        files.len()
    );
    let entries = read_entries(&config.path);
    assert_eq!(entries.len(), 2 * PER_PROCESS);
    let seqs: Vec<u64> = entries.iter().map(|entry| entry.seq).collect();
    let expected: Vec<u64> = (1..=(2 * PER_PROCESS) as u64).collect();
    assert_eq!(seqs, expected, "entries must be in seq order across files");
    let numbers: BTreeSet<usize> = entries.iter().map(sample_number).collect();
    assert_eq!(
        numbers,
        (0..2 * PER_PROCESS).collect::<BTreeSet<usize>>(),
        "every record of both processes must be stored once"
    );

    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries_checked, (2 * PER_PROCESS) as u64);
    assert_eq!(report.last_seq, Some((2 * PER_PROCESS) as u64));
}

/// Records `PER_PROCESS` sample entries from several tasks, numbered from `first_sample`.
fn write_as_child_process(path: PathBuf, first_sample: usize) {
    const TASKS: usize = 5;
    const PER_TASK: usize = PER_PROCESS / TASKS;
    let config = AuditConfig {
        path,
        max_bytes: CHILD_MAX_BYTES,
        backups: 1000,
        fsync: false,
    };
    let runtime = tokio::runtime::Runtime::new().expect("start runtime");
    runtime.block_on(async {
        let log = AuditLog::open(config).await.expect("open audit log");
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                for index in 0..PER_TASK {
                    let number = first_sample + task * PER_TASK + index;
                    log.record(sample_event(number))
                        .await
                        .expect("record entry");
                }
            }));
        }
        for handle in handles {
            handle.await.expect("task finished");
        }
        log.shutdown().await;
    });
}
