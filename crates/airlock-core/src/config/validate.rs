//! Raw config -> validated [`Settings`]. Every error names the key (`source.bucket`) and quotes
//! the value, and says what to write instead.

use std::net::IpAddr;
use std::time::Duration;

use super::defaults::{self, MIN_PART_SIZE};
use super::limits::{self, range_text};
use super::raw::{RawConcurrency, RawConfig, RawPartSize, RawSide, RawTransfer};
use super::{
    ByteSize, CompareMode, CredentialSpec, OnSourceChange, PartSize, Settings, Side, SideSettings,
    Sse, TransferMode, TransferSettings, VerifyMode, WriteChecksum, WriteOptions,
};
use crate::error::{Error, Result};

mod credentials;
use credentials::credentials;

/// Validate a parsed config. `warnings` collects non-fatal findings.
pub(super) fn validate(mut raw: RawConfig) -> Result<Settings> {
    let mut warnings = Vec::new();
    // `source.version_at` is written with the source but chooses what moves, like [filter].
    let version_at = raw.source.as_mut().and_then(|s| s.version_at.take());
    if let Some(text) = raw.target.as_ref().and_then(|t| t.version_at.as_ref()) {
        return Err(Error::config(format!(
            "target.version_at '{text}': a point in time applies to the source only; move it \
             to [source]"
        )));
    }
    let inventory = super::inventory::take(raw.source.as_mut(), raw.target.as_ref())?;
    let source = side(Side::Source, raw.source, &mut warnings)?;
    let target = side(Side::Target, raw.target, &mut warnings)?;
    let transfer = transfer(raw.transfer.unwrap_or_default())?;
    let mut filter = super::filter::validate(raw.filter)?;
    filter.version_at = version_at
        .map(|text| super::filter::parse_version_at("source.version_at", &text, Error::config))
        .transpose()?;
    filter.inventory = inventory;
    let settings = Settings {
        source,
        target,
        transfer,
        filter,
        path: None,
        warnings,
    };
    super::inventory::check(&settings)?;
    Ok(settings)
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
        allow_http,
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
        request_payer: raw.request_payer.unwrap_or(false),
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
             allow_http = true in [{side_table}] if you accept unencrypted traffic",
            side_table = key.split('.').next().unwrap_or(key)
        ))),
        other => Err(Error::config(format!(
            "{key} '{url}' has scheme '{other}': use 'https://' (or 'http://' for a local endpoint)"
        ))),
    }
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
    let checksum = match raw.checksum.as_deref() {
        None | Some("auto") => WriteChecksum::Auto,
        Some("trailer") => WriteChecksum::Trailer,
        Some("md5") => WriteChecksum::Md5,
        Some("none") => WriteChecksum::None,
        Some(other) => {
            return Err(Error::config(format!(
                "{side}.checksum '{other}' is not a write mode: use \"auto\", \"trailer\", \"md5\" or \"none\""
            )));
        }
    };
    for (name, set) in [
        ("checksum", raw.checksum.is_some()),
        ("state_prefix", raw.state_prefix.is_some()),
    ] {
        if side == Side::Source && set {
            return Err(Error::config(format!(
                "source.{name} is set, but it applies to the target only (airlock never writes to the source): move it to [target]"
            )));
        }
    }
    let state_prefix = raw
        .state_prefix
        .clone()
        .unwrap_or_else(|| defaults::STATE_PREFIX.to_string());
    if state_prefix.is_empty() {
        return Err(Error::config(
            "target.state_prefix '' is empty: name a prefix for airlock's own objects, e.g. '.airlock/'",
        ));
    }
    Ok(WriteOptions {
        storage_class: raw.storage_class.clone(),
        sse,
        acl: raw.acl.clone(),
        checksum,
        state_prefix,
    })
}

fn transfer(raw: RawTransfer) -> Result<TransferSettings> {
    let d = defaults::transfer();
    let multipart_threshold = raw.multipart_threshold.unwrap_or(d.multipart_threshold);
    if !limits::MULTIPART_THRESHOLD.contains(&multipart_threshold) {
        return Err(Error::config(format!(
            "transfer.multipart_threshold {} is out of range: use a size from {} (default {})",
            quoted_size(multipart_threshold),
            range_text(&limits::MULTIPART_THRESHOLD),
            d.multipart_threshold
        )));
    }
    if let Some(split_above) = raw.split_above
        && (split_above < MIN_PART_SIZE || split_above > defaults::MAX_OBJECT_SIZE)
    {
        return Err(Error::config(format!(
            "transfer.split_above '{split_above}' is out of range: use a size from 5 MiB to 5 TiB, or leave it out to split no object"
        )));
    }
    let part_size = match raw.part_size {
        None | Some(RawPartSize::Auto) => PartSize::Auto,
        Some(RawPartSize::Size(size)) => {
            if !limits::PART_SIZE.contains(&size) {
                return Err(Error::config(format!(
                    "transfer.part_size {} is out of range: S3 parts are 5 MiB to 5 GiB; use \"auto\" or a size in that range",
                    quoted_size(size)
                )));
            }
            PartSize::Fixed(size)
        }
    };
    let (concurrency, adaptive_concurrency) = match raw.concurrency {
        None => (d.concurrency, d.adaptive_concurrency),
        Some(RawConcurrency::Auto) => (defaults::AUTO_CONCURRENCY_CEILING, true),
        Some(RawConcurrency::Count(n))
            if usize::try_from(n).is_ok_and(|n| limits::CONCURRENCY.contains(&n)) =>
        {
            (n as usize, false)
        }
        Some(RawConcurrency::Count(n)) => {
            return Err(Error::config(format!(
                "transfer.concurrency '{n}' is out of range: use {} or \"auto\" (default {})",
                range_text(&limits::CONCURRENCY),
                d.concurrency_toml()
            )));
        }
    };
    let memory_limit = raw.memory_limit.unwrap_or(d.memory_limit);
    if !limits::MEMORY.contains(&memory_limit) {
        return Err(Error::config(format!(
            "transfer.memory_limit {} is out of range: use {} (default {})",
            quoted_size(memory_limit),
            range_text(&limits::MEMORY),
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
        split_above: raw.split_above,
        part_size,
        concurrency,
        adaptive_concurrency,
        memory_limit,
        max_retries,
        verify,
        compare,
        on_source_change,
        keep_failed_uploads: raw.keep_failed_uploads.unwrap_or(d.keep_failed_uploads),
        copy_metadata: raw.copy_metadata.unwrap_or(d.copy_metadata),
        copy_tags: raw.copy_tags.unwrap_or(d.copy_tags),
        estimate_rate,
        bandwidth_limit: (raw.bandwidth_limit)
            .map(|text| parse_rate("transfer.bandwidth_limit", &text))
            .transpose()?,
        connect_timeout: duration(
            "transfer.connect_timeout",
            raw.connect_timeout,
            d.connect_timeout,
        )?,
        read_timeout: duration("transfer.read_timeout", raw.read_timeout, d.read_timeout)?,
        mode: match raw.mode.as_deref() {
            None => d.mode,
            Some(text) => TransferMode::parse("transfer.mode", text)?,
        },
    })
}

/// `'64 MiB'`, or `'5.0 MiB' (5242879 bytes)` when the rounded unit would hide why a size
/// next to a limit is refused.
fn quoted_size(size: ByteSize) -> String {
    let shown = size.to_string();
    if shown.parse::<ByteSize>() == Ok(size) {
        format!("'{shown}'")
    } else {
        format!("'{shown}' ({} bytes)", size.0)
    }
}

/// `"100MiB/s"` or `"100MiB"` -> bytes per second (at least 1 KiB/s).
pub(crate) fn parse_rate(key: &str, text: &str) -> Result<ByteSize> {
    let size_text = text.trim().strip_suffix("/s").unwrap_or(text.trim());
    let rate: ByteSize = size_text
        .parse()
        .map_err(|e| Error::config(format!("{key}: {e}; write a rate like '100MiB/s'")))?;
    if rate < limits::BANDWIDTH_FLOOR {
        return Err(Error::config(format!(
            "{key} '{text}' is too small: use at least '{}'",
            limits::BANDWIDTH_FLOOR_TEXT
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
