//! Configuration: where the config file is found, its raw (serde) shape, and the validated
//! [`Settings`] the rest of airlock uses. Defaults live in [`defaults`] and nowhere else; the
//! ranges the config, the CLI's flags and the TUI's editor all enforce live in [`limits`].
//!
//! Flow: file text -> [`raw::RawConfig`] (serde, `deny_unknown_fields`, every field optional)
//! -> [`Settings`] (validated; every error names the key and the value).
//! Depends on `error` and `dirs` (where the user config dir is); no AWS SDK, no UI.

pub(crate) mod bytesize;
pub mod defaults;
pub mod filter;
pub mod inventory;
pub mod limits;
mod load;
pub(crate) mod raw;
mod secret;
mod validate;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use bytesize::ByteSize;
pub use filter::{FilterSettings, TimeBound};
pub use load::{
    CONFIG_ENV, config_search_paths, find_config, is_missing_config, load_settings, parse_settings,
};
pub use secret::Secret;

/// One of the two accounts airlock copies between.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Source,
    Target,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Source => Side::Target,
            Side::Target => Side::Source,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Source => "source",
            Side::Target => "target",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything airlock needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub source: SideSettings,
    pub target: SideSettings,
    pub transfer: TransferSettings,
    /// Which source objects a plan takes (`[filter]`, overridden by CLI flags).
    pub filter: FilterSettings,
    /// The file the settings were read from, for messages (None when built in code).
    pub path: Option<PathBuf>,
    /// Non-fatal findings (static keys on a non-loopback endpoint, a part size that was raised,
    /// a config file readable by others...). Shown by `config check` and logged.
    pub warnings: Vec<String>,
}

impl Settings {
    pub fn side(&self, side: Side) -> &SideSettings {
        match side {
            Side::Source => &self.source,
            Side::Target => &self.target,
        }
    }
}

/// One side's bucket and how to reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct SideSettings {
    pub side: Side,
    pub bucket: String,
    /// Key prefix, kept as written (`clients/acme/`); may be empty for the whole bucket.
    pub prefix: String,
    pub region: String,
    /// S3-compatible endpoint (MinIO, Ceph, R2, tests). None means AWS.
    pub endpoint_url: Option<String>,
    pub force_path_style: bool,
    /// Requester Pays: every request of this side says `x-amz-request-payer: requester`, so
    /// this account pays for requests and transfer (see `aws::requester_pays`).
    pub request_payer: bool,
    pub credentials: CredentialSpec,
    /// Options applied to objects written on this side (only meaningful for the target).
    pub write: WriteOptions,
}

/// Where one side's credentials come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialSpec {
    /// The aws-config default chain: env, profiles, SSO, web identity, container, IMDS.
    Default,
    /// A named profile from ~/.aws/config and ~/.aws/credentials.
    Profile { profile: String },
    /// Keys read from environment variables with custom names.
    Env {
        access_key_id_var: String,
        secret_access_key_var: String,
        session_token_var: Option<String>,
    },
    /// Keys written in the config (tests and demo only).
    Static {
        access_key_id: Secret,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    },
    /// STS AssumeRole on top of another credential source.
    AssumeRole {
        role_arn: String,
        external_id: Option<Secret>,
        session_name: String,
        base: Box<CredentialSpec>,
    },
    /// Keys read from SSM Parameter Store (SecureString, WithDecryption) using other credentials.
    Ssm(SsmSpec),
}

impl CredentialSpec {
    /// The other side whose credentials must be resolved first: `ssm` with `via = "source"` or
    /// `"target"`, directly or as the `base` of an `assume_role`.
    pub fn via_side(&self) -> Option<Side> {
        match self {
            CredentialSpec::Ssm(SsmSpec {
                via: Via::Side(side),
                ..
            }) => Some(*side),
            CredentialSpec::AssumeRole { base, .. } => base.via_side(),
            _ => None,
        }
    }
}

/// SSM parameters that hold one side's keys, and how to read them.
#[derive(Debug, Clone, PartialEq)]
pub struct SsmSpec {
    pub access_key_id_parameter: String,
    pub secret_access_key_parameter: String,
    pub session_token_parameter: Option<String>,
    /// Whose credentials read the parameters.
    pub via: Via,
    /// Region of the parameters; defaults to the region of `via`'s side (or this side's).
    pub region: Option<String>,
    /// SSM endpoint override (tests use moto); None means AWS.
    pub endpoint_url: Option<String>,
}

/// The credentials used to read SSM parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Via {
    /// The other side's resolved credentials (`via = "target"` for the source).
    Side(Side),
    /// The default chain.
    Default,
    /// A named profile (`via = "profile:ops"`).
    Profile(String),
}

/// How objects are written at the target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteOptions {
    /// e.g. `STANDARD`, `STANDARD_IA`, `GLACIER_IR`; None keeps the bucket default.
    pub storage_class: Option<String>,
    pub sse: Option<Sse>,
    /// Canned ACL such as `bucket-owner-full-control`.
    pub acl: Option<String>,
    /// How the bytes written are checked by the target (`[target] checksum`).
    pub checksum: WriteChecksum,
    /// Key prefix for airlock's own objects at the target (`[target] state_prefix`): the
    /// `auto` probe writes there.
    pub state_prefix: String,
}

/// How written bytes are framed and checked at the target (`[target] checksum`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteChecksum {
    /// Probe the target once per run, before the first write, and choose `trailer` or `md5`;
    /// `trailer` without FULL_OBJECT multipart checksums ("trailer-parts") where the target
    /// refuses them.
    #[default]
    Auto,
    /// aws-chunked bodies with a CRC64NVME trailer (or the source's own CRC header), and a
    /// FULL_OBJECT CRC64NVME on Complete: the target checks every byte.
    Trailer,
    /// Plain bodies; each part's and each PUT's ETag checked against the MD5 of the bytes sent,
    /// and the final ETag against the MD5 of the part MD5s.
    Md5,
    /// Plain bodies; the size is checked (HEAD), nothing else.
    None,
}

impl WriteChecksum {
    pub fn as_str(self) -> &'static str {
        match self {
            WriteChecksum::Auto => "auto",
            WriteChecksum::Trailer => "trailer",
            WriteChecksum::Md5 => "md5",
            WriteChecksum::None => "none",
        }
    }
}

/// Server-side encryption at the target. The KMS key is the target account's own.
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    Aes256,
    Kms { key_id: Option<String> },
}

/// How multipart part sizes are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartSize {
    /// Chosen per object by the plan (see `plan::auto_part_size`).
    Auto,
    Fixed(ByteSize),
}

/// How the plan decides that the target already holds an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareMode {
    /// Same size only. Fast, and wrong when content changed but size did not.
    Size,
    /// Same size and the target is at least as new as the source.
    SizeAndMtime,
    /// Same size and a matching checksum or ETag; when nothing comparable exists the object
    /// is copied again (unknown is never treated as equal). The default.
    Checksum,
}

/// How much end-to-end verification the engine does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifyMode {
    /// Checksums on both hops where the stores offer them; size always. The default.
    Checksum,
    /// Also compute MD5 to check ETags on stores without flexible checksums (costs CPU).
    Md5,
    /// Sizes only.
    Size,
}

/// What to do when the source object changes during its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnSourceChange {
    /// Fail the object with 'source changed during copy'.
    Fail,
    /// Start the object over once with the new version, then fail if it changes again.
    Restart,
}

/// Whether a run only copies, or also deletes target objects the source no longer has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransferMode {
    /// Copy only; never delete anything at the target. The default.
    #[default]
    Copy,
    /// Copy, then delete target objects under the target prefix that have no source
    /// counterpart (and that the filters would have selected), only after every copy
    /// succeeded and only when confirmed (`--confirm-delete` or the TUI's confirmation).
    Mirror,
}

impl TransferMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferMode::Copy => "copy",
            TransferMode::Mirror => "mirror",
        }
    }

    /// Parse `copy` / `mirror`; `what` names the setting in the error (`transfer.mode`,
    /// `--mode`).
    pub fn parse(what: &str, text: &str) -> crate::error::Result<Self> {
        match text.trim() {
            "copy" => Ok(TransferMode::Copy),
            "mirror" => Ok(TransferMode::Mirror),
            other => Err(crate::error::Error::config(format!(
                "{what} '{other}' is not a mode: use 'copy' (default; never deletes) or 'mirror' \
                 (also deletes target objects the source does not have)"
            ))),
        }
    }
}

/// Settings for the plan and the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferSettings {
    /// Objects at or above this size go multipart.
    pub multipart_threshold: ByteSize,
    /// Multipart objects at or above this size get one upload that several shards fill
    /// (`airlock prepare`, `run --shard`, `finalize`). None: no object is split.
    pub split_above: Option<ByteSize>,
    pub part_size: PartSize,
    /// Requests in flight, whole process: the operating point, or with
    /// `adaptive_concurrency` the ceiling the engine may climb to.
    pub concurrency: usize,
    /// `concurrency = "auto"`: the engine starts below `concurrency` and raises the requests
    /// in flight while throughput still grows (see `engine::window`).
    pub adaptive_concurrency: bool,
    /// Bytes buffered in flight, whole process.
    pub memory_limit: ByteSize,
    /// Attempts after the first, per part or per single object.
    pub max_retries: u32,
    pub verify: VerifyMode,
    pub compare: CompareMode,
    pub on_source_change: OnSourceChange,
    /// Keep a multipart upload that failed for good, so a later run can resume it.
    pub keep_failed_uploads: bool,
    /// Copy Content-Type, Content-Encoding, Cache-Control, ... and user metadata.
    pub copy_metadata: bool,
    /// Copy object tags (GetObjectTagging -> Tagging).
    pub copy_tags: bool,
    /// Rate the plan uses for its ETA before a run has measured one.
    pub estimate_rate: ByteSize,
    /// Cap on bytes per second across the whole run (token bucket in the data path); None
    /// means no cap.
    pub bandwidth_limit: Option<ByteSize>,
    pub connect_timeout: Duration,
    /// A response or body that sends nothing for this long is cut and retried.
    pub read_timeout: Duration,
    /// `copy` (never deletes) or `mirror`.
    pub mode: TransferMode,
}

impl Default for TransferSettings {
    fn default() -> Self {
        defaults::transfer()
    }
}

impl TransferSettings {
    /// `concurrency` as a config file writes it: `"auto"` (quoted, a TOML string) or the
    /// number.
    pub fn concurrency_toml(&self) -> String {
        if self.adaptive_concurrency {
            "\"auto\"".into()
        } else {
            self.concurrency.to_string()
        }
    }

    /// The most requests the engine will have in flight: `concurrency`, capped by the memory
    /// budget (each request reserves [`defaults::STREAM_BUFFER`]). With `"auto"`, the ceiling
    /// the window may climb to.
    pub fn concurrency_ceiling(&self) -> usize {
        let slots = (self.memory_limit.0 / defaults::STREAM_BUFFER.0).max(1);
        self.concurrency
            .min(usize::try_from(slots).unwrap_or(usize::MAX))
    }
}
