//! Finding and reading the config file: `--config PATH`, else `$AIRLOCK_CONFIG`, else
//! `config.toml` in the user config dir (from `directories`).

use std::path::{Path, PathBuf};

use super::raw::RawConfig;
use super::{CredentialSpec, Settings, validate};
use crate::error::{Error, Result};

/// Environment variable naming the config file.
pub const CONFIG_ENV: &str = "AIRLOCK_CONFIG";

/// Where airlock looks, in order, each with how it was chosen.
pub fn config_search_paths(cli: Option<&Path>) -> Vec<(String, PathBuf)> {
    let mut paths = Vec::new();
    if let Some(path) = cli {
        paths.push(("--config".to_string(), path.to_path_buf()));
        return paths;
    }
    if let Some(path) = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        paths.push((format!("${CONFIG_ENV}"), PathBuf::from(path)));
        return paths;
    }
    if let Some(dirs) = crate::dirs::project_dirs() {
        paths.push((
            "user config dir".to_string(),
            dirs.config_dir().join("config.toml"),
        ));
    }
    paths
}

/// How the error of [`find_config`] that found no file begins ([`is_missing_config`]).
const MISSING: &str = "no config file found; looked at";

/// Whether `error` is [`find_config`]'s "no config file found" (a binary with a demo built in
/// suggests it then).
pub fn is_missing_config(error: &Error) -> bool {
    matches!(error.kind(), crate::ErrorKind::Config(message) if message.starts_with(MISSING))
}

/// The config file to use, or an error that says where airlock looked and how to start.
pub fn find_config(cli: Option<&Path>) -> Result<PathBuf> {
    let candidates = config_search_paths(cli);
    if let Some((_, path)) = candidates.iter().find(|(_, p)| p.is_file()) {
        return Ok(path.clone());
    }
    if let Some((how, dir)) = candidates.iter().find(|(_, p)| p.is_dir()) {
        return Err(Error::config(format!(
            "'{}' ({how}) is a directory: name the config file itself, e.g. '{}'",
            dir.display(),
            dir.join("config.toml").display()
        )));
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|(how, p)| format!("'{}' ({how})", p.display()))
        .collect();
    let start_at = candidates
        .last()
        .map(|(_, p)| p.display().to_string())
        .unwrap_or_else(|| "config.toml".to_string());
    Err(Error::config(format!(
        "{MISSING} {}. To start, copy config.example.toml to '{start_at}' and edit it, or pass \
         --config PATH",
        if looked.is_empty() {
            "nothing (no home directory)".to_string()
        } else {
            looked.join(", ")
        }
    )))
}

/// Parse config text. `origin` names the file in messages.
pub fn parse_settings(text: &str, origin: &str) -> Result<Settings> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        Error::config(format!(
            "'{origin}' is not a valid config: {}",
            describe_toml_error(text, &e)
        ))
    })?;
    validate::validate(raw).map_err(|e| match e.kind() {
        crate::ErrorKind::Config(msg) => Error::config(format!("'{origin}': {msg}")),
        _ => e,
    })
}

/// toml's message in house style (values in single quotes, serde's type names in words),
/// prefixed by where it is: `line 4, key 'transfer.concurency': unknown key 'concurency'; ...`.
/// toml's own `Display` is not used: its excerpt of the line could show a secret next to a typo.
fn describe_toml_error(text: &str, err: &toml::de::Error) -> String {
    let mut message = err
        .message()
        .trim()
        .replace('`', "'")
        .replace("unknown field", "unknown key")
        .replace(", expected one of", "; expected one of")
        .replace("expected i64", "expected an integer")
        .replace("duplicate key", "the key is written twice: keep one");
    for name in [
        "RawConfig",
        "RawSide",
        "RawCredentials",
        "RawTransfer",
        "RawFilter",
    ] {
        message = message.replace(&format!("expected struct {name}"), "expected a table");
    }
    // A string in the wrong key may be a secret pasted in the wrong place: never echo it.
    if let Some(rest) = message.strip_prefix("invalid type: string \"")
        && let Some(end) = rest.rfind("\", expected")
    {
        message = format!("invalid type: a string{}", &rest[end + 1..]);
    }
    if message.starts_with("invalid type") {
        message.push_str(" (config.example.toml shows each key with a value of the right type)");
    }
    match err.span() {
        Some(span) => format!("{}: {message}", locate(text, span.start, span.end)),
        None => message,
    }
}

/// `line 4, key 'transfer.concurrency'` for the byte span `start..end` of `text`: the span
/// is either a key (unknown or duplicate key) or a value (wrong type), and the table comes from
/// the last `[header]` above it. Inside an inline table only the line is given.
fn locate(text: &str, start: usize, end: usize) -> String {
    let start = start.min(text.len());
    let end = end.clamp(start, text.len());
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..start];
    if prefix.contains('{') {
        return format!("line {line}");
    }
    let header = prefix.trim_start().starts_with('[');
    let key = match prefix.rfind('=') {
        // A value: the key is what stands before its '='.
        Some(eq) => prefix[..eq].trim(),
        // A key, or a table name in a header: the line up to the end of the span.
        None => text[line_start..end].trim().trim_start_matches('['),
    };
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.trim_start_matches('[').split(']').next())
        .map(str::trim)
        .filter(|t| !header && !t.is_empty());
    match (table, key.is_empty()) {
        (_, true) => format!("line {line}"),
        (Some(table), false) => format!("line {line}, key '{table}.{key}'"),
        (None, false) => format!("line {line}, key '{key}'"),
    }
}

/// Find, read and validate the config.
pub fn load_settings(cli: Option<&Path>) -> Result<Settings> {
    let path = find_config(cli)?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::config(format!(
            "'{}' is not UTF-8 text (invalid byte at offset {}): save it as UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
    })?;
    let mut settings = parse_settings(&text, &path.display().to_string())?;
    if holds_secrets(&settings) && readable_by_others(&path) {
        settings.warnings.push(format!(
            "'{}' holds secret keys and is readable by other users: run 'chmod 600 {}'",
            path.display(),
            path.display()
        ));
    }
    settings.path = Some(path);
    Ok(settings)
}

fn holds_secrets(settings: &Settings) -> bool {
    fn spec_has(spec: &CredentialSpec) -> bool {
        match spec {
            CredentialSpec::Static { .. } => true,
            CredentialSpec::AssumeRole {
                base, external_id, ..
            } => external_id.is_some() || spec_has(base),
            _ => false,
        }
    }
    spec_has(&settings.source.credentials) || spec_has(&settings.target.credentials)
}

#[cfg(unix)]
fn readable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn readable_by_others(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_config_is_told_apart_from_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let missing = find_config(Some(&dir.path().join("nope.toml"))).unwrap_err();
        assert!(is_missing_config(&missing), "{missing}");
        assert!(!missing.to_string().contains("airlock demo"), "{missing}");
        let is_dir = find_config(Some(dir.path())).unwrap_err();
        assert!(!is_missing_config(&is_dir), "{is_dir}");
        let invalid = parse_settings("[source]\nbukcet = 1\n", "bad.toml").unwrap_err();
        assert!(!is_missing_config(&invalid), "{invalid}");
    }
}
