//! Validation of text uploads and the choice between CSV and plain text.

use std::io::{self, Read};

use super::{unsupported, DocumentKind, SniffError};

/// Number of leading non-empty records inspected to decide between CSV and text.
pub(super) const CSV_SAMPLE_RECORDS: usize = 20;

/// Length of the longest pattern that `find_active_content` matches, `javascript:`.
const MAX_PATTERN_LEN: usize = 11;

/// Validates `reader` as UTF-8 text in chunks of `chunk_size` bytes and
/// classifies it as CSV or plain text.
pub(super) fn sniff_text(
    mut reader: impl Read,
    chunk_size: usize,
) -> Result<DocumentKind, SniffError> {
    // A UTF-8 sequence is at most 4 bytes, so at most 3 bytes of an incomplete
    // sequence are carried over to the front of the next chunk.
    let mut buf = vec![0u8; chunk_size + 3];
    let mut carried = 0;
    let mut scanner = TextScanner::new();

    loop {
        let read = match reader.read(&mut buf[carried..carried + chunk_size]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SniffError::Io(e)),
        };
        if read == 0 {
            if carried > 0 {
                return Err(unsupported(
                    "text is not valid UTF-8 (truncated sequence at end)",
                ));
            }
            return scanner.finish();
        }

        let filled = carried + read;
        let valid_len = match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => filled,
            // `error_len() == None` means the input ends inside a sequence that
            // the next chunk may complete.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return Err(unsupported("text is not valid UTF-8")),
        };
        let text = std::str::from_utf8(&buf[..valid_len])
            .map_err(|_| unsupported("text is not valid UTF-8"))?;
        scanner.feed(text)?;

        buf.copy_within(valid_len..filled, 0);
        carried = filled - valid_len;
    }
}

/// Progress of the check that text does not start with markup or a shebang.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LeadingState {
    /// At the start of the file, where a byte order mark may appear.
    FileStart,
    /// Only whitespace seen so far.
    Whitespace,
    /// The first non-whitespace character was `#`.
    Hash,
    /// The first non-whitespace character was `<`.
    LessThan,
    /// The start of the content has been checked.
    Checked,
}

/// Incremental checks over text that arrives in chunks.
struct TextScanner {
    leading: LeadingState,
    has_content: bool,
    /// Lowercased last bytes of the previous chunk, so a pattern that straddles
    /// two chunks is still found.
    pattern_tail: Vec<u8>,
    pattern_window: Vec<u8>,
    csv: [CsvProbe; 3],
}

impl TextScanner {
    fn new() -> Self {
        TextScanner {
            leading: LeadingState::FileStart,
            has_content: false,
            pattern_tail: Vec::with_capacity(MAX_PATTERN_LEN),
            pattern_window: Vec::new(),
            csv: [
                CsvProbe::new(b','),
                CsvProbe::new(b';'),
                CsvProbe::new(b'\t'),
            ],
        }
    }

    fn feed(&mut self, text: &str) -> Result<(), SniffError> {
        let mut text = text;
        // The first chunk can be empty when the file starts with a sequence
        // split across reads, so the byte order mark is looked for in the
        // first non-empty one.
        if self.leading == LeadingState::FileStart && !text.is_empty() {
            text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
            self.leading = LeadingState::Whitespace;
        }

        check_control_characters(text.as_bytes())?;

        if self.leading != LeadingState::Checked {
            for c in text.chars() {
                self.check_leading(c)?;
                if self.leading == LeadingState::Checked {
                    break;
                }
            }
        }

        self.scan_for_active_content(text.as_bytes())?;

        // The probes run on bytes because every character they react to is
        // ASCII, and UTF-8 never uses ASCII byte values inside other characters.
        for probe in &mut self.csv {
            probe.feed(text.as_bytes());
        }
        Ok(())
    }

    fn check_leading(&mut self, c: char) -> Result<(), SniffError> {
        match self.leading {
            LeadingState::FileStart | LeadingState::Whitespace => {
                if c.is_whitespace() {
                    return Ok(());
                }
                self.has_content = true;
                self.leading = match c {
                    '#' => LeadingState::Hash,
                    '<' => LeadingState::LessThan,
                    _ => LeadingState::Checked,
                };
            }
            LeadingState::Hash => {
                if c == '!' {
                    return Err(unsupported("text starts with `#!` (script)"));
                }
                self.leading = LeadingState::Checked;
            }
            LeadingState::LessThan => {
                if starts_markup_document(c) {
                    return Err(unsupported("text starts with HTML, SVG or XML markup"));
                }
                self.leading = LeadingState::Checked;
            }
            LeadingState::Checked => {}
        }
        Ok(())
    }

    fn scan_for_active_content(&mut self, bytes: &[u8]) -> Result<(), SniffError> {
        self.pattern_window.clear();
        self.pattern_window.extend_from_slice(&self.pattern_tail);
        self.pattern_window
            .extend(bytes.iter().map(u8::to_ascii_lowercase));

        let window = &self.pattern_window;
        if let Some(reason) = find_active_content(window) {
            return Err(unsupported(reason));
        }

        // A pattern that fit entirely in the tail was already searched for, so
        // keeping one byte less than the longest pattern is enough.
        let keep = window.len().min(MAX_PATTERN_LEN - 1);
        self.pattern_tail.clear();
        self.pattern_tail
            .extend_from_slice(&window[window.len() - keep..]);
        Ok(())
    }

    fn finish(mut self) -> Result<DocumentKind, SniffError> {
        if !self.has_content {
            return Err(SniffError::Empty);
        }
        let is_csv = self.csv.iter_mut().any(|probe| probe.finish());
        Ok(if is_csv {
            DocumentKind::Csv
        } else {
            DocumentKind::Text
        })
    }
}

/// Returns whether `c`, following a `<` that is the first non-whitespace
/// character of the text, makes the text a markup document.
///
/// This is wider than the tag rule of `find_active_content` because an XML
/// root element may also start with `_`, `:` or a non-ASCII character. Every
/// character from U+00C0 up counts, a superset of the non-ASCII
/// NameStartChar ranges of XML 1.0 (fifth edition).
fn starts_markup_document(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '_' | ':' | '/' | '?' | '!' | '%') || c >= '\u{C0}'
}

/// Returns the reason to reject `window`, which must be ASCII-lowercased, if
/// it contains a tag, a `<?`, `<%` or `<!` block, or `javascript:`.
///
/// A tag is `<` or `</` followed by an ASCII letter, which is where the HTML
/// tokenizer starts a tag name. The tokenizer then takes every character up to
/// whitespace, `/` or `>` into the name, so a narrower name pattern would miss
/// `<x€ autofocus tabindex=1 onfocus=alert(1)>`. `<?`, `<%` and `<!` start
/// PHP, ASP and JSP code, XML processing instructions, comments and doctypes.
///
/// NOTE: text such as `<DN50 pipe` or `if a<b, then` is rejected too, because
/// it is indistinguishable from a tag. Comparisons with a space, a digit or
/// `=` after the `<` (`qty < 5`, `a<5`, `<= 2 weeks`) pass.
///
/// A `<` or `</` at the end of `window` is not reported, because the next
/// chunk decides whether it starts a tag.
fn find_active_content(window: &[u8]) -> Option<&'static str> {
    for (i, &byte) in window.iter().enumerate() {
        let reason = match byte {
            b'<' => classify_after_less_than(&window[i + 1..]),
            b'j' if window[i..].starts_with(b"javascript:") => Some("text contains `javascript:`"),
            _ => None,
        };
        if reason.is_some() {
            return reason;
        }
    }
    None
}

/// Returns the reason to reject the text when `rest` follows a `<`.
fn classify_after_less_than(rest: &[u8]) -> Option<&'static str> {
    match rest {
        [b'?', ..] => Some("text contains `<?` (PHP code or XML processing instruction)"),
        [b'%', ..] => Some("text contains `<%` (ASP or JSP code)"),
        [b'!', ..] => Some("text contains `<!` (doctype, comment or CDATA section)"),
        [b'/', letter, ..] if letter.is_ascii_alphabetic() => {
            Some("text contains an HTML or XML end tag")
        }
        [letter, ..] if letter.is_ascii_alphabetic() => Some("text contains an HTML or XML tag"),
        _ => None,
    }
}

/// Rejects control characters (Unicode category Cc) other than tab, line feed,
/// carriage return and form feed. Form feed is kept because plain-text reports
/// use it as a page break.
///
/// Works on bytes for speed. `text` is valid UTF-8, so C0 controls and DEL are
/// single bytes, and the C1 controls U+0080 to U+009F are `C2 80` to `C2 9F`.
fn check_control_characters(text: &[u8]) -> Result<(), SniffError> {
    for (i, &byte) in text.iter().enumerate() {
        let is_control = match byte {
            0 => return Err(unsupported("text contains a NUL byte")),
            b'\t' | b'\n' | b'\r' | 0x0C => false,
            0x01..=0x1F | 0x7F => true,
            0xC2 => matches!(text.get(i + 1), Some(0x80..=0x9F)),
            _ => false,
        };
        if is_control {
            return Err(unsupported("text contains a control character"));
        }
    }
    Ok(())
}

/// Position inside the current field of a CSV record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field, which either escapes the next `"` or ends the field.
    QuoteInQuoted,
}

/// Counts fields per record for one candidate delimiter, following RFC 4180
/// quoting: a field that starts with `"` may contain delimiters, line breaks
/// and doubled quotes. A `"` in the middle of an unquoted field, such as an
/// inch mark, is taken literally.
struct CsvProbe {
    delimiter: u8,
    state: CsvState,
    fields_in_record: usize,
    record_has_content: bool,
    /// Field count of the first non-empty record.
    expected_fields: Option<usize>,
    records: usize,
    /// Set when the sample is complete or a record has a different field count.
    stopped: bool,
    mismatch: bool,
}

impl CsvProbe {
    fn new(delimiter: u8) -> Self {
        CsvProbe {
            delimiter,
            state: CsvState::FieldStart,
            fields_in_record: 1,
            record_has_content: false,
            expected_fields: None,
            records: 0,
            stopped: false,
            mismatch: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if self.stopped {
                return;
            }
            self.feed_byte(byte);
        }
    }

    fn feed_byte(&mut self, byte: u8) {
        if !byte.is_ascii_whitespace() {
            self.record_has_content = true;
        }
        let is_delimiter = byte == self.delimiter;
        self.state = match (self.state, byte) {
            (CsvState::Quoted, b'"') => CsvState::QuoteInQuoted,
            (CsvState::Quoted, _) => CsvState::Quoted,
            (CsvState::QuoteInQuoted, b'"') => CsvState::Quoted,
            (CsvState::FieldStart, b'"') => CsvState::Quoted,
            (_, b'\n') => {
                self.end_record();
                CsvState::FieldStart
            }
            (_, _) if is_delimiter => {
                self.fields_in_record += 1;
                CsvState::FieldStart
            }
            (CsvState::FieldStart | CsvState::QuoteInQuoted, b'\r') => self.state,
            (_, _) => CsvState::Unquoted,
        };
    }

    fn end_record(&mut self) {
        if self.record_has_content {
            match self.expected_fields {
                None => self.expected_fields = Some(self.fields_in_record),
                Some(expected) if expected != self.fields_in_record => {
                    self.mismatch = true;
                    self.stopped = true;
                }
                Some(_) => {}
            }
            self.records += 1;
            if self.records >= CSV_SAMPLE_RECORDS {
                self.stopped = true;
            }
        }
        self.fields_in_record = 1;
        self.record_has_content = false;
    }

    /// Returns whether the sampled records look like CSV with this delimiter.
    fn finish(&mut self) -> bool {
        if !self.stopped {
            // A quote still open at the end of the file means the quoting is broken.
            if self.state == CsvState::Quoted {
                return false;
            }
            self.end_record();
        }
        !self.mismatch && self.records >= 2 && self.expected_fields.is_some_and(|n| n >= 2)
    }
}
