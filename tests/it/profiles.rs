//! Role profiles (`role_arn` with `source_profile`, `credential_source` or
//! `web_identity_token_file`) for `kind = "profile"` and `via = "profile:NAME"`, assumed against
//! moto's STS: the profile provider must get a region (the side's), or every role profile
//! fails before its first request. The profile files live in the sandbox and reach only the
//! child process (`AWS_CONFIG_FILE`); STS is found through the profile's `endpoint_url`.
//!
//! Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under `CI=true`).

use std::path::PathBuf;

use crate::common::moto::Moto;
use crate::common::*;

const ACCESS_KEY_PARAMETER: &str = "/airlock/source/access-key-id";
const SECRET_PARAMETER: &str = "/airlock/source/secret-access-key";
const BASE_SECRET: &str = "profile-base-secret-0000";
const READER_ROLE: &str = "arn:aws:iam::123456789012:role/airlock-ssm-reader";
const WRITER_ROLE: &str = "arn:aws:iam::123456789012:role/airlock-writer";

/// `<sandbox>/aws-config`: a base profile with static keys and three role profiles, each
/// sending STS (and only STS: the config names S3 and SSM endpoints itself) to moto.
fn profile_file(servers: &TwoServers, moto: &Moto) -> PathBuf {
    let token = servers.sandbox.path().join("web-identity-token");
    std::fs::write(&token, "a-web-identity-token").expect("write the token file");
    let sts = "services = moto\n";
    let text = format!(
        "[profile base]\n\
         aws_access_key_id = profile-base-key\n\
         aws_secret_access_key = {BASE_SECRET}\n\n\
         [profile reader]\n\
         role_arn = {READER_ROLE}\n\
         source_profile = base\n\
         {sts}\n\
         [profile writer]\n\
         role_arn = {WRITER_ROLE}\n\
         web_identity_token_file = {token}\n\
         {sts}\n\
         [profile from-env]\n\
         role_arn = {WRITER_ROLE}\n\
         credential_source = Environment\n\
         {sts}\n\
         [services moto]\n\
         sts =\n  endpoint_url = {endpoint}\n",
        token = token.display(),
        endpoint = moto.endpoint,
    );
    let path = servers.sandbox.path().join("aws-config");
    std::fs::write(&path, text).expect("write the profile file");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn ssm_read_with_a_role_profile_assumed_through_sts() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    moto.put_secure_string(ACCESS_KEY_PARAMETER, SOURCE_ACCESS_KEY)
        .await;
    moto.put_secure_string(SECRET_PARAMETER, SOURCE_SECRET_KEY)
        .await;
    servers.source.put("in/a.txt", b"hello".to_vec()).await;
    let profiles = profile_file(&servers, &moto);
    let table = "source.credentials";
    let config = servers
        .config()
        .set_str("source", "prefix", "in/")
        .ssm_keys(
            "source",
            &moto.endpoint,
            ACCESS_KEY_PARAMETER,
            SECRET_PARAMETER,
        )
        .set_str(table, "via", "profile:reader")
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["config", "check"])
        .env("AWS_CONFIG_FILE", &profiles)
        .run()
        .await;

    out.expect_code(0);
    let described = format!(
        "  credentials: SSM parameters '{ACCESS_KEY_PARAMETER}', '{SECRET_PARAMETER}' in \
         us-east-1 read with profile 'reader' assuming role '{READER_ROLE}'\n  bucket: ok"
    );
    assert!(out.stdout.contains(&described), "{}", out.all());
    out.assert_never_prints(BASE_SECRET);
    out.assert_never_prints(SOURCE_SECRET_KEY);

    let out = servers
        .airlock_with(&config, &["ls", "source", "--recursive"])
        .env("AWS_CONFIG_FILE", &profiles)
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, "in/a.txt").len(),
        1,
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn kind_profile_assumes_roles_from_web_identity_and_credential_source() {
    let moto = Moto::start();
    let servers = TwoServers::start().await;
    s3_client(&moto.endpoint, "any", "any")
        .create_bucket()
        .bucket(TARGET_BUCKET)
        .send()
        .await
        .expect("create the target bucket on moto");
    let profiles = profile_file(&servers, &moto);
    for (profile, described) in [
        (
            "writer",
            format!("profile 'writer' assuming role '{WRITER_ROLE}' with a web identity token"),
        ),
        (
            "from-env",
            format!("profile 'from-env' assuming role '{WRITER_ROLE}'"),
        ),
    ] {
        let config = servers
            .config()
            .set_str("target", "endpoint_url", &moto.endpoint)
            .table(
                "target.credentials",
                &[
                    "kind = \"profile\"".to_string(),
                    format!("profile = \"{profile}\""),
                ],
            )
            .write(&servers.sandbox);

        let out = servers
            .airlock_with(&config, &["config", "check"])
            .env("AWS_CONFIG_FILE", &profiles)
            .env("AWS_ACCESS_KEY_ID", "env-base-key")
            .env("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
            .run()
            .await;

        out.expect_code(0);
        let target_line = format!(
            "target: s3://{TARGET_BUCKET}/ (us-east-1, {})\n",
            moto.endpoint
        );
        assert!(out.stdout.contains(&target_line), "{}", out.all());
        let expected = format!("  credentials: {described}\n  bucket: ok (HeadBucket)\n");
        assert!(out.stdout.contains(&expected), "{profile}: {}", out.all());
        out.assert_never_prints(BASE_SECRET);
    }
}
