//! The JSON report of one run or shard (`airlock run --report PATH|s3://...`): which shard, of
//! which plan, the run summary, and one entry per object (copied, skipped, parts uploaded,
//! failed with its reason), with bytes, data requests started, retries and durations. Built from
//! the engine's events while they are reported; written to a file, a directory or an `s3://`
//! prefix in the target account. `airlock report` merges them. Depends on `engine` (events),
//! `plan`, `job::shard`, `aws::documents` and `fsutil`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::shard::Shard;
use crate::aws::Sides;
use crate::aws::documents::{self, S3Location};
use crate::engine::{Event, ObjectId, RunSummary};
use crate::error::{Error, Result};
use crate::plan::{Plan, Route};

/// Bumped when the report format changes incompatibly.
pub const REPORT_FORMAT: u32 = 1;

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
    pub objects: Vec<ObjectReport>,
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

/// A stable fingerprint of a plan's items (CRC64NVME of their JSON).
pub(crate) fn plan_id(plan: &Plan) -> String {
    let json = serde_json::to_vec(&plan.items).unwrap_or_default();
    format!(
        "{:016x}",
        crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, &json)
    )
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Builds a [`ShardReport`] from the plan a run executes and the events it emits.
pub(crate) struct Collector {
    report: ShardReport,
    started: HashMap<ObjectId, Instant>,
}

impl Collector {
    /// `plan` is what the engine runs (this shard's items, ids by position); `plan_id` is the
    /// whole plan's fingerprint.
    pub(crate) fn new(plan: &Plan, plan_id: String, shard: Option<&Shard>) -> Self {
        let objects = plan
            .items
            .iter()
            .map(|item| {
                let skipped = item.route == Route::Skip;
                ObjectReport {
                    key: item.source_key.clone(),
                    target_key: item.target_key.clone(),
                    outcome: if skipped {
                        Outcome::Skipped
                    } else {
                        Outcome::NotStarted
                    },
                    bytes: 0,
                    parts: item.split.as_ref().map(|s| (s.first_part, s.last_part)),
                    requests: 0,
                    resumed_parts: 0,
                    retries: 0,
                    duration_ms: 0,
                    verified: false,
                    detail: if skipped {
                        item.reason.clone()
                    } else {
                        String::new()
                    },
                }
            })
            .collect();
        let shard = shard.map_or(
            ShardId {
                index: 0,
                count: 1,
                source: "none".into(),
            },
            |s| ShardId {
                index: s.index,
                count: s.count,
                source: s.source.clone(),
            },
        );
        let side = |s: &crate::plan::PlanSide| format!("s3://{}/{}", s.bucket, s.prefix);
        Collector {
            report: ShardReport {
                format: REPORT_FORMAT,
                shard,
                plan_id,
                source: side(&plan.source),
                target: side(&plan.target),
                started_unix_ms: unix_ms(),
                finished_unix_ms: 0,
                summary: RunSummary::default(),
                objects,
            },
            started: HashMap::new(),
        }
    }

    fn end(&mut self, id: ObjectId, outcome: Outcome, bytes: u64, detail: String) {
        let duration = self
            .started
            .get(&id)
            .map(|t| t.elapsed().as_millis() as u64);
        if let Some(object) = self.report.objects.get_mut(id) {
            object.outcome = outcome;
            object.bytes = bytes;
            object.detail = detail;
            object.duration_ms = duration.unwrap_or(0);
        }
    }

    /// Record one engine event.
    pub(crate) fn event(&mut self, event: &Event) {
        match event {
            Event::ObjectStarted {
                id, resumed_parts, ..
            } => {
                self.started.entry(*id).or_insert_with(Instant::now);
                if let Some(object) = self.report.objects.get_mut(*id) {
                    object.resumed_parts = *resumed_parts;
                }
            }
            Event::PartStarted { id, .. } => {
                if let Some(object) = self.report.objects.get_mut(*id) {
                    object.requests += 1;
                }
            }
            Event::PartRetry { id, .. } => {
                if let Some(object) = self.report.objects.get_mut(*id) {
                    object.retries += 1;
                }
            }
            Event::ObjectDone {
                id,
                bytes,
                verification,
                ..
            } => {
                let detail = format!("{}; {}", verification.source, verification.target);
                self.end(*id, Outcome::Copied, *bytes, detail);
                if let Some(object) = self.report.objects.get_mut(*id) {
                    object.verified = verification.verified;
                }
            }
            Event::PartsUploaded {
                id,
                upload_id,
                bytes,
                ..
            } => {
                let detail = format!(
                    "parts in upload '{upload_id}'; 'airlock finalize' completes and verifies it"
                );
                self.end(*id, Outcome::PartsUploaded, *bytes, detail);
            }
            Event::ObjectFailed { id, error, .. } => {
                self.end(*id, Outcome::Failed, 0, error.clone());
            }
            Event::ObjectCancelled { id, .. } => {
                self.end(*id, Outcome::Cancelled, 0, "cancelled".into());
            }
            Event::ObjectGone { id, reason, .. } => {
                self.end(*id, Outcome::Skipped, 0, reason.clone());
            }
            Event::UploadLeft { id, upload_id, .. } => {
                if let Some(object) = self.report.objects.get_mut(*id) {
                    object.detail.push_str(&format!(
                        "; upload '{upload_id}' left at the target (abort refused)"
                    ));
                }
            }
            Event::RunFinished { summary } => {
                self.report.summary = summary.clone();
            }
            Event::RunStarted { .. }
            | Event::PlanGrew { .. }
            | Event::PartDone { .. }
            | Event::Progress { .. }
            | Event::ConcurrencyChanged { .. }
            | Event::BandwidthChanged { .. }
            | Event::ChecksumMode { .. }
            | Event::Paused
            | Event::Resumed
            // Mirror runs are never sharded; the summary carries their deletions.
            | Event::DeletionsStarted { .. }
            | Event::ObjectDeleted { .. }
            | Event::DeleteFailed { .. }
            | Event::DeletionsSkipped { .. }
            // The summary names them (`foreign_uploads`).
            | Event::ForeignUpload { .. } => {}
        }
    }

    /// The finished report (`summary` is the engine's final one).
    pub(crate) fn finish(mut self, summary: &RunSummary) -> ShardReport {
        self.report.summary = summary.clone();
        self.report.finished_unix_ms = unix_ms();
        self.report
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
