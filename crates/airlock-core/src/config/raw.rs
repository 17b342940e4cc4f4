//! The config file as written: serde structs where every field is optional and unknown keys
//! are errors. [`super::validate`] turns this into [`super::Settings`].

use serde::Deserialize;

use super::{ByteSize, Secret};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub source: Option<RawSide>,
    pub target: Option<RawSide>,
    pub transfer: Option<RawTransfer>,
    pub filter: Option<super::filter::RawFilter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSide {
    pub bucket: Option<String>,
    pub prefix: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub force_path_style: Option<bool>,
    /// Send `x-amz-request-payer: requester` (Requester Pays buckets).
    pub request_payer: Option<bool>,
    /// Allow plain `http://` to a non-loopback endpoint.
    pub allow_http: Option<bool>,
    pub credentials: Option<RawCredentials>,
    pub storage_class: Option<String>,
    /// `AES256` or `aws:kms`.
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub acl: Option<String>,
    /// Source only: copy each key as it was at this RFC 3339 moment (versioned buckets).
    pub version_at: Option<String>,
    /// Source only: plan from this S3 Inventory (`s3://bucket/path/manifest.json`) instead of
    /// listing the source.
    pub inventory: Option<String>,
    /// Source only: which side's credentials read the inventory (`source` or `target`).
    pub inventory_credentials: Option<String>,
    /// Source only: sort the inventory's rows on disk first (data files out of key order).
    pub inventory_sort: Option<bool>,
    /// Target only: how written bytes are checked (`auto`, `trailer`, `md5`, `none`).
    pub checksum: Option<String>,
    /// Target only: where airlock keeps its own objects (the write-mode probe).
    pub state_prefix: Option<String>,
}

/// One flat table for every credential kind, so an error can name the exact key that does
/// not belong to the chosen kind.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCredentials {
    pub kind: Option<String>,
    // profile
    pub profile: Option<String>,
    // env
    pub access_key_id_var: Option<String>,
    pub secret_access_key_var: Option<String>,
    pub session_token_var: Option<String>,
    // static
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub session_token: Option<Secret>,
    // assume_role
    pub role_arn: Option<String>,
    pub external_id: Option<Secret>,
    pub session_name: Option<String>,
    pub base: Option<Box<RawCredentials>>,
    // ssm
    pub access_key_id_parameter: Option<String>,
    pub secret_access_key_parameter: Option<String>,
    pub session_token_parameter: Option<String>,
    pub via: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTransfer {
    pub multipart_threshold: Option<ByteSize>,
    /// Multipart objects at or above this size are split across shards by `airlock prepare`.
    pub split_above: Option<ByteSize>,
    /// `"auto"` or a size.
    pub part_size: Option<RawPartSize>,
    /// `"auto"` or a number of requests.
    pub concurrency: Option<RawConcurrency>,
    pub memory_limit: Option<ByteSize>,
    pub max_retries: Option<i64>,
    pub verify: Option<String>,
    pub compare: Option<String>,
    pub on_source_change: Option<String>,
    pub keep_failed_uploads: Option<bool>,
    pub copy_metadata: Option<bool>,
    pub copy_tags: Option<bool>,
    /// Bytes per second for the plan's ETA, e.g. `"100MiB/s"`.
    pub estimate_rate: Option<String>,
    /// Cap on bytes per second for the whole run, e.g. `"200MiB/s"`.
    pub bandwidth_limit: Option<String>,
    pub connect_timeout: Option<String>,
    pub read_timeout: Option<String>,
    /// `"copy"` (default) or `"mirror"`.
    pub mode: Option<String>,
}

/// `concurrency = "auto"` or a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawConcurrency {
    Auto,
    Count(i64),
}

impl<'de> Deserialize<'de> for RawConcurrency {
    /// A hand-written visitor, as for [`RawPartSize`], so a wrong value gets a message that
    /// says what to write.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawConcurrency;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"auto\" or a number of requests from 1 to 1024")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawConcurrency, E> {
                Ok(RawConcurrency::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawConcurrency, E> {
                Ok(RawConcurrency::Count(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawConcurrency, E> {
                if v.trim().eq_ignore_ascii_case("auto") {
                    return Ok(RawConcurrency::Auto);
                }
                Err(E::custom(format!(
                    "'{v}' is not a concurrency: use \"auto\" or a number from 1 to 1024"
                )))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `part_size = "auto"` or a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RawPartSize {
    Auto,
    Size(ByteSize),
}

impl<'de> Deserialize<'de> for RawPartSize {
    /// A hand-written visitor rather than an untagged enum, whose only message for a wrong
    /// type is "data did not match any variant".
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RawPartSize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("\"auto\" or a size such as \"64MiB\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawPartSize, E> {
                Ok(RawPartSize::Size(ByteSize(v)))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawPartSize, E> {
                u64::try_from(v)
                    .map(|v| RawPartSize::Size(ByteSize(v)))
                    .map_err(|_| {
                        E::custom(format!(
                            "'{v}' is negative: use \"auto\" or a size like \"64MiB\""
                        ))
                    })
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<RawPartSize, E> {
                Err(E::custom(format!(
                    "'{v}' is not a size: use \"auto\" or a quoted size like \"64MiB\""
                )))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RawPartSize, E> {
                if v.trim().eq_ignore_ascii_case("auto") {
                    return Ok(RawPartSize::Auto);
                }
                v.parse().map(RawPartSize::Size).map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}
