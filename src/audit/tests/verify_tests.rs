use std::fs;
use std::path::{Path, PathBuf};

use super::super::files::backup_path;
use super::super::{verify_chain, ProblemKind, VerifyError, VerifyReport};
use super::{test_config, write_entries};

/// Writes 60 entries in 4 KiB files, which gives several backups of about 11 lines.
async fn rotated_log(dir: &Path) -> PathBuf {
    let config = test_config(dir, 4096, 100);
    write_entries(&config, 60).await;
    let report = verify_chain(&config.path).expect("verify");
    assert!(report.is_ok(), "fresh log must verify: {report}");
    assert!(
        backup_path(&config.path, 3).exists(),
        "expected at least 3 backups"
    );
    config.path
}

fn read_lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .expect("read log file")
        .lines()
        .map(|line| format!("{line}\n"))
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    fs::write(path, lines.concat()).expect("write log file");
}

/// Verifies and returns the report, which must name a problem at `file` line `line`.
fn expect_problem(path: &Path, kind: ProblemKind, file: &Path, line: u64) -> VerifyReport {
    let report = verify_chain(path).expect("verify");
    let problem = report.problem.clone().expect("verification must fail");
    assert_eq!(problem.kind, kind, "{report}");
    assert_eq!(problem.file, file, "{report}");
    assert_eq!(problem.line, line, "{report}");
    let text = report.to_string();
    assert!(
        text.contains(&file.display().to_string()),
        "message must name the file: {text}"
    );
    assert!(
        text.contains(&format!("line {line}")),
        "message must name the line: {text}"
    );
    report
}

#[tokio::test]
async fn edited_byte_in_backup_is_modified() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    let backup = backup_path(&path, 2);

    let mut lines = read_lines(&backup);
    lines[1] = lines[1].replacen("j******e", "j*****xe", 1);
    write_lines(&backup, &lines);

    let report = expect_problem(&path, ProblemKind::Modified, &backup, 2);
    assert!(report.entries_checked > 0);
}

#[tokio::test]
async fn deleted_line_is_removed() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    let backup = backup_path(&path, 1);

    let mut lines = read_lines(&backup);
    lines.remove(1);
    write_lines(&backup, &lines);

    expect_problem(&path, ProblemKind::Removed, &backup, 2);
}

#[tokio::test]
async fn swapped_lines_are_reordered() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;

    let mut lines = read_lines(&path);
    assert!(lines.len() >= 3, "current file needs 3 lines for this test");
    lines.swap(1, 2);
    write_lines(&path, &lines);

    expect_problem(&path, ProblemKind::InsertedOrReordered, &path, 2);
}

#[tokio::test]
async fn duplicated_line_is_inserted() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    let backup = backup_path(&path, 3);

    let mut lines = read_lines(&backup);
    let copy = lines[0].clone();
    lines.insert(2, copy);
    write_lines(&backup, &lines);

    expect_problem(&path, ProblemKind::InsertedOrReordered, &backup, 3);
}

#[tokio::test]
async fn deleted_middle_backup_is_removed() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    fs::remove_file(backup_path(&path, 2)).expect("delete backup");

    let report = expect_problem(&path, ProblemKind::Removed, &backup_path(&path, 1), 1);
    assert!(!report.files.contains(&backup_path(&path, 2)));
}

#[tokio::test]
async fn missing_final_newline_is_cut_off() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;

    let mut lines = read_lines(&path);
    let last = lines.len() - 1;
    lines[last] = lines[last][..lines[last].len() / 2].to_string();
    write_lines(&path, &lines);

    expect_problem(&path, ProblemKind::CutOff, &path, lines.len() as u64);
}

#[tokio::test]
async fn invalid_json_line_is_malformed() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    let backup = backup_path(&path, 1);

    let mut lines = read_lines(&backup);
    lines[0] = lines[0].replacen("{", "[", 1);
    write_lines(&backup, &lines);

    expect_problem(&path, ProblemKind::Malformed, &backup, 1);
}

#[tokio::test]
async fn first_entry_needs_zero_prev_hash() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let path = rotated_log(dir.path()).await;
    let oldest = super::log_files(&path)[0].clone();

    // Deleting the first line leaves an anchor whose seq is not 1, which verifies,
    // because older entries may have been rotated away.
    let mut lines = read_lines(&oldest);
    let first = lines.remove(0);
    write_lines(&oldest, &lines);
    let report = verify_chain(&path).expect("verify");
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.first_seq, Some(2));

    // A forged first line with seq 1 but a non-zero prev_hash is reported. Its hash
    // is computed over the forged content, so only the anchor rule catches it.
    let forged_prev = "1".repeat(64);
    let body_end = first.rfind(",\"hash\":").expect("hash member");
    let body = first[..body_end].replace(&super::super::ZERO_HASH.to_string(), &forged_prev) + "}";
    let hash = super::super::entry::entry_hash(&forged_prev, body.as_bytes());
    let forged = format!("{},\"hash\":\"{hash}\"}}\n", &body[..body.len() - 1]);
    lines.insert(0, forged);
    write_lines(&oldest, &lines);

    expect_problem(&path, ProblemKind::InsertedOrReordered, &oldest, 1);
}

#[test]
fn missing_log_is_not_found() {
    let dir = tempfile::tempdir().expect("create temp dir");
    let result = verify_chain(&dir.path().join("audit.log"));
    assert!(
        matches!(result, Err(VerifyError::NotFound { .. })),
        "got {result:?}"
    );
}
