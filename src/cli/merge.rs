//! `airlock report DIR|s3://BUCKET/PREFIX/`: prints the shards' reports merged into one
//! summary (the reading and merging is `airlock_core::job::report_merge`), as a table or JSON.
//! Exit 1 if any object failed, was cancelled or not done, if a shard is missing, or if an
//! object was copied by two shards; 0 otherwise.

use std::io::Write;
use std::time::Duration;

use airlock_core::engine::RunSummary;
use airlock_core::error::{Error, Result};
use airlock_core::job::report_merge::{Merged, ReadReport, merge};
use airlock_core::progress::{human_bytes, human_duration};

/// Print the merged summary (a table, or JSON) and return the exit code.
pub(crate) fn merge_reports(
    reports: Vec<ReadReport>,
    location: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<i32> {
    let merged = merge(reports)?;
    if json {
        let text = serde_json::to_string_pretty(&merged)
            .map_err(|e| Error::internal(format!("merged report to JSON: {e}")))?;
        let _ = writeln!(out, "{text}");
    } else {
        print_table(&merged, location, out);
    }
    Ok(if merged.ok() { 0 } else { 1 })
}

fn print_table(m: &Merged, location: &str, out: &mut dyn Write) {
    for (name, why) in &m.ignored {
        let _ = writeln!(out, "ignored '{name}': {why}");
    }
    if m.shard_count == 0 {
        let _ = writeln!(
            out,
            "no shard reports in '{location}': did the shards run with --report?"
        );
        return;
    }
    let _ = writeln!(
        out,
        "{:<10} {:>8} {:>8} {:>6} {:>7} {:>11} {:>8} {:>9}",
        "SHARD", "COPIED", "SKIPPED", "SPLIT", "FAILED", "BYTES", "RETRIES", "ELAPSED"
    );
    let row = |out: &mut dyn Write, name: &str, s: &RunSummary| {
        let _ = writeln!(
            out,
            "{name:<10} {:>8} {:>8} {:>6} {:>7} {:>11} {:>8} {:>9}",
            s.copied,
            s.skipped,
            s.split_ranges,
            s.failed + s.cancelled + s.not_started,
            human_bytes(s.bytes_copied),
            s.retries,
            human_duration(Duration::from_millis(s.elapsed_ms))
        );
    };
    for line in &m.shards {
        row(
            out,
            &format!("{}/{}", line.index, m.shard_count),
            &line.summary,
        );
    }
    row(out, "total", &m.totals);
    let _ = writeln!(
        out,
        "{} of {} copied objects verified on both hops; {} shards reported of {}",
        m.totals.verified,
        m.totals.copied,
        m.shards.len(),
        m.shard_count
    );
    if m.totals.split_ranges > 0 {
        let _ = writeln!(
            out,
            "split objects: {} part ranges uploaded; 'airlock finalize --plan FILE' completes them",
            m.totals.split_ranges
        );
    }
    for (key, reason) in &m.totals.delete_failures {
        let _ = writeln!(out, "delete failed: {key}: {reason}");
    }
    for (key, shard, reason) in &m.failures {
        let _ = writeln!(out, "failed (shard {shard}): {key}: {reason}");
    }
    if m.failures_left_out > 0 {
        let _ = writeln!(
            out,
            "... and {} more failed objects (each shard's --manifest lists them all)",
            m.failures_left_out
        );
    }
    if !m.missing_shards.is_empty() {
        let list: Vec<String> = m.missing_shards.iter().map(u32::to_string).collect();
        let _ = writeln!(
            out,
            "missing: no report from shard {} of {}: run them again with --report",
            list.join(", "),
            m.shard_count
        );
    }
    for key in &m.copied_twice {
        let _ = writeln!(
            out,
            "copied by more than one shard: '{key}' (were these reports made from one plan?)"
        );
    }
    if m.copied_twice_unchecked > 0 {
        let _ = writeln!(
            out,
            "not checked for keys copied by two shards: {} objects the reports do not list, \
             in shards whose copied key ranges overlap (the shards' --manifest files list them)",
            m.copied_twice_unchecked
        );
    }
    let verdict = if m.ok() {
        "ok: every shard reported and nothing failed"
    } else {
        "NOT OK: see above"
    };
    let _ = writeln!(out, "{verdict}");
}
