//! The size-routing plan: a pure function from the two listings and the transfer settings to a
//! [`Plan`]: every source object with its route (`skip` / `single` / `multipart`), part size and
//! part count, plus per-route totals, peak memory and an ETA. No I/O happens here; the plan is
//! data that can be shown, saved as JSON (it holds no secrets), reviewed, sharded and executed.
//!
//! Depends on `config` and `error` only.

mod compare;
pub mod filter;
mod format;
mod held;
pub mod layout;
pub mod lines;
pub(crate) mod mirror;
mod planner;
mod split;
mod summary;
pub(crate) mod versions;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::config::defaults::{MAX_PART_SIZE, MAX_PARTS, MAX_SINGLE_PUT, MIN_PART_SIZE};
use crate::config::{
    ByteSize, CompareMode, PartSize, SideSettings, TransferMode, TransferSettings,
};

pub use compare::{Verdict, same_object, verdict};
pub use filter::{Criteria, Selection};
pub use format::{
    MIRROR_FORMAT_VERSION, PINNED_FORMAT_VERSION, PLAN_FORMAT_VERSION, format_for, format_of,
    parse_plan, plan_json,
};
pub use held::{ARCHIVED_CLASSES, HeldBack, HeldBackCounts, archived_class};
pub use layout::{SourceHop, SourceLayout};
pub use mirror::{DELETE_REASON, DeleteTotals, Deletion};
pub use planner::{Planned, Planner};
pub use split::{SplitUpload, part_bytes, range_bytes};
pub use summary::{RouteTotals, Summary};

/// Bytes one in-flight stream may hold (defined with the other limits in `config::defaults`,
/// whose `memory_limit` floor it is); a plan's peak memory counts in it, as the engine does.
pub use crate::config::defaults::STREAM_BUFFER;

const MIB: u64 = 1024 * 1024;

/// Base part size for `part_size = "auto"`: large enough that per-request overhead is small,
/// small enough that a retry or a crash re-sends little.
pub const AUTO_BASE_PART_SIZE: ByteSize = ByteSize::mib(16);

/// A full-object checksum as S3 reports it (base64 of the big-endian CRC or digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    pub algorithm: ChecksumAlgorithm,
    pub value: String,
    /// `false` for composite (checksum-of-checksums, `...-N`) values, which only match the same
    /// part layout.
    pub full_object: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumAlgorithm {
    Crc32,
    Crc32c,
    Crc64nvme,
    Sha1,
    Sha256,
}

/// One object as listed (and, when the plan needs it, HEADed) on one side.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Full key in its bucket.
    pub key: String,
    pub size: u64,
    /// Last-modified time in milliseconds since the Unix epoch.
    pub modified_ms: Option<i64>,
    /// ETag without quotes. Some stores list none: never treat a missing ETag as equal.
    pub etag: Option<String>,
    /// Whether the ETag is known to be the MD5 of the bytes: known only after a HEAD (`false`
    /// for SSE-KMS, DSSE-KMS and SSE-C objects and multipart uploads); `None` from a listing,
    /// which does not say how an object is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag_md5: Option<bool>,
    /// Full-object checksum, known only after a HEAD with checksum mode.
    pub checksum: Option<Checksum>,
    /// On a target object written by airlock: the source ETag it was copied from
    /// (`x-amz-meta-airlock-source-etag`), known only after a HEAD.
    pub copied_from_etag: Option<String>,
    pub storage_class: Option<String>,
    /// Whether a restored copy of an archived object is readable (HEAD's `x-amz-restore:
    /// ongoing-request="false"`); `None` when not HEADed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<bool>,
    /// The version listed at `source.version_at` (point-in-time copies); None for the latest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// What the engine does with one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Route {
    /// The target already holds the same object.
    Skip,
    /// One GET streamed into one PUT.
    Single,
    /// CreateMultipartUpload, ranged GETs into UploadPart, CompleteMultipartUpload.
    Multipart,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Skip => "skip",
            Route::Single => "single",
            Route::Multipart => "multipart",
        }
    }
}

/// One object of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub source_key: String,
    pub target_key: String,
    pub size: u64,
    /// Source ETag at planning time; the engine copies only this version (`If-Match`).
    pub source_etag: Option<String>,
    pub source_modified_ms: Option<i64>,
    pub route: Route,
    /// Part size for `multipart`; the object size for `single`; 0 for `skip`.
    pub part_size: u64,
    /// Number of requests that carry data: parts for `multipart`, 1 for `single`, 0 for `skip`.
    pub parts: u32,
    /// Why this route, in words (`same size and ETag at the target`, `new`, ...).
    pub reason: String,
    /// A `multipart` object whose upload `airlock prepare` opened for several shards to fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitUpload>,
    /// Point-in-time copies: the source version chosen at the plan's `version_at`; every GET
    /// and HEAD of this object names it. None copies the latest version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_id: Option<String>,
    /// A `skip` the target does not have: why it is held back (counted in the summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back: Option<HeldBack>,
    /// A multipart source's own part layout and what its source hop is checked with (learnt
    /// at plan time; `part_size` follows it when it is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_layout: Option<SourceLayout>,
    /// Planned from the S3 Inventory made at this moment (ms since the epoch), not from a
    /// listing: a source that answers 404 at copy time was deleted since, and the object is
    /// skipped with that reason instead of failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_of_ms: Option<i64>,
}

impl PlanItem {
    /// The source object as the plan saw it (key, size, time, ETag, version), for comparing
    /// it with the target again.
    pub fn source_info(&self) -> ObjectInfo {
        ObjectInfo {
            key: self.source_key.clone(),
            size: self.size,
            modified_ms: self.source_modified_ms,
            etag: self.source_etag.clone(),
            version_id: self.source_version_id.clone(),
            ..Default::default()
        }
    }
}

/// Where a side of the plan points, so a saved plan can be checked against the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSide {
    pub bucket: String,
    pub prefix: String,
    pub region: String,
    pub endpoint_url: Option<String>,
}

impl PlanSide {
    pub fn of(side: &SideSettings) -> Self {
        PlanSide {
            bucket: side.bucket.clone(),
            prefix: side.prefix.clone(),
            region: side.region.clone(),
            endpoint_url: side.endpoint_url.clone(),
        }
    }
}

/// The settings a plan was made with (shown in the plan and saved with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSettings {
    pub multipart_threshold: u64,
    /// `None` means auto.
    pub part_size: Option<u64>,
    pub concurrency: usize,
    pub memory_limit: u64,
    pub compare: CompareMode,
    pub estimate_rate: u64,
    /// Bytes per second the run is capped at (`bandwidth_limit`); the ETA uses it when it is
    /// below `estimate_rate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_limit: Option<u64>,
    /// `copy` or `mirror` (older plan files have none: copy).
    #[serde(default, skip_serializing_if = "is_copy")]
    pub mode: TransferMode,
}

fn is_copy(mode: &TransferMode) -> bool {
    *mode == TransferMode::Copy
}

impl PlanSettings {
    pub fn of(transfer: &TransferSettings) -> Self {
        PlanSettings {
            multipart_threshold: transfer.multipart_threshold.0,
            part_size: match transfer.part_size {
                PartSize::Auto => None,
                PartSize::Fixed(size) => Some(size.0),
            },
            concurrency: transfer.concurrency,
            memory_limit: transfer.memory_limit.0,
            compare: transfer.compare,
            estimate_rate: transfer.estimate_rate.0,
            bandwidth_limit: transfer.bandwidth_limit.map(|rate| rate.0),
            mode: transfer.mode,
        }
    }
}

/// A complete, self-contained plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// File format version, checked on load.
    pub format: u32,
    pub source: PlanSide,
    pub target: PlanSide,
    pub settings: PlanSettings,
    pub items: Vec<PlanItem>,
    pub summary: Summary,
    /// Things the user should know (a part size that was raised, ...).
    pub warnings: Vec<String>,
    /// What the filters left out (empty when none was set). Older plan files have none.
    #[serde(default, skip_serializing_if = "Selection::is_empty")]
    pub selection: Selection,
    /// The moment (RFC 3339, UTC) the source was taken at (`source.version_at`); None when the
    /// latest versions were planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_at: Option<String>,
    /// Mirror mode: target objects to delete once every copy succeeded (empty in copy mode).
    /// A plan with deletions is saved as [`MIRROR_FORMAT_VERSION`], so an older airlock
    /// refuses it instead of running it as a plain copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deletions: Vec<Deletion>,
}

/// Everything [`build`] reads besides the listings.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub source: &'a SideSettings,
    pub target: &'a SideSettings,
    pub transfer: &'a TransferSettings,
}

/// Map a source key to its target key: the source prefix is replaced by the target prefix.
/// Keys outside the source prefix are returned unchanged under the target prefix.
pub fn target_key(source_key: &str, source_prefix: &str, target_prefix: &str) -> String {
    let relative = source_key.strip_prefix(source_prefix).unwrap_or(source_key);
    format!("{target_prefix}{relative}")
}

/// Part size and part count for a multipart object of `size` bytes.
///
/// Auto: [`AUTO_BASE_PART_SIZE`] (a quarter of the object, at least 5 MiB, for smaller
/// objects), raised in whole MiB until the object fits in 10,000 parts.
/// A fixed size below 5 MiB or one that would need more than 10,000 parts is raised, and the
/// returned warning says so.
pub fn part_layout(size: u64, part_size: PartSize) -> (u64, u32, Option<String>) {
    // Smallest whole-MiB part size that keeps the object within MAX_PARTS.
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let (chosen, warning) = match part_size {
        // Small multipart objects still get a few parts to copy in parallel.
        PartSize::Auto => {
            let quarter = (size / 4).div_ceil(MIB) * MIB;
            (
                AUTO_BASE_PART_SIZE
                    .0
                    .min(quarter.max(MIN_PART_SIZE.0))
                    .max(needed),
                None,
            )
        }
        PartSize::Fixed(fixed) => {
            let floor = MIN_PART_SIZE.0.max(needed);
            if fixed.0 < floor {
                let why = if fixed.0 < MIN_PART_SIZE.0 {
                    "below S3's 5 MiB minimum".to_string()
                } else {
                    format!("more than {MAX_PARTS} parts")
                };
                (
                    floor,
                    Some(format!(
                        "part_size '{}' would give {why} for a {} object: raised to {}",
                        fixed,
                        ByteSize(size),
                        ByteSize(floor)
                    )),
                )
            } else {
                (fixed.0, None)
            }
        }
    };
    let chosen = chosen.clamp(MIN_PART_SIZE.0, MAX_PART_SIZE.0);
    let parts = size.div_ceil(chosen).max(1);
    (chosen, parts as u32, warning)
}

/// Route for an object that is not skipped.
pub fn route_for_size(size: u64, threshold: u64) -> Route {
    if size == 0 {
        Route::Single
    } else if size >= threshold || size > MAX_SINGLE_PUT.0 {
        Route::Multipart
    } else {
        Route::Single
    }
}

/// Build the plan. `source` and `target` are the listings under each side's prefix; order of
/// the plan's items follows `source` order (listings come sorted by key). A loop over the
/// streaming [`Planner`], with the target listing in a map.
pub fn build(source: &[ObjectInfo], target: &[ObjectInfo], input: PlanInput<'_>) -> Plan {
    let targets: HashMap<&str, &ObjectInfo> = target.iter().map(|o| (o.key.as_str(), o)).collect();
    let mut planner = Planner::new(input);
    let items: Vec<PlanItem> = source
        .iter()
        .map(|object| {
            let target_key = planner.target_key(&object.key);
            let existing = targets.get(target_key.as_str()).copied();
            planner.plan(object.clone(), target_key, existing)
        })
        .collect();
    let planned = planner.finish();
    Plan {
        format: format::format_of(planned.pinned, false),
        source: PlanSide::of(input.source),
        target: PlanSide::of(input.target),
        settings: planned.settings,
        items,
        summary: planned.summary,
        warnings: planned.warnings,
        selection: Selection::default(),
        version_at: None,
        deletions: Vec::new(),
    }
}

impl Plan {
    /// Set the mirror deletions, and the file format that goes with them.
    pub fn set_deletions(&mut self, deletions: Vec<Deletion>) {
        self.format = format_for(&self.items, !deletions.is_empty());
        self.deletions = deletions;
    }

    /// Objects and bytes the plan deletes.
    pub fn delete_totals(&self) -> DeleteTotals {
        DeleteTotals::of(&self.deletions)
    }

    /// Recompute routes, part sizes and totals for new transfer settings (the TUI's plan
    /// editor). Skips stay skips: they depend on the listings, not on the settings.
    pub fn reroute(&mut self, transfer: &TransferSettings) {
        let mut warnings = planner::Warnings::default();
        for item in &mut self.items {
            // A split object's upload is open with its part layout: it cannot change.
            if item.route == Route::Skip || item.split.is_some() {
                continue;
            }
            let source_parts = item
                .source_layout
                .as_ref()
                .and_then(|l| Some((l.part_size?, l.parts)));
            // An object in the source's own layout stays multipart below the threshold too.
            item.route = match source_parts {
                Some(_) => Route::Multipart,
                None => route_for_size(item.size, transfer.multipart_threshold.0),
            };
            (item.part_size, item.parts) = match (item.route, source_parts) {
                // The source's own layout stays: its checks need it.
                (Route::Multipart, Some(layout)) => layout,
                (Route::Multipart, None) => {
                    let (size, parts, warning) = part_layout(item.size, transfer.part_size);
                    if let Some(warning) = warning {
                        warnings.add(warning);
                    }
                    (size, parts)
                }
                _ => (item.size, 1),
            };
        }
        self.settings = PlanSettings::of(transfer);
        self.warnings = warnings.finish();
        self.summary = Summary::of(&self.items, &self.settings);
    }
}

#[cfg(test)]
impl PlanItem {
    /// For tests: a `single` item ("new") of `size` bytes from `source_key` to `target_key`,
    /// nothing else known; tests set the fields they need on top.
    pub(crate) fn new_single(source_key: String, target_key: String, size: u64) -> PlanItem {
        PlanItem {
            source_key,
            target_key,
            size,
            source_etag: None,
            source_modified_ms: None,
            route: Route::Single,
            part_size: size,
            parts: 1,
            reason: "new".into(),
            split: None,
            source_version_id: None,
            held_back: None,
            source_layout: None,
            inventory_of_ms: None,
        }
    }
}

#[cfg(test)]
mod tests;
