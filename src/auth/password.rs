//! Password hashing with argon2id at the OWASP minimum (19 MiB memory,
//! 2 iterations, parallelism 1), run on the blocking pool so a login never
//! stalls the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};


const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

fn hasher() -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = hasher()
        .map_err(|err| anyhow::anyhow!("argon2 parameters rejected: {err}"))?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|err| anyhow::anyhow!("argon2 hashing failed: {err}"))?;
    Ok(hash.to_string())
}

/// Checks a password against a PHC string; a hash that cannot be parsed
/// counts as a mismatch.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(argon2) = hasher() else {
        return false;
    };
    argon2.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// Hashes a random password. Logins naming an unknown email are verified
/// against it, so that failure takes as long as a wrong password.
pub fn dummy_hash() -> anyhow::Result<String> {
    hash_password(&super::tokens::random_id())
}
