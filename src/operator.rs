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
use crate::secrets::{build_report, load_manifest, Format, Manifest, SigningKeySecret};
use crate::store::{SqliteStore, Store};
use crate::timefmt::format_rfc3339;

fn keyring_path(config: &Config, action: &KeysAction) -> anyhow::Result<std::path::PathBuf> {
    if config.jwt_secret.is_some() {
        match action {
            KeysAction::EmergencyRotate => bail!(
                "JWT_SECRET is set, so tokens are signed with that secret, not the key ring. After a leak, set a new JWT_SECRET, leave JWT_SECRET_PREVIOUS unset, and restart every instance"
            ),
            _ => bail!(
                "JWT_SECRET is set, so tokens are signed with that secret, not the key ring. To rotate it, move the current value to JWT_SECRET_PREVIOUS, set a new JWT_SECRET, and restart"
            ),
        }
    }
    keyring_file(config)
}

/// Path of the key ring, which must exist: the commands run with the
/// server's environment, so a missing file means the wrong folder.
fn keyring_file(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    let path = config.keys_dir().join("keyring.json");
    if !path.exists() {
        bail!(
            "no key ring at {}: run the command with the server's environment (KRAFTD_DATA_DIR, or its working folder), or start `kraftd serve` once to create it",
            path.display()
        );
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
    .map_err(anyhow::Error::from)
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
    let path = keyring_path(&config, &action)?;
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

    let manifest = manifest
        .map(|path| load_manifest(&path, today))
        .transpose()
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    let keys = signing_key_rows(&config, manifest.as_ref())?;
    let report = build_report(&keys, key_rotation_days, manifest.as_ref(), today);
    print!("{}", report.render(format));
    Ok(if report.any_overdue() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Builds the report row of the active signing key. An HS256 secret lives
/// outside kraftd, so unless the manifest declares it (location
/// `env JWT_SECRET`) its row has no rotation date and reports overdue: a
/// signing secret must never drop out of the report unnoticed.
fn signing_key_rows(config: &Config, manifest: Option<&Manifest>) -> anyhow::Result<Vec<SigningKeySecret>> {
    if config.jwt_secret.is_some() {
        let declared = manifest.is_some_and(|manifest| {
            manifest.secrets.iter().any(|secret| secret.location.trim() == "env JWT_SECRET")
        });
        if declared {
            return Ok(Vec::new());
        }
        return Ok(vec![SigningKeySecret {
            name: "jwt signing secret (declare it in the manifest)".into(),
            location: "env JWT_SECRET".into(),
            last_rotated: None,
        }]);
    }
    let path = keyring_file(config)?;
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
