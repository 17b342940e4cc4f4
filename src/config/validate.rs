//! Raw config -> validated [`Settings`]. Every error names the key (`source.bucket`) and quotes
//! the value, and says what to write instead.

use std::net::IpAddr;
use std::time::Duration;

use super::defaults::{self, MAX_PART_SIZE, MIN_PART_SIZE};
use super::raw::{RawConfig, RawCredentials, RawPartSize, RawSide, RawTransfer};
use super::{
    ByteSize, CompareMode, CredentialSpec, OnSourceChange, PartSize, Settings, Side, SideSettings,
    Sse, SsmSpec, TransferSettings, VerifyMode, Via, WriteOptions,
};
use crate::error::{Error, Result};

/// Validate a parsed config. `warnings` collects non-fatal findings.
pub fn validate(raw: RawConfig) -> Result<Settings> {
    let mut warnings = Vec::new();
    let source = side(Side::Source, raw.source, &mut warnings)?;
    let target = side(Side::Target, raw.target, &mut warnings)?;
    let transfer = transfer(raw.transfer.unwrap_or_default())?;
    Ok(Settings {
        source,
        target,
        transfer,
        path: None,
        warnings,
    })
}

fn side(side: Side, raw: Option<RawSide>, warnings: &mut Vec<String>) -> Result<SideSettings> {
    let raw = raw.ok_or_else(|| {
        Error::config(format!(
            "the [{side}] table is missing: add it with at least '{side}.bucket' (see config.example.toml)"
        ))
    })?;
    let write = write_options(side, &raw)?;
    let bucket = raw.bucket.ok_or_else(|| {
        Error::config(format!(
            "'{side}.bucket' is missing: name the {side} bucket"
        ))
    })?;
    check_bucket(side, &bucket)?;
    let prefix = raw.prefix.unwrap_or_default();
    if prefix.starts_with('/') {
        warnings.push(format!(
            "{side}.prefix '{prefix}' starts with '/': S3 keys rarely do; did you mean '{}'?",
            prefix.trim_start_matches('/')
        ));
    }
    let region = raw.region.unwrap_or_else(|| defaults::REGION.to_string());
    check_region(&format!("{side}.region"), &region)?;
    let allow_http = raw.allow_http.unwrap_or(false);
    if let Some(url) = &raw.endpoint_url {
        check_endpoint(&format!("{side}.endpoint_url"), url, allow_http)?;
    }
    let credentials = credentials(
        side,
        &format!("{side}.credentials"),
        raw.credentials.unwrap_or_default(),
        0,
    )?;
    if matches!(credentials, CredentialSpec::Static { .. })
        && !raw.endpoint_url.as_deref().is_some_and(is_loopback_url)
    {
        warnings.push(format!(
            "{side}.credentials: kind = 'static' keeps keys in the config file; use it only for \
             tests and the demo, and prefer 'profile', 'ssm' or the default chain against AWS"
        ));
    }
    Ok(SideSettings {
        side,
        bucket,
        prefix,
        region,
        endpoint_url: raw
            .endpoint_url
            .map(|u| u.trim_end_matches('/').to_string()),
        force_path_style: raw.force_path_style.unwrap_or(false),
        credentials,
        write,
    })
}

fn check_bucket(side: Side, bucket: &str) -> Result<()> {
    if bucket.contains('/') {
        return Err(Error::config(format!(
            "{side}.bucket '{bucket}' contains '/': write only the bucket name and put the rest in '{side}.prefix'"
        )));
    }
    let valid_chars = bucket
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == '_');
    if bucket.len() < 3 || bucket.len() > 63 || !valid_chars {
        return Err(Error::config(format!(
            "{side}.bucket '{bucket}' is not a bucket name: 3 to 63 lowercase letters, digits, '-' or '.'"
        )));
    }
    Ok(())
}

fn check_region(key: &str, region: &str) -> Result<()> {
    let ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err(Error::config(format!(
            "{key} '{region}' is not a region: write one like 'us-east-1'"
        )));
    }
    Ok(())
}

/// Host part of an `http(s)://host[:port][/path]` URL, or None if it is not one.
fn url_host(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.rsplit_once(':').map_or(authority, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                authority
            }
        })
    };
    Some((scheme, host))
}

/// Whether a URL points at this machine (plain http is fine there).
pub(crate) fn is_loopback_url(url: &str) -> bool {
    url_host(url).is_some_and(|(_, host)| {
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

fn check_endpoint(key: &str, url: &str, allow_http: bool) -> Result<()> {
    let Some((scheme, host)) = url_host(url) else {
        return Err(Error::config(format!(
            "{key} '{url}' is not a URL: write it like 'https://s3.example.com' or 'http://127.0.0.1:9000'"
        )));
    };
    let port_ok = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .is_none_or(|authority| match authority.rsplit_once(':') {
            Some((_, port)) if !authority.ends_with(']') => port.parse::<u16>().is_ok(),
            _ => true,
        });
    if host.is_empty() || host.contains(char::is_whitespace) || !port_ok {
        return Err(Error::config(format!(
            "{key} '{url}' has no valid host and port: write it like 'https://s3.example.com' or 'http://127.0.0.1:9000'"
        )));
    }
    match scheme {
        "https" => Ok(()),
        "http" if allow_http || is_loopback_url(url) => Ok(()),
        "http" => Err(Error::config(format!(
            "{key} '{url}' uses plain http to a host that is not this machine: use https, or set \
             allow_http = true on that side if you accept unencrypted traffic"
        ))),
        other => Err(Error::config(format!(
            "{key} '{url}' has scheme '{other}': use 'https://' (or 'http://' for a local endpoint)"
        ))),
    }
}

const KINDS: &str = "'default', 'profile', 'env', 'static', 'assume_role' or 'ssm'";

/// Keys each credential kind accepts (besides `kind`).
fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "default" => &[],
        "profile" => &["profile"],
        "env" => &[
            "access_key_id_var",
            "secret_access_key_var",
            "session_token_var",
        ],
        "static" => &["access_key_id", "secret_access_key", "session_token"],
        "assume_role" => &["role_arn", "external_id", "session_name", "base"],
        "ssm" => &[
            "access_key_id_parameter",
            "secret_access_key_parameter",
            "session_token_parameter",
            "via",
            "region",
            "endpoint_url",
        ],
        _ => &[],
    }
}

/// Keys set in a credentials table, besides `kind`. The pattern lists every field without
/// `..`, so a field added to [`RawCredentials`] does not compile until it is listed here too.
fn present_keys(raw: &RawCredentials) -> Vec<&'static str> {
    let RawCredentials {
        kind: _,
        profile,
        access_key_id_var,
        secret_access_key_var,
        session_token_var,
        access_key_id,
        secret_access_key,
        session_token,
        role_arn,
        external_id,
        session_name,
        base,
        access_key_id_parameter,
        secret_access_key_parameter,
        session_token_parameter,
        via,
        region,
        endpoint_url,
    } = raw;
    let keys = [
        ("profile", profile.is_some()),
        ("access_key_id_var", access_key_id_var.is_some()),
        ("secret_access_key_var", secret_access_key_var.is_some()),
        ("session_token_var", session_token_var.is_some()),
        ("access_key_id", access_key_id.is_some()),
        ("secret_access_key", secret_access_key.is_some()),
        ("session_token", session_token.is_some()),
        ("role_arn", role_arn.is_some()),
        ("external_id", external_id.is_some()),
        ("session_name", session_name.is_some()),
        ("base", base.is_some()),
        ("access_key_id_parameter", access_key_id_parameter.is_some()),
        (
            "secret_access_key_parameter",
            secret_access_key_parameter.is_some(),
        ),
        ("session_token_parameter", session_token_parameter.is_some()),
        ("via", via.is_some()),
        ("region", region.is_some()),
        ("endpoint_url", endpoint_url.is_some()),
    ];
    keys.into_iter()
        .filter(|(_, set)| *set)
        .map(|(key, _)| key)
        .collect()
}

fn required<T: Clone>(key: &str, kind: &str, field: &str, value: &Option<T>) -> Result<T> {
    value
        .clone()
        .ok_or_else(|| Error::config(format!("'{key}.{field}' is required when kind = '{kind}'")))
}

/// One credentials table of `side`; `key` is its path (`source.credentials.base`), `depth` the
/// number of `assume_role` tables around it.
fn credentials(side: Side, key: &str, raw: RawCredentials, depth: usize) -> Result<CredentialSpec> {
    let kind = raw.kind.clone().unwrap_or_else(|| "default".to_string());
    if !matches!(
        kind.as_str(),
        "default" | "profile" | "env" | "static" | "assume_role" | "ssm"
    ) {
        return Err(Error::config(format!(
            "{key}.kind '{kind}' is not a credential kind: use {KINDS}"
        )));
    }
    let allowed = allowed_keys(&kind);
    if let Some(extra) = present_keys(&raw)
        .into_iter()
        .find(|k| !allowed.contains(k))
    {
        return Err(Error::config(format!(
            "'{key}.{extra}' does not apply to kind = '{kind}': remove it or change the kind"
        )));
    }
    let non_empty = |field: &str, value: String| -> Result<String> {
        if value.trim().is_empty() {
            Err(Error::config(format!("'{key}.{field}' is empty")))
        } else {
            Ok(value)
        }
    };
    Ok(match kind.as_str() {
        "default" => CredentialSpec::Default,
        "profile" => CredentialSpec::Profile {
            profile: non_empty("profile", required(key, &kind, "profile", &raw.profile)?)?,
        },
        "env" => CredentialSpec::Env {
            access_key_id_var: non_empty(
                "access_key_id_var",
                required(key, &kind, "access_key_id_var", &raw.access_key_id_var)?,
            )?,
            secret_access_key_var: non_empty(
                "secret_access_key_var",
                required(
                    key,
                    &kind,
                    "secret_access_key_var",
                    &raw.secret_access_key_var,
                )?,
            )?,
            session_token_var: raw.session_token_var,
        },
        "static" => {
            let access_key_id = required(key, &kind, "access_key_id", &raw.access_key_id)?;
            let secret_access_key =
                required(key, &kind, "secret_access_key", &raw.secret_access_key)?;
            if access_key_id.is_empty() || secret_access_key.is_empty() {
                return Err(Error::config(format!(
                    "'{key}': access_key_id and secret_access_key must not be empty"
                )));
            }
            CredentialSpec::Static {
                access_key_id,
                secret_access_key,
                session_token: raw.session_token,
            }
        }
        "assume_role" => {
            if depth >= 3 {
                return Err(Error::config(format!(
                    "'{key}' nests assume_role more than 3 deep: chain fewer roles"
                )));
            }
            let role_arn = required(key, &kind, "role_arn", &raw.role_arn)?;
            if !role_arn.starts_with("arn:") || !role_arn.contains(":role/") {
                return Err(Error::config(format!(
                    "{key}.role_arn '{role_arn}' is not a role ARN: write 'arn:aws:iam::123456789012:role/name'"
                )));
            }
            let base = match raw.base {
                Some(base) => credentials(side, &format!("{key}.base"), *base, depth + 1)?,
                None => CredentialSpec::Default,
            };
            CredentialSpec::AssumeRole {
                role_arn,
                external_id: raw.external_id,
                session_name: raw.session_name.unwrap_or_else(|| "airlock".to_string()),
                base: Box::new(base),
            }
        }
        "ssm" => {
            let via = match raw.via.as_deref() {
                None => {
                    return Err(Error::config(format!(
                        "'{key}.via' is required when kind = 'ssm': say whose credentials read the parameters \
                     ('target', 'source', 'default' or 'profile:NAME')"
                    )));
                }
                Some("target") => Via::Side(Side::Target),
                Some("source") => Via::Side(Side::Source),
                Some("default") => Via::Default,
                Some(other) => match other.strip_prefix("profile:") {
                    Some(name) if !name.is_empty() => Via::Profile(name.to_string()),
                    _ => {
                        return Err(Error::config(format!(
                            "{key}.via '{other}' is not understood: use 'target', 'source', 'default' or 'profile:NAME'"
                        )));
                    }
                },
            };
            if via == Via::Side(side) {
                return Err(Error::config(format!(
                    "{key}.via '{side}' points at its own side: read the parameters with the other \
                     side's credentials, 'default' or 'profile:NAME'"
                )));
            }
            if let Some(region) = &raw.region {
                check_region(&format!("{key}.region"), region)?;
            }
            if let Some(url) = &raw.endpoint_url {
                check_endpoint(&format!("{key}.endpoint_url"), url, false)?;
            }
            let parameter = |field: &str, value: String| -> Result<String> {
                let value = non_empty(field, value)?;
                if value.contains(char::is_whitespace) {
                    return Err(Error::config(format!(
                        "{key}.{field} '{value}' contains whitespace: SSM parameter names cannot"
                    )));
                }
                Ok(value)
            };
            CredentialSpec::Ssm(SsmSpec {
                access_key_id_parameter: parameter(
                    "access_key_id_parameter",
                    required(
                        key,
                        &kind,
                        "access_key_id_parameter",
                        &raw.access_key_id_parameter,
                    )?,
                )?,
                secret_access_key_parameter: parameter(
                    "secret_access_key_parameter",
                    required(
                        key,
                        &kind,
                        "secret_access_key_parameter",
                        &raw.secret_access_key_parameter,
                    )?,
                )?,
                session_token_parameter: raw
                    .session_token_parameter
                    .map(|p| parameter("session_token_parameter", p))
                    .transpose()?,
                via,
                region: raw.region,
                endpoint_url: raw
                    .endpoint_url
                    .map(|u| u.trim_end_matches('/').to_string()),
            })
        }
        _ => unreachable!("kind checked above"),
    })
}

fn write_options(side: Side, raw: &RawSide) -> Result<WriteOptions> {
    let sse = match raw.sse.as_deref() {
        None => None,
        Some("AES256") => Some(Sse::Aes256),
        Some("aws:kms") => Some(Sse::Kms {
            key_id: raw.sse_kms_key_id.clone(),
        }),
        Some(other) => {
            return Err(Error::config(format!(
                "{side}.sse '{other}' is not supported: use 'AES256' or 'aws:kms'"
            )));
        }
    };
    if let Some(key_id) = &raw.sse_kms_key_id
        && !matches!(sse, Some(Sse::Kms { .. }))
    {
        let current = raw
            .sse
            .as_ref()
            .map_or("not set".to_string(), |sse| format!("'{sse}'"));
        return Err(Error::config(format!(
            "{side}.sse_kms_key_id '{key_id}' needs {side}.sse = \"aws:kms\" ({side}.sse is {current}): \
             set sse = \"aws:kms\" or remove sse_kms_key_id"
        )));
    }
    if let Some(class) = &raw.storage_class {
        const CLASSES: [&str; 9] = [
            "STANDARD",
            "REDUCED_REDUNDANCY",
            "STANDARD_IA",
            "ONEZONE_IA",
            "INTELLIGENT_TIERING",
            "GLACIER",
            "DEEP_ARCHIVE",
            "GLACIER_IR",
            "EXPRESS_ONEZONE",
        ];
        if !CLASSES.contains(&class.as_str()) {
            return Err(Error::config(format!(
                "{side}.storage_class '{class}' is not an S3 storage class: use one of {}",
                CLASSES.join(", ")
            )));
        }
    }
    if let Some(acl) = &raw.acl {
        const ACLS: [&str; 7] = [
            "private",
            "public-read",
            "public-read-write",
            "authenticated-read",
            "aws-exec-read",
            "bucket-owner-read",
            "bucket-owner-full-control",
        ];
        if !ACLS.contains(&acl.as_str()) {
            return Err(Error::config(format!(
                "{side}.acl '{acl}' is not a canned ACL: use one of {}",
                ACLS.join(", ")
            )));
        }
    }
    Ok(WriteOptions {
        storage_class: raw.storage_class.clone(),
        sse,
        acl: raw.acl.clone(),
    })
}

fn transfer(raw: RawTransfer) -> Result<TransferSettings> {
    let d = defaults::transfer();
    let multipart_threshold = raw.multipart_threshold.unwrap_or(d.multipart_threshold);
    if multipart_threshold < MIN_PART_SIZE || multipart_threshold > defaults::MAX_SINGLE_PUT {
        return Err(Error::config(format!(
            "transfer.multipart_threshold '{multipart_threshold}' is out of range: use a size from 5 MiB to 5 GiB (default {})",
            d.multipart_threshold
        )));
    }
    let part_size = match raw.part_size {
        None | Some(RawPartSize::Auto) => PartSize::Auto,
        Some(RawPartSize::Size(size)) => {
            if size < MIN_PART_SIZE || size > MAX_PART_SIZE {
                return Err(Error::config(format!(
                    "transfer.part_size '{size}' is out of range: S3 parts are 5 MiB to 5 GiB; use \"auto\" or a size in that range"
                )));
            }
            PartSize::Fixed(size)
        }
    };
    let concurrency = match raw.concurrency {
        None => d.concurrency,
        Some(n) if (1..=1024).contains(&n) => n as usize,
        Some(n) => {
            return Err(Error::config(format!(
                "transfer.concurrency '{n}' is out of range: use 1 to 1024 (default {})",
                d.concurrency
            )));
        }
    };
    let memory_limit = raw.memory_limit.unwrap_or(d.memory_limit);
    if memory_limit < crate::plan::STREAM_BUFFER || memory_limit > ByteSize::gib(64) {
        return Err(Error::config(format!(
            "transfer.memory_limit '{memory_limit}' is out of range: use 1 MiB to 64 GiB (default {})",
            d.memory_limit
        )));
    }
    let max_retries = match raw.max_retries {
        None => d.max_retries,
        Some(n) if (0..=100).contains(&n) => n as u32,
        Some(n) => {
            return Err(Error::config(format!(
                "transfer.max_retries '{n}' is out of range: use 0 to 100 (default {})",
                d.max_retries
            )));
        }
    };
    let verify = match raw.verify.as_deref() {
        None => d.verify,
        Some("checksum") => VerifyMode::Checksum,
        Some("md5") => VerifyMode::Md5,
        Some("size") => VerifyMode::Size,
        Some(other) => {
            return Err(Error::config(format!(
                "transfer.verify '{other}' is not a verify mode: use 'checksum' (default), 'md5' or 'size'"
            )));
        }
    };
    let compare = match raw.compare.as_deref() {
        None => d.compare,
        Some("checksum") => CompareMode::Checksum,
        Some("size") => CompareMode::Size,
        Some("size-and-mtime") => CompareMode::SizeAndMtime,
        Some(other) => {
            return Err(Error::config(format!(
                "transfer.compare '{other}' is not a compare mode: use 'checksum' (default), 'size-and-mtime' or 'size'"
            )));
        }
    };
    let on_source_change = match raw.on_source_change.as_deref() {
        None => d.on_source_change,
        Some("fail") => OnSourceChange::Fail,
        Some("restart") => OnSourceChange::Restart,
        Some(other) => {
            return Err(Error::config(format!(
                "transfer.on_source_change '{other}' is not understood: use 'fail' (default) or 'restart'"
            )));
        }
    };
    let estimate_rate = match raw.estimate_rate {
        None => d.estimate_rate,
        Some(text) => parse_rate("transfer.estimate_rate", &text)?,
    };
    Ok(TransferSettings {
        multipart_threshold,
        part_size,
        concurrency,
        memory_limit,
        max_retries,
        verify,
        compare,
        on_source_change,
        keep_failed_uploads: raw.keep_failed_uploads.unwrap_or(d.keep_failed_uploads),
        copy_metadata: raw.copy_metadata.unwrap_or(d.copy_metadata),
        copy_tags: raw.copy_tags.unwrap_or(d.copy_tags),
        estimate_rate,
        connect_timeout: duration(
            "transfer.connect_timeout",
            raw.connect_timeout,
            d.connect_timeout,
        )?,
        read_timeout: duration("transfer.read_timeout", raw.read_timeout, d.read_timeout)?,
    })
}

/// `"100MiB/s"` or `"100MiB"` -> bytes per second (at least 1 KiB/s).
pub(crate) fn parse_rate(key: &str, text: &str) -> Result<ByteSize> {
    let size_text = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    let rate: ByteSize = size_text
        .parse()
        .map_err(|e| Error::config(format!("{key}: {e}; write a rate like '100MiB/s'")))?;
    if rate.0 < 1024 {
        return Err(Error::config(format!(
            "{key} '{text}' is too small: use at least '1KiB/s'"
        )));
    }
    Ok(rate)
}

fn duration(key: &str, text: Option<String>, default: Duration) -> Result<Duration> {
    let Some(text) = text else { return Ok(default) };
    let value = humantime::parse_duration(text.trim()).map_err(|e| {
        Error::config(format!(
            "{key} '{text}' is not a duration ({e}): write it like '30s' or '2m'"
        ))
    })?;
    if value.is_zero() || value > Duration::from_secs(3600) {
        return Err(Error::config(format!(
            "{key} '{text}' is out of range: use more than 0s and at most 1h"
        )));
    }
    Ok(value)
}
