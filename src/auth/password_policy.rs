//! Password rules for account creation and password changes.
//!
//! The rules are a length range, a check against well-known breached passwords
//! and a check against the account's email address. Composition rules such as
//! "one digit and one symbol" are left out on purpose, because they push users
//! toward predictable patterns.

use std::collections::HashSet;
use std::sync::OnceLock;

/// Minimum password length in characters (Unicode scalar values).
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Maximum password length in characters, which bounds the cost of hashing.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Shortest email local part that is checked for, so that a short one such as
/// `a` in `a@example.com` does not reject most passwords.
const MIN_CHECKED_LOCAL_PART_CHARS: usize = 3;

/// One lowercase password per line. Lines starting with `#` are comments.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Returns one user-facing message per rule that `password` breaks, or an
/// empty list when it is acceptable. `email` is the account's email address.
pub fn password_problems(password: &str, email: &str) -> Vec<String> {
    let mut problems = Vec::new();

    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        problems.push(format!(
            "Password must be at least {MIN_PASSWORD_CHARS} characters long."
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        problems.push(format!(
            "Password must be at most {MAX_PASSWORD_CHARS} characters long."
        ));
    }

    let lowercase = password.to_lowercase();
    if common_passwords().contains(lowercase.as_str()) {
        problems.push("Password is too common. Choose one that is harder to guess.".to_string());
    }

    if contains_email_local_part(&lowercase, email) {
        problems.push(
            "Password must not contain the part of your email address before the @.".to_string(),
        );
    }

    problems
}

fn contains_email_local_part(lowercase_password: &str, email: &str) -> bool {
    // The local part ends at the last `@`, because a quoted local part may
    // itself contain `@`. Without any `@` the whole value is compared.
    let local_part = email
        .rsplit_once('@')
        .map_or(email, |(local, _domain)| local);
    let local_part = local_part.trim().to_lowercase();

    local_part.chars().count() >= MIN_CHECKED_LOCAL_PART_CHARS
        && lowercase_password.contains(&local_part)
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "buyer@example.com";

    #[test]
    fn strong_password_accepted() {
        assert!(password_problems("correct mule staple 42", EMAIL).is_empty());
        assert!(password_problems("Lieferschein-Prüfung-7", EMAIL).is_empty());
    }

    #[test]
    fn length_counts_characters() {
        let too_short = password_problems("kx7#Qp2!", EMAIL);
        assert_eq!(
            too_short,
            vec!["Password must be at least 12 characters long."]
        );

        // 12 characters but 24 bytes.
        assert!(password_problems("äöüßäöüßäöüß", EMAIL).is_empty());

        let max = "x9".repeat(64);
        assert!(password_problems(&max, EMAIL).is_empty());

        let too_long = format!("{max}y");
        assert_eq!(
            password_problems(&too_long, EMAIL),
            vec!["Password must be at most 128 characters long."]
        );
    }

    #[test]
    fn common_passwords_rejected() {
        let message = "Password is too common. Choose one that is harder to guess.";
        for password in [
            "password1234",
            "123456789012",
            "qwertyuiop123",
            "PassWordPassWord",
            "Administrator",
        ] {
            assert_eq!(
                password_problems(password, EMAIL),
                vec![message],
                "{password}"
            );
        }

        let short_and_common = password_problems("letmein", EMAIL);
        assert_eq!(short_and_common.len(), 2, "{short_and_common:?}");
        assert!(short_and_common.contains(&message.to_string()));
    }

    #[test]
    fn email_local_part_rejected() {
        let message = "Password must not contain the part of your email address before the @.";
        assert_eq!(
            password_problems("my-BUYER-account-9", EMAIL),
            vec![message]
        );
        assert_eq!(
            password_problems("xx\"a@b\"yy-long-pass", "\"a@b\"@example.com"),
            vec![message]
        );
        assert!(password_problems("example.com-rocks", EMAIL).is_empty());
    }

    #[test]
    fn short_local_part_ignored() {
        assert!(password_problems("tab-armchair-ox", "ox@example.com").is_empty());
        assert!(password_problems("tab-armchair-ox", "").is_empty());
    }

    #[test]
    fn several_problems_reported() {
        let problems = password_problems("buyer", EMAIL);
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn common_password_list_well_formed() {
        let entries: Vec<&str> = COMMON_PASSWORDS
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect();
        assert!(entries.len() >= 300, "only {} entries", entries.len());

        let long_entries = entries
            .iter()
            .filter(|e| e.chars().count() >= MIN_PASSWORD_CHARS)
            .count();
        assert!(
            long_entries >= 300,
            "only {long_entries} entries of 12 or more characters"
        );

        for entry in &entries {
            assert!(!entry.is_empty(), "blank line in list");
            assert_eq!(*entry, entry.trim(), "surrounding whitespace in {entry:?}");
            assert_eq!(*entry, entry.to_lowercase(), "{entry:?} is not lowercase");
        }

        let unique: HashSet<&str> = entries.iter().copied().collect();
        assert_eq!(unique.len(), entries.len(), "duplicate entries in list");
    }
}
