//! The bad-config corpus, run through the real binary: every case is a config file that must be
//! refused by `airlock config check` (and by `airlock plan`, which loads it the same way) with
//! exit code 2, no panic, nothing on stdout, one `airlock: ...` error on stderr that names the
//! file, the key and the value, and says what to write instead. No case may echo a secret.
//!
//! `config_errors.rs` pins the exact wording of each message in-process; this file proves the
//! binary end of it over a broad corpus (missing and unknown keys, wrong types, absurd sizes,
//! S3 limits, endpoints, credential kinds, files that are not TOML at all).

use futures::StreamExt;

use crate::common::{Config, Output, Sandbox};

/// Never printed: every case's config holds it as the source's static secret.
const SECRET: &str = "BADCFG-fake-secret-7f3a9c";

/// The config every case edits. Valid (checked by a test): static keys holding [`SECRET`] at
/// the source, a profile at the target.
fn good() -> Config {
    Config::minimal()
        .lines(
            "source",
            &[
                "prefix = \"in/\"",
                "region = \"us-east-1\"",
                "endpoint_url = \"http://127.0.0.1:9\"",
                "force_path_style = true",
            ],
        )
        .keys("source", "BADCFG-access-key", SECRET)
        .lines(
            "target",
            &[
                "region = \"eu-west-1\"",
                "endpoint_url = \"http://[::1]:9\"",
                "force_path_style = true",
            ],
        )
        .table(
            "target.credentials",
            &["kind = \"profile\"", "profile = \"ops\""],
        )
        .transfer(&["concurrency = 8", "part_size = \"auto\""])
}

/// One config that must be refused, and what its message must say.
struct Case {
    name: &'static str,
    text: String,
    /// Every one of these must appear in stderr (names the key/value, says what to do).
    says: Vec<String>,
}

fn case(name: &'static str, edit: impl FnOnce(Config) -> Config, says: &[&str]) -> Case {
    Case {
        name,
        text: edit(good()).text(),
        says: says.iter().map(|s| s.to_string()).collect(),
    }
}

fn raw_case(name: &'static str, text: &str, says: &[&str]) -> Case {
    Case {
        name,
        text: text.to_string(),
        says: says.iter().map(|s| s.to_string()).collect(),
    }
}

fn missing_keys() -> Vec<Case> {
    vec![
        raw_case(
            "empty file",
            "",
            &["the [source] table is missing: add it with at least 'source.bucket'"],
        ),
        case(
            "no target table",
            |p| p.clear("target").clear("target.credentials"),
            // The credentials sub-table alone still creates [target]: its bucket is missing.
            &["'target.bucket' is missing: name the target bucket"],
        ),
        case(
            "no source bucket",
            |p| p.unset("source", "bucket"),
            &["'source.bucket' is missing: name the source bucket"],
        ),
        case(
            "static without its secret",
            |p| p.unset("source.credentials", "secret_access_key"),
            &["'source.credentials.secret_access_key' is required when kind = 'static'"],
        ),
        case(
            "profile without a name",
            |p| p.unset("target.credentials", "profile"),
            &["'target.credentials.profile' is required when kind = 'profile'"],
        ),
        case(
            "ssm without via",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &[
                "'source.credentials.via' is required when kind = 'ssm'",
                "'target', 'source', 'default' or 'profile:NAME'",
            ],
        ),
        case(
            "ssm without the secret parameter",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"target\"",
                        "access_key_id_parameter = \"/a/id\"",
                    ],
                )
            },
            &["'source.credentials.secret_access_key_parameter' is required when kind = 'ssm'"],
        ),
        case(
            "assume_role without role_arn",
            |p| p.table("target.credentials", &["kind = \"assume_role\""]),
            &["'target.credentials.role_arn' is required when kind = 'assume_role'"],
        ),
        case(
            "env without variable names",
            |p| p.table("target.credentials", &["kind = \"env\""]),
            &["'target.credentials.access_key_id_var' is required when kind = 'env'"],
        ),
    ]
}

fn unknown_keys() -> Vec<Case> {
    vec![
        case(
            "unknown top-level key",
            |p| p.top("sorce = 1"),
            &["line 1, key 'sorce': unknown key 'sorce'", "'source'"],
        ),
        case(
            "unknown key in [source]",
            |p| p.line("source", "buckt = \"x\""),
            &["key 'source.buckt': unknown key 'buckt'", "'bucket'"],
        ),
        case(
            "unknown key in [transfer]",
            |p| p.line("transfer", "concurency = 4"),
            &[
                "key 'transfer.concurency': unknown key 'concurency'",
                "'concurrency'",
            ],
        ),
        case(
            "misspelt secret key next to its value",
            |p| {
                p.unset("source.credentials", "secret_access_key").line(
                    "source.credentials",
                    &format!("secret_acess_key = \"{SECRET}\""),
                )
            },
            &["key 'source.credentials.secret_acess_key': unknown key 'secret_acess_key'"],
        ),
        case(
            "unknown sub-table",
            |p| p.top("[sourc]\nbucket = \"x\""),
            &["key 'sourc': unknown key 'sourc'"],
        ),
        case(
            "key of another credential kind",
            |p| p.line("source.credentials", "profile = \"ops\""),
            &[
                "'source.credentials.profile' does not apply to kind = 'static': remove it or change the kind",
            ],
        ),
        case(
            "key written twice",
            |p| p.line("transfer", "concurrency = 9"),
            &["the key is written twice: keep one"],
        ),
    ]
}

fn wrong_types() -> Vec<Case> {
    vec![
        case(
            "number for a bucket",
            |p| p.set("source", "bucket", "12"),
            &["key 'source.bucket': invalid type: integer '12', expected a string"],
        ),
        case(
            "string for concurrency",
            |p| p.set("transfer", "concurrency", "\"many\""),
            &[
                "key 'transfer.concurrency': 'many' is not a concurrency: use \"auto\" or a number from 1 to 1024",
            ],
        ),
        case(
            "string for a boolean",
            |p| p.set("source", "force_path_style", "\"yes\""),
            &["key 'source.force_path_style': invalid type: a string, expected a boolean"],
        ),
        case(
            "boolean for a size",
            |p| p.set("transfer", "multipart_threshold", "true"),
            &[
                "key 'transfer.multipart_threshold': invalid type: boolean 'true', expected a size such as \"64MiB\"",
            ],
        ),
        case(
            "float for part_size",
            |p| p.set("transfer", "part_size", "1.5"),
            &["key 'transfer.part_size': '1.5' is not a size: use \"auto\" or a quoted size"],
        ),
        raw_case(
            "string for a table",
            "source = \"fast\"\n",
            &["line 1, key 'source': invalid type: a string, expected a table"],
        ),
        case(
            "integer for a boolean",
            |p| p.line("transfer", "keep_failed_uploads = 1"),
            &["key 'transfer.keep_failed_uploads': invalid type: integer '1', expected a boolean"],
        ),
        case(
            "number for a duration",
            |p| p.line("transfer", "read_timeout = 30"),
            &["key 'transfer.read_timeout': invalid type: integer '30', expected a string"],
        ),
        case(
            "array for a region",
            |p| p.set("target", "region", "[\"eu-west-1\"]"),
            &["key 'target.region': invalid type: sequence, expected a string"],
        ),
    ]
}

fn sizes() -> Vec<Case> {
    vec![
        case(
            "zero concurrency",
            |p| p.set("transfer", "concurrency", "0"),
            &["transfer.concurrency '0' is out of range: use 1 to 1024"],
        ),
        case(
            "negative concurrency",
            |p| p.set("transfer", "concurrency", "-4"),
            &["transfer.concurrency '-4' is out of range: use 1 to 1024"],
        ),
        case(
            "absurd concurrency",
            |p| p.set("transfer", "concurrency", "9223372036854775807"),
            &["transfer.concurrency '9223372036854775807' is out of range: use 1 to 1024"],
        ),
        case(
            "zero memory",
            |p| p.line("transfer", "memory_limit = \"0B\""),
            &["transfer.memory_limit '0 B' is out of range: use 1 MiB to 64 GiB"],
        ),
        case(
            "absurd memory",
            |p| p.line("transfer", "memory_limit = \"1024TiB\""),
            &["transfer.memory_limit '1024 TiB' is out of range: use 1 MiB to 64 GiB"],
        ),
        case(
            "negative memory",
            |p| p.line("transfer", "memory_limit = -1"),
            &["key 'transfer.memory_limit': '-1' is negative"],
        ),
        case(
            "size that overflows",
            |p| p.line("transfer", "memory_limit = \"99999999999999999999TiB\""),
            &["key 'transfer.memory_limit': '99999999999999999999TiB' is too large"],
        ),
        case(
            "negative retries",
            |p| p.line("transfer", "max_retries = -1"),
            &["transfer.max_retries '-1' is out of range: use 0 to 100"],
        ),
        case(
            "absurd retries",
            |p| p.line("transfer", "max_retries = 1000000"),
            &["transfer.max_retries '1000000' is out of range: use 0 to 100"],
        ),
        case(
            "part size below 5 MiB",
            |p| p.set("transfer", "part_size", "\"4MiB\""),
            &[
                "transfer.part_size '4 MiB' is out of range: S3 parts are 5 MiB to 5 GiB; use \"auto\" or a size in that range",
            ],
        ),
        case(
            "part size just below 5 MiB",
            |p| p.set("transfer", "part_size", "5242879"),
            &[
                "transfer.part_size '5.0 MiB' (5242879 bytes) is out of range",
                "5 MiB to 5 GiB",
            ],
        ),
        case(
            "zero part size",
            |p| p.set("transfer", "part_size", "0"),
            &["transfer.part_size '0 B' is out of range"],
        ),
        case(
            "negative part size",
            |p| p.set("transfer", "part_size", "-5"),
            &["key 'transfer.part_size': '-5' is negative: use \"auto\" or a size like \"64MiB\""],
        ),
        case(
            "part size above 5 GiB",
            |p| p.set("transfer", "part_size", "\"5.5GiB\""),
            &["transfer.part_size '5.5 GiB' is out of range"],
        ),
        case(
            "threshold above 5 GiB",
            |p| p.line("transfer", "multipart_threshold = \"6GiB\""),
            &[
                "transfer.multipart_threshold '6 GiB' is out of range: use a size from 5 MiB to 5 GiB",
            ],
        ),
        case(
            "threshold one byte above 5 GiB",
            |p| p.line("transfer", "multipart_threshold = 5368709121"),
            &[
                "transfer.multipart_threshold '5.0 GiB' (5368709121 bytes) is out of range: use a size from 5 MiB to 5 GiB",
            ],
        ),
        case(
            "zero threshold",
            |p| p.line("transfer", "multipart_threshold = 0"),
            &["transfer.multipart_threshold '0 B' is out of range"],
        ),
        case(
            "size with an unknown unit",
            |p| p.line("transfer", "multipart_threshold = \"64 megs\""),
            &["'64 megs' has an unknown unit 'megs': use B, KiB, MiB, GiB, TiB"],
        ),
        case(
            "zero timeout",
            |p| p.line("transfer", "read_timeout = \"0s\""),
            &["transfer.read_timeout '0s' is out of range: use more than 0s and at most 1h"],
        ),
        case(
            "absurd timeout",
            |p| p.line("transfer", "connect_timeout = \"3 weeks\""),
            &["transfer.connect_timeout '3 weeks' is out of range"],
        ),
        case(
            "timeout that is not a duration",
            |p| p.line("transfer", "read_timeout = \"forever\""),
            &[
                "transfer.read_timeout 'forever' is not a duration",
                "write it like '30s' or '2m'",
            ],
        ),
        case(
            "tiny estimate rate",
            |p| p.line("transfer", "estimate_rate = \"10B/s\""),
            &["transfer.estimate_rate '10B/s' is too small: use at least '1KiB/s'"],
        ),
    ]
}

fn endpoints() -> Vec<Case> {
    let endpoint = |name: &'static str, url: &str, says: &[&str]| {
        let url = url.to_string();
        case(
            name,
            move |p| p.set_str("source", "endpoint_url", &url),
            says,
        )
    };
    vec![
        endpoint(
            "endpoint that is not a URL",
            "s3 dot example dot com",
            &[
                "source.endpoint_url 's3 dot example dot com' is not a URL: write it like 'https://s3.example.com'",
            ],
        ),
        endpoint(
            "endpoint with another scheme",
            "ftp://s3.example.com",
            &["source.endpoint_url 'ftp://s3.example.com' has scheme 'ftp': use 'https://'"],
        ),
        endpoint(
            "endpoint without a host",
            "https://",
            &["source.endpoint_url 'https://' has no valid host and port"],
        ),
        endpoint(
            "endpoint with a port out of range",
            "https://s3.example.com:99999",
            &["source.endpoint_url 'https://s3.example.com:99999' has no valid host and port"],
        ),
        endpoint(
            "endpoint with a space in the host",
            "https://s3 .example.com",
            &["source.endpoint_url 'https://s3 .example.com' has no valid host and port"],
        ),
        endpoint(
            "empty endpoint",
            "",
            &["source.endpoint_url '' is not a URL"],
        ),
        endpoint(
            "plain http to another host",
            "http://s3.example.com",
            &[
                "source.endpoint_url 'http://s3.example.com' uses plain http to a host that is not this machine: use https, or set allow_http = true",
            ],
        ),
        endpoint(
            "plain http to a host that only starts like loopback",
            "http://127.0.0.1.example.com:9000",
            &[
                "'http://127.0.0.1.example.com:9000' uses plain http to a host that is not this machine",
            ],
        ),
        endpoint(
            "plain http with loopback as user info",
            "http://127.0.0.1@s3.example.com",
            &[
                "'http://127.0.0.1@s3.example.com' uses plain http to a host that is not this machine",
            ],
        ),
        case(
            "plain http to a remote SSM endpoint",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"target\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                        "endpoint_url = \"http://ssm.example.com\"",
                    ],
                )
            },
            &[
                "source.credentials.endpoint_url 'http://ssm.example.com' uses plain http",
                "allow_http = true",
            ],
        ),
        case(
            "allow_http that is not a boolean",
            |p| p.line("source", "allow_http = \"yes\""),
            &["key 'source.allow_http': invalid type: a string, expected a boolean"],
        ),
    ]
}

fn credentials_and_names() -> Vec<Case> {
    vec![
        case(
            "unknown credential kind",
            |p| p.set("target.credentials", "kind", "\"iam-magic\""),
            &[
                "target.credentials.kind 'iam-magic' is not a credential kind: use 'default', 'profile', 'env', 'static', 'assume_role' or 'ssm'",
            ],
        ),
        case(
            "credential kind in the wrong case",
            |p| p.set("source.credentials", "kind", "\"Static\""),
            &["source.credentials.kind 'Static' is not a credential kind"],
        ),
        case(
            "empty secret",
            |p| p.set("source.credentials", "secret_access_key", "\"\""),
            &["access_key_id and secret_access_key must not be empty"],
        ),
        case(
            "via pointing at its own side",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"source\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &["source.credentials.via 'source' points at its own side"],
        ),
        case(
            "via that is not understood",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"the ops role\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &[
                "source.credentials.via 'the ops role' is not understood: use 'target', 'source', 'default' or 'profile:NAME'",
            ],
        ),
        case(
            "role ARN that is not one",
            |p| {
                p.table(
                    "target.credentials",
                    &["kind = \"assume_role\"", "role_arn = \"ops-role\""],
                )
            },
            &[
                "target.credentials.role_arn 'ops-role' is not a role ARN: write 'arn:aws:iam::123456789012:role/name'",
            ],
        ),
        case(
            "bucket with a slash",
            |p| p.set("source", "bucket", "\"source-bucket/in\""),
            &[
                "source.bucket 'source-bucket/in' contains '/'",
                "put the rest in 'source.prefix'",
            ],
        ),
        case(
            "bucket in upper case",
            |p| p.set("target", "bucket", "\"Target_Bucket\""),
            &["target.bucket 'Target_Bucket' is not a bucket name: 3 to 63 lowercase letters"],
        ),
        case(
            "empty bucket",
            |p| p.set("target", "bucket", "\"\""),
            &["target.bucket '' is not a bucket name"],
        ),
        case(
            "region that is not one",
            |p| p.set("source", "region", "\"US East\""),
            &["source.region 'US East' is not a region: write one like 'us-east-1'"],
        ),
        case(
            "unknown sse",
            |p| p.line("target", "sse = \"aes\""),
            &["target.sse 'aes' is not supported: use 'AES256' or 'aws:kms'"],
        ),
        case(
            "unknown storage class",
            |p| p.line("target", "storage_class = \"COLD\""),
            &["target.storage_class 'COLD' is not an S3 storage class: use one of STANDARD"],
        ),
        case(
            "unknown verify mode",
            |p| p.line("transfer", "verify = \"sha1\""),
            &[
                "transfer.verify 'sha1' is not a verify mode: use 'checksum' (default), 'md5' or 'size'",
            ],
        ),
    ]
}

fn not_toml() -> Vec<Case> {
    vec![
        raw_case(
            "prose",
            "copy everything from the old bucket please\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "json",
            "{\"source\": {\"bucket\": \"source-bucket\"}}\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "unterminated string holding a secret",
            &format!(
                "[source]\nbucket = \"source-bucket\"\n[source.credentials]\nsecret_access_key = \"{SECRET}\n"
            ),
            &["is not a valid config: line 4"],
        ),
        raw_case(
            "table header never closed",
            "[source\nbucket = \"source-bucket\"\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "NUL bytes",
            "[source]\nbucket = \"a\0b\"\n",
            &["is not a valid config: line 2"],
        ),
    ]
}

/// Run `airlock --config FILE ARGS` for a case; a list of what is wrong with the answer.
async fn check(sandbox: &Sandbox, case: &Case, args: &[&str]) -> Vec<String> {
    let path = sandbox.write_config(&case.text);
    let out = sandbox
        .airlock(
            ["--config", path.to_str().unwrap()]
                .iter()
                .chain(args)
                .copied(),
        )
        .run()
        .await;
    let mut problems = problems(&out);
    let path_quoted = format!("'{}'", path.display());
    if !out.stderr.contains(&path_quoted) {
        problems.push(format!("does not name the file {path_quoted}"));
    }
    for part in &case.says {
        if !out.stderr.contains(part.as_str()) {
            problems.push(format!("does not say {part:?}"));
        }
    }
    problems
        .into_iter()
        .map(|p| {
            format!(
                "[{}] airlock {}: {p}\n  exit {}, stderr: {}",
                case.name,
                args.join(" "),
                out.code,
                out.stderr.trim_end()
            )
        })
        .collect()
}

/// What every refusal must look like, whatever the case.
fn problems(out: &Output) -> Vec<String> {
    let mut problems = Vec::new();
    if out.code != 2 {
        problems.push(format!("exit code {} (wanted 2)", out.code));
    }
    if out.stderr.contains("panicked") || out.code == 101 {
        problems.push("panicked".into());
    }
    if !out.stdout.is_empty() {
        problems.push(format!("printed to stdout: {:?}", out.stdout));
    }
    if !out.stderr.starts_with("airlock: ") || out.stderr.trim_end().lines().count() != 1 {
        problems.push("stderr is not one 'airlock: ...' line".into());
    }
    if out.all().contains(SECRET) {
        problems.push("printed the secret".into());
    }
    problems
}

/// Run every case (a few at a time) under `config check`, and `plan` for a sample.
async fn refuse_all(category: &str, cases: Vec<Case>) {
    let sandbox = Sandbox::new();
    let count = cases.len();
    let failures: Vec<String> = futures::stream::iter(cases.iter().enumerate())
        .map(|(i, case)| {
            let sandbox = &sandbox;
            async move {
                let mut problems = check(sandbox, case, &["config", "check"]).await;
                // `plan` loads the config through the same path; sample it.
                if i % 3 == 0 {
                    problems.extend(check(sandbox, case, &["plan"]).await);
                }
                problems
            }
        })
        .buffer_unordered(4)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {count} {category} cases answered badly:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_good_config_is_accepted() {
    // The base every case edits must itself be valid, or the cases prove nothing.
    let sandbox = Sandbox::new();
    let text = good().text();
    let settings = airlock_core::config::parse_settings(&text, "good.toml")
        .unwrap_or_else(|e| panic!("the base config is refused: {e}\n{text}"));
    assert_eq!(settings.transfer.concurrency, 8);
    // Through the binary too: it gets past validation to credentials (the profile does not
    // exist in the sandbox), which is not a config error about a key.
    let path = sandbox.write_config(&text);
    let out = sandbox
        .airlock(["--config", path.to_str().unwrap(), "config", "check"])
        .run()
        .await;
    assert!(
        !out.stderr.contains("is not a valid config"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.starts_with("config: "), "{}", out.stdout);
    out.assert_never_prints(SECRET);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_keys_are_refused() {
    refuse_all("missing-key", missing_keys()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_are_refused() {
    refuse_all("unknown-key", unknown_keys()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_are_refused() {
    refuse_all("wrong-type", wrong_types()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sizes_and_durations_are_refused() {
    refuse_all("size", sizes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_are_refused() {
    refuse_all("endpoint", endpoints()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_and_names_are_refused() {
    refuse_all("credential/name", credentials_and_names()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_toml_are_refused() {
    refuse_all("not-TOML", not_toml()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_config_files_are_refused() {
    let sandbox = Sandbox::new();
    let missing = sandbox.path().join("nope.toml");
    let not_utf8 = sandbox.path().join("latin1.toml");
    std::fs::write(&not_utf8, b"[source]\nbucket = \"caf\xe9\"\n").unwrap();
    let directory = sandbox.path().join("a-directory.toml");
    std::fs::create_dir(&directory).unwrap();
    for (path, says) in [
        (&missing, "no config file found; looked at"),
        (&not_utf8, "is not UTF-8 text"),
        (
            &directory,
            "(--config) is a directory: name the config file itself",
        ),
    ] {
        let out = sandbox
            .airlock(["--config", path.to_str().unwrap(), "config", "check"])
            .run()
            .await;
        let problems = problems(&out);
        assert!(
            problems.is_empty(),
            "{}: {problems:?}\n{out:?}",
            path.display()
        );
        assert!(
            out.stderr.contains(says),
            "{}: {}",
            path.display(),
            out.stderr
        );
        assert!(
            out.stderr.contains(&format!("'{}'", path.display())),
            "{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_http_lets_a_side_use_plain_http_to_another_host() {
    // The counterpart of the refusals above: with allow_http the same URL passes validation
    // (the run then fails to connect, which is not a config error).
    let config = good().set_str("source", "endpoint_url", "http://s3.invalid.example:9000");
    let refused = airlock_core::config::parse_settings(&config.text(), "t.toml")
        .expect_err("plain http to a remote host without allow_http");
    assert!(
        refused.to_string().contains("allow_http = true"),
        "{refused}"
    );
    let config = config.line("source", "allow_http = true");
    let settings = airlock_core::config::parse_settings(&config.text(), "t.toml")
        .unwrap_or_else(|e| panic!("allow_http = true should allow it: {e}"));
    assert_eq!(
        settings.source.endpoint_url.as_deref(),
        Some("http://s3.invalid.example:9000")
    );
    // Only on that side: the target keeps refusing.
    let config = config.set_str("target", "endpoint_url", "http://s3.invalid.example:9001");
    let refused = airlock_core::config::parse_settings(&config.text(), "t.toml")
        .expect_err("the target did not set allow_http");
    assert!(
        refused.to_string().contains("target.endpoint_url"),
        "{refused}"
    );
}
