//! The `tracing` setup: always to a log file in the user state dir, and with `-v` also to
//! stderr for headless commands (never while the TUI owns the screen). Where the data directory
//! is lives in [`airlock_core::dirs`]. Nothing secret is logged: secrets are
//! [`airlock_core::config::Secret`].

use std::path::PathBuf;

use airlock_core::dirs::{DATA_DIR_ENV, data_dir, project_dirs};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;
use tracing_subscriber::prelude::*;

/// Log filter, e.g. `airlock=debug`.
pub const LOG_ENV: &str = "AIRLOCK_LOG";

/// Default filters. A directive's target matches every target it is a prefix of (plain string
/// prefix, not module path), so `airlock` covers the binary (`airlock::...`) and the core crate
/// (`airlock_core::...`) alike, and so does `AIRLOCK_LOG=airlock=debug`.
const LOG_INFO: &str = "airlock=info,warn";
const LOG_DEBUG: &str = "airlock=debug,warn";

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
        || EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(LOG_INFO));
    let dir = log_dir();
    let file = airlock_core::fsutil::create_private_dir(&dir)
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
        let level = if verbosity > 1 { LOG_DEBUG } else { LOG_INFO };
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::{Context, Layer};

    use super::*;

    /// Records the target of every event it is shown.
    struct Targets(Arc<Mutex<Vec<String>>>);

    impl<S: tracing::Subscriber> Layer<S> for Targets {
        fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
            self.0
                .lock()
                .unwrap()
                .push(event.metadata().target().to_string());
        }
    }

    /// `airlock` in a filter also covers the core crate's targets (`airlock_core::...`).
    #[test]
    fn the_default_filter_covers_the_binary_and_the_core_crate() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(Targets(seen.clone()).with_filter(EnvFilter::new(LOG_INFO)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "airlock::cli", "binary");
            tracing::info!(target: "airlock_core::engine::scheduler", "core");
            tracing::debug!(target: "airlock_core::engine::scheduler", "core, too detailed");
            tracing::info!(target: "aws_smithy_runtime", "sdk, too detailed");
            tracing::warn!(target: "aws_smithy_runtime", "sdk");
        });
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "airlock::cli",
                "airlock_core::engine::scheduler",
                "aws_smithy_runtime"
            ]
        );
    }
}
