//! The bad-config corpus, run through the real binary: every case is a config file that must be
//! refused by `airlock config check` (and by `airlock plan`, which loads it the same way) with
//! exit code 2, no panic, nothing on stdout, one `airlock: ...` error on stderr that names the
//! file, the key and the value, and says what to write instead. No case may echo a secret.
//!
//! `config_errors.rs` pins the exact wording of each message in-process; this file proves the
//! binary end of it over a broad corpus (missing and unknown keys, wrong types, absurd sizes,
//! S3 limits, endpoints, credential kinds, files that are not TOML at all).

use futures::StreamExt;

mod keys;
mod values;

use keys::{missing_keys, sizes, unknown_keys, wrong_types};
use values::{credentials_and_names, endpoints, not_toml};

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
