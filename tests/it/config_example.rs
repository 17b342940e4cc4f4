//! Configs that must be accepted: the shipped `config.example.toml` parses to the values it
//! shows (and its comments' defaults are the real ones), defaults fill what is left out, sizes
//! accept every documented form, and secrets never reach `Debug`. Refusals are tested in
//! `config_errors.rs`.

use airlock_core::config::defaults;
use airlock_core::config::{
    ByteSize, CredentialSpec, PartSize, Settings, Side, SsmSpec, Via, parse_settings,
};

use crate::common::Config;

const EXAMPLE: &str = include_str!("../../config.example.toml");

fn parse(text: &str) -> Settings {
    parse_settings(text, "test.toml").unwrap_or_else(|e| panic!("should parse: {e}\n{text}"))
}

#[track_caller]
fn assert_says(message: &str, part: &str) {
    assert!(message.contains(part), "expected {part:?} in:\n{message}");
}

#[test]
fn example_config_parses_to_what_it_shows() {
    let settings = parse(EXAMPLE);
    let source = &settings.source;
    assert_eq!(
        (
            source.bucket.as_str(),
            source.prefix.as_str(),
            source.region.as_str()
        ),
        ("legacy-deliveries", "clients/acme/", "us-east-1")
    );
    assert_eq!(
        source.endpoint_url.as_deref(),
        Some("http://127.0.0.1:9000")
    );
    assert!(source.force_path_style);
    let CredentialSpec::Ssm(SsmSpec {
        access_key_id_parameter,
        secret_access_key_parameter,
        session_token_parameter: None,
        via: Via::Side(Side::Target),
        region: None,
        endpoint_url: None,
    }) = &source.credentials
    else {
        panic!(
            "source should read SSM via target: {:?}",
            source.credentials
        );
    };
    assert_eq!(access_key_id_parameter, "/airlock/source/access-key-id");
    assert_eq!(
        secret_access_key_parameter,
        "/airlock/source/secret-access-key"
    );

    let target = &settings.target;
    assert_eq!(
        (target.bucket.as_str(), target.prefix.as_str()),
        ("deliveries", "clients/acme/")
    );
    assert_eq!(target.endpoint_url, None);
    let CredentialSpec::Static {
        access_key_id,
        secret_access_key,
        session_token: None,
    } = &target.credentials
    else {
        panic!("target should be static: {:?}", target.credentials);
    };
    assert_eq!(access_key_id.expose(), "test-target-key");
    assert_eq!(secret_access_key.expose(), "test-target-secret");

    let transfer = &settings.transfer;
    assert_eq!(
        transfer.multipart_threshold,
        ByteSize(3 * 1024 * 1024 * 1024 / 2)
    );
    assert_eq!(transfer.part_size, PartSize::Auto);
    assert_eq!(transfer.concurrency, 256);
    assert!(transfer.adaptive_concurrency);
    assert_eq!(transfer.memory_limit, ByteSize::mib(256));
    assert_eq!(transfer.max_retries, 8);
    // Every other value the example writes out is the default it claims to be.
    let defaults = defaults::transfer();
    assert_eq!(*transfer, defaults);
}

#[test]
fn example_config_warns_about_static_keys_against_aws() {
    let warnings = parse(EXAMPLE).warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_says(
        &warnings[0],
        "target.credentials: kind = 'static' keeps keys in the config file",
    );
}

#[test]
fn debug_output_never_shows_secrets() {
    let debug = format!("{:?}", parse(EXAMPLE));
    assert!(!debug.contains("test-target-secret"), "{debug}");
    assert!(!debug.contains("test-target-key"), "{debug}");
    assert!(debug.contains("secret_access_key: ***"), "{debug}");
}

#[test]
fn defaults_apply_when_transfer_is_absent() {
    let settings = parse(&Config::minimal().text());
    assert_eq!(settings.transfer, defaults::transfer());
    assert_eq!(settings.source.region, defaults::REGION);
    assert_eq!(settings.source.prefix, "");
    assert_eq!(settings.target.credentials, CredentialSpec::Default);
    assert!(settings.warnings.is_empty(), "{:?}", settings.warnings);
}

#[test]
fn byte_sizes_accept_units_fractions_and_plain_bytes() {
    let settings = parse(
        &Config::minimal()
            .transfer(&[
                "multipart_threshold = \"1.5GiB\"",
                "part_size = \"64MiB\"",
                "memory_limit = 5000000",
            ])
            .text(),
    );
    let transfer = settings.transfer;
    assert_eq!(transfer.multipart_threshold, ByteSize(1_610_612_736));
    assert_eq!(
        transfer.part_size,
        PartSize::Fixed(ByteSize(64 * 1024 * 1024))
    );
    assert_eq!(transfer.memory_limit, ByteSize(5_000_000));
    let settings = parse(
        &Config::minimal()
            .transfer(&["memory_limit = \"5000000\""])
            .text(),
    );
    assert_eq!(settings.transfer.memory_limit, ByteSize(5_000_000));
}

#[test]
fn static_keys_against_a_remote_endpoint_warn() {
    let config = Config::minimal()
        .set_str("target", "endpoint_url", "https://s3.example.com")
        .keys("target", "k", "s");
    let warnings = parse(&config.text()).warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_says(
        &warnings[0],
        "target.credentials: kind = 'static' keeps keys in the config file; use it only for tests and the demo",
    );
}

#[test]
fn static_keys_against_loopback_do_not_warn() {
    let config = Config::minimal()
        .set_str("source", "endpoint_url", "http://localhost:9000")
        .keys("source", "k", "s");
    let warnings = parse(&config.text()).warnings;
    assert!(warnings.is_empty(), "{warnings:?}");
}
