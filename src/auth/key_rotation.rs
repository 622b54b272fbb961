//! Operator actions on the Ed25519 key ring: list, rotate with a grace
//! period, and emergency rotation. They rewrite the key ring file, which
//! running servers reload on their next token check.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use time::OffsetDateTime;

use super::keys::{generate_key, read_keyring, write_keyring, KeyState, StoredKey};

/// Changes made by a rotation, for the command's output and the audit entry.
#[derive(Debug, Clone)]
pub struct RotationOutcome {
    pub new_kid: String,
    pub previous_kids: Vec<String>,
    pub verify_until: Option<OffsetDateTime>,
}

/// Makes a new key active; the old active key keeps verifying until
/// `now + grace` so tokens it signed stay valid until then.
pub fn rotate(path: &Path, grace: Duration, now: OffsetDateTime) -> anyhow::Result<RotationOutcome> {
    let mut ring = read_keyring(path)?;
    let until = now + time::Duration::try_from(grace).context("grace period is too long")?;
    let mut previous = Vec::new();
    for key in &mut ring.keys {
        if key.state == KeyState::Active {
            key.state = KeyState::Verifying;
            key.verify_until = Some(until);
            previous.push(key.kid.clone());
        }
    }
    retire_expired(&mut ring.keys, now);
    let key = generate_key(now)?;
    let new_kid = key.kid.clone();
    ring.keys.push(key);
    write_keyring(path, &ring)?;
    Ok(RotationOutcome {
        new_kid,
        previous_kids: previous,
        verify_until: Some(until),
    })
}

/// Makes a new key active and retires every other key at once, so every
/// token signed before is refused. The caller also revokes every refresh
/// token in the database.
pub fn emergency_rotate(path: &Path, now: OffsetDateTime) -> anyhow::Result<RotationOutcome> {
    let mut ring = read_keyring(path)?;
    let mut previous = Vec::new();
    for key in &mut ring.keys {
        if key.state != KeyState::Retired {
            previous.push(key.kid.clone());
        }
        key.state = KeyState::Retired;
        key.verify_until = None;
    }
    let key = generate_key(now)?;
    let new_kid = key.kid.clone();
    ring.keys.push(key);
    write_keyring(path, &ring)?;
    Ok(RotationOutcome {
        new_kid,
        previous_kids: previous,
        verify_until: None,
    })
}

/// Marks keys whose grace period ended as retired, so the file shows the
/// truth to an operator reading it.
fn retire_expired(keys: &mut [StoredKey], now: OffsetDateTime) {
    for key in keys {
        if key.state == KeyState::Verifying && key.verify_until.is_some_and(|until| until <= now) {
            key.state = KeyState::Retired;
        }
    }
}

/// Parses a grace period such as `24h`, `90m`, `7d` or `3600s`.
pub fn parse_grace(text: &str) -> anyhow::Result<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let Ok(value) = number.parse::<u64>() else {
        bail!("grace {text:?} must be a whole number followed by s, m, h or d, such as 24h");
    };
    let seconds = match unit {
        "s" | "" => value,
        "m" => value.saturating_mul(60),
        "h" => value.saturating_mul(3600),
        "d" => value.saturating_mul(86_400),
        _ => bail!("grace {text:?} has an unknown unit {unit:?}; use s, m, h or d"),
    };
    if seconds > 365 * 86_400 {
        bail!("grace {text:?} is longer than a year");
    }
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_units() {
        assert_eq!(parse_grace("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_grace("90m").unwrap(), Duration::from_secs(5_400));
        assert_eq!(parse_grace("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(parse_grace("15").unwrap(), Duration::from_secs(15));
        assert!(parse_grace("h").is_err());
        assert!(parse_grace("3w").is_err());
        assert!(parse_grace("400d").is_err());
    }
}
