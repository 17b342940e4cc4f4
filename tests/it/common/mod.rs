//! Shared fixtures for the integration tests: two real S3 servers standing in for two AWS
//! accounts, an SDK client per side, deterministic object contents, config files pointing at
//! the servers, and a way to run the built `airlock` binary against them.
//!
//! Every S3 call goes over TCP to an in-process s3s + s3s-fs server; nothing is mocked. Tests
//! use `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` so the servers keep
//! serving while a test awaits the child `airlock` process.
//!
//! - [`TwoServers`]: both accounts in one [`Sandbox`]; [`TwoServers::config`] starts a config
//!   for them.
//! - `config`: [`Config`], the one builder of config text (tables, keys, lines).
//! - `json`: [`json_lines`] and the events in them, for `--json` output and manifests.
//! - `account`: [`Account`] (server + client + bucket), [`seeded_bytes`].
//! - `run`: [`Sandbox`] (temp dir, data dir, log file) and [`AirlockCmd`] / [`Output`].
//! - [`moto`]: a moto server for SSM (and a second S3 implementation).
//! - [`proxy`]: a fault-injecting reverse proxy in front of one server, counting requests.
//! - [`engine`]: the engine run in-process against both servers through proxies.
//! - [`multipart_upload`]: multipart sources uploaded the way the AWS CLI and SDKs do.
//! - [`fifo`]: a saved plan fed through a named pipe, to show a command streams it.
//! - [`synthetic`]: synthetic servers of millions of keys and their config.

mod account;
mod config;
pub(crate) mod engine;
pub(crate) mod fifo;
mod json;
pub(crate) mod moto;
pub(crate) mod multipart_upload;
pub(crate) mod proxy;
mod run;
pub(crate) mod synthetic;

use std::path::Path;

pub(crate) use account::{Account, UPLOAD_PART_SIZE, s3_client, seeded_bytes};
pub(crate) use config::Config;
pub(crate) use json::{events_named, json_lines, read_manifest, run_summary};
pub(crate) use run::{AirlockCmd, Output, Sandbox};

/// Clearly fake keys: each server accepts only its own pair.
pub(crate) const SOURCE_ACCESS_KEY: &str = "source-test-key";
pub(crate) const SOURCE_SECRET_KEY: &str = "source-test-secret-0000";
pub(crate) const TARGET_ACCESS_KEY: &str = "target-test-key";
pub(crate) const TARGET_SECRET_KEY: &str = "target-test-secret-0000";

pub(crate) const SOURCE_BUCKET: &str = "source-bucket";
pub(crate) const TARGET_BUCKET: &str = "target-bucket";

pub(crate) const MIB: u64 = 1024 * 1024;

/// Two servers with distinct keys and one bucket each, in one sandbox.
#[derive(Debug)]
pub(crate) struct TwoServers {
    pub source: Account,
    pub target: Account,
    // Declared last: dropped after the servers that serve from it.
    pub sandbox: Sandbox,
}

impl TwoServers {
    /// Start both servers and create `source-bucket` and `target-bucket`.
    pub(crate) async fn start() -> Self {
        let sandbox = Sandbox::new();
        let source = Account::start(
            &sandbox.path().join("source-s3"),
            SOURCE_ACCESS_KEY,
            SOURCE_SECRET_KEY,
            SOURCE_BUCKET,
        )
        .await;
        let target = Account::start(
            &sandbox.path().join("target-s3"),
            TARGET_ACCESS_KEY,
            TARGET_SECRET_KEY,
            TARGET_BUCKET,
        )
        .await;
        TwoServers {
            source,
            target,
            sandbox,
        }
    }

    /// A config for the two servers: both buckets, empty prefixes, path style, each side's
    /// static keys. Change it with [`Config`]'s methods.
    pub(crate) fn config(&self) -> Config {
        Config::endpoints(&self.source.server.endpoint, &self.target.server.endpoint)
    }

    /// `airlock ARGS` with this test's data dir.
    pub(crate) fn airlock<I, S>(&self, args: I) -> AirlockCmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.sandbox.airlock(args)
    }

    /// `airlock plan -o NAME` in the sandbox with `config`, which must succeed; the plan's
    /// path.
    pub(crate) async fn save_plan(&self, config: &Path, name: &str) -> std::path::PathBuf {
        let plan = self.sandbox.path().join(name);
        self.airlock_with(config, &["plan", "-o", plan.to_str().unwrap()])
            .run()
            .await
            .expect_code(0);
        plan
    }

    /// `airlock --config CONFIG ARGS`, the usual shape.
    pub(crate) fn airlock_with(&self, config: &Path, args: &[&str]) -> AirlockCmd {
        let mut all = vec![
            std::ffi::OsString::from("--config"),
            config.as_os_str().to_owned(),
        ];
        all.extend(args.iter().map(std::ffi::OsString::from));
        self.sandbox.airlock(all)
    }
}

/// An SDK error with its whole chain (the SDK's Display is just "service error").
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(next) = current {
        text.push_str(": ");
        text.push_str(&next.to_string());
        current = next.source();
    }
    text
}

/// Lines of `text` that contain `needle`.
pub(crate) fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}
