//! `airlock config check` end to end against two real servers: where the keys came from,
//! HeadBucket per side, exit codes, and no secret in anything it prints.

use crate::common::*;

/// The report lines for one side that `config check` prints.
fn side_lines(side: &str, bucket: &str, endpoint: &str, bucket_line: &str) -> String {
    format!(
        "{side}: s3://{bucket}/ (us-east-1, {endpoint})\n  \
         credentials: static keys in the config (access key …-key)\n  \
         bucket: {bucket_line}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_sides_pass() {
    let servers = TwoServers::start().await;
    let config = servers.config().write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(0);
    let expected = format!(
        "config: {}\n{}{}result: source ok, target ok\n",
        config.display(),
        side_lines(
            "source",
            SOURCE_BUCKET,
            &servers.source.server.endpoint,
            "ok (HeadBucket)"
        ),
        side_lines(
            "target",
            TARGET_BUCKET,
            &servers.target.server.endpoint,
            "ok (HeadBucket)"
        ),
    );
    assert_eq!(out.stdout, expected);
    assert_eq!(out.stderr, "");
    out.assert_never_prints(SOURCE_SECRET_KEY);
    out.assert_never_prints(TARGET_SECRET_KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_target_secret_fails_the_target_only() {
    let servers = TwoServers::start().await;
    let wrong_secret = "target-wrong-secret-9999";
    let config = servers
        .config()
        .keys("target", TARGET_ACCESS_KEY, wrong_secret)
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(2);
    let expected = format!(
        "config: {}\n{}{}result: source ok, target FAILED\n",
        config.display(),
        side_lines(
            "source",
            SOURCE_BUCKET,
            &servers.source.server.endpoint,
            "ok (HeadBucket)"
        ),
        side_lines(
            "target",
            TARGET_BUCKET,
            &servers.target.server.endpoint,
            "FAILED: target: HeadBucket on 's3://target-bucket' failed: AccessDenied (HTTP 403) \
             (check target.credentials: they are refused for this bucket)"
        ),
    );
    assert_eq!(out.stdout, expected);
    out.assert_never_prints(wrong_secret);
    out.assert_never_prints(SOURCE_SECRET_KEY);
    out.assert_never_prints(TARGET_SECRET_KEY);
    // The log records the failure, without the secret.
    let log = std::fs::read_to_string(servers.sandbox.log_file()).expect("read log");
    assert!(log.contains("HeadBucket failed"), "log: {log}");
    assert!(!log.contains(wrong_secret), "log holds the secret: {log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_is_named() {
    let servers = TwoServers::start().await;
    let config = servers
        .config()
        .set_str("source", "bucket", "no-such-bucket")
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(2);
    let expected = format!(
        "config: {}\n{}{}result: source FAILED, target ok\n",
        config.display(),
        side_lines(
            "source",
            "no-such-bucket",
            &servers.source.server.endpoint,
            "FAILED: source: HeadBucket on 's3://no-such-bucket' failed: NotFound (HTTP 404) \
             (check source.bucket and source.region in the config)"
        ),
        side_lines(
            "target",
            TARGET_BUCKET,
            &servers.target.server.endpoint,
            "ok (HeadBucket)"
        ),
    );
    assert_eq!(out.stdout, expected);
    out.assert_never_prints(SOURCE_SECRET_KEY);
    out.assert_never_prints(TARGET_SECRET_KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_fails_its_side() {
    let servers = TwoServers::start().await;
    let config = servers.config().write(&servers.sandbox);
    servers.target.server.stop();
    // Let the accept loop notice the cancellation and drop its listener.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(2);
    assert!(
        out.stdout.ends_with("result: source ok, target FAILED\n"),
        "{}",
        out.stdout
    );
    let failed = lines_with(&out.stdout, "bucket: FAILED");
    assert_eq!(failed.len(), 1, "{}", out.stdout);
    assert!(
        failed[0].contains("target: HeadBucket on 's3://target-bucket' failed: connection failed"),
        "{}",
        failed[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_not_found_says_where_it_looked() {
    let sandbox = Sandbox::new();
    let nowhere = sandbox.path().join("missing").join("airlock.toml");

    let out = sandbox
        .airlock(["plan"])
        .env("AIRLOCK_CONFIG", &nowhere)
        .run()
        .await;

    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "airlock: config: no config file found; looked at '{path}' ($AIRLOCK_CONFIG). To \
             start, copy config.example.toml to '{path}' and edit it, or pass --config PATH (try \
             'airlock demo' to see airlock without AWS)\n",
            path = nowhere.display()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_config_names_the_file_and_key() {
    let sandbox = Sandbox::new();
    let config = Config::minimal()
        .set_str("source", "bucket", "b-one")
        .line("source", "bukcet = \"typo\"")
        .write(&sandbox);

    let out = sandbox
        .airlock(["config", "check"])
        .arg("--config")
        .arg(&config)
        .run()
        .await;

    out.expect_code(2);
    assert!(
        out.stderr.starts_with(&format!(
            "airlock: config: '{}' is not a valid config: line 3, key 'source.bukcet': unknown key 'bukcet'",
            config.display()
        )),
        "{}",
        out.stderr
    );
}
