//! Source credentials from SSM Parameter Store (moto), read with the target's credentials:
//! `config check` says where the keys came from, `ls source` works with them, a missing
//! parameter is named, and the secret never appears in output or logs.
//!
//! Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under `CI=true`): see
//! `common::moto`.

use crate::common::moto::Moto;
use crate::common::*;

const ACCESS_KEY_PARAMETER: &str = "/airlock/source/access-key-id";
const SECRET_PARAMETER: &str = "/airlock/source/secret-access-key";

/// A config whose source keys come from SSM at `moto`, via the target's static keys.
fn ssm_config(servers: &TwoServers, moto: &Moto) -> std::path::PathBuf {
    servers
        .config()
        .set_str("source", "prefix", "in/")
        .ssm_keys(
            "source",
            &moto.endpoint,
            ACCESS_KEY_PARAMETER,
            SECRET_PARAMETER,
        )
        .write(&servers.sandbox)
}

/// Panics if the secret is in the output or in airlock's log file.
#[track_caller]
fn assert_secret_kept(servers: &TwoServers, out: &Output) {
    out.assert_never_prints(SOURCE_SECRET_KEY);
    out.assert_never_prints(TARGET_SECRET_KEY);
    let log = std::fs::read_to_string(servers.sandbox.log_file()).expect("read the log file");
    assert!(
        !log.is_empty(),
        "the log file is empty: nothing was checked"
    );
    for secret in [SOURCE_SECRET_KEY, TARGET_SECRET_KEY] {
        assert!(!log.contains(secret), "the log holds a secret:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn source_keys_from_ssm_read_with_target_credentials() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    moto.put_secure_string(ACCESS_KEY_PARAMETER, SOURCE_ACCESS_KEY)
        .await;
    moto.put_secure_string(SECRET_PARAMETER, SOURCE_SECRET_KEY)
        .await;
    servers
        .source
        .put("in/from-ssm.txt", b"hello".to_vec())
        .await;
    let config = ssm_config(&servers, &moto);

    // Trace logging to the file (SDK internals included) and debug to stderr: the most there
    // is to leak.
    let out = servers
        .airlock_with(&config, &["-vv", "config", "check"])
        .env("AIRLOCK_LOG", "trace")
        .run()
        .await;

    out.expect_code(0);
    let expected = format!(
        "config: {config}\n\
         source: s3://source-bucket/in/ (us-east-1, {source})\n  \
         credentials: SSM parameters '{ACCESS_KEY_PARAMETER}', '{SECRET_PARAMETER}' in us-east-1 \
         read with target credentials (static keys in the config (access key …-key))\n  \
         bucket: ok (HeadBucket)\n\
         target: s3://target-bucket/ (us-east-1, {target})\n  \
         credentials: static keys in the config (access key …-key)\n  \
         bucket: ok (HeadBucket)\n\
         result: source ok, target ok\n",
        config = config.display(),
        source = servers.source.server.endpoint,
        target = servers.target.server.endpoint,
    );
    assert_eq!(out.stdout, expected);
    assert_secret_kept(&servers, &out);

    let out = servers
        .airlock_with(&config, &["-vv", "ls", "source", "--recursive"])
        .env("AIRLOCK_LOG", "trace")
        .run()
        .await;

    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, "in/from-ssm.txt").len(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("1 objects, 5 B in s3://source-bucket/in/\n"),
        "{}",
        out.stdout
    );
    assert_secret_kept(&servers, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_missing_parameter_is_named() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    // Only the access key id: the secret's parameter does not exist.
    moto.put_secure_string(ACCESS_KEY_PARAMETER, SOURCE_ACCESS_KEY)
        .await;
    let config = ssm_config(&servers, &moto);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(2);
    let failed = format!(
        "  credentials: FAILED: SSM parameter '{SECRET_PARAMETER}': not found: check the name \
         and the region\n  bucket: not checked\n"
    );
    assert!(out.stdout.contains(&failed), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("result: source FAILED, target ok\n"),
        "{}",
        out.stdout
    );

    let out = servers.airlock_with(&config, &["ls", "source"]).run().await;

    out.expect_code(2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "airlock: SSM parameter '{SECRET_PARAMETER}': not found: check the name and the \
             region\n"
        )
    );
    assert_secret_kept(&servers, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn wrong_keys_in_ssm_fail_at_the_source_bucket() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    // The parameters hold the target's keys: readable, but refused by the source server.
    moto.put_secure_string(ACCESS_KEY_PARAMETER, TARGET_ACCESS_KEY)
        .await;
    moto.put_secure_string(SECRET_PARAMETER, TARGET_SECRET_KEY)
        .await;
    let config = ssm_config(&servers, &moto);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .run()
        .await;

    out.expect_code(2);
    assert!(
        out.stdout.contains(
            "  bucket: FAILED: source: HeadBucket on 's3://source-bucket' failed: AccessDenied \
             (HTTP 403) (check source.credentials: they are refused for this bucket)\n"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.ends_with("result: source FAILED, target ok\n"),
        "{}",
        out.stdout
    );
    assert_secret_kept(&servers, &out);
}
