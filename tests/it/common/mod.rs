//! Shared fixtures for the integration tests: two real S3 servers standing in for two AWS
//! accounts, an SDK client per side, deterministic object contents, config files pointing at
//! the servers, and a way to run the built `airlock` binary against them.
//!
//! Every S3 call goes over TCP to an in-process s3s + s3s-fs server; nothing is mocked. Tests
//! use `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` so the servers keep
//! serving while a test awaits the child `airlock` process.
//!
//! - [`TwoServers`]: both accounts in one [`Sandbox`], and config files for them
//!   ([`TwoServers::config_toml`] with [`ConfigOverrides`]).
//! - `account`: [`Account`] (server + client + bucket), [`seeded_bytes`].
//! - `run`: [`Sandbox`] (temp dir, data dir, log file) and [`AirlockCmd`] / [`Output`].
//! - [`moto`]: a moto server for SSM (and a second S3 implementation).
//! - [`proxy`]: a fault-injecting reverse proxy in front of one server, counting requests.
//! - [`engine`]: the engine run in-process against both servers through proxies.

mod account;
pub mod engine;
pub mod moto;
pub mod proxy;
mod run;

use std::path::{Path, PathBuf};

pub use account::{Account, UPLOAD_PART_SIZE, s3_client, seeded_bytes};
pub use run::{AirlockCmd, Output, Sandbox};

/// Clearly fake keys: each server accepts only its own pair.
pub const SOURCE_ACCESS_KEY: &str = "source-test-key";
pub const SOURCE_SECRET_KEY: &str = "source-test-secret-0000";
pub const TARGET_ACCESS_KEY: &str = "target-test-key";
pub const TARGET_SECRET_KEY: &str = "target-test-secret-0000";

pub const SOURCE_BUCKET: &str = "source-bucket";
pub const TARGET_BUCKET: &str = "target-bucket";

pub const MIB: u64 = 1024 * 1024;

/// Two servers with distinct keys and one bucket each, in one sandbox.
#[derive(Debug)]
pub struct TwoServers {
    pub source: Account,
    pub target: Account,
    // Declared last: dropped after the servers that serve from it.
    pub sandbox: Sandbox,
}

impl TwoServers {
    /// Start both servers and create `source-bucket` and `target-bucket`.
    pub async fn start() -> Self {
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

    /// Write a config for the two servers (path style, static keys) and return its path.
    pub fn config_toml(&self, overrides: &ConfigOverrides) -> PathBuf {
        self.sandbox.write_config(&self.config_text(overrides))
    }

    /// The config text [`Self::config_toml`] writes.
    pub fn config_text(&self, o: &ConfigOverrides) -> String {
        let source_credentials = o.source_credentials.clone().unwrap_or_else(|| {
            static_credentials(
                SOURCE_ACCESS_KEY,
                o.source_secret.as_deref().unwrap_or(SOURCE_SECRET_KEY),
            )
        });
        let target_credentials = o.target_credentials.clone().unwrap_or_else(|| {
            static_credentials(
                TARGET_ACCESS_KEY,
                o.target_secret.as_deref().unwrap_or(TARGET_SECRET_KEY),
            )
        });
        let mut text = side_table(
            "source",
            o.source_bucket.as_deref().unwrap_or(&self.source.bucket),
            &o.source_prefix,
            &self.source.server.endpoint,
            &source_credentials,
        );
        text.push('\n');
        text.push_str(&side_table(
            "target",
            o.target_bucket.as_deref().unwrap_or(&self.target.bucket),
            &o.target_prefix,
            &self.target.server.endpoint,
            &target_credentials,
        ));
        if !o.transfer.is_empty() {
            text.push_str("\n[transfer]\n");
            for line in &o.transfer {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }

    /// `airlock ARGS` with this test's data dir.
    pub fn airlock<I, S>(&self, args: I) -> AirlockCmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.sandbox.airlock(args)
    }

    /// `airlock --config CONFIG ARGS`, the usual shape.
    pub fn airlock_with(&self, config: &Path, args: &[&str]) -> AirlockCmd {
        let mut all = vec![
            std::ffi::OsString::from("--config"),
            config.as_os_str().to_owned(),
        ];
        all.extend(args.iter().map(std::ffi::OsString::from));
        self.sandbox.airlock(all)
    }
}

/// What [`TwoServers::config_toml`] changes from the default config (both buckets, empty
/// prefixes, the right static keys, no `[transfer]` table).
#[derive(Debug, Clone, Default)]
pub struct ConfigOverrides {
    pub source_prefix: String,
    pub target_prefix: String,
    pub source_bucket: Option<String>,
    pub target_bucket: Option<String>,
    /// A wrong secret for a side (the access key stays right).
    pub source_secret: Option<String>,
    pub target_secret: Option<String>,
    /// Replaces the body of `[source.credentials]` (TOML lines), e.g. an SSM table.
    pub source_credentials: Option<String>,
    pub target_credentials: Option<String>,
    /// Lines of a `[transfer]` table, e.g. `multipart_threshold = "5MiB"`.
    pub transfer: Vec<String>,
}

/// A `[source]` or `[target]` table (path style, us-east-1) with its credentials table, whose
/// body is `credentials` (TOML lines).
pub fn side_table(
    side: &str,
    bucket: &str,
    prefix: &str,
    endpoint: &str,
    credentials: &str,
) -> String {
    format!(
        "[{side}]\n\
         bucket = {}\n\
         prefix = {}\n\
         region = \"us-east-1\"\n\
         endpoint_url = {}\n\
         force_path_style = true\n\
         \n\
         [{side}.credentials]\n\
         {credentials}\n",
        toml_str(bucket),
        toml_str(prefix),
        toml_str(endpoint),
    )
}

/// Body of a `kind = "static"` credentials table.
pub fn static_credentials(access_key: &str, secret_key: &str) -> String {
    format!(
        "kind = \"static\"\naccess_key_id = {}\nsecret_access_key = {}",
        toml_str(access_key),
        toml_str(secret_key)
    )
}

/// A TOML basic string (quoted and escaped).
pub fn toml_str(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

/// An SDK error with its whole chain (the SDK's Display is just "service error").
pub fn describe(err: &dyn std::error::Error) -> String {
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
pub fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.contains(needle)).collect()
}
