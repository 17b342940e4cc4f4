//! Headless reporters of engine events: indicatif progress bars for people ([`TermReporter`],
//! in `report/term.rs`: an overall bar plus one bar per active multipart object, counts from
//! `airlock_core::progress::Stats`), or one JSON object per line for schedulers' logs
//! (Airflow, Batch, Kubernetes). Both end with the run summary, [`write_summary`].

mod term;

pub(super) use term::TermReporter;

use std::io::Write;
use std::time::{Duration, Instant};

use airlock_core::engine::{Event, RunSummary, SUMMARY_LIST_LIMIT};
use airlock_core::progress::{human_bytes, human_duration};

/// Consumes events, then the summary.
pub(super) trait Reporter {
    fn event(&mut self, event: &Event, out: &mut dyn Write);
    fn finish(&mut self, summary: &RunSummary, out: &mut dyn Write);
}

/// JSON lines on stdout. Progress is thinned to one line per second, but the last progress
/// of the run is never thinned away: a progress line held back by the thinning is written just
/// before `run_finished`, so a log's final progress line shows the run's final byte counts.
pub(super) struct JsonReporter {
    started: Instant,
    last_progress: Option<Instant>,
    /// The newest progress event the thinning held back, written before `run_finished`.
    held_progress: Option<Event>,
}

impl JsonReporter {
    pub(super) fn new() -> Self {
        JsonReporter {
            started: Instant::now(),
            last_progress: None,
            held_progress: None,
        }
    }

    /// One event as one JSON line, flushed at once (a killed process loses no written line).
    fn write_line(&self, event: &Event, out: &mut dyn Write) {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "elapsed_ms".into(),
                (self.started.elapsed().as_millis() as u64).into(),
            );
        }
        let _ = writeln!(out, "{value}");
        let _ = out.flush();
    }
}

impl Default for JsonReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for JsonReporter {
    fn event(&mut self, event: &Event, out: &mut dyn Write) {
        match event {
            Event::Progress { .. } => {
                let now = Instant::now();
                if self
                    .last_progress
                    .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
                {
                    self.held_progress = Some(event.clone());
                    return;
                }
                self.last_progress = Some(now);
                self.held_progress = None;
            }
            Event::RunFinished { .. } => {
                if let Some(progress) = self.held_progress.take() {
                    self.write_line(&progress, out);
                }
            }
            _ => {}
        }
        self.write_line(event, out);
    }

    fn finish(&mut self, _summary: &RunSummary, out: &mut dyn Write) {
        // The summary travelled as the `run_finished` event; a run that ended without one
        // (dropped handle) still shows its last progress.
        if let Some(progress) = self.held_progress.take() {
            self.write_line(&progress, out);
        }
    }
}

/// The closing table of a run.
pub(super) fn write_summary(s: &RunSummary, out: &mut dyn Write) {
    let elapsed = Duration::from_millis(s.elapsed_ms);
    let rate = s.average_rate();
    let _ = writeln!(
        out,
        "copied     {:>8} objects  {:>11}  ({} verified on both hops)",
        s.copied,
        human_bytes(s.bytes_copied),
        s.verified
    );
    let _ = writeln!(
        out,
        "skipped    {:>8} objects  (already at the target)",
        s.skipped
    );
    if s.split_ranges > 0 {
        let _ = writeln!(
            out,
            "split      {:>8} objects  (this shard's parts uploaded; 'airlock finalize' completes them)",
            s.split_ranges
        );
    }
    let _ = writeln!(out, "failed     {:>8} objects", s.failed);
    for (key, reason) in &s.failures {
        let _ = writeln!(out, "  - {key}: {reason}");
    }
    write_more(s.left_out().failures, out);
    if s.cancelled > 0 {
        let _ = writeln!(out, "cancelled  {:>8} objects", s.cancelled);
    }
    if s.not_started > 0 {
        let _ = writeln!(
            out,
            "not done   {:>8} objects  (interrupted)",
            s.not_started
        );
    }
    write_deletions(s, out);
    write_removed(s, out);
    write_uploads_left(s, out);
    write_foreign_uploads(s, out);
    let _ = writeln!(
        out,
        "elapsed {}, {}/s, {} retries, {} SlowDown backoffs, peak buffered {}",
        human_duration(elapsed),
        human_bytes(rate as u64),
        s.retries,
        s.slowdowns,
        human_bytes(s.peak_buffered_bytes)
    );
}

/// Mirror runs: what was deleted, what failed to delete, what was left undeleted and why.
fn write_deletions(s: &RunSummary, out: &mut dyn Write) {
    if s.deleted > 0 || s.delete_failed > 0 {
        let _ = writeln!(
            out,
            "deleted    {:>8} objects  {:>11}  (mirror: no source counterpart)",
            s.deleted,
            human_bytes(s.bytes_deleted)
        );
    }
    if s.delete_failed > 0 {
        let _ = writeln!(out, "delete failed {:>5} objects", s.delete_failed);
        for (key, reason) in &s.delete_failures {
            let _ = writeln!(out, "  - {key}: {reason}");
        }
        write_more(s.left_out().delete_failures, out);
    }
    if let Some(skipped) = &s.deletions_skipped {
        let _ = writeln!(
            out,
            "not deleted {:>7} objects  {:>11}  ({})",
            skipped.objects,
            human_bytes(skipped.bytes),
            skipped.reason
        );
    }
}

/// Objects that failed the check after their write: removed from the target, or (when the
/// delete failed) left there wrong, to be deleted by hand.
fn write_removed(s: &RunSummary, out: &mut dyn Write) {
    if !s.writes.removed.is_empty() {
        let _ = writeln!(
            out,
            "removed    {:>8} objects  (written, failed the check after the write, deleted from the target)",
            s.writes.removed.len() as u64 + s.left_out().removed
        );
        for key in &s.writes.removed {
            let _ = writeln!(out, "  - {key}");
        }
        write_more(s.left_out().removed, out);
    }
    if !s.writes.wrong_left.is_empty() {
        let _ = writeln!(
            out,
            "WRONG      {:>8} objects  at the target (failed the check; delete them by hand)",
            s.writes.wrong_left.len() as u64 + s.left_out().wrong_left
        );
        for (key, why) in &s.writes.wrong_left {
            let _ = writeln!(out, "  - {key}: DeleteObject failed: {why}");
        }
        write_more(s.left_out().wrong_left, out);
    }
}

/// In-progress uploads of copied keys that airlock did not open (left alone).
fn write_foreign_uploads(s: &RunSummary, out: &mut dyn Write) {
    if !s.foreign_uploads.is_empty() {
        let _ = writeln!(
            out,
            "foreign   {:>8} multipart uploads at copied keys, not opened by airlock: left alone",
            s.foreign_uploads.len() as u64 + s.left_out().foreign_uploads
        );
        for found in &s.foreign_uploads {
            let _ = writeln!(out, "  - {}", found.warning());
        }
        write_more(s.left_out().foreign_uploads, out);
    }
}

/// Multipart uploads an abort could not remove, with how to remove them.
fn write_uploads_left(s: &RunSummary, out: &mut dyn Write) {
    if !s.uploads_left.is_empty() {
        let _ = writeln!(
            out,
            "left      {:>8} multipart uploads at the target (abort refused; 'airlock uploads abort' removes them)",
            s.uploads_left.len() as u64 + s.left_out().uploads_left
        );
        for left in &s.uploads_left {
            let _ = writeln!(
                out,
                "  - {}: upload '{}': {}",
                left.key, left.upload_id, left.error
            );
        }
        write_more(s.left_out().uploads_left, out);
    }
}

/// The line after a summary list that kept only its first entries.
fn write_more(more: u64, out: &mut dyn Write) {
    if more > 0 {
        let _ = writeln!(
            out,
            "  ...and {more} more (a run's summary keeps the first {SUMMARY_LIST_LIMIT}; 'airlock run --manifest FILE' records every object)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(put_bytes: u64) -> Event {
        Event::Progress {
            get_bytes: put_bytes,
            put_bytes,
            buffered_bytes: 0,
            objects: Vec::new(),
        }
    }

    fn lines(out: &[u8]) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(out)
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }

    #[test]
    fn the_last_progress_is_written_before_run_finished_even_when_thinned() {
        let mut reporter = JsonReporter::new();
        let mut out = Vec::new();
        // Three ticks within a second: the thinning writes only the first...
        for bytes in [10, 20, 30] {
            reporter.event(&progress(bytes), &mut out);
        }
        let summary = RunSummary {
            bytes_copied: 30,
            ..RunSummary::default()
        };
        reporter.event(
            &Event::RunFinished {
                summary: summary.clone(),
            },
            &mut out,
        );
        reporter.finish(&summary, &mut out);
        let lines = lines(&out);
        let names: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
        // ...but the final state comes right before run_finished, and only once.
        assert_eq!(names, ["progress", "progress", "run_finished"], "{lines:?}");
        assert_eq!(lines[0]["put_bytes"], 10);
        assert_eq!(lines[1]["put_bytes"], 30);
    }

    #[test]
    fn a_progress_already_written_is_not_repeated() {
        let mut reporter = JsonReporter::new();
        let mut out = Vec::new();
        reporter.event(&progress(5), &mut out);
        reporter.event(
            &Event::RunFinished {
                summary: RunSummary::default(),
            },
            &mut out,
        );
        reporter.finish(&RunSummary::default(), &mut out);
        let names: Vec<String> = lines(&out)
            .iter()
            .map(|l| l["event"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["progress", "run_finished"]);
    }

    #[test]
    fn a_run_ending_without_run_finished_still_shows_its_last_progress() {
        let mut reporter = JsonReporter::new();
        let mut out = Vec::new();
        reporter.event(&progress(1), &mut out);
        reporter.event(&progress(2), &mut out);
        reporter.finish(&RunSummary::default(), &mut out);
        let lines = lines(&out);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1]["put_bytes"], 2);
    }

    #[test]
    fn a_bounded_list_says_how_many_it_left_out() {
        let summary = RunSummary {
            failed: 3,
            failures: vec![("a".into(), "denied".into())],
            left_out: Some(Box::new(airlock_core::engine::LeftOut {
                failures: 2,
                ..Default::default()
            })),
            ..RunSummary::default()
        };
        let mut out = Vec::new();
        write_summary(&summary, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("failed            3 objects"), "{text}");
        assert!(text.contains("  - a: denied\n  ...and 2 more"), "{text}");
        let mut whole = Vec::new();
        write_summary(&RunSummary::default(), &mut whole);
        assert!(!String::from_utf8(whole).unwrap().contains("more"));
    }

    #[test]
    fn the_summary_names_uploads_an_abort_left() {
        let summary = RunSummary {
            failed: 1,
            uploads_left: vec![airlock_core::engine::LeftUpload {
                key: "big.bin".into(),
                upload_id: "u-123".into(),
                error: "AccessDenied".into(),
            }],
            ..RunSummary::default()
        };
        let mut out = Vec::new();
        write_summary(&summary, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("'airlock uploads abort' removes them"),
            "{text}"
        );
        assert!(
            text.contains("big.bin: upload 'u-123': AccessDenied"),
            "{text}"
        );
    }
}
