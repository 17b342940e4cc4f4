//! Where airlock keeps its files: the data directory (resume journal; logs under it when
//! overridden) and the platform's project directories (config, state). Depends on nothing else
//! in the crate.

use std::path::PathBuf;

/// Overrides the data directory (journal, logs); tests point it at a temp dir.
pub const DATA_DIR_ENV: &str = "AIRLOCK_DATA_DIR";

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "airlock")
}

/// Data directory: `$AIRLOCK_DATA_DIR`, else the user data dir, else `./.airlock`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(dir);
    }
    project_dirs()
        .map(|d| d.data_local_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".airlock"))
}
