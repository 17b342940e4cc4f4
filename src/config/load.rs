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
    if let Some(dirs) = crate::logging::project_dirs() {
        paths.push((
            "user config dir".to_string(),
            dirs.config_dir().join("config.toml"),
        ));
    }
    paths
}

/// The config file to use, or an error that says where airlock looked and how to start.
pub fn find_config(cli: Option<&Path>) -> Result<PathBuf> {
    let candidates = config_search_paths(cli);
    if let Some((_, path)) = candidates.iter().find(|(_, p)| p.is_file()) {
        return Ok(path.clone());
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
        "no config file found; looked at {}. To start, copy config.example.toml to '{start_at}' \
         and edit it, or pass --config PATH (try 'airlock demo' to see airlock without AWS)",
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
            describe_toml_error(&e)
        ))
    })?;
    validate::validate(raw).map_err(|e| match e.kind() {
        crate::ErrorKind::Config(msg) => Error::config(format!("'{origin}': {msg}")),
        _ => e,
    })
}

/// toml's messages carry a source excerpt; keep the message and the line, which name the key.
fn describe_toml_error(err: &toml::de::Error) -> String {
    let message = err.message().trim().to_string();
    let message = message
        .replace("unknown field", "unknown key")
        .replace(", expected one of", "; expected one of");
    match err.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

/// Find, read and validate the config.
pub fn load_settings(cli: Option<&Path>) -> Result<Settings> {
    let path = find_config(cli)?;
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
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
            CredentialSpec::AssumeRole { base, .. } => spec_has(base),
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
