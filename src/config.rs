//! Settings read from the environment (and an optional `.env` file), checked
//! once at start-up so that a bad value stops the server with the variable's
//! name instead of failing later inside a request.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

/// Minimum HS256 secret length in bytes: 256 bits, the output size of
/// SHA-256, so the key is no weaker than the MAC.
const MIN_JWT_SECRET_BYTES: usize = 32;

/// A configuration value that was missing its floor or could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self {
            variable,
            message: message.into(),
        }
    }
}

/// A secret string that never prints in `Debug` or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// Every setting of the server, with the names and defaults of the API
/// contract's configuration table.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`KRAFTD_ADDR`).
    pub addr: SocketAddr,
    /// Folder for the database, stored documents and signing keys (`KRAFTD_DATA_DIR`).
    pub data_dir: PathBuf,
    /// `sqlite://…` URL of the database (`DATABASE_URL`).
    pub database_url: String,
    /// Exact origins allowed by CORS (`ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// Audit log file (`AUDIT_LOG_PATH`).
    pub audit_log_path: PathBuf,
    /// Size in bytes at which the audit log rotates (`AUDIT_LOG_MAX_BYTES`).
    pub audit_log_max_bytes: u64,
    /// Rotated audit files kept (`AUDIT_LOG_BACKUPS`).
    pub audit_log_backups: u32,
    /// Whether each audit batch is flushed to disk with fdatasync (`AUDIT_LOG_FSYNC`).
    pub audit_log_fsync: bool,
    /// Body limit in bytes outside uploads (`MAX_REQUEST_BYTES`).
    pub max_request_bytes: usize,
    /// Upload limit in bytes for the file part (`MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    /// Access token lifetime (`ACCESS_TOKEN_EXPIRE_MINUTES`).
    pub access_token_ttl: Duration,
    /// Refresh token lifetime (`REFRESH_TOKEN_EXPIRE_DAYS`).
    pub refresh_token_ttl: Duration,
    /// `iss` of issued tokens, required on presented ones (`JWT_ISSUER`).
    pub jwt_issuer: String,
    /// `aud` of issued tokens, required on presented ones (`JWT_AUDIENCE`).
    pub jwt_audience: String,
    /// HS256 secret; when unset, an Ed25519 key ring in the data folder signs (`JWT_SECRET`).
    pub jwt_secret: Option<Secret>,
    /// Earlier HS256 secret still accepted for verification (`JWT_SECRET_PREVIOUS`).
    pub jwt_secret_previous: Option<Secret>,
    /// Peers whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: Vec<IpNet>,
    /// Failed logins allowed per account and per client address in the window (`LOGIN_MAX_FAILURES`).
    pub login_max_failures: u32,
    /// Window over which failed logins are counted (`LOGIN_WINDOW_SECONDS`).
    pub login_window: Duration,
    /// Password hashes computed at once, each needing 19 MiB (`PASSWORD_HASH_CONCURRENCY`).
    pub password_hash_concurrency: usize,
    /// Value of the `X-XSS-Protection` header (`X_XSS_PROTECTION`).
    pub xss_protection: String,
    /// Maximum time a client may take to send its request headers (`HEADER_READ_TIMEOUT_SECONDS`).
    pub header_read_timeout: Duration,
    /// Maximum time a request may take outside uploads, body included (`REQUEST_TIMEOUT_SECONDS`).
    pub request_timeout: Duration,
    /// Maximum time an upload request may take, so a 50 MiB file on a slow link still finishes (`UPLOAD_TIMEOUT_SECONDS`).
    pub upload_timeout: Duration,
    /// Time between passes that delete expired revocation records (`PRUNE_INTERVAL_SECONDS`).
    pub prune_interval: Duration,
    /// Maximum time in-flight requests get to finish after a shutdown signal (`SHUTDOWN_GRACE_SECONDS`).
    pub shutdown_grace: Duration,
}

impl Config {
    /// Reads the configuration from the process environment, after loading
    /// `.env` from the working directory when there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        match dotenvy::dotenv() {
            Ok(_) => {}
            Err(err) if err.not_found() => {}
            Err(err) => return Err(ConfigError::new(".env", err.to_string())),
        }
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars)
    }

    /// Builds the configuration from a map of variables, so tests can start
    /// servers with settings of their own without touching the process
    /// environment.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };

        let data_dir = PathBuf::from(get("KRAFTD_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/kraftd.db", data_dir.display()));
        if !database_url.starts_with("sqlite:") {
            return Err(ConfigError::new(
                "DATABASE_URL",
                "only sqlite:// URLs are supported by this build",
            ));
        }

        let allowed_origins = parse_origins(
            &get("ALLOWED_ORIGINS").unwrap_or_else(|| "http://localhost:3000".into()),
        )?;

        let jwt_secret = parse_secret(get("JWT_SECRET"), "JWT_SECRET")?;
        let jwt_secret_previous = parse_secret(get("JWT_SECRET_PREVIOUS"), "JWT_SECRET_PREVIOUS")?;
        if jwt_secret_previous.is_some() && jwt_secret.is_none() {
            return Err(ConfigError::new(
                "JWT_SECRET_PREVIOUS",
                "is set without JWT_SECRET; set the current secret too, or unset both to use the Ed25519 key ring",
            ));
        }

        let trusted_proxies = match get("TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => parse_proxies(&list)?,
        };

        let access_minutes: u64 = parse_in_range(get("ACCESS_TOKEN_EXPIRE_MINUTES"), "ACCESS_TOKEN_EXPIRE_MINUTES", 15, 1, 24 * 60)?;
        let refresh_days: u64 = parse_in_range(get("REFRESH_TOKEN_EXPIRE_DAYS"), "REFRESH_TOKEN_EXPIRE_DAYS", 7, 1, 365)?;
        let max_request_bytes: u64 = parse_in_range(get("MAX_REQUEST_BYTES"), "MAX_REQUEST_BYTES", 10 * 1024 * 1024, 1024, 1 << 30)?;

        Ok(Self {
            addr: parse_value(get("KRAFTD_ADDR"), "KRAFTD_ADDR", "127.0.0.1:8000".parse().ok(), "an IP address and port such as 127.0.0.1:8000 (host names are not resolved)")?,
            data_dir,
            database_url,
            allowed_origins,
            audit_log_path: PathBuf::from(get("AUDIT_LOG_PATH").unwrap_or_else(|| "logs/audit.log".into())),
            audit_log_max_bytes: parse_in_range(get("AUDIT_LOG_MAX_BYTES"), "AUDIT_LOG_MAX_BYTES", 10 * 1024 * 1024, 1024, u64::MAX)?,
            audit_log_backups: parse_in_range(get("AUDIT_LOG_BACKUPS"), "AUDIT_LOG_BACKUPS", 10, 0, 100_000)? as u32,
            audit_log_fsync: parse_value(get("AUDIT_LOG_FSYNC"), "AUDIT_LOG_FSYNC", Some(false), "true or false")?,
            max_request_bytes: usize::try_from(max_request_bytes)
                .map_err(|_| ConfigError::new("MAX_REQUEST_BYTES", "is too large for this platform"))?,
            max_upload_bytes: parse_in_range(get("MAX_UPLOAD_BYTES"), "MAX_UPLOAD_BYTES", 50 * 1024 * 1024, 1, 1 << 40)?,
            access_token_ttl: Duration::from_secs(access_minutes * 60),
            refresh_token_ttl: Duration::from_secs(refresh_days * 24 * 3600),
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "kraftd".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "kraftd-api".into()),
            jwt_secret,
            jwt_secret_previous,
            trusted_proxies,
            login_max_failures: parse_in_range(get("LOGIN_MAX_FAILURES"), "LOGIN_MAX_FAILURES", 5, 1, 1000)? as u32,
            login_window: Duration::from_secs(parse_in_range(get("LOGIN_WINDOW_SECONDS"), "LOGIN_WINDOW_SECONDS", 900, 1, 7 * 24 * 3600)?),
            xss_protection: parse_xss_protection(get("X_XSS_PROTECTION"))?,
            password_hash_concurrency: parse_in_range(get("PASSWORD_HASH_CONCURRENCY"), "PASSWORD_HASH_CONCURRENCY", default_hash_concurrency(), 1, 256)? as usize,
            header_read_timeout: Duration::from_secs(parse_in_range(get("HEADER_READ_TIMEOUT_SECONDS"), "HEADER_READ_TIMEOUT_SECONDS", 10, 1, 600)?),
            request_timeout: Duration::from_secs(parse_in_range(get("REQUEST_TIMEOUT_SECONDS"), "REQUEST_TIMEOUT_SECONDS", 30, 1, 3600)?),
            upload_timeout: Duration::from_secs(parse_in_range(get("UPLOAD_TIMEOUT_SECONDS"), "UPLOAD_TIMEOUT_SECONDS", 900, 1, 24 * 3600)?),
            prune_interval: Duration::from_secs(parse_in_range(get("PRUNE_INTERVAL_SECONDS"), "PRUNE_INTERVAL_SECONDS", 600, 1, 86_400)?),
            shutdown_grace: Duration::from_secs(parse_in_range(get("SHUTDOWN_GRACE_SECONDS"), "SHUTDOWN_GRACE_SECONDS", 30, 0, 3600)?),
        })
    }

    /// Folder holding stored documents, named by document id.
    pub fn documents_dir(&self) -> PathBuf {
        self.data_dir.join("documents")
    }

    /// Folder holding uploads that are still being received and checked.
    pub fn uploads_tmp_dir(&self) -> PathBuf {
        self.data_dir.join("tmp")
    }

    /// Folder holding the Ed25519 signing key ring.
    pub fn keys_dir(&self) -> PathBuf {
        self.data_dir.join("keys")
    }
}

fn parse_value<T: FromStr>(raw: Option<String>, variable: &'static str, default: Option<T>, expected: &str) -> Result<T, ConfigError> {
    match raw {
        None => default.ok_or_else(|| ConfigError::new(variable, format!("is required: set it to {expected}"))),
        Some(text) => text
            .parse()
            .map_err(|_| ConfigError::new(variable, format!("{text:?} is invalid: expected {expected}"))),
    }
}

fn parse_in_range(raw: Option<String>, variable: &'static str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    let value: u64 = parse_value(raw, variable, Some(default), &format!("a whole number from {min} to {max}, such as {default}"))?;
    if value < min || value > max {
        return Err(ConfigError::new(
            variable,
            format!("{value} is outside the allowed range {min} to {max}"),
        ));
    }
    Ok(value)
}

/// Returns the number of cores: one argon2 computation per core keeps every
/// core busy without queuing memory-hungry work behind it.
fn default_hash_concurrency() -> u64 {
    std::thread::available_parallelism().map_or(2, |cores| cores.get() as u64)
}

fn parse_secret(raw: Option<String>, variable: &'static str) -> Result<Option<Secret>, ConfigError> {
    match raw {
        None => Ok(None),
        Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => Err(ConfigError::new(
            variable,
            format!("must be at least {MIN_JWT_SECRET_BYTES} bytes long; generate one with `openssl rand -base64 48`"),
        )),
        Some(secret) => Ok(Some(Secret::new(secret))),
    }
}

fn parse_xss_protection(raw: Option<String>) -> Result<String, ConfigError> {
    let value = raw.unwrap_or_else(|| "1; mode=block".into());
    match value.as_str() {
        "0" | "1" | "1; mode=block" => Ok(value),
        _ => Err(ConfigError::new(
            "X_XSS_PROTECTION",
            format!("{value:?} is not one of \"0\", \"1\" or \"1; mode=block\""),
        )),
    }
}

/// Parses the CORS allowlist. Each entry must be a bare origin
/// (`scheme://host[:port]`), because the browser sends exactly that and
/// matching is by string equality.
pub fn parse_origins(list: &str) -> Result<Vec<String>, ConfigError> {
    let mut origins = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        if entry == "*" {
            return Err(ConfigError::new(
                "ALLOWED_ORIGINS",
                "\"*\" cannot be combined with credentials; list each origin explicitly",
            ));
        }
        let origin = normalize_origin(entry).ok_or_else(|| {
            ConfigError::new(
                "ALLOWED_ORIGINS",
                format!("{entry:?} is not an origin of the form scheme://host[:port]"),
            )
        })?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    if origins.is_empty() {
        return Err(ConfigError::new("ALLOWED_ORIGINS", "lists no origin"));
    }
    Ok(origins)
}

fn normalize_origin(entry: &str) -> Option<String> {
    let (scheme, rest) = entry.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if authority.is_empty() || !authority.chars().all(valid_char) {
        return None;
    }
    let uri: axum::http::Uri = format!("{scheme}://{authority}").parse().ok()?;
    let host = uri.host()?.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

fn parse_proxies(list: &str) -> Result<Vec<IpNet>, ConfigError> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| ConfigError::new("TRUSTED_PROXIES", format!("{entry:?} is not an IP address or CIDR")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_match_contract() {
        let config = Config::from_vars(&HashMap::new()).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8000");
        assert_eq!(config.database_url, "sqlite://./data/kraftd.db");
        assert_eq!(config.allowed_origins, vec!["http://localhost:3000"]);
        assert_eq!(config.max_upload_bytes, 52_428_800);
        assert_eq!(config.max_request_bytes, 10_485_760);
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
    }

    #[test]
    fn wildcard_origin_rejected() {
        let err = Config::from_vars(&vars(&[("ALLOWED_ORIGINS", "https://a.test,*")])).unwrap_err();
        assert_eq!(err.variable, "ALLOWED_ORIGINS");
    }

    #[test]
    fn origin_with_path_rejected() {
        assert!(parse_origins("https://a.test/app").is_err());
        assert!(parse_origins("a.test").is_err());
        assert!(parse_origins("ftp://a.test").is_err());
    }

    #[test]
    fn origins_normalized() {
        let origins = parse_origins("HTTPS://App.Example.com/, http://localhost:3000").unwrap();
        assert_eq!(origins, vec!["https://app.example.com", "http://localhost:3000"]);
    }

    #[test]
    fn short_secret_rejected() {
        let err = Config::from_vars(&vars(&[("JWT_SECRET", "short")])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn unparsable_number_names_variable() {
        let err = Config::from_vars(&vars(&[("MAX_UPLOAD_BYTES", "lots")])).unwrap_err();
        assert_eq!(err.variable, "MAX_UPLOAD_BYTES");
        assert!(err.to_string().contains("MAX_UPLOAD_BYTES"));
    }

    #[test]
    fn trusted_proxies_parse() {
        let config = Config::from_vars(&vars(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")])).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(Config::from_vars(&vars(&[("TRUSTED_PROXIES", "nope")])).is_err());
    }
}
