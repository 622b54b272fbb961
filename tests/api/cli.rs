//! The `kraftd` binary itself: `serve` with the README's defaults and a
//! clean exit on SIGTERM, and `verify` against good and broken servers.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::spawn_app_with;

pub fn kraftd() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kraftd"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("RUST_LOG", "warn");
    command
}

pub fn run(command: &mut Command) -> (Output, String) {
    let output = command.output().expect("kraftd runs");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output, text)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_healthy(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(response) = client.get(url).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became healthy");
}

fn spawn_serve(dir: &Path, port: u16) -> std::process::Child {
    kraftd()
        .current_dir(dir)
        .env("KRAFTD_ADDR", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kraftd serve starts")
}

#[tokio::test]
async fn serve_defaults_pass_verify_and_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = spawn_serve(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&format!("{base}/api/v1/health")).await;

    // Defaults: data in ./data, audit log in logs/audit.log.
    assert!(dir.path().join("data/kraftd.db").exists());
    assert!(dir.path().join("data/keys/keyring.json").exists());
    assert!(dir.path().join("logs").is_dir());

    let (output, text) = run(kraftd().args(["verify", "--url", &base, "--origin", "http://localhost:3000"]));
    assert!(output.status.success(), "{text}");
    assert!(text.contains("PASS cors-preflight-allowed"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let mut exited = None;
    for _ in 0..100 {
        if let Some(code) = child.try_wait().unwrap() {
            exited = Some(code);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exited = exited.expect("kraftd exits after SIGTERM");
    assert_eq!(exited.code(), Some(0));
}

#[tokio::test]
async fn verify_fails_when_origin_missing() {
    let app = spawn_app_with(&[("ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let base = app.server.url("");
    let base = base.clone();
    let (output, text) = tokio::task::spawn_blocking(move || run(kraftd().args(["verify", "--url", &base, "--origin", "http://localhost:3000"])))
        .await
        .unwrap();
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("FAIL cors-preflight-allowed"), "{text}");
    assert!(text.contains("PASS security-headers-success"), "{text}");
    assert!(text.contains("PASS cors-foreign-origin-refused"), "{text}");
}

#[tokio::test]
async fn verify_fails_on_unreachable_server() {
    let port = free_port();
    let (output, text) = run(kraftd().args(["verify", "--url", &format!("http://127.0.0.1:{port}")]));
    assert!(!output.status.success());
    assert!(text.contains("FAIL health"), "{text}");
}

#[tokio::test]
async fn unsafe_configuration_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in [("ALLOWED_ORIGINS", "*"), ("JWT_SECRET", "too-short"), ("ALLOWED_ORIGINS", "https://a.test/path"), ("MAX_UPLOAD_BYTES", "lots")] {
        let (output, text) = run(kraftd().current_dir(dir.path()).env(name, value).env("KRAFTD_ADDR", "127.0.0.1:0").arg("serve"));
        assert!(!output.status.success(), "{name}={value} was accepted");
        assert!(text.contains(name), "{name}: {text}");
        assert!(!text.contains("too-short"), "secret echoed: {text}");
    }
}

#[cfg(unix)]
#[tokio::test]
async fn data_folder_private_on_creation() {
    use std::os::unix::fs::PermissionsExt;

    let app = crate::helpers::spawn_app().await;
    let mode = std::fs::metadata(app.data_dir()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[tokio::test]
async fn verify_rejects_unusable_url() {
    for url in ["nonsense", "ftp://127.0.0.1:1", "http://"] {
        let (output, text) = run(kraftd().args(["verify", "--url", url]));
        assert_eq!(output.status.code(), Some(2), "{url}: {text}");
        assert!(text.contains("--url"), "{url}: {text}");
    }
}
