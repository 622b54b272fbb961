//! Tests of the secrets status module, with helpers that read the rendered outputs back into
//! cells so that the formats can be compared.

mod manifest;
mod render;
mod report;

use std::fs;
use std::path::PathBuf;

use tempfile::TempDir;
use time::Date;

use super::{load_manifest, Manifest, ManifestError};

/// Writes `text` as `secrets.toml` in a new temporary directory and loads it for `today`.
/// The directory is returned too, because dropping it deletes the file.
fn load_text(text: &str, today: Date) -> (TempDir, PathBuf, Result<Manifest, ManifestError>) {
    let dir = tempfile::tempdir().expect("create temporary directory");
    let path = dir.path().join("secrets.toml");
    fs::write(&path, text).expect("write manifest");
    let result = load_manifest(&path, today);
    (dir, path, result)
}

/// Splits a rendered table into rows of trimmed cells, header first. Each column starts
/// where its title starts in the header line, counted in `char`s.
fn parse_table(text: &str, titles: &[&str]) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    let header: Vec<char> = lines
        .next()
        .expect("table has a header line")
        .chars()
        .collect();
    let header_text: String = header.iter().collect();

    let starts: Vec<usize> = titles
        .iter()
        .map(|title| {
            let byte_start = header_text.find(title).expect("title in header");
            header_text[..byte_start].chars().count()
        })
        .collect();

    let split = |line: &[char]| -> Vec<String> {
        (0..starts.len())
            .map(|column| {
                let start = starts[column].min(line.len());
                let end = starts
                    .get(column + 1)
                    .map_or(line.len(), |&next| next.min(line.len()));
                line[start..end]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .collect()
    };

    let mut rows = vec![split(&header)];
    for line in lines {
        let chars: Vec<char> = line.chars().collect();
        rows.push(split(&chars));
    }
    rows
}

/// Splits the table lines of a Markdown document into rows of unescaped, trimmed cells,
/// header first, without the delimiter row.
fn parse_markdown_table(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.starts_with('|'))
        .filter(|line| !line.starts_with("| ---"))
        .map(split_markdown_row)
        .collect()
}

fn split_markdown_row(line: &str) -> Vec<String> {
    let inner = line
        .strip_prefix('|')
        .and_then(|rest| rest.strip_suffix('|'))
        .expect("row starts and ends with a pipe");

    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => cell.push(chars.next().expect("backslash escapes a character")),
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            _ => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}
