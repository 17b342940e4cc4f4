//! Shared fixtures for the integration tests: two real S3 servers standing in for two AWS
//! accounts, an SDK client per side, deterministic object contents, config files pointing at
//! the servers, and a way to run the built `airlock` binary against them.
//!
//! Every S3 call goes over TCP to an in-process s3s + s3s-fs server; nothing is mocked. Tests
//! use `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` so the servers keep
//! serving while a test awaits the child `airlock` process.

// Each test file uses a different subset of these helpers.
#![allow(dead_code)]

pub mod moto;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};

use airlock::s3server::EmbeddedS3;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use futures::{StreamExt, TryStreamExt};

/// Clearly fake keys: each server accepts only its own pair.
pub const SOURCE_ACCESS_KEY: &str = "source-test-key";
pub const SOURCE_SECRET_KEY: &str = "source-test-secret-0000";
pub const TARGET_ACCESS_KEY: &str = "target-test-key";
pub const TARGET_SECRET_KEY: &str = "target-test-secret-0000";

pub const SOURCE_BUCKET: &str = "source-bucket";
pub const TARGET_BUCKET: &str = "target-bucket";

/// Part size the helpers use to upload big objects (S3's minimum, so memory stays small).
pub const UPLOAD_PART_SIZE: usize = 5 * 1024 * 1024;

pub const MIB: u64 = 1024 * 1024;

/// A temp dir that holds everything one test writes: server roots, configs, airlock's data
/// dir (logs, journal). Removed on drop.
#[derive(Debug)]
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// Names configs written by this sandbox so each call gets a fresh file.
    configs_written: AtomicUsize,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::Builder::new()
                .prefix("airlock-test-")
                .tempdir()
                .expect("create temp dir"),
            configs_written: AtomicUsize::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `$AIRLOCK_DATA_DIR` for every airlock run of this test.
    pub fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    /// airlock's log file (it exists after the first run).
    pub fn log_file(&self) -> PathBuf {
        self.data_dir().join("logs").join("airlock.log")
    }

    /// Write `text` as a new config file (mode 0600, so airlock does not warn about secrets
    /// readable by others) and return its path.
    pub fn write_config(&self, text: &str) -> PathBuf {
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
    pub fn airlock<I, S>(&self, args: I) -> AirlockCmd
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
pub struct AirlockCmd {
    cmd: tokio::process::Command,
}

impl AirlockCmd {
    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Run to completion (at most 60 s) and collect what it printed.
    pub async fn run(mut self) -> Output {
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
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Output {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout then stderr, for "appears anywhere" checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics if `needle` appears in stdout or stderr.
    #[track_caller]
    pub fn assert_never_prints(&self, needle: &str) {
        assert!(
            !self.all().contains(needle),
            "output contains {needle:?}:\n{}",
            self.all()
        );
    }
}

/// One S3 server standing in for one account, with a client signed with its keys.
#[derive(Debug)]
pub struct Account {
    pub server: EmbeddedS3,
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

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

/// An S3 client for `endpoint` signed with the given keys (path style, no extra checksums).
pub fn s3_client(endpoint: &str, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new(
            access_key,
            secret_key,
            None,
            None,
            "airlock-tests",
        ))
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

impl Account {
    /// Start a server serving `root` for one key pair and create `bucket` on it.
    pub async fn start(root: &Path, access_key: &str, secret_key: &str, bucket: &str) -> Self {
        let server = EmbeddedS3::start(root, access_key, secret_key)
            .await
            .expect("start embedded S3 server");
        server.create_bucket(bucket).expect("create bucket");
        let client = s3_client(&server.endpoint, access_key, secret_key);
        Account {
            server,
            client,
            bucket: bucket.to_string(),
        }
    }

    /// PUT `bytes` at `key`.
    pub async fn put(&self, key: &str, bytes: impl Into<Vec<u8>>) {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(bytes.into()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PUT '{key}': {}", describe(&e)));
    }

    /// PUT `size` pseudo-random bytes from `seed` at `key`. Objects above one part are sent as
    /// a multipart upload generated part by part, so memory stays at one part.
    pub async fn put_seeded(&self, key: &str, size: u64, seed: u64) {
        if size <= UPLOAD_PART_SIZE as u64 {
            self.put(key, seeded_bytes(seed, 0, size as usize)).await;
            return;
        }
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("CreateMultipartUpload '{key}': {}", describe(&e)));
        let upload_id = upload.upload_id().expect("upload id").to_string();
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let mut number = 1;
        while offset < size {
            let len = (size - offset).min(UPLOAD_PART_SIZE as u64) as usize;
            let part = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .part_number(number)
                .body(ByteStream::from(seeded_bytes(seed, offset, len)))
                .send()
                .await
                .unwrap_or_else(|e| panic!("UploadPart {number} of '{key}': {}", describe(&e)));
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(part.e_tag().map(str::to_string))
                    .build(),
            );
            offset += len as u64;
            number += 1;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("CompleteMultipartUpload '{key}': {}", describe(&e)));
    }

    /// PUT many small objects, `parallel` at a time. Each `(key, bytes)`.
    pub async fn put_many(&self, objects: Vec<(String, Vec<u8>)>, parallel: usize) {
        futures::stream::iter(objects)
            .map(|(key, bytes)| async move {
                self.put(&key, bytes).await;
                Ok::<(), ()>(())
            })
            .buffer_unordered(parallel)
            .try_collect::<Vec<()>>()
            .await
            .expect("put_many");
    }

    /// The whole object's bytes.
    pub async fn get(&self, key: &str) -> Vec<u8> {
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET '{key}': {}", describe(&e)));
        output
            .body
            .collect()
            .await
            .unwrap_or_else(|e| panic!("GET '{key}' body: {e}"))
            .into_bytes()
            .to_vec()
    }

    /// Every key under `prefix`, in listing order, across all pages.
    pub async fn keys(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.unwrap_or_else(|e| panic!("list '{prefix}': {}", describe(&e)));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
        }
        keys
    }
}

/// `len` bytes of the deterministic stream for `seed`, starting at `offset`. Any slice of the
/// stream can be produced alone, so big objects are generated one part at a time and checked
/// against any range.
pub fn seeded_bytes(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut position = offset;
    let end = offset + len as u64;
    while position < end {
        let word = splitmix64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (position / 8));
        let bytes = word.to_le_bytes();
        let from = (position % 8) as usize;
        let take = (8 - from).min((end - position) as usize);
        out.extend_from_slice(&bytes[from..from + take]);
        position += take as u64;
    }
    out
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
