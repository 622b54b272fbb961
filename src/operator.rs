//! Operator commands other than `serve`: key rotation and the secrets
//! report. They run beside a live server, which notices key ring changes
//! on its next token check.

use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{bail, Context};
use serde_json::json;
use time::OffsetDateTime;

use crate::audit::{AuditConfig, AuditEvent, AuditLog, AuditStatus};
use crate::auth::key_rotation::{emergency_rotate, parse_grace, rotate, RotationOutcome};
use crate::auth::keys::{read_keyring, KeyState};
use crate::cli::{KeysAction, SecretsAction};
use crate::config::Config;
use crate::secrets::{build_report, load_manifest, Format, SigningKeySecret};
use crate::store::{SqliteStore, Store};
use crate::timefmt::format_rfc3339;

fn keyring_path(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    if config.jwt_secret.is_some() {
        bail!("JWT_SECRET is set, so tokens are signed with that secret, not the key ring; rotate it by moving the current value to JWT_SECRET_PREVIOUS and setting a new JWT_SECRET");
    }
    let path = config.keys_dir().join("keyring.json");
    if !path.exists() {
        bail!("no key ring at {}; start `kraftd serve` once to create it", path.display());
    }
    Ok(path)
}

async fn open_audit(config: &Config) -> anyhow::Result<AuditLog> {
    AuditLog::open(AuditConfig {
        path: config.audit_log_path.clone(),
        max_bytes: config.audit_log_max_bytes,
        backups: config.audit_log_backups,
        fsync: true,
    })
    .await
    .with_context(|| format!("cannot open the audit log {}", config.audit_log_path.display()))
}

async fn audit_rotation(config: &Config, event_type: &'static str, outcome: &RotationOutcome) -> anyhow::Result<()> {
    let audit = open_audit(config).await?;
    let event = AuditEvent::new(event_type, AuditStatus::Success)
        .anonymous()
        .resource("signing_key", &outcome.new_kid)
        .details(json!({
            "new_kid": outcome.new_kid,
            "previous_kids": outcome.previous_kids,
            "verify_until": outcome.verify_until.map(format_rfc3339),
            "actor": "cli",
        }))
        .request("cli", "local");
    audit.record(event).await.context("cannot write the audit entry")?;
    audit.shutdown().await;
    Ok(())
}

pub async fn keys_command(action: KeysAction) -> anyhow::Result<ExitCode> {
    let config = Config::from_env()?;
    let path = keyring_path(&config)?;
    let now = OffsetDateTime::now_utc();
    match action {
        KeysAction::List => {
            let ring = read_keyring(&path)?;
            println!("{:<20} {:<10} {:<28} {:<28}", "KID", "STATE", "CREATED", "VERIFIES UNTIL");
            for key in &ring.keys {
                let state = match key.state {
                    KeyState::Verifying if key.verify_until.is_some_and(|until| until <= now) => "expired",
                    KeyState::Active => "active",
                    KeyState::Verifying => "verifying",
                    KeyState::Retired => "retired",
                };
                let until = key.verify_until.map(format_rfc3339).unwrap_or_else(|| "-".into());
                println!("{:<20} {:<10} {:<28} {:<28}", key.kid, state, format_rfc3339(key.created_at), until);
            }
        }
        KeysAction::Rotate { grace } => {
            let grace = parse_grace(&grace)?;
            let outcome = rotate(&path, grace, now)?;
            audit_rotation(&config, "KEY_ROTATION", &outcome).await?;
            println!(
                "new active key {}; previous key verifies until {}",
                outcome.new_kid,
                outcome.verify_until.map(format_rfc3339).unwrap_or_default()
            );
        }
        KeysAction::EmergencyRotate => {
            let outcome = emergency_rotate(&path, now)?;
            let store = SqliteStore::connect(&config.database_url).await.context("cannot open the database")?;
            let revoked = store.revoke_all_logins(now.unix_timestamp()).await?;
            audit_rotation(&config, "KEY_EMERGENCY_ROTATION", &outcome).await?;
            println!(
                "new active key {}; retired {} key(s); revoked {revoked} login(s): every user must log in again",
                outcome.new_kid,
                outcome.previous_kids.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn secrets_command(action: SecretsAction) -> anyhow::Result<ExitCode> {
    let SecretsAction::Status { manifest, format, key_rotation_days } = action;
    let config = Config::from_env()?;
    let format = Format::from_str(&format).map_err(|err| anyhow::anyhow!("{err}"))?;
    let today = OffsetDateTime::now_utc().date();

    let keys = signing_key_rows(&config)?;
    let manifest = manifest
        .map(|path| load_manifest(&path, today))
        .transpose()
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let report = build_report(&keys, key_rotation_days, manifest.as_ref(), today);
    print!("{}", report.render(format));
    Ok(if report.any_overdue() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Builds the report row of the active signing key. An HS256 secret lives outside
/// kraftd, so its age is unknown unless the manifest declares it.
fn signing_key_rows(config: &Config) -> anyhow::Result<Vec<SigningKeySecret>> {
    if config.jwt_secret.is_some() {
        return Ok(Vec::new());
    }
    let path = config.keys_dir().join("keyring.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let ring = read_keyring(&path)?;
    Ok(ring
        .keys
        .iter()
        .filter(|key| key.state == KeyState::Active)
        .map(|key| SigningKeySecret {
            name: format!("jwt signing key {}", key.kid),
            location: path.display().to_string(),
            last_rotated: Some(key.created_at),
        })
        .collect())
}

/// Verifies the audit log chain and prints the outcome.
pub fn audit_verify_command(path: Option<std::path::PathBuf>) -> anyhow::Result<ExitCode> {
    let path = match path {
        Some(path) => path,
        None => Config::from_env()?.audit_log_path,
    };
    let report = crate::audit::verify_chain(&path).map_err(|err| anyhow::anyhow!("{err}"))?;
    println!("{report}");
    Ok(if report.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
