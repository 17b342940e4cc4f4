//! Where airlock keeps its files (config, data, logs) and the `tracing` setup: always to a log
//! file in the user state dir, and with `-v` also to stderr for headless commands (never while
//! the TUI owns the screen). Nothing secret is logged: secrets are [`crate::config::Secret`].

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::prelude::*;

/// Overrides the data directory (journal, logs); tests point it at a temp dir.
pub const DATA_DIR_ENV: &str = "AIRLOCK_DATA_DIR";
/// Log filter, e.g. `airlock=debug`.
pub const LOG_ENV: &str = "AIRLOCK_LOG";

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

/// Log directory: `<data dir>/logs` when overridden, else the user state dir.
pub fn log_dir() -> PathBuf {
    if std::env::var_os(DATA_DIR_ENV).is_some_and(|v| !v.is_empty()) {
        return data_dir().join("logs");
    }
    project_dirs()
        .and_then(|d| d.state_dir().map(|s| s.to_path_buf()))
        .unwrap_or_else(|| data_dir().join("logs"))
}

/// Keeps the file writer flushing; hold it until exit.
pub struct LogGuard {
    _file: Option<tracing_appender::non_blocking::WorkerGuard>,
    pub file: Option<PathBuf>,
}

/// Start logging. `verbosity` 0 = file only; 1 = info to stderr too; 2+ = debug to stderr.
/// A log directory that cannot be created only disables the file log.
pub fn init(verbosity: u8, to_stderr: bool) -> LogGuard {
    let file_filter =
        || EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("airlock=info,warn"));
    let dir = log_dir();
    let file = crate::fsutil::create_private_dir(&dir)
        .ok()
        .map(|()| tracing_appender::rolling::never(&dir, "airlock.log"));
    let (file_layer, guard, file_path) = match file {
        Some(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(file_filter());
            (Some(layer), Some(guard), Some(dir.join("airlock.log")))
        }
        None => (None, None, None),
    };
    let stderr_layer = (to_stderr && verbosity > 0).then(|| {
        let level = if verbosity > 1 {
            "airlock=debug,warn"
        } else {
            "airlock=info,warn"
        };
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr.with_max_level(tracing::Level::TRACE))
            .with_target(false)
            .with_filter(EnvFilter::new(level))
    });
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    LogGuard {
        _file: guard,
        file: file_path,
    }
}
