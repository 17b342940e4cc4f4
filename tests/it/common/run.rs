//! Running the built `airlock` binary in a per-test sandbox: its own data dir (logs,
//! journal), config files, and no AWS settings inherited from the developer's environment.
//! The child runs under tokio so the in-process servers keep serving meanwhile.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temp dir that holds everything one test writes: server roots, configs, airlock's data
/// dir (logs, journal). Removed on drop.
#[derive(Debug)]
pub(crate) struct Sandbox {
    pub dir: tempfile::TempDir,
    /// Names configs written by this sandbox so each call gets a fresh file.
    configs_written: AtomicUsize,
}

impl Sandbox {
    pub(crate) fn new() -> Self {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("airlock-test-")
                .tempdir()
                .expect("create temp dir"),
            configs_written: AtomicUsize::new(0),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `$AIRLOCK_DATA_DIR` for every airlock run of this test.
    pub(crate) fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// airlock's log file (it exists after the first run).
    pub(crate) fn log_file(&self) -> PathBuf {
        self.data_dir().join("logs").join("airlock.log")
    }

    /// Write `text` as a new config file (mode 0600, so airlock does not warn about secrets
    /// readable by others) and return its path.
    pub(crate) fn write_config(&self, text: &str) -> PathBuf {
        let n = self.configs_written.fetch_add(1, Ordering::Relaxed);
        let path = self.path().join(format!("config-{n}.toml"));
        std::fs::write(&path, text).expect("write config");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .expect("chmod config");
        }
        path
    }

    /// The `airlock` binary with its data dir in this sandbox and no AWS settings inherited
    /// from the developer's environment.
    pub(crate) fn airlock<I, S>(&self, args: I) -> AirlockCmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airlock"));
        cmd.args(args)
            .env("AIRLOCK_DATA_DIR", self.data_dir())
            .env_remove("AIRLOCK_CONFIG")
            .env_remove("AIRLOCK_LOG")
            // Keep the SDK away from the user's ~/.aws and from instance metadata.
            .env("AWS_CONFIG_FILE", self.path().join("no-aws-config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.path().join("no-aws-credentials"),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for var in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
        ] {
            cmd.env_remove(var);
        }
        AirlockCmd { cmd }
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

/// A prepared `airlock` invocation.
pub(crate) struct AirlockCmd {
    cmd: tokio::process::Command,
}

impl AirlockCmd {
    pub(crate) fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Start it and return the child (killed when dropped), for tests that signal or kill it.
    pub(crate) fn spawn(mut self) -> tokio::process::Child {
        self.cmd.spawn().expect("start the airlock binary")
    }

    /// Run to completion (at most 60 s) and collect what it printed.
    pub(crate) async fn run(mut self) -> Output {
        let child = self.cmd.spawn().expect("start the airlock binary");
        let output =
            tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
                .await
                .expect("airlock did not finish within 60 s")
                .expect("wait for airlock");
        Output {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            // A signal leaves no code; -1 fails any assertion on it.
            code: output.status.code().unwrap_or(-1),
        }
    }
}

/// What a finished `airlock` run printed and its exit code.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub(crate) fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout then stderr, for "appears anywhere" checks.
    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics if `needle` appears in stdout or stderr.
    #[track_caller]
    pub(crate) fn assert_never_prints(&self, needle: &str) {
        assert!(
            !self.all().contains(needle),
            "output contains {needle:?}:\n{}",
            self.all()
        );
    }
}
