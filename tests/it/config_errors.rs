//! Every way a config file can be wrong gets a test that asserts the message: it names the key,
//! quotes the value and, where airlock knows, says what to write instead. Configs that must
//! be accepted (the shipped example, defaults, size syntax) are in `config_example.rs`.

use airlock_core::config::{Settings, Side, parse_settings};
use airlock_core::{ErrorKind, aws};

use crate::common::Config;

fn parse(config: Config) -> Settings {
    let text = config.text();
    parse_settings(&text, "test.toml").unwrap_or_else(|e| panic!("should parse: {e}\n{text}"))
}

/// The message for `config`, which must be refused as a config error.
fn refused(config: Config) -> String {
    let text = config.text();
    let err = parse_settings(&text, "test.toml").expect_err(&format!("should be refused:\n{text}"));
    assert!(matches!(err.kind(), ErrorKind::Config(_)), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("'test.toml'"), "names the file: {message}");
    message
}

#[track_caller]
fn assert_says(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in:\n{message}");
    }
}

#[test]
fn missing_source_table() {
    let message = refused(Config::minimal().without("source"));
    assert_says(
        &message,
        &["the [source] table is missing: add it with at least 'source.bucket'"],
    );
}

#[test]
fn missing_source_bucket() {
    let message = refused(
        Config::minimal()
            .unset("source", "bucket")
            .set_str("source", "prefix", "a/"),
    );
    assert_says(
        &message,
        &["'source.bucket' is missing: name the source bucket"],
    );
}

#[test]
fn unknown_top_level_key() {
    let message = refused(Config::minimal().top("sorce = 1"));
    assert_says(
        &message,
        &[
            "is not a valid config: line 1, key 'sorce': unknown key 'sorce'",
            "expected one of 'source', 'target', 'transfer'",
        ],
    );
}

#[test]
fn unknown_transfer_key_is_named_with_its_table_and_line() {
    let config = Config::minimal().transfer(&["concurency = 16"]);
    let text = config.text();
    let message = refused(config);
    assert_says(
        &message,
        &[
            "line 8, key 'transfer.concurency': unknown key 'concurency'",
            "'concurrency'",
        ],
    );
    assert_eq!(text.lines().nth(7), Some("concurency = 16"));
}

#[test]
fn unknown_credentials_key() {
    let message = refused(Config::minimal().table(
        "source.credentials",
        &["kind = \"profile\"", "profil = \"ops\""],
    ));
    assert_says(
        &message,
        &[
            "key 'source.credentials.profil': unknown key 'profil'",
            "'profile'",
        ],
    );
}

#[test]
fn typo_in_a_header_names_the_table() {
    let message = refused(Config::minimal().table("source.credentalz", &["kind = \"default\""]));
    assert_says(
        &message,
        &["line 4, key 'source.credentalz': unknown key 'credentalz'"],
    );
}

#[test]
fn key_of_another_credential_kind() {
    let message = refused(Config::minimal().table(
        "target.credentials",
        &[
            "kind = \"static\"",
            "access_key_id = \"k\"",
            "secret_access_key = \"s\"",
            "profile = \"ops\"",
        ],
    ));
    assert_says(
        &message,
        &[
            "'target.credentials.profile' does not apply to kind = 'static': remove it or change the kind",
        ],
    );
}

#[test]
fn via_with_kind_profile_does_not_apply() {
    let message = refused(Config::minimal().table(
        "source.credentials",
        &[
            "kind = \"profile\"",
            "profile = \"ops\"",
            "via = \"target\"",
        ],
    ));
    assert_says(
        &message,
        &["'source.credentials.via' does not apply to kind = 'profile'"],
    );
}

#[test]
fn unknown_credential_kind() {
    let message = refused(Config::minimal().table("source.credentials", &["kind = \"iam\""]));
    assert_says(
        &message,
        &[
            "source.credentials.kind 'iam' is not a credential kind: use 'default', 'profile', 'env', 'static', 'assume_role' or 'ssm'",
        ],
    );
}

#[test]
fn string_for_concurrency() {
    let message = refused(Config::minimal().transfer(&["concurrency = \"16\""]));
    assert_says(
        &message,
        &["key 'transfer.concurrency': '16' is not a concurrency: use \"auto\" or a number"],
    );
}

#[test]
fn number_for_bucket() {
    let message = refused(Config::minimal().set("source", "bucket", "12"));
    assert_says(
        &message,
        &["line 2, key 'source.bucket': invalid type: integer '12', expected a string"],
    );
}

#[test]
fn number_for_a_table() {
    let message = refused(Config::minimal().set("source", "credentials", "3"));
    assert_says(
        &message,
        &["key 'source.credentials': invalid type: integer '3', expected a table"],
    );
}

#[test]
fn concurrency_out_of_range() {
    for value in ["0", "-1", "5000"] {
        let message = refused(Config::minimal().set("transfer", "concurrency", value));
        assert_says(
            &message,
            &[&format!(
                "transfer.concurrency '{value}' is out of range: use 1 to 1024 or \"auto\" (default \"auto\")"
            )],
        );
    }
}

#[test]
fn memory_limit_zero() {
    let message = refused(Config::minimal().transfer(&["memory_limit = \"0\""]));
    assert_says(
        &message,
        &["transfer.memory_limit '0 B' is out of range: use 1 MiB to 64 GiB (default 256 MiB)"],
    );
}

#[test]
fn memory_limit_absurd() {
    let message = refused(Config::minimal().transfer(&["memory_limit = \"100TiB\""]));
    assert_says(
        &message,
        &["transfer.memory_limit '100 TiB' is out of range: use 1 MiB to 64 GiB"],
    );
}

#[test]
fn memory_limit_negative() {
    let message = refused(Config::minimal().transfer(&["memory_limit = -5"]));
    assert_says(&message, &["key 'transfer.memory_limit': '-5' is negative"]);
}

#[test]
fn max_retries_negative() {
    let message = refused(Config::minimal().transfer(&["max_retries = -3"]));
    assert_says(
        &message,
        &["transfer.max_retries '-3' is out of range: use 0 to 100 (default 8)"],
    );
}

#[test]
fn part_size_below_five_mib() {
    let message = refused(Config::minimal().transfer(&["part_size = \"1MiB\""]));
    assert_says(
        &message,
        &[
            "transfer.part_size '1 MiB' is out of range: S3 parts are 5 MiB to 5 GiB; use \"auto\" or a size in that range",
        ],
    );
}

#[test]
fn part_size_above_five_gib() {
    let message = refused(Config::minimal().transfer(&["part_size = \"6GiB\""]));
    assert_says(&message, &["transfer.part_size '6 GiB' is out of range"]);
}

#[test]
fn part_size_of_the_wrong_type() {
    let message = refused(Config::minimal().transfer(&["part_size = true"]));
    assert_says(
        &message,
        &["key 'transfer.part_size': invalid type: boolean 'true', expected \"auto\" or a size"],
    );
    let message = refused(Config::minimal().transfer(&["part_size = 1.5"]));
    assert_says(
        &message,
        &["key 'transfer.part_size': '1.5' is not a size: use \"auto\" or a quoted size"],
    );
}

#[test]
fn multipart_threshold_above_five_gib() {
    let message = refused(Config::minimal().transfer(&["multipart_threshold = \"6GiB\""]));
    assert_says(
        &message,
        &[
            "transfer.multipart_threshold '6 GiB' is out of range: use a size from 5 MiB to 5 GiB (default 1.5 GiB)",
        ],
    );
}

#[test]
fn multipart_threshold_below_five_mib() {
    let message = refused(Config::minimal().transfer(&["multipart_threshold = \"4MiB\""]));
    assert_says(
        &message,
        &["transfer.multipart_threshold '4 MiB' is out of range"],
    );
}

#[test]
fn size_with_an_unknown_unit() {
    let message = refused(Config::minimal().transfer(&["memory_limit = \"12 parsecs\""]));
    assert_says(
        &message,
        &[
            "key 'transfer.memory_limit': '12 parsecs' has an unknown unit 'parsecs': use B, KiB, MiB, GiB, TiB",
        ],
    );
}

#[test]
fn size_without_a_number() {
    let message = refused(Config::minimal().transfer(&["multipart_threshold = \"MiB\""]));
    assert_says(
        &message,
        &[
            "key 'transfer.multipart_threshold': 'MiB' is not a size: write a number with an optional unit, like '64MiB'",
        ],
    );
}

#[test]
fn endpoint_that_is_not_a_url() {
    let message = refused(Config::minimal().lines("source", &["endpoint_url = \"not a url\""]));
    assert_says(
        &message,
        &["source.endpoint_url 'not a url' is not a URL: write it like 'https://s3.example.com'"],
    );
}

#[test]
fn endpoint_with_another_scheme() {
    let message = refused(Config::minimal().lines("source", &["endpoint_url = \"ftp://x\""]));
    assert_says(
        &message,
        &["source.endpoint_url 'ftp://x' has scheme 'ftp': use 'https://'"],
    );
}

#[test]
fn endpoint_without_a_host() {
    let message = refused(Config::minimal().lines("target", &["endpoint_url = \"http://\""]));
    assert_says(
        &message,
        &["target.endpoint_url 'http://' has no valid host and port"],
    );
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let message =
        refused(Config::minimal().lines("source", &["endpoint_url = \"http://example.com\""]));
    assert_says(
        &message,
        &[
            "source.endpoint_url 'http://example.com' uses plain http to a host that is not this machine: use https, or set allow_http = true",
        ],
    );
}

#[test]
fn plain_http_to_another_host_with_allow_http() {
    let settings = parse(Config::minimal().lines(
        "source",
        &["endpoint_url = \"http://example.com\"", "allow_http = true"],
    ));
    assert_eq!(
        settings.source.endpoint_url.as_deref(),
        Some("http://example.com")
    );
}

#[test]
fn plain_http_to_loopback_is_accepted() {
    let settings =
        parse(Config::minimal().lines("target", &["endpoint_url = \"http://127.0.0.1:9000\""]));
    assert_eq!(
        settings.target.endpoint_url.as_deref(),
        Some("http://127.0.0.1:9000")
    );
}

/// A `kind = "ssm"` credentials table read `via` a side.
fn ssm(via: &str) -> [String; 4] {
    [
        "kind = \"ssm\"".into(),
        "access_key_id_parameter = \"/a/id\"".into(),
        "secret_access_key_parameter = \"/a/secret\"".into(),
        format!("via = \"{via}\""),
    ]
}

/// Source credentials that assume a role, with `base` credentials from SSM read `via` a side.
fn assume_role_via(config: Config, via: &str) -> Config {
    config
        .table(
            "source.credentials",
            &[
                "kind = \"assume_role\"",
                "role_arn = \"arn:aws:iam::123456789012:role/r\"",
            ],
        )
        .table("source.credentials.base", &ssm(via))
}

#[test]
fn via_pointing_at_its_own_side() {
    let message = refused(Config::minimal().table("source.credentials", &ssm("source")));
    assert_says(
        &message,
        &[
            "source.credentials.via 'source' points at its own side: read the parameters with the other side's credentials",
        ],
    );
}

#[test]
fn via_pointing_at_its_own_side_under_assume_role() {
    let message = refused(assume_role_via(Config::minimal(), "source"));
    assert_says(
        &message,
        &["source.credentials.base.via 'source' points at its own side"],
    );
}

/// `config` (whose source credentials read SSM via the target) with target credentials that
/// read SSM via the source: each side needs the other's credentials.
fn circular(config: Config) -> Settings {
    parse(config.table("target.credentials", &ssm("source")))
}

/// Detected when credentials are resolved: both sides fail with a config error, and nothing
/// is fetched.
async fn assert_cycle_refused(settings: &Settings) {
    let (source, target) = aws::resolve_both(settings).await;
    for (side, result) in [(Side::Source, source), (Side::Target, target)] {
        let err = result.err().unwrap_or_else(|| panic!("{side} should fail"));
        assert!(
            matches!(err.kind(), ErrorKind::Config(_)),
            "{side}: {err:?}"
        );
        assert_says(
            &err.to_string(),
            &[
                "source.credentials.via = 'target' and target.credentials.via = 'source' depend on each other",
            ],
        );
    }
}

#[tokio::test]
async fn source_via_target_and_target_via_source() {
    assert_cycle_refused(&circular(
        Config::minimal().table("source.credentials", &ssm("target")),
    ))
    .await;
}

#[tokio::test]
async fn circle_through_assume_role_base() {
    let settings = circular(assume_role_via(Config::minimal(), "target"));
    assert_cycle_refused(&settings).await;
}

#[test]
fn ssm_without_via() {
    let message = refused(Config::minimal().table(
        "source.credentials",
        &[
            "kind = \"ssm\"",
            "access_key_id_parameter = \"/a/id\"",
            "secret_access_key_parameter = \"/a/secret\"",
        ],
    ));
    assert_says(
        &message,
        &[
            "'source.credentials.via' is required when kind = 'ssm': say whose credentials read the parameters",
        ],
    );
}

#[test]
fn assume_role_with_a_bad_role_arn() {
    let message = refused(Config::minimal().table(
        "source.credentials",
        &[
            "kind = \"assume_role\"",
            "role_arn = \"arn:aws:iam::123:user/bob\"",
        ],
    ));
    assert_says(
        &message,
        &[
            "source.credentials.role_arn 'arn:aws:iam::123:user/bob' is not a role ARN: write 'arn:aws:iam::123456789012:role/name'",
        ],
    );
}

#[test]
fn zero_timeout() {
    let message = refused(Config::minimal().transfer(&["connect_timeout = \"0s\""]));
    assert_says(
        &message,
        &["transfer.connect_timeout '0s' is out of range: use more than 0s and at most 1h"],
    );
}

#[test]
fn timeout_that_is_not_a_duration() {
    let message = refused(Config::minimal().transfer(&["read_timeout = \"fast\""]));
    assert_says(
        &message,
        &[
            "transfer.read_timeout 'fast' is not a duration (",
            "write it like '30s' or '2m'",
        ],
    );
}

#[test]
fn bad_verify_mode() {
    let message = refused(Config::minimal().transfer(&["verify = \"sha1\""]));
    assert_says(
        &message,
        &["transfer.verify 'sha1' is not a verify mode: use 'checksum' (default), 'md5' or 'size'"],
    );
}

#[test]
fn bad_compare_mode() {
    let message = refused(Config::minimal().transfer(&["compare = \"mtime\""]));
    assert_says(
        &message,
        &[
            "transfer.compare 'mtime' is not a compare mode: use 'checksum' (default), 'size-and-mtime' or 'size'",
        ],
    );
}

#[test]
fn bad_on_source_change() {
    let message = refused(Config::minimal().transfer(&["on_source_change = \"ignore\""]));
    assert_says(
        &message,
        &[
            "transfer.on_source_change 'ignore' is not understood: use 'fail' (default) or 'restart'",
        ],
    );
}

#[test]
fn sse_kms_key_id_without_sse() {
    let message =
        refused(Config::minimal().lines("target", &["sse_kms_key_id = \"alias/deliveries\""]));
    assert_says(
        &message,
        &[
            "target.sse_kms_key_id 'alias/deliveries' needs target.sse = \"aws:kms\" (target.sse is not set): set sse = \"aws:kms\" or remove sse_kms_key_id",
        ],
    );
}

#[test]
fn sse_kms_key_id_with_aes256() {
    let message = refused(Config::minimal().lines(
        "target",
        &["sse = \"AES256\"", "sse_kms_key_id = \"alias/deliveries\""],
    ));
    assert_says(
        &message,
        &[
            "target.sse_kms_key_id 'alias/deliveries' needs target.sse = \"aws:kms\" (target.sse is 'AES256')",
        ],
    );
}

#[test]
fn bad_storage_class() {
    let message = refused(Config::minimal().lines("target", &["storage_class = \"GLACIER_FAST\""]));
    assert_says(
        &message,
        &["target.storage_class 'GLACIER_FAST' is not an S3 storage class: use one of STANDARD,"],
    );
}

#[test]
fn bad_acl() {
    let message = refused(Config::minimal().lines("target", &["acl = \"everyone\""]));
    assert_says(
        &message,
        &[
            "target.acl 'everyone' is not a canned ACL: use one of private,",
            "bucket-owner-full-control",
        ],
    );
}

#[test]
fn bucket_with_a_slash() {
    let message = refused(Config::minimal().set_str("source", "bucket", "legacy/clients"));
    assert_says(
        &message,
        &[
            "source.bucket 'legacy/clients' contains '/': write only the bucket name and put the rest in 'source.prefix'",
        ],
    );
}
