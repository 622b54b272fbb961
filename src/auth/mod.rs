//! Accounts and tokens: password hashing and policy, the signing key ring,
//! JWT issue and check, and login throttling.

pub mod key_rotation;
pub mod keys;
pub mod password;
pub mod password_policy;
pub mod throttle;
pub mod tokens;
