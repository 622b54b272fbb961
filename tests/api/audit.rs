//! The audit log as its readers see it: every event type with its fields,
//! masking, nothing secret, nothing lost under load, tampering detected,
//! and 503 rather than unrecorded work when the log cannot be written.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cli::{kraftd, run};
use crate::helpers::{assert_no_secrets, assert_problem, remember_secret, server_logs, spawn_app, spawn_app_with, unique_email, TestApp, PASSWORD};

const FIELDS: [&str; 9] = ["timestamp", "event_type", "user", "resource_type", "resource_id", "status", "details", "request_id", "client_ip"];

fn find<'a>(entries: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    entries.iter().filter(|entry| entry["event_type"] == event_type).collect()
}

fn masked(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap();
    let chars: Vec<char> = local.chars().collect();
    format!("{}{}{}@{domain}", chars[0], "*".repeat(chars.len() - 2), chars[chars.len() - 1])
}

#[tokio::test]
async fn every_event_type_recorded() {
    let app = spawn_app_with(&[("LOGIN_MAX_FAILURES", "3")]).await;
    let user = app.new_user().await;

    let _ = app.login(&user.email, "Wrong-Password-000").await;
    let ghost = unique_email("ghost");
    let _ = app.login(&ghost, "Wrong-Password-000").await;
    let refreshed: Value = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await.json().await.unwrap();
    remember_secret(refreshed["access_token"].as_str().unwrap());
    remember_secret(refreshed["refresh_token"].as_str().unwrap());
    let _ = app.post_json("/auth/refresh", &json!({ "refresh_token": user.tokens.refresh })).await;

    let fresh = app.login_tokens(&user.email, PASSWORD).await;
    let doc = app.upload_sample(&fresh.access, "rfq-2026-014.pdf").await;
    let id = doc["document_id"].as_str().unwrap();
    app.get_auth(&format!("/documents/{id}"), &fresh.access).await;
    app.get_auth(&format!("/documents/{id}/content"), &fresh.access).await;
    app.client.post(app.url("/workflows")).bearer_auth(&fresh.access).json(&json!({ "kind": "inquiry", "document_ids": [id] })).send().await.unwrap();
    let intruder = app.new_user().await;
    app.get_auth(&format!("/documents/{id}"), &intruder.tokens.access).await;
    app.client.delete(app.url(&format!("/documents/{id}"))).bearer_auth(&fresh.access).send().await.unwrap();
    app.get_auth("/auth/me", "not-a-token").await;
    app.client.post(app.url("/auth/logout")).bearer_auth(&fresh.access).send().await.unwrap();
    for _ in 0..3 {
        let _ = app.login(&intruder.email, "Wrong-Password-000").await;
    }
    let throttled = app.login(&intruder.email, PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);

    let entries = app.audit_entries().await;
    for entry in &entries {
        for field in FIELDS {
            assert!(entry.get(field).is_some(), "{field} missing in {entry}");
        }
        assert!(entry["details"].is_object());
        assert!(matches!(entry["status"].as_str(), Some("SUCCESS" | "FAILURE")));
        assert!(entry["timestamp"].as_str().unwrap().ends_with('Z'));
        assert_eq!(entry["client_ip"], "127.0.0.1");
        assert!(!entry["request_id"].as_str().unwrap().is_empty());
    }

    let expect = |event_type: &str, status: &str, user_email: Option<&str>| {
        let matching = find(&entries, event_type);
        assert!(!matching.is_empty(), "no {event_type} entry");
        let expected_user = user_email.map_or_else(|| "ANONYMOUS".to_owned(), masked);
        assert!(
            matching.iter().any(|entry| entry["status"] == status && entry["user"] == expected_user.as_str()),
            "{event_type}: no {status} entry for {expected_user} in {matching:?}"
        );
    };
    expect("USER_REGISTER", "SUCCESS", Some(&user.email));
    expect("USER_LOGIN", "SUCCESS", Some(&user.email));
    expect("USER_LOGIN_FAILED", "FAILURE", Some(&user.email));
    expect("USER_LOGIN_FAILED", "FAILURE", Some(&ghost));
    expect("TOKEN_REFRESH", "SUCCESS", Some(&user.email));
    expect("REFRESH_TOKEN_REUSE", "FAILURE", Some(&user.email));
    expect("DOCUMENT_UPLOAD", "SUCCESS", Some(&user.email));
    expect("DOCUMENT_ACCESS", "SUCCESS", Some(&user.email));
    expect("WORKFLOW_INITIATED", "SUCCESS", Some(&user.email));
    expect("UNAUTHORIZED_ACCESS", "FAILURE", Some(&intruder.email));
    expect("DOCUMENT_DELETE", "SUCCESS", Some(&user.email));
    expect("TOKEN_VALIDATION_FAILED", "FAILURE", None);
    expect("USER_LOGOUT", "SUCCESS", Some(&user.email));
    expect("LOGIN_THROTTLED", "FAILURE", Some(&intruder.email));

    let upload = find(&entries, "DOCUMENT_UPLOAD")[0];
    assert_eq!(upload["resource_type"], "document");
    assert_eq!(upload["resource_id"], id);
    let accesses: Vec<&str> = find(&entries, "DOCUMENT_ACCESS").iter().map(|entry| entry["details"]["action"].as_str().unwrap()).collect();
    assert!(accesses.contains(&"metadata"), "{accesses:?}");
    assert!(accesses.contains(&"download"), "{accesses:?}");
    assert_eq!(find(&entries, "TOKEN_VALIDATION_FAILED")[0]["details"]["reason"], "malformed");
    assert!(!entries.iter().any(|entry| entry.to_string().contains(&user.email)), "unmasked email in the log");
}

#[tokio::test]
async fn hostile_email_stays_one_line() {
    let app = spawn_app().await;
    for email in ["evil\"}\n{\"event_type\":\"FORGED\"@example.com", "line\nbreak@example.com", "a@x.test", "ab@x.test", "two@@x.test", "none"] {
        let response = app.login(email, "Wrong-Password-000").await;
        assert!(matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST), "{email}");
    }
    let text = std::fs::read_to_string(app.audit_path()).unwrap();
    let users: Vec<String> = text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("each line is one JSON object"))
        .inspect(|entry| assert_ne!(entry["event_type"], "FORGED"))
        .map(|entry| entry["user"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(users.len(), 6);
    // Values that are not email addresses are logged without their text.
    assert_eq!(users[0], "[INVALID_EMAIL]");
    assert_eq!(users[1], "[INVALID_EMAIL]");
    assert_eq!(users[2], "a*@x.test");
    assert_eq!(users[3], "a*@x.test");
    assert_eq!(users[4], "[INVALID_EMAIL]");
    assert_eq!(users[5], "[INVALID_EMAIL]");
}

async fn with_headers(response: reqwest::Response) -> String {
    let headers = format!("{:?}", response.headers());
    format!("{headers}{}", response.text().await.unwrap())
}

#[tokio::test]
async fn no_secret_in_responses_or_logs() {
    let app = spawn_app().await;
    let email = unique_email("leak");
    let password = "Leak-Check-Password-7731";
    let mut seen = String::new();
    let mut record = |response_text: String| seen.push_str(&response_text);

    let response = app.register(&email, password).await;
    record(with_headers(response).await);
    let response = app.login(&email, "Leak-Wrong-Password-1").await;
    record(response.text().await.unwrap());
    let response = app.post_json("/auth/register", &json!({ "email": email, "password": 77_213_004_991_u64 })).await;
    record(response.text().await.unwrap());
    let tokens = app.login_tokens(&email, password).await;
    let response = app.post_json("/auth/refresh", &json!({ "refresh_token": tokens.refresh })).await;
    let body: Value = response.json().await.unwrap();
    remember_secret(body["access_token"].as_str().unwrap());
    remember_secret(body["refresh_token"].as_str().unwrap());
    let response = app.post_json("/auth/refresh", &json!({ "refresh_token": tokens.refresh })).await;
    record(response.text().await.unwrap());
    let response = app.get_auth("/auth/me", &format!("{}x", tokens.access)).await;
    record(with_headers(response).await);
    let response = app.post_json("/auth/login", &json!({ "email": email, "password": ["Leak-Array-Password-9"] })).await;
    record(response.text().await.unwrap());

    remember_secret("Leak-Wrong-Password-1");
    remember_secret("77213004991");
    remember_secret("Leak-Array-Password-9");
    assert_no_secrets(&seen, "responses");
    assert_no_secrets(&std::fs::read_to_string(app.audit_path()).unwrap(), "audit log");
    assert_no_secrets(&server_logs(), "server logs");
    let document_text = "Deliver to gate 4 between 07:00 and 15:00.";
    assert!(!server_logs().contains(document_text));
}

#[tokio::test]
async fn concurrent_audited_requests_all_recorded() {
    let app = spawn_app_with(&[("AUDIT_LOG_MAX_BYTES", "4096"), ("AUDIT_LOG_BACKUPS", "2000")]).await;
    let user = app.new_user().await;
    let doc = app.upload_sample(&user.tokens.access, "delivery-instructions.txt").await;
    let url = app.url(&format!("/documents/{}", doc["document_id"].as_str().unwrap()));

    let limit = Arc::new(tokio::sync::Semaphore::new(200));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..2000 {
        let client = app.client.clone();
        let url = url.clone();
        let token = user.tokens.access.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let response = client.get(url).bearer_auth(token).header("x-request-id", format!("load-{index}")).send().await.unwrap();
            response.status()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }

    let path = app.audit_path();
    let files = audit_files(&path);
    assert!(files.len() > 10, "rotation happened: {} files", files.len());
    let mut request_ids = std::collections::HashSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.len() <= 4096 || text.lines().count() == 1, "{} exceeds the rotation size", file.display());
        assert!(text.is_empty() || text.ends_with('\n'));
        for line in text.lines() {
            let entry: Value = serde_json::from_str(line).expect("whole JSON line");
            if entry["event_type"] == "DOCUMENT_ACCESS" {
                assert!(request_ids.insert(entry["request_id"].as_str().unwrap().to_owned()), "duplicate entry");
            }
        }
    }
    assert_eq!(request_ids.len(), 2000);
    assert!((0..2000).all(|index| request_ids.contains(&format!("load-{index}"))));

    let (output, text) = run(kraftd().args(["audit", "verify", path.to_str().unwrap()]));
    assert!(output.status.success(), "{text}");
}

/// Lists the current file and every rotated one, oldest first.
fn audit_files(path: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<(u32, PathBuf)> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let index = name.strip_prefix("audit.log.")?.parse().ok()?;
            Some((index, entry.path()))
        })
        .collect();
    rotated.sort_by_key(|(index, _)| std::cmp::Reverse(*index));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, path)| path).collect();
    files.push(path.to_owned());
    files
}

async fn rotated_log(app: &TestApp) -> PathBuf {
    let user = app.new_user().await;
    for _ in 0..30 {
        app.get_auth("/auth/me", &user.tokens.access).await;
        app.get_auth("/auth/me", "not-a-token").await;
    }
    let path = app.audit_path();
    let (output, text) = run(kraftd().args(["audit", "verify", path.to_str().unwrap()]));
    assert!(output.status.success(), "intact log fails verify: {text}");
    path
}

fn verify_fails_at(path: &Path, file: &Path, line: usize) {
    let (output, text) = run(kraftd().args(["audit", "verify", path.to_str().unwrap()]));
    assert!(!output.status.success(), "tampering not detected: {text}");
    let file_name = file.file_name().unwrap().to_str().unwrap();
    assert!(text.contains(file_name), "file not named: {text}");
    assert!(text.contains(&format!(":{line}")) || text.contains(&format!("line {line}")), "line {line} not named: {text}");
}

#[tokio::test]
async fn tampering_detected() {
    let app = spawn_app_with(&[("AUDIT_LOG_MAX_BYTES", "2048"), ("AUDIT_LOG_BACKUPS", "100")]).await;
    let path = rotated_log(&app).await;
    app.server.state.audit.shutdown().await;
    let rotated = PathBuf::from(format!("{}.2", path.display()));
    let original = std::fs::read(&rotated).unwrap();

    // One byte changed inside the second line's details.
    let mut edited = original.clone();
    let second_line_start = edited.iter().position(|&b| b == b'\n').unwrap() + 1;
    let offset = second_line_start + 40;
    edited[offset] = if edited[offset] == b'0' { b'1' } else { b'0' };
    std::fs::write(&rotated, &edited).unwrap();
    verify_fails_at(&path, &rotated, 2);

    // A line removed.
    let text = String::from_utf8(original.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 3, "rotated file too short for the test");
    let removed = lines.remove(1);
    std::fs::write(&rotated, format!("{}\n", lines.join("\n"))).unwrap();
    verify_fails_at(&path, &rotated, 2);

    // Two lines swapped.
    lines.insert(1, removed);
    lines.swap(0, 1);
    std::fs::write(&rotated, format!("{}\n", lines.join("\n"))).unwrap();
    verify_fails_at(&path, &rotated, 1);

    // Restored byte for byte, the chain verifies again.
    std::fs::write(&rotated, &original).unwrap();
    let (output, text) = run(kraftd().args(["audit", "verify", path.to_str().unwrap()]));
    assert!(output.status.success(), "{text}");
}

#[tokio::test]
async fn unwritable_log_fails_closed_and_recovers() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let logs = app.dir.path().join("logs");
    let aside = app.dir.path().join("logs-aside");

    // Root ignores permission bits, so the folder is replaced by a file.
    std::fs::rename(&logs, &aside).unwrap();
    std::fs::write(&logs, b"not a folder").unwrap();

    let denied = app.get_auth("/auth/me", "not-a-token").await;
    assert_problem(denied, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let upload = app.upload(&user.tokens.access, "note.txt", b"Deliver on Monday.\n".to_vec()).await;
    assert_problem(upload, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = health.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["audit_log"], "unwritable");
    assert!(app.stored_files().is_empty(), "upload stayed without its audit entry");

    std::fs::remove_file(&logs).unwrap();
    std::fs::rename(&aside, &logs).unwrap();

    let health = app.client.get(app.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let upload = app.upload(&user.tokens.access, "note.txt", b"Deliver on Monday.\n".to_vec()).await;
    assert_eq!(upload.status(), StatusCode::CREATED);
    let (output, text) = run(kraftd().args(["audit", "verify", app.audit_path().to_str().unwrap()]));
    assert!(output.status.success(), "{text}");
}

#[tokio::test]
async fn anonymous_input_cannot_bloat_log() {
    let app = spawn_app().await;
    let huge_email = format!("a@{}.example", "d".repeat(100_000));
    let response = app.login(&huge_email, "Wrong-Password-000").await;
    let body = assert_problem(response, StatusCode::BAD_REQUEST, "invalid_request").await;
    assert_eq!(body["errors"][0]["field"], "email");

    let password_like = "Tr0ub4dor@Horse-Staple-77";
    let _ = app.login(password_like, "Wrong-Password-000").await;
    let _ = app.get_auth(&format!("/documents/{}", "A".repeat(60_000)), "not-a-token").await;

    let text = std::fs::read_to_string(app.audit_path()).unwrap();
    assert!(!text.to_lowercase().contains("horse-staple"), "password-like email text logged");
    for line in text.lines() {
        assert!(line.len() < 2048, "audit line of {} bytes", line.len());
    }
}
