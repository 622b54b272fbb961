//! Email masking for audit entries, so that the log identifies a user without storing
//! the full address.

/// Placeholder for an empty email value.
pub const UNKNOWN_EMAIL: &str = "[UNKNOWN]";

/// Placeholder for a value that is not an email address.
pub const INVALID_EMAIL: &str = "[INVALID_EMAIL]";

/// Masks the local part of an email address and keeps the domain.
///
/// The first and last characters of the local part stay and every character between
/// becomes `*` (`jane.doe@example.com` becomes `j******e@example.com`). A local part of
/// one or two characters keeps its first character followed by a single `*`, so
/// `a@x.test` and `ab@x.test` both become `a*@x.test`.
///
/// Returns [`UNKNOWN_EMAIL`] for an empty value and [`INVALID_EMAIL`] for a value
/// without exactly one `@` or with an empty local part. The domain is not checked, so
/// `a@` becomes `a*@`. Characters are Unicode scalar values, not bytes, so non-ASCII
/// input is masked per character. Control characters are kept as they are, because the
/// JSON encoder escapes them when the entry is written.
pub fn mask_email(email: &str) -> String {
    if email.is_empty() {
        return UNKNOWN_EMAIL.to_string();
    }

    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return INVALID_EMAIL.to_string();
    };

    let chars: Vec<char> = local.chars().collect();
    let (Some(&first), Some(&last)) = (chars.first(), chars.last()) else {
        return INVALID_EMAIL.to_string();
    };

    let mut masked = String::with_capacity(email.len());
    masked.push(first);
    if chars.len() <= 2 {
        masked.push('*');
    } else {
        masked.extend(std::iter::repeat_n('*', chars.len() - 2));
        masked.push(last);
    }
    masked.push('@');
    masked.push_str(domain);
    masked
}
