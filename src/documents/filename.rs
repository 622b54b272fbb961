//! Cleans client-supplied file names and builds `Content-Disposition` headers.
//!
//! A client's file name is metadata only: it is shown back to users and offered
//! as the download name, but never used as a path or to decide a document's kind.

/// Maximum length of a sanitized name in bytes, which is `NAME_MAX` on Linux
/// file systems such as ext4.
const MAX_FILENAME_BYTES: usize = 255;

/// Maximum length in bytes of an extension, including its dot, that truncation keeps intact.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// Name used when nothing usable is left of the client's name.
const FALLBACK_FILENAME: &str = "document";

/// Reduces a client-supplied file name to a safe display name.
///
/// Keeps the last path component after both `/` and `\`, removes control,
/// invisible and bidirectional formatting characters, trims whitespace and
/// dots at both ends, and limits the result to 255 bytes. Returns `document`
/// when nothing is left.
pub fn sanitize_filename(raw: &str) -> String {
    let last_component = raw.rsplit(['/', '\\']).next().unwrap_or(raw);

    let cleaned: String = last_component
        .chars()
        .filter(|&c| !is_hidden_character(c))
        .collect();
    let trimmed = trim_name(&cleaned);

    // Trimming already empties `.` and `..`, but the check states the intent.
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        return FALLBACK_FILENAME.to_string();
    }

    let capped = truncate_keeping_extension(trimmed, MAX_FILENAME_BYTES);
    let capped = trim_name(&capped);
    if capped.is_empty() {
        return FALLBACK_FILENAME.to_string();
    }
    capped.to_string()
}

/// Default_Ignorable_Code_Point ranges of Unicode 16.0.0, copied from the
/// table that regex-syntax 0.8.12 generates from DerivedCoreProperties.txt.
/// Renderers show these code points as nothing.
const DEFAULT_IGNORABLE_RANGES: [(char, char); 17] = [
    ('\u{00AD}', '\u{00AD}'),
    ('\u{034F}', '\u{034F}'),
    ('\u{061C}', '\u{061C}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{17B4}', '\u{17B5}'),
    ('\u{180B}', '\u{180F}'),
    ('\u{200B}', '\u{200F}'),
    ('\u{202A}', '\u{202E}'),
    ('\u{2060}', '\u{206F}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FE00}', '\u{FE0F}'),
    ('\u{FEFF}', '\u{FEFF}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{FFF0}', '\u{FFF8}'),
    ('\u{1BCA0}', '\u{1BCA3}'),
    ('\u{1D173}', '\u{1D17A}'),
    ('\u{E0000}', '\u{E0FFF}'),
];

/// Returns whether `c` is a control character (Unicode category Cc), a line or
/// paragraph separator (U+2028, U+2029) or a default-ignorable code point.
///
/// The default-ignorable code points include zero-width spaces and joiners,
/// the direction marks U+200E, U+200F and U+061C, bidirectional embeddings,
/// overrides and isolates, U+FEFF and U+180E. An override can make
/// `evil\u{202E}fdp.exe` display as `evilexe.pdf`, and invisible characters
/// can make two different names look the same.
///
/// NOTE: Removing U+200C and U+200D changes how some Persian and Indic names
/// and emoji sequences render, and removing variation selectors can change
/// how emoji look. The names stay readable.
fn is_hidden_character(c: char) -> bool {
    c.is_control()
        || c == '\u{2028}'
        || c == '\u{2029}'
        || DEFAULT_IGNORABLE_RANGES
            .iter()
            .any(|&(first, last)| (first..=last).contains(&c))
}

fn trim_name(name: &str) -> &str {
    name.trim_matches(|c: char| c.is_whitespace() || c == '.')
}

/// Cuts `name` to at most `max_bytes` on a character boundary, keeping a short
/// extension so the download still opens with the right program.
fn truncate_keeping_extension(name: &str, max_bytes: usize) -> String {
    if name.len() <= max_bytes {
        return name.to_string();
    }

    if let Some(dot) = name.rfind('.') {
        let (stem, extension) = name.split_at(dot);
        if !stem.is_empty() && extension.len() <= MAX_KEPT_EXTENSION_BYTES {
            let stem = truncate_on_char_boundary(stem, max_bytes - extension.len());
            return format!("{stem}{extension}");
        }
    }
    truncate_on_char_boundary(name, max_bytes).to_string()
}

fn truncate_on_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Builds a `Content-Disposition` header value that offers `filename` as a download.
///
/// The `filename` parameter carries an ASCII fallback in which every non-ASCII
/// character, control character, `"` and `\` becomes `_`. The `filename*`
/// parameter carries the exact name, UTF-8 percent-encoded as RFC 5987 and
/// RFC 6266 define, which current browsers prefer. The result is always
/// printable ASCII, so any input is safe in a header. Pass the output of
/// [`sanitize_filename`] to also strip paths.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '_',
        })
        .collect();

    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode_rfc5987(filename)
    )
}

/// Percent-encodes every byte outside the RFC 5987 `attr-char` set, which is
/// ALPHA, DIGIT and ``!#$&+-.^_`|~``.
///
/// Written by hand rather than with a crate because the rule fits in one line.
fn percent_encode_rfc5987(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";

    let mut encoded = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        let is_attr_char = byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte);
        if is_attr_char {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_paths() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\x\\y.pdf"), "y.pdf");
        assert_eq!(sanitize_filename("/var/tmp/..\\../quote.pdf"), "quote.pdf");
        assert_eq!(sanitize_filename("dir/"), "document");
        assert_eq!(sanitize_filename("invoice.pdf"), "invoice.pdf");
    }

    #[test]
    fn sanitize_drops_control_characters() {
        assert_eq!(sanitize_filename("inv\u{0}oice\r\n.pdf"), "invoice.pdf");
        assert_eq!(sanitize_filename("a\u{7F}b\u{85}c.txt"), "abc.txt");
        assert_eq!(sanitize_filename("\tquote.pdf\n"), "quote.pdf");
    }

    #[test]
    fn sanitize_drops_bidi_overrides() {
        assert_eq!(sanitize_filename("evil\u{202E}fdp.exe"), "evilfdp.exe");
        assert_eq!(
            sanitize_filename("\u{2066}a\u{2067}b\u{2068}c\u{2069}\u{202A}.pdf"),
            "abc.pdf"
        );
    }

    #[test]
    fn sanitize_drops_invisible_characters() {
        let invisible = [
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{2028}',
            '\u{2029}',
            '\u{061C}',
            '\u{FEFF}',
            '\u{180E}',
            '\u{00AD}',
            '\u{2060}',
            '\u{2064}',
            '\u{3164}',
            '\u{FE0F}',
            '\u{E0041}',
            '\u{E007F}',
        ];
        for c in invisible {
            let raw = format!("in{c}voice.{c}pdf");
            assert_eq!(
                sanitize_filename(&raw),
                "invoice.pdf",
                "U+{:04X}",
                u32::from(c)
            );
        }

        assert_eq!(sanitize_filename("\u{FEFF}report.pdf"), "report.pdf");
        assert_eq!(sanitize_filename("report.pdf\u{200B} "), "report.pdf");
        assert_eq!(sanitize_filename("\u{200B}\u{2060}\u{FEFF}"), "document");
        // Visible spaces and letters next to the removed ranges stay.
        assert_eq!(
            sanitize_filename("a\u{00A0}b\u{2010}c.pdf"),
            "a\u{00A0}b\u{2010}c.pdf"
        );
    }

    #[test]
    fn sanitize_only_dots_falls_back() {
        for raw in [".", "..", "...", " . . ", "", "   ", "\u{0}", "/", "a/.."] {
            assert_eq!(sanitize_filename(raw), "document", "{raw:?}");
        }
        assert_eq!(sanitize_filename(".bashrc"), "bashrc");
        assert_eq!(sanitize_filename("report.pdf. "), "report.pdf");
    }

    #[test]
    fn sanitize_caps_long_names() {
        let long = format!("{}.pdf", "a".repeat(300));
        let capped = sanitize_filename(&long);
        assert_eq!(capped.len(), 255);
        assert!(capped.ends_with(".pdf"), "{capped}");

        let no_extension = "b".repeat(300);
        assert_eq!(sanitize_filename(&no_extension), "b".repeat(255));

        // An over-long "extension" is not worth keeping.
        let long_extension = format!("a.{}", "x".repeat(300));
        let capped = sanitize_filename(&long_extension);
        assert_eq!(capped.len(), 255);
        assert!(capped.starts_with("a.x"), "{capped}");
    }

    #[test]
    fn sanitize_caps_on_char_boundary() {
        // `ä` is 2 bytes, so 254 bytes of stem cannot be reached exactly.
        let long = format!("{}.pdf", "ä".repeat(200));
        let capped = sanitize_filename(&long);
        assert!(capped.len() <= 255, "{}", capped.len());
        assert_eq!(capped, format!("{}.pdf", "ä".repeat(125)));

        let emoji = "📄".repeat(100);
        let capped = sanitize_filename(&emoji);
        assert_eq!(capped, "📄".repeat(63));
    }

    #[test]
    fn sanitize_keeps_non_ascii() {
        assert_eq!(
            sanitize_filename("Angebot Größe №5.pdf"),
            "Angebot Größe №5.pdf"
        );
        assert_eq!(sanitize_filename("請求書.pdf"), "請求書.pdf");
    }

    #[test]
    fn content_disposition_ascii() {
        assert_eq!(
            content_disposition("invoice-88213.pdf"),
            "attachment; filename=\"invoice-88213.pdf\"; filename*=UTF-8''invoice-88213.pdf"
        );
        assert_eq!(
            content_disposition("q 1 (final).pdf"),
            "attachment; filename=\"q 1 (final).pdf\"; filename*=UTF-8''q%201%20%28final%29.pdf"
        );
    }

    #[test]
    fn content_disposition_escapes_specials() {
        assert_eq!(
            content_disposition("a\"b\\c;d%e.pdf"),
            "attachment; filename=\"a_b_c;d%e.pdf\"; filename*=UTF-8''a%22b%5Cc%3Bd%25e.pdf"
        );
        assert_eq!(
            content_disposition("x\r\nSet-Cookie: y"),
            "attachment; filename=\"x__Set-Cookie: y\"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y"
        );
        assert_eq!(
            content_disposition("!#$&+-.^_`|~"),
            "attachment; filename=\"!#$&+-.^_`|~\"; filename*=UTF-8''!#$&+-.^_`|~"
        );
    }

    #[test]
    fn content_disposition_non_ascii() {
        assert_eq!(
            content_disposition("Größe €.pdf"),
            "attachment; filename=\"Gr__e _.pdf\"; filename*=UTF-8''Gr%C3%B6%C3%9Fe%20%E2%82%AC.pdf"
        );
        assert_eq!(
            content_disposition("請求書.pdf"),
            "attachment; filename=\"___.pdf\"; filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.pdf"
        );
    }

    #[test]
    fn content_disposition_is_printable_ascii() {
        let header = content_disposition("\u{0}\u{7F}\u{202E}é\"\\\n");
        assert!(
            header.bytes().all(|b| (b' '..=b'~').contains(&b)),
            "{header}"
        );
    }
}
