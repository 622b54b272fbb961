//! `kraftd verify`: checks a running deployment the way an operator would
//! with curl, one line per check, so a missing header or a CORS rule that
//! lets the wrong origin in shows up before an auditor finds it.

use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Client, Method, StatusCode};

/// An origin that no deployment should allow, used for the negative checks.
const FOREIGN_ORIGIN: &str = "https://kraftd-verify.invalid";

/// Headers every response must carry, with the exact value where the
/// contract fixes one (`None` means any value).
const SECURITY_HEADERS: [(&str, Option<&str>); 9] = [
    ("x-content-type-options", Some("nosniff")),
    ("x-frame-options", Some("DENY")),
    ("x-xss-protection", None),
    ("strict-transport-security", Some("max-age=31536000; includeSubDomains")),
    ("content-security-policy", None),
    ("cache-control", Some("no-store, no-cache, must-revalidate, max-age=0")),
    ("pragma", Some("no-cache")),
    ("referrer-policy", Some("no-referrer")),
    ("x-request-id", None),
];

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    pub name: &'static str,
    pub problem: Option<String>,
}

impl CheckResult {
    fn new(name: &'static str, problems: Vec<String>) -> Self {
        Self {
            name,
            problem: (!problems.is_empty()).then(|| problems.join("; ")),
        }
    }

    pub fn passed(&self) -> bool {
        self.problem.is_none()
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn security_header_problems(headers: &HeaderMap) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, expected) in SECURITY_HEADERS {
        match (header(headers, name), expected) {
            (None, _) => problems.push(format!("{name} missing")),
            (Some(value), Some(expected)) if value != expected => {
                problems.push(format!("{name} is {value:?}, expected {expected:?}"));
            }
            _ => {}
        }
    }
    if let Some(csp) = header(headers, "content-security-policy") {
        if !csp.contains("default-src 'self'") && !csp.contains("default-src 'none'") {
            problems.push(format!("content-security-policy {csp:?} sets no restrictive default-src"));
        }
    }
    for name in ["server", "x-powered-by"] {
        if let Some(value) = header(headers, name) {
            problems.push(format!("{name} is sent ({value:?})"));
        }
    }
    problems
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(HeaderName::as_str)
        .filter(|name| name.starts_with("access-control-"))
        .map(str::to_owned)
        .collect()
}

async fn send(client: &Client, method: Method, url: &str, headers: &[(&str, &str)]) -> Result<reqwest::Response, String> {
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.map_err(|err| format!("request to {url} failed: {}", error_chain(&err)))
}

/// Joins an error and its causes, because reqwest's own message leaves out
/// the one an operator needs (connection refused, DNS failure, TLS).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Checks that `url` is an absolute http or https URL, so a typo is
/// reported once instead of as six failed checks.
pub fn parse_base_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|err| format!("--url {url:?} is not a URL: {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("--url {url:?} must be an http:// or https:// URL with a host"));
    }
    Ok(parsed)
}

fn shown(value: Option<&str>) -> String {
    value.map_or_else(|| "missing".to_owned(), |value| format!("{value:?}"))
}

/// Runs every check against `base_url` (the server root, without `/api/v1`).
pub async fn run_checks(base_url: &str, origin: &str) -> Vec<CheckResult> {
    let base = base_url.trim_end_matches('/');
    let client = match Client::builder().redirect(reqwest::redirect::Policy::none()).build() {
        Ok(client) => client,
        Err(err) => return vec![CheckResult::new("client", vec![format!("cannot build HTTP client: {err}")])],
    };
    let health_url = format!("{base}/api/v1/health");
    let login_url = format!("{base}/api/v1/auth/login");
    let missing_url = format!("{base}/api/v1/kraftd-verify-missing");

    let mut results = Vec::new();

    let health = send(&client, Method::GET, &health_url, &[("x-request-id", "kraftd-verify-1")]).await;
    results.push(match &health {
        Err(err) => CheckResult::new("health", vec![err.clone()]),
        Ok(response) if response.status() != StatusCode::OK => {
            CheckResult::new("health", vec![format!("status {}, expected 200", response.status())])
        }
        Ok(_) => CheckResult::new("health", Vec::new()),
    });
    results.push(match &health {
        Err(err) => CheckResult::new("security-headers-success", vec![err.clone()]),
        Ok(response) => {
            let mut problems = security_header_problems(response.headers());
            if !response.status().is_success() {
                problems.push(format!("health answered {}, so no success response was checked", response.status()));
            }
            CheckResult::new("security-headers-success", problems)
        }
    });
    results.push(match &health {
        Err(err) => CheckResult::new("request-id-echoed", vec![err.clone()]),
        Ok(response) => match header(response.headers(), "x-request-id") {
            Some("kraftd-verify-1") => CheckResult::new("request-id-echoed", Vec::new()),
            other => CheckResult::new("request-id-echoed", vec![format!("x-request-id is {}, expected the one sent", shown(other))]),
        },
    });

    let missing = send(&client, Method::GET, &missing_url, &[]).await;
    results.push(match &missing {
        Err(err) => CheckResult::new("security-headers-error", vec![err.clone()]),
        Ok(response) => {
            let mut problems = security_header_problems(response.headers());
            if response.status() != StatusCode::NOT_FOUND {
                problems.push(format!("unknown route answered {}, expected 404", response.status()));
            }
            if header(response.headers(), "content-type") != Some("application/problem+json") {
                problems.push("error is not application/problem+json".into());
            }
            CheckResult::new("security-headers-error", problems)
        }
    });

    let preflight_headers = [("origin", origin), ("access-control-request-method", "POST"), ("access-control-request-headers", "content-type")];
    let preflight = send(&client, Method::OPTIONS, &login_url, &preflight_headers).await;
    results.push(match &preflight {
        Err(err) => CheckResult::new("cors-preflight-allowed", vec![err.clone()]),
        Ok(response) => CheckResult::new("cors-preflight-allowed", allowed_preflight_problems(response, origin)),
    });

    let foreign_headers = [("origin", FOREIGN_ORIGIN), ("access-control-request-method", "POST")];
    let foreign_preflight = send(&client, Method::OPTIONS, &login_url, &foreign_headers).await;
    let foreign_get = send(&client, Method::GET, &health_url, &[("origin", FOREIGN_ORIGIN)]).await;
    let mut problems = Vec::new();
    for (label, result) in [("preflight", &foreign_preflight), ("GET", &foreign_get)] {
        match result {
            Err(err) => problems.push(err.clone()),
            Ok(response) => {
                let leaked = cors_headers(response.headers());
                if !leaked.is_empty() {
                    problems.push(format!("{label} from {FOREIGN_ORIGIN} got {}", leaked.join(", ")));
                }
            }
        }
    }
    results.push(CheckResult::new("cors-foreign-origin-refused", problems));
    results
}

fn allowed_preflight_problems(response: &reqwest::Response, origin: &str) -> Vec<String> {
    let headers = response.headers();
    let mut problems = Vec::new();
    if !matches!(response.status(), StatusCode::OK | StatusCode::NO_CONTENT) {
        problems.push(format!("status {}, expected 200 or 204", response.status()));
    }
    if header(headers, "access-control-allow-origin") != Some(origin) {
        problems.push(format!(
            "access-control-allow-origin is {}, expected {origin:?} (is the origin in ALLOWED_ORIGINS?)",
            shown(header(headers, "access-control-allow-origin"))
        ));
    }
    if header(headers, "access-control-allow-credentials") != Some("true") {
        problems.push("access-control-allow-credentials is not \"true\"".into());
    }
    let methods = header(headers, "access-control-allow-methods").unwrap_or("").to_ascii_uppercase();
    for method in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
        if !methods.contains(method) {
            problems.push(format!("access-control-allow-methods lacks {method}"));
        }
    }
    if header(headers, "access-control-max-age") != Some("3600") {
        problems.push("access-control-max-age is not 3600".into());
    }
    problems.extend(security_header_problems(headers));
    problems
}

/// Prints one line per check and returns whether all passed; a URL that
/// cannot be used is an error before any check runs.
pub async fn verify_command(url: &str, origin: &str) -> Result<bool, String> {
    parse_base_url(url)?;
    let results = run_checks(url, origin).await;
    for result in &results {
        match &result.problem {
            None => println!("PASS {}", result.name),
            Some(problem) => println!("FAIL {}: {problem}", result.name),
        }
    }
    let failed = results.iter().filter(|result| !result.passed()).count();
    println!("{} passed, {failed} failed", results.len() - failed);
    Ok(failed == 0)
}
