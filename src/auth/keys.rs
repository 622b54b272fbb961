//! The signing key ring. With `JWT_SECRET` set, tokens are HS256 under that
//! secret (and `JWT_SECRET_PREVIOUS` still verifies). Otherwise an Ed25519
//! key ring kept in `<data dir>/keys/keyring.json` (mode 0600) signs with
//! EdDSA; the operator rotates it with `kraftd keys …` while servers run,
//! and each server reloads the file when it changes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use anyhow::{anyhow, Context};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::config::{Config, Secret};

const KEYRING_FILE: &str = "keyring.json";

/// Life-cycle state of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Signs new tokens and verifies.
    Active,
    /// Verifies until `verify_until`, signs nothing.
    Verifying,
    /// Verifies nothing; kept only as a record.
    Retired,
}

/// One key as stored in the key ring file.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoredKey {
    pub kid: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub state: KeyState,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub verify_until: Option<OffsetDateTime>,
    /// PKCS#8 v2 document of the Ed25519 private key, base64.
    pub private_key_pkcs8: String,
}

#[derive(Clone, Serialize, Deserialize, Default)]
pub struct StoredKeyRing {
    pub keys: Vec<StoredKey>,
}

/// A key ready for signing or verifying.
pub struct LoadedKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub created_at: Option<OffsetDateTime>,
    pub state: KeyState,
    pub verify_until: Option<OffsetDateTime>,
    pub encoding: Option<EncodingKey>,
    pub decoding: DecodingKey,
    /// Raw Ed25519 public key, base64url, for the JWKS `x` member.
    pub public_x: Option<String>,
}

impl LoadedKey {
    /// Returns whether a token carrying this key's `kid` may be accepted at `now`.
    pub fn may_verify(&self, now: OffsetDateTime) -> bool {
        match self.state {
            KeyState::Active => true,
            // No end time means "until the operator removes it", which is how
            // a previous HS256 secret behaves.
            KeyState::Verifying => self.verify_until.is_none_or(|until| now < until),
            KeyState::Retired => false,
        }
    }
}

/// The keys in force at one moment.
pub struct KeySet {
    pub keys: Vec<LoadedKey>,
}

impl KeySet {
    pub fn active(&self) -> Option<&LoadedKey> {
        self.keys.iter().find(|key| key.state == KeyState::Active)
    }

    pub fn find(&self, kid: &str) -> Option<&LoadedKey> {
        self.keys.iter().find(|key| key.kid == kid)
    }
}

/// Fingerprint of the file the key set was loaded from, to notice changes.
#[derive(PartialEq, Eq, Clone, Copy)]
struct FileStamp {
    modified: SystemTime,
    len: u64,
    /// Rotation replaces the file by rename, so a new inode is the surest
    /// sign of change even when the clock's granularity hides the mtime.
    inode: u64,
}

enum Source {
    Secrets,
    File { path: PathBuf, stamp: RwLock<Option<FileStamp>> },
}

/// Shared handle on the key ring; cheap to clone.
#[derive(Clone)]
pub struct KeyRing {
    current: Arc<RwLock<Arc<KeySet>>>,
    source: Arc<Source>,
}

impl KeyRing {
    /// Loads the key ring the configuration selects, creating the Ed25519
    /// ring with one active key on first start.
    pub fn open(config: &Config) -> anyhow::Result<Self> {
        if let Some(secret) = &config.jwt_secret {
            let mut keys = vec![hmac_key(secret, KeyState::Active)];
            if let Some(previous) = &config.jwt_secret_previous {
                keys.push(hmac_key(previous, KeyState::Verifying));
            }
            return Ok(Self {
                current: Arc::new(RwLock::new(Arc::new(KeySet { keys }))),
                source: Arc::new(Source::Secrets),
            });
        }

        let path = config.keys_dir().join(KEYRING_FILE);
        if !path.exists() {
            let mut ring = StoredKeyRing::default();
            ring.keys.push(generate_key(OffsetDateTime::now_utc())?);
            write_keyring(&path, &ring)?;
            tracing::info!(path = %path.display(), "created Ed25519 signing key ring");
        }
        let (set, stamp) = load_file(&path)?;
        Ok(Self {
            current: Arc::new(RwLock::new(Arc::new(set))),
            source: Arc::new(Source::File { path, stamp: RwLock::new(Some(stamp)) }),
        })
    }

    /// Returns the keys in force, reloading them first when the key ring file changed.
    /// A file that cannot be read keeps the last good set in force and is
    /// logged, so a half-written edit never locks every user out.
    pub fn keys(&self) -> Arc<KeySet> {
        if let Source::File { path, stamp } = self.source.as_ref() {
            let on_disk = file_stamp(path).ok();
            let known = stamp.read().ok().and_then(|guard| *guard);
            if on_disk.is_some() && on_disk != known {
                match load_file(path) {
                    Ok((set, new_stamp)) => {
                        if let Ok(mut guard) = self.current.write() {
                            *guard = Arc::new(set);
                        }
                        if let Ok(mut guard) = stamp.write() {
                            *guard = Some(new_stamp);
                        }
                        tracing::info!(path = %path.display(), "reloaded signing key ring");
                    }
                    Err(err) => tracing::error!(error = %format!("{err:#}"), "cannot reload signing key ring; keeping the previous keys"),
                }
            }
        }
        match self.current.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Returns whether keys come from the Ed25519 ring file, which kraftd can rotate.
    pub fn is_managed(&self) -> bool {
        matches!(self.source.as_ref(), Source::File { .. })
    }
}

/// Derives a `kid` for an HS256 secret from its SHA-256, so a token names
/// the secret that signed it without revealing it.
fn hmac_key(secret: &Secret, state: KeyState) -> LoadedKey {
    let digest = Sha256::digest(format!("kraftd-kid:{}", secret.expose()).as_bytes());
    LoadedKey {
        kid: format!("hs256-{}", &hex::encode(digest)[..16]),
        algorithm: Algorithm::HS256,
        created_at: None,
        state,
        verify_until: None,
        encoding: (state == KeyState::Active).then(|| EncodingKey::from_secret(secret.expose().as_bytes())),
        decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
        public_x: None,
    }
}

/// Generates a new active Ed25519 key.
pub fn generate_key(now: OffsetDateTime) -> anyhow::Result<StoredKey> {
    let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
        .map_err(|_| anyhow!("the system random generator failed"))?;
    let mut kid_bytes = [0u8; 8];
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut kid_bytes)
        .map_err(|_| anyhow!("the system random generator failed"))?;
    Ok(StoredKey {
        kid: format!("ed-{}", hex::encode(kid_bytes)),
        created_at: now,
        state: KeyState::Active,
        verify_until: None,
        private_key_pkcs8: STANDARD.encode(document.as_ref()),
    })
}

fn file_stamp(path: &Path) -> std::io::Result<FileStamp> {
    let metadata = fs::metadata(path)?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(FileStamp {
        modified: metadata.modified()?,
        len: metadata.len(),
        inode,
    })
}

/// Reads the key ring file as stored, for the `keys` commands.
pub fn read_keyring(path: &Path) -> anyhow::Result<StoredKeyRing> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read key ring {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("key ring {} is not valid", path.display()))
}

fn load_file(path: &Path) -> anyhow::Result<(KeySet, FileStamp)> {
    let stamp = file_stamp(path).with_context(|| format!("cannot read key ring {}", path.display()))?;
    let stored = read_keyring(path)?;
    let mut keys = Vec::with_capacity(stored.keys.len());
    for key in &stored.keys {
        let pkcs8 = STANDARD
            .decode(&key.private_key_pkcs8)
            .with_context(|| format!("key {} is not valid base64", key.kid))?;
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| anyhow!("key {} is not an Ed25519 PKCS#8 key", key.kid))?;
        let public = pair.public_key().as_ref().to_vec();
        keys.push(LoadedKey {
            kid: key.kid.clone(),
            algorithm: Algorithm::EdDSA,
            created_at: Some(key.created_at),
            state: key.state,
            verify_until: key.verify_until,
            encoding: (key.state == KeyState::Active).then(|| EncodingKey::from_ed_der(&pkcs8)),
            decoding: DecodingKey::from_ed_der(&public),
            public_x: Some(URL_SAFE_NO_PAD.encode(&public)),
        });
    }
    if keys.iter().filter(|key| key.state == KeyState::Active).count() != 1 {
        return Err(anyhow!("key ring {} must hold exactly one active key", path.display()));
    }
    Ok((KeySet { keys }, stamp))
}

/// Writes the key ring atomically (temporary file, fsync, rename) with mode
/// 0600, so a running server never reads a half-written file.
pub fn write_keyring(path: &Path, ring: &StoredKeyRing) -> anyhow::Result<()> {
    let folder = path.parent().ok_or_else(|| anyhow!("key ring path has no folder"))?;
    fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    let tmp = folder.join(format!(".{KEYRING_FILE}.{}.tmp", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(ring)?)?;
    file.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
