//! Issuing and checking JWTs. The algorithm is pinned by the key the `kid`
//! names, so a token cannot pick its own (`alg: none`, or HS256 signed with
//! a public key, are refused before any signature check).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::keys::KeyRing;
use crate::config::Config;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims kraftd puts in every token. `sid` names the login (the
/// refresh family) so logout can end every token of that login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    #[serde(rename = "type")]
    pub token_type: TokenType,
    pub iss: String,
    pub aud: String,
    pub sid: String,
}

/// Reason a presented token was rejected. The text goes to the audit log,
/// never the token itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed")]
    Malformed,
    #[error("unknown_kid")]
    UnknownKey,
    #[error("retired_key")]
    RetiredKey,
    #[error("algorithm_mismatch")]
    AlgorithmMismatch,
    #[error("bad_signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("not_yet_valid")]
    NotYetValid,
    #[error("wrong_issuer")]
    WrongIssuer,
    #[error("wrong_audience")]
    WrongAudience,
    #[error("wrong_type")]
    WrongType,
    #[error("missing_claim")]
    MissingClaim,
    #[error("revoked")]
    Revoked,
    #[error("unknown_user")]
    UnknownUser,
    #[error("no_signing_key")]
    NoSigningKey,
}

/// Issues and verifies tokens with the key ring and the configured
/// issuer, audience and lifetimes.
#[derive(Clone)]
pub struct TokenService {
    keys: KeyRing,
    issuer: String,
    audience: String,
    access_ttl_seconds: i64,
    refresh_ttl_seconds: i64,
}

/// Random identifier with 256 bits of entropy, URL-safe base64.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenService {
    pub fn new(keys: KeyRing, config: &Config) -> Self {
        Self {
            keys,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            access_ttl_seconds: i64::try_from(config.access_token_ttl.as_secs()).unwrap_or(i64::MAX),
            refresh_ttl_seconds: i64::try_from(config.refresh_token_ttl.as_secs()).unwrap_or(i64::MAX),
        }
    }

    pub fn key_ring(&self) -> &KeyRing {
        &self.keys
    }

    pub fn access_ttl_seconds(&self) -> i64 {
        self.access_ttl_seconds
    }

    /// Signs a new token of `token_type` for `user_id` in login `sid`.
    pub fn issue(&self, user_id: &str, sid: &str, token_type: TokenType, now: OffsetDateTime) -> Result<(String, Claims), TokenError> {
        let ttl = match token_type {
            TokenType::Access => self.access_ttl_seconds,
            TokenType::Refresh => self.refresh_ttl_seconds,
        };
        let issued_at = now.unix_timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            exp: issued_at.saturating_add(ttl),
            iat: issued_at,
            nbf: issued_at,
            jti: random_id(),
            token_type,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sid: sid.to_owned(),
        };
        let keys = self.keys.keys();
        let key = keys.active().ok_or(TokenError::NoSigningKey)?;
        let encoding = key.encoding.as_ref().ok_or(TokenError::NoSigningKey)?;
        let mut header = Header::new(key.algorithm);
        header.kid = Some(key.kid.clone());
        let token = encode(&header, &claims, encoding).map_err(|_| TokenError::NoSigningKey)?;
        Ok((token, claims))
    }

    /// Checks signature, `kid`, `alg`, `iss`, `aud`, `exp`, `nbf` and `type`.
    /// Revocation needs the database and is checked by the caller.
    pub fn verify(&self, token: &str, expected: TokenType, now: OffsetDateTime) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let keys = self.keys.keys();
        let key = keys.find(&kid).ok_or(TokenError::UnknownKey)?;
        if !key.may_verify(now) {
            return Err(TokenError::RetiredKey);
        }
        if header.alg != key.algorithm {
            return Err(TokenError::AlgorithmMismatch);
        }

        let mut validation = Validation::new(key.algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub", "iss", "aud"]);

        let data = decode::<Claims>(token, &key.decoding, &validation).map_err(|err| match err.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::InvalidAudience => TokenError::WrongAudience,
            ErrorKind::InvalidAlgorithm => TokenError::AlgorithmMismatch,
            ErrorKind::MissingRequiredClaim(_) => TokenError::MissingClaim,
            _ => TokenError::Malformed,
        })?;
        let claims = data.claims;
        // Only our own key can sign a future `iat`, but such a token would
        // outlive "log out everywhere", so it is refused all the same.
        if claims.iat > now.unix_timestamp() + LEEWAY_SECONDS as i64 {
            return Err(TokenError::NotYetValid);
        }
        if claims.token_type != expected {
            return Err(TokenError::WrongType);
        }
        Ok(claims)
    }
}
