//! Starting a real kraftd on a loopback port with a temporary data folder,
//! and typed helpers for the calls most tests make.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use kraftd::config::Config;
use kraftd::testing::{Edge, RunningServer};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const PASSWORD: &str = "Quartz-Lantern-Orbit-42";
pub const JWT_SECRET: &str = "test-secret-that-is-long-enough-for-hs256-0123456789";

pub struct TestApp {
    pub server: RunningServer,
    pub client: reqwest::Client,
    pub dir: TempDir,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub email: String,
    pub user_id: String,
    pub tokens: Tokens,
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// Returns a new email on each call, so tests never collide on accounts.
pub fn unique_email(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}.{}@example.com", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Every password and token the tests sent or received, so each test's
/// audit log and the captured server logs can be searched for them.
static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn remember_secret(secret: &str) {
    SECRETS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(secret.to_owned());
}

fn secrets() -> Vec<String> {
    SECRETS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// Server logs of every test in this binary, at debug level.
static SERVER_LOGS: OnceLock<std::sync::Arc<Mutex<Vec<u8>>>> = OnceLock::new();

#[derive(Clone)]
struct LogBuffer(std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_server_logs() {
    SERVER_LOGS.get_or_init(|| {
        let buffer = std::sync::Arc::new(Mutex::new(Vec::new()));
        let writer = LogBuffer(buffer.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("debug,sqlx=info,hyper=info,h2=info,reqwest=info"))
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        buffer
    });
}

pub fn server_logs() -> String {
    let buffer = SERVER_LOGS.get().expect("logs captured");
    String::from_utf8_lossy(&buffer.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).into_owned()
}

/// Panics when any remembered password or token appears in `text`.
pub fn assert_no_secrets(text: &str, source_name: &str) {
    for secret in secrets() {
        assert!(!text.contains(&secret), "{source_name} contains a password or token the tests used");
    }
}

impl Drop for TestApp {
    /// Searches each test's audit log for every password and token the
    /// suite used, before its folder is deleted.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let logs = self.dir.path().join("logs");
        let Ok(entries) = std::fs::read_dir(&logs) else { return };
        for entry in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                assert_no_secrets(&text, &entry.path().display().to_string());
            }
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts a server whose data and audit log live in a fresh temporary
/// folder; `overrides` set or replace configuration variables.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    capture_server_logs();
    let dir = tempfile::tempdir().expect("create temp dir");
    let server = start_server(dir.path(), overrides).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    TestApp { server, client, dir }
}

/// Builds the variables a test server gets in `dir`, then applies the overrides.
pub fn test_vars(dir: &Path, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = HashMap::new();
    vars.insert("KRAFTD_DATA_DIR".into(), dir.join("data").display().to_string());
    vars.insert("AUDIT_LOG_PATH".into(), dir.join("logs/audit.log").display().to_string());
    vars.insert("ALLOWED_ORIGINS".into(), "http://localhost:3000,https://app.example.com".into());
    // Tests share one client address, so the per-address limit is raised
    // out of the way except where a test sets its own.
    vars.insert("LOGIN_MAX_FAILURES".into(), "50".into());
    for (name, value) in overrides {
        vars.insert((*name).into(), (*value).into());
    }
    vars
}

async fn start_server(dir: &Path, overrides: &[(&str, &str)]) -> RunningServer {
    let config = Config::from_vars(&test_vars(dir, overrides)).expect("valid test configuration");
    RunningServer::start(config, Edge::On).await.expect("server starts")
}

impl TestApp {
    /// Replaces the server with a new one on the same data folder and audit
    /// log, started with `overrides`; the old one finishes in-flight work.
    pub async fn restart(&mut self, overrides: &[(&str, &str)]) {
        self.server.begin_shutdown();
        self.server.state.audit.shutdown().await;
        self.server = start_server(self.dir.path(), overrides).await;
    }

    /// Builds a `kraftd` command with this server's data folder and audit log.
    pub fn command(&self) -> std::process::Command {
        let mut command = crate::cli::kraftd();
        for (name, value) in test_vars(self.dir.path(), &[]) {
            command.env(name, value);
        }
        command
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(&format!("/api/v1{path}"))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn audit_path(&self) -> PathBuf {
        self.dir.path().join("logs/audit.log")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.client.post(self.url(path)).json(body).send().await.expect("request sent")
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        remember_secret(password);
        self.post_json("/auth/register", &json!({ "email": email, "password": password })).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        remember_secret(password);
        self.post_json("/auth/login", &json!({ "email": email, "password": password })).await
    }

    pub async fn login_tokens(&self, email: &str, password: &str) -> Tokens {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), StatusCode::OK, "login of {email}");
        let body: Value = response.json().await.expect("login body");
        let tokens = Tokens {
            access: body["access_token"].as_str().expect("access token").to_owned(),
            refresh: body["refresh_token"].as_str().expect("refresh token").to_owned(),
        };
        remember_secret(&tokens.access);
        remember_secret(&tokens.refresh);
        tokens
    }

    /// Registers a fresh account and logs it in.
    pub async fn new_user(&self) -> User {
        let email = unique_email("user");
        let response = self.register(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED, "register {email}");
        let body: Value = response.json().await.expect("register body");
        let tokens = self.login_tokens(&email, PASSWORD).await;
        User {
            email,
            user_id: body["user_id"].as_str().expect("user id").to_owned(),
            tokens,
        }
    }

    pub async fn upload(&self, token: &str, filename: &str, bytes: Vec<u8>) -> Response {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(filename.to_owned()));
        self.upload_form(token, form).await
    }

    pub async fn upload_form(&self, token: &str, form: Form) -> Response {
        self.client
            .post(self.url("/docs/upload"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload sent")
    }

    /// Uploads a sample and returns its metadata, asserting 201.
    pub async fn upload_sample(&self, token: &str, name: &str) -> Value {
        let bytes = std::fs::read(samples_dir().join("accepted").join(name)).expect("sample readable");
        let response = self.upload(token, name, bytes).await;
        assert_eq!(response.status(), StatusCode::CREATED, "upload of {name}");
        response.json().await.expect("upload body")
    }

    /// Reads every audit entry written so far, oldest first, across rotated files.
    pub async fn audit_entries(&self) -> Vec<Value> {
        let path = self.audit_path();
        let mut files: Vec<PathBuf> = Vec::new();
        for index in (1..=1000).rev() {
            let rotated = PathBuf::from(format!("{}.{index}", path.display()));
            if rotated.exists() {
                files.push(rotated);
            }
        }
        files.push(path);
        let mut entries = Vec::new();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            for line in text.lines() {
                entries.push(serde_json::from_str(line).expect("audit line is JSON"));
            }
        }
        entries
    }

    /// Files currently in the document store and the upload folder.
    pub fn stored_files(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for folder in ["documents", "tmp"] {
            if let Ok(entries) = std::fs::read_dir(self.data_dir().join(folder)) {
                files.extend(entries.flatten().map(|entry| entry.path()).filter(|path| !path.ends_with(".health-probe")));
            }
        }
        files
    }
}

/// Asserts the problem+json shape and code, returning the body.
pub async fn assert_problem(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json", "content type");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16(), "status member");
    assert_eq!(body["code"], code, "code member");
    assert!(body["title"].is_string(), "title member");
    assert!(body["detail"].is_string(), "detail member");
    body
}
