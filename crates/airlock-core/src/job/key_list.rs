//! The I/O edge of filtering: read the `--from-list` file of source keys that the pure
//! [`crate::plan::filter`] rules then apply to a source listing. Depends on `config` only.
//!
//! A key list is one of:
//! - plain text: one full source key per line (as `airlock ls -r` prints them); empty lines
//!   are ignored, nothing else is trimmed (keys may hold spaces);
//! - CSV (`.csv`): the column headed `source_key` or `key`, else the first column;
//! - JSON (`.json`, or text starting with `[`): an array of keys or of objects with a
//!   `source_key` or `key` field;
//! - JSON lines (`.jsonl`, or text starting with `{`): one object per line with `source_key`
//!   or `key`, so an `airlock run --manifest` file can be fed back to re-copy what it names.

use std::path::Path;

use crate::config::FilterSettings;
use crate::error::{Error, Result};

/// The keys of the key list `settings` names, if it names one (read once per plan: the source
/// selection and mirror deletions both apply them).
pub(crate) fn keys_of(settings: &FilterSettings) -> Result<Option<Vec<String>>> {
    settings.from_list.as_deref().map(read_key_list).transpose()
}

/// Read the keys of a `--from-list` file (formats in the module docs).
fn read_key_list(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::usage(format!(
            "--from-list '{}': {e}; give a file of keys (one per line, CSV or JSON)",
            path.display()
        ))
    })?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = text.trim_start().chars().next();
    let keys = match (extension.as_str(), first) {
        ("csv", _) => csv_keys(&text),
        ("jsonl" | "ndjson", _) | (_, Some('{')) => json_lines_keys(&text),
        ("json", _) | (_, Some('[')) => json_keys(&text),
        _ => Ok(text
            .lines()
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()),
    }
    .map_err(|why| {
        Error::usage(format!(
            "--from-list '{}': {why}; write one key per line, a CSV with a 'key' column, or JSON",
            path.display()
        ))
    })?;
    if keys.is_empty() {
        return Err(Error::usage(format!(
            "--from-list '{}' holds no keys: write one full source key per line",
            path.display()
        )));
    }
    Ok(keys)
}

fn csv_keys(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(first) = records.next() else {
        return Ok(Vec::new());
    };
    let first = first.map_err(|e| format!("not valid CSV ({e})"))?;
    let header = first
        .iter()
        .position(|h| h.eq_ignore_ascii_case("source_key") || h.eq_ignore_ascii_case("key"));
    let column = header.unwrap_or(0);
    let mut keys = Vec::new();
    if header.is_none() {
        keys.extend(first.get(0).map(str::to_string));
    }
    for (n, record) in records.enumerate() {
        let record = record.map_err(|e| format!("not valid CSV ({e})"))?;
        match record.get(column) {
            Some(key) if !key.is_empty() => keys.push(key.to_string()),
            _ => return Err(format!("row {} has no key in column {}", n + 2, column + 1)),
        }
    }
    Ok(keys)
}

fn key_of(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(key) => Some(key.clone()),
        serde_json::Value::Object(map) => map
            .get("source_key")
            .or_else(|| map.get("key"))
            .and_then(|k| k.as_str())
            .map(str::to_string),
        _ => None,
    }
}

fn json_keys(text: &str) -> std::result::Result<Vec<String>, String> {
    let values: Vec<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| format!("not a JSON array ({e})"))?;
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            key_of(v).ok_or_else(|| {
                format!(
                    "entry {} is neither a key nor an object with 'source_key'",
                    i + 1
                )
            })
        })
        .collect()
}

fn json_lines_keys(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut keys = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {} is not JSON ({e})", n + 1))?;
        // Manifest files may carry summary lines without a key; they name no object. Their
        // mirror deletions (route `delete`) name a target object, not a source key.
        if value.get("source_key").is_none() && value.get("key").is_none()
            || value.get("route").and_then(|r| r.as_str()) == Some("delete")
        {
            continue;
        }
        keys.push(
            key_of(&value).ok_or_else(|| format!("line {} has a key that is not text", n + 1))?,
        );
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &str) -> Result<Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        read_key_list(&path)
    }

    #[test]
    fn every_list_format_gives_the_same_keys() {
        let want = ["in/a b.csv", "in/x,y.txt"];
        assert_eq!(
            read("keys.txt", "in/a b.csv\r\n\nin/x,y.txt\n").unwrap(),
            want
        );
        assert_eq!(
            read("keys.csv", "size,key\n1,in/a b.csv\n2,\"in/x,y.txt\"\n").unwrap(),
            want
        );
        assert_eq!(
            read("keys.csv", "in/a b.csv,1\n\"in/x,y.txt\",2\n").unwrap(),
            want
        );
        assert_eq!(
            read(
                "keys.json",
                r#"["in/a b.csv", {"source_key": "in/x,y.txt"}]"#
            )
            .unwrap(),
            want
        );
        assert_eq!(
            read(
                "m.jsonl",
                "{\"source_key\":\"in/a b.csv\",\"outcome\":\"copied\"}\n{\"summary\":true}\n{\"key\":\"in/x,y.txt\"}\n"
            )
            .unwrap(),
            want
        );
    }

    #[test]
    fn bad_or_empty_lists_are_errors_naming_the_file() {
        let err = read("keys.json", "[1, 2]").unwrap_err().to_string();
        assert!(err.contains("keys.json"), "{err}");
        assert!(err.contains("entry 1"), "{err}");
        let err = read("keys.txt", "\n\n").unwrap_err().to_string();
        assert!(err.contains("holds no keys"), "{err}");
        let err = read_key_list(Path::new("/nonexistent/keys.txt")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/keys.txt"), "{err}");
    }
}
