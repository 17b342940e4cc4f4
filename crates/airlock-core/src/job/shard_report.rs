//! The JSON report of one run or shard (`airlock run --report PATH|s3://...`): which shard, of
//! which plan, the run summary (its counts are the report's counts), and a bounded list of the
//! objects that ended (copied, parts uploaded, failed with its reason, cancelled), each with
//! bytes, data requests started, retries and duration: the first [`REPORT_LIST_LIMIT`] in the
//! order they ended, the rest counted in `objects_left_out` (the manifest lists them all), so
//! a shard of millions of objects writes and merges a report of bounded size. Built from the
//! engine's events while they are reported ([`Collector`], `shard_report/collector.rs`);
//! written to a file, a directory or an `s3://` prefix in the target account. `airlock report`
//! merges them. Depends on `engine` (events), `plan`, `job::shard`, `aws::documents` and
//! `fsutil`.

mod collector;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::aws::Sides;
use crate::aws::documents::{self, S3Location};
use crate::engine::RunSummary;
use crate::error::{Error, Result};
use crate::plan::Plan;

pub(crate) use collector::{Collector, PlanId, ReportTap};

/// Bumped when the report format changes incompatibly. Format 2 lists at most
/// [`REPORT_LIST_LIMIT`] objects; format 1 (which listed every object, also those skipped or
/// not started) is still read by `airlock report`.
pub const REPORT_FORMAT: u32 = 2;

/// The report formats `airlock report` reads.
pub const REPORT_FORMATS_READ: [u32; 2] = [1, 2];

/// How many objects a report lists; the rest are counted in `objects_left_out`.
pub const REPORT_LIST_LIMIT: usize = crate::engine::SUMMARY_LIST_LIMIT;

/// What happened to one object in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Copied,
    Skipped,
    /// This shard's parts of a split object are in; `airlock finalize` completes it.
    PartsUploaded,
    Failed,
    Cancelled,
    /// The run stopped before the object was done.
    NotStarted,
}

/// One object's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectReport {
    pub key: String,
    pub target_key: String,
    pub outcome: Outcome,
    /// Bytes at the target for this object (the range, for a split object).
    pub bytes: u64,
    /// For a split object: the part range this shard owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<(u32, u32)>,
    /// Data requests (PutObject or UploadPart) this run started; retries not counted.
    pub requests: u32,
    /// Parts found already at the target (resumed), not sent again.
    pub resumed_parts: u32,
    pub retries: u32,
    pub duration_ms: u64,
    pub verified: bool,
    /// The skip reason, how it was verified, or why it failed.
    pub detail: String,
}

/// Which shard a report is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardId {
    pub index: u32,
    pub count: u32,
    /// Where the index came from (`--shard`, AWS Batch, Kubernetes, or `none` for a whole run).
    pub source: String,
}

/// One run's (or shard's) report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardReport {
    pub format: u32,
    pub shard: ShardId,
    /// Fingerprint of the whole plan (before sharding): reports of different plans do not mix.
    pub plan_id: String,
    pub source: String,
    pub target: String,
    pub started_unix_ms: u64,
    pub finished_unix_ms: u64,
    pub summary: RunSummary,
    /// The first [`REPORT_LIST_LIMIT`] objects that ended, in that order.
    pub objects: Vec<ObjectReport>,
    /// Objects that ended but are not in `objects` (the summary counts them all).
    #[serde(default)]
    pub objects_left_out: u64,
    /// The first and last target key (in key order) of the whole objects this run copied, for
    /// `airlock report`'s check that no key was written by two shards when the lists are not
    /// whole; None when it copied none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copied_keys: Option<(String, String)>,
}

impl ShardReport {
    /// `shard-00002-of-00008.json`: one name per shard, so a rerun replaces its own report.
    pub fn file_name(&self) -> String {
        format!(
            "shard-{:05}-of-{:05}.json",
            self.shard.index, self.shard.count
        )
    }
}

/// A stable fingerprint of a plan's items (CRC64NVME of their JSON), or with `by_source` of
/// the source objects alone (see [`ItemsDigest::new`]).
pub(crate) fn plan_id_of(plan: &Plan, by_source: bool) -> String {
    let mut digest = ItemsDigest::new(by_source);
    for item in &plan.items {
        digest.push(item);
    }
    digest.finish()
}

/// The report's `plan_id` of a run whose plan was not read to the end (it failed to read).
pub(crate) const PLAN_NOT_READ: &str = "unknown: the plan was not read to the end";

/// [`plan_id_of`] computed item by item, as a plan streams: the CRC64NVME of the items' JSON
/// array, the same value `plan_id_of` gives for the plan in memory.
pub(crate) struct ItemsDigest {
    digest: crc_fast::Digest,
    first: bool,
    failed: bool,
    by_source: bool,
}

impl ItemsDigest {
    /// The fingerprint of the items, or with `by_source` of the source objects alone (key,
    /// version and size of each item): the id of fresh shards' plans, which each shard makes
    /// for itself and whose routes differ with what the target held when it listed (their
    /// cut is by the source too).
    pub(crate) fn new(by_source: bool) -> Self {
        ItemsDigest {
            digest: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            first: true,
            failed: false,
            by_source,
        }
    }

    pub(crate) fn push(&mut self, item: &crate::plan::PlanItem) {
        self.digest.update(if self.first { b"[" } else { b"," });
        self.first = false;
        // Not the ETag: a listing without ETags leaves it to the HEADs that only some routes
        // make.
        let json = if self.by_source {
            serde_json::to_vec(&(&item.source_key, &item.source_version_id, item.size))
        } else {
            serde_json::to_vec(item)
        };
        match json {
            Ok(json) => self.digest.update(&json),
            Err(_) => self.failed = true,
        }
    }

    pub(crate) fn finish(mut self) -> String {
        if self.failed {
            return PLAN_NOT_READ.into();
        }
        self.digest.update(if self.first { b"[]" } else { b"]" });
        format!("{:016x}", self.digest.finalize())
    }
}

/// Where `--report` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportTarget {
    Local(PathBuf),
    S3(S3Location),
}

impl ReportTarget {
    pub fn parse(text: &str) -> Result<ReportTarget> {
        if text.trim().is_empty() {
            return Err(Error::usage(
                "--report '' is empty: give a file, a directory or s3://BUCKET/PREFIX/",
            ));
        }
        Ok(match S3Location::parse(text)? {
            Some(location) => ReportTarget::S3(location),
            None => ReportTarget::Local(PathBuf::from(text)),
        })
    }
}

/// Write the report; returns where it went (for the log line).
pub async fn write(report: &ShardReport, target: &ReportTarget, sides: &Sides) -> Result<String> {
    let json = serde_json::to_vec_pretty(report)
        .map_err(|e| Error::internal(format!("report to JSON: {e}")))?;
    match target {
        ReportTarget::Local(path) => {
            let path = local_path(path, &report.file_name());
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            crate::fsutil::write_atomic(&path, &json, 0o644)?;
            Ok(path.display().to_string())
        }
        ReportTarget::S3(location) => {
            let key = if location.is_prefix() {
                format!("{}{}", location.key, report.file_name())
            } else {
                location.key.clone()
            };
            documents::put(&sides.target, &location.bucket, &key, json).await?;
            Ok(format!("s3://{}/{key}", location.bucket))
        }
    }
}

/// A directory (ending in '/' or existing) gets the shard's file name; anything else is the
/// file itself.
fn local_path(path: &Path, name: &str) -> PathBuf {
    let text = path.to_string_lossy();
    if text.ends_with('/') || path.is_dir() {
        path.join(name)
    } else {
        path.to_path_buf()
    }
}
