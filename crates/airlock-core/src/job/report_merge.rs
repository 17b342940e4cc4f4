//! Merging shard reports (`airlock report DIR|s3://BUCKET/PREFIX/`): read every report in a
//! directory or under an `s3://` prefix (target account), keep the latest report of each shard,
//! and add them up into one [`Merged`] view. The shard count comes from the reports themselves,
//! so a shard that never wrote one is named as missing; reports of different plans or shard
//! counts are refused. Prints nothing: the CLI words and prints the result.
//!
//! Memory is bounded by the number of shards, not of objects: a report lists at most
//! [`shard_report::REPORT_LIST_LIMIT`] objects and its summary's lists as many each, so 100
//! shards' reports hold a few hundred thousand short entries at most. Failures come from the
//! summaries' (bounded) lists. A key written by two shards is found among the listed objects;
//! a shard that left objects out of its list is checked by its range of copied keys instead:
//! ranges that meet no other shard's clear its unlisted objects (a streamed shard copies one
//! contiguous range of the plan), else they are counted as not checked.
//!
//! Depends on `job::shard_report` (the format), `aws::documents` and `engine` (the summary).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Serialize;

use super::shard_report::{self, Outcome, ShardReport};
use crate::aws::SideClient;
use crate::aws::documents::{self, S3Location};
use crate::engine::RunSummary;
use crate::error::{Error, Result};

/// A report file's name and what reading it gave: a report, or why it is not one.
pub type ReadReport = (String, std::result::Result<ShardReport, String>);

/// The merged view of every shard's report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Merged {
    pub shard_count: u32,
    /// One per shard index found (the latest report of each).
    pub shards: Vec<ShardLine>,
    pub missing_shards: Vec<u32>,
    pub totals: RunSummary,
    /// (key, shard index, reason) of every failed object the reports' summaries list.
    pub failures: Vec<(String, u32, String)>,
    /// Failed objects the summaries counted but did not list.
    #[serde(skip_serializing_if = "is_zero")]
    pub failures_left_out: u64,
    /// Target keys written by more than one shard (never expected).
    pub copied_twice: Vec<String>,
    /// Objects the reports did not list whose shard's range of copied keys meets another
    /// shard's: whether one of them was written twice could not be checked.
    #[serde(skip_serializing_if = "is_zero")]
    pub copied_twice_unchecked: u64,
    /// Files that were not readable reports, with why.
    pub ignored: Vec<(String, String)>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One shard's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShardLine {
    pub index: u32,
    pub source: String,
    pub summary: RunSummary,
}

impl Merged {
    /// Whether everything is accounted for and nothing failed.
    pub fn ok(&self) -> bool {
        let t = &self.totals;
        self.shard_count > 0
            && self.missing_shards.is_empty()
            && self.copied_twice.is_empty()
            && t.failed == 0
            && t.cancelled == 0
            && t.not_started == 0
            && t.delete_failed == 0
            && !t.interrupted
    }
}

/// Merge parsed reports (file name, parse result).
pub fn merge(reports: Vec<ReadReport>) -> Result<Merged> {
    let mut merged = Merged::default();
    let mut latest: BTreeMap<u32, ShardReport> = BTreeMap::new();
    let mut plan_ids: Vec<(String, String)> = Vec::new();
    for (name, parsed) in reports {
        let report = match parsed {
            Ok(report) => report,
            Err(why) => {
                merged.ignored.push((name, why));
                continue;
            }
        };
        if let Some((other, id)) = plan_ids.iter().find(|(_, id)| *id != report.plan_id) {
            return Err(Error::usage(format!(
                "'{name}' is a report of plan '{}' but '{other}' is of plan '{id}': keep one plan's reports per location",
                report.plan_id
            )));
        }
        plan_ids.push((name.clone(), report.plan_id.clone()));
        if merged.shard_count != 0 && merged.shard_count != report.shard.count {
            return Err(Error::usage(format!(
                "'{name}' is shard {} of {} but other reports count {} shards: keep one run's reports per location",
                report.shard.index, report.shard.count, merged.shard_count
            )));
        }
        merged.shard_count = report.shard.count;
        let newer = latest
            .get(&report.shard.index)
            .is_none_or(|seen| seen.finished_unix_ms <= report.finished_unix_ms);
        if newer {
            latest.insert(report.shard.index, report);
        }
    }
    let mut writers: HashMap<String, u32> = HashMap::new();
    for report in latest.values() {
        let s = &report.summary;
        let t = &mut merged.totals;
        t.copied += s.copied;
        t.verified += s.verified;
        t.skipped += s.skipped;
        t.split_ranges += s.split_ranges;
        t.failed += s.failed;
        t.cancelled += s.cancelled;
        t.not_started += s.not_started;
        t.bytes_copied += s.bytes_copied;
        t.retries += s.retries;
        t.slowdowns += s.slowdowns;
        t.peak_buffered_bytes = t.peak_buffered_bytes.max(s.peak_buffered_bytes);
        t.elapsed_ms = t.elapsed_ms.max(s.elapsed_ms);
        t.interrupted |= s.interrupted;
        // A (non-sharded) mirror run's deletions.
        t.deleted += s.deleted;
        t.bytes_deleted += s.bytes_deleted;
        t.delete_failed += s.delete_failed;
        t.delete_failures.extend(s.delete_failures.iter().cloned());
        for (key, reason) in &s.failures {
            merged
                .failures
                .push((key.clone(), report.shard.index, reason.clone()));
        }
        merged.failures_left_out += s.left_out().failures;
        for object in &report.objects {
            // Split objects are written by several shards, by design, in disjoint ranges.
            if object.outcome == Outcome::Copied
                && object.parts.is_none()
                && writers
                    .insert(object.target_key.clone(), report.shard.index)
                    .is_some()
            {
                merged.copied_twice.push(object.target_key.clone());
            }
        }
        merged.shards.push(ShardLine {
            index: report.shard.index,
            source: report.shard.source.clone(),
            summary: report.summary.clone(),
        });
    }
    merged.copied_twice_unchecked = unchecked(latest.values());
    merged.missing_shards = (0..merged.shard_count)
        .filter(|i| !latest.contains_key(i))
        .collect();
    Ok(merged)
}

/// Objects left out of reports whose range of copied keys meets another report's.
fn unchecked<'a>(reports: impl Iterator<Item = &'a ShardReport> + Clone) -> u64 {
    let meets = |a: &ShardReport, b: &ShardReport| match (&a.copied_keys, &b.copied_keys) {
        (Some((a_first, a_last)), Some((b_first, b_last))) => {
            a_first <= b_last && b_first <= a_last
        }
        _ => false,
    };
    reports
        .clone()
        .filter(|a| a.objects_left_out > 0)
        .filter(|a| {
            reports
                .clone()
                .any(|b| b.shard.index != a.shard.index && meets(a, b))
        })
        .map(|a| a.objects_left_out)
        .sum()
}

/// Read every `*.json` directly in `dir`.
pub fn read_dir(dir: &Path) -> Result<Vec<ReadReport>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut reports = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") || !path.is_file() {
            continue;
        }
        let name = path.display().to_string();
        let parsed = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse(&bytes));
        reports.push((name, parsed));
    }
    Ok(reports)
}

/// Read every `*.json` directly under an `s3://` prefix, with the target side's credentials.
pub async fn read_s3(side: &SideClient, location: &S3Location) -> Result<Vec<ReadReport>> {
    let prefix = if location.is_prefix() {
        location.key.clone()
    } else {
        format!("{}/", location.key)
    };
    let mut reports = Vec::new();
    for key in documents::list(side, &location.bucket, &prefix).await? {
        if !key.ends_with(".json") {
            continue;
        }
        let bytes = documents::get(side, &location.bucket, &key).await?;
        reports.push((format!("s3://{}/{key}", location.bucket), parse(&bytes)));
    }
    Ok(reports)
}

fn parse(bytes: &[u8]) -> std::result::Result<ShardReport, String> {
    let report: ShardReport =
        serde_json::from_slice(bytes).map_err(|e| format!("not a shard report: {e}"))?;
    if !shard_report::REPORT_FORMATS_READ.contains(&report.format) {
        return Err(format!(
            "report format {} (this airlock reads {:?})",
            report.format,
            shard_report::REPORT_FORMATS_READ
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::shard_report::{ObjectReport, REPORT_FORMAT, ShardId};

    fn copied(key: &str) -> ObjectReport {
        ObjectReport {
            key: key.into(),
            target_key: key.into(),
            outcome: Outcome::Copied,
            bytes: 1,
            parts: None,
            requests: 1,
            resumed_parts: 0,
            retries: 0,
            duration_ms: 1,
            verified: true,
            detail: String::new(),
        }
    }

    /// Shard `index` of 2 that listed `listed`, left `left_out` out, copied keys `range`.
    fn report(index: u32, listed: &[&str], left_out: u64, range: (&str, &str)) -> ReadReport {
        let summary = RunSummary {
            copied: listed.len() as u64 + left_out,
            failures: vec![(format!("f{index}"), "no".into())],
            failed: 1,
            ..Default::default()
        };
        let report = ShardReport {
            format: REPORT_FORMAT,
            shard: ShardId {
                index,
                count: 2,
                source: "--shard".into(),
            },
            plan_id: "p".into(),
            source: "s3://s/".into(),
            target: "s3://t/".into(),
            started_unix_ms: 1,
            finished_unix_ms: 2,
            summary,
            objects: listed.iter().map(|k| copied(k)).collect(),
            objects_left_out: left_out,
            copied_keys: Some((range.0.into(), range.1.into())),
        };
        (format!("shard-{index}.json"), Ok(report))
    }

    #[test]
    fn disjoint_ranges_clear_unlisted_objects_and_overlapping_ones_are_counted() {
        let merged = merge(vec![
            report(0, &["a", "b"], 10, ("a", "m")),
            report(1, &["n", "o"], 5, ("n", "z")),
        ])
        .unwrap();
        assert_eq!(merged.totals.copied, 19);
        assert!(merged.copied_twice.is_empty());
        assert_eq!(merged.copied_twice_unchecked, 0);
        let failed: Vec<&str> = merged.failures.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(failed, ["f0", "f1"]);

        let merged = merge(vec![
            report(0, &["a", "b"], 10, ("a", "p")),
            report(1, &["b", "o"], 5, ("b", "z")),
        ])
        .unwrap();
        assert_eq!(merged.copied_twice, ["b"]);
        assert_eq!(merged.copied_twice_unchecked, 15);
        assert!(!merged.ok());
    }
}
