//! [`TermReporter`]: engine events as indicatif bars on stderr (an overall bar with the run's
//! counts from `airlock_core::progress::Stats`, one bar per active multipart object) and one
//! line per notable event above them. One method per event kind.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Reporter, write_summary};
use airlock_core::engine::{Event, ObjectId, RunSummary, Verification};
use airlock_core::plan::Route;
use airlock_core::progress::{Stats, human_bytes};

/// indicatif bars on stderr (hidden when stderr is not a terminal).
pub(crate) struct TermReporter {
    bars: MultiProgress,
    overall: ProgressBar,
    objects: HashMap<ObjectId, ProgressBar>,
    /// The run's counts (objects done, failed, retries), folded as the TUI folds them.
    stats: Stats,
    /// When the reporter was made: the clock `stats` runs on.
    started: Instant,
}

/// Bars for more objects than this are not drawn (their progress is in the overall bar).
const MAX_OBJECT_BARS: usize = 8;

impl Default for TermReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl TermReporter {
    pub(crate) fn new() -> Self {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(5));
        let overall = bars.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        TermReporter {
            bars,
            overall,
            objects: HashMap::new(),
            stats: Stats::default(),
            started: Instant::now(),
        }
    }

    fn message(&self) -> String {
        let stats = &self.stats;
        let mut msg = format!("{}/{} objects", stats.done_objects, stats.total_objects);
        if stats.plan_growing {
            msg.push_str(" (listing)");
        }
        if stats.failed > 0 {
            msg.push_str(&format!(", {} failed", stats.failed));
        }
        if stats.retries > 0 {
            msg.push_str(&format!(", {} retries", stats.retries));
        }
        msg
    }

    fn line(&self, text: String) {
        let _ = self.bars.println(text);
    }

    /// The overall bar's counts, after an object ended or a part was retried.
    fn update_counts(&self) {
        self.overall.set_message(self.message());
    }

    fn run_started(&self, objects: u64, bytes: u64, skipped: u64, concurrency: usize) {
        self.overall.set_length(bytes);
        self.line(format!(
            "copying {objects} objects ({}), {skipped} already at the target, {concurrency} requests in flight",
            human_bytes(bytes)
        ));
    }

    /// A streamed plan grew: the overall bar's total follows it; its end gets a line.
    fn plan_grew(&self, objects: u64, bytes: u64, skipped: u64, complete: bool) {
        self.overall.set_length(bytes);
        self.update_counts();
        if complete {
            self.line(format!(
                "listing complete: {objects} objects to copy ({}), {skipped} already at the target",
                human_bytes(bytes)
            ));
        }
    }

    /// A bar of parts for a multipart object (while fewer than [`MAX_OBJECT_BARS`] are shown).
    fn multipart_started(&mut self, id: ObjectId, key: &str, parts: u32, resumed_parts: u32) {
        let bar = self.bars.add(ProgressBar::new(u64::from(parts)));
        bar.set_style(
            ProgressStyle::with_template("  {prefix:.bold} [{bar:30}] {pos}/{len} parts {msg}")
                .expect("valid template")
                .progress_chars("#- "),
        );
        bar.set_prefix(shorten(key, 40));
        if resumed_parts > 0 {
            bar.set_message(format!("({resumed_parts} resumed)"));
        }
        self.objects.insert(id, bar);
    }

    fn part_done(&self, id: ObjectId) {
        if let Some(bar) = self.objects.get(&id) {
            bar.inc(1);
        }
    }

    /// A multipart object's bar gives way to a line saying how it was checked.
    fn object_done(&mut self, id: ObjectId, key: &str, verification: &Verification) {
        if let Some(bar) = self.objects.remove(&id) {
            bar.finish_and_clear();
            let check = if verification.verified {
                "verified"
            } else {
                "copied, not fully verified"
            };
            self.line(format!(
                "{check}: {key} ({}; {})",
                verification.source, verification.target
            ));
        }
        self.update_counts();
    }

    fn object_failed(&mut self, id: ObjectId, key: &str, error: &str, kept_upload: Option<&str>) {
        if let Some(bar) = self.objects.remove(&id) {
            bar.abandon();
        }
        let kept = kept_upload
            .map(|u| format!(" (upload '{u}' kept for resume)"))
            .unwrap_or_default();
        self.line(format!("failed: {key}: {error}{kept}"));
        self.update_counts();
    }

    fn parts_uploaded(&mut self, id: ObjectId, key: &str, first_part: u32, last_part: u32) {
        if let Some(bar) = self.objects.remove(&id) {
            bar.finish_and_clear();
        }
        self.line(format!(
            "parts {first_part}-{last_part} uploaded: {key} ('airlock finalize' completes it)"
        ));
        self.update_counts();
    }

    fn object_cancelled(&mut self, id: ObjectId, key: &str) {
        if let Some(bar) = self.objects.remove(&id) {
            bar.abandon();
        }
        self.line(format!("cancelled: {key}"));
    }

    fn run_finished(&mut self) {
        self.overall.finish_and_clear();
        for (_, bar) in self.objects.drain() {
            bar.finish_and_clear();
        }
    }
}

impl Reporter for TermReporter {
    fn event(&mut self, event: &Event, _out: &mut dyn Write) {
        self.stats.apply(event, self.started.elapsed());
        match event {
            Event::RunStarted {
                objects,
                bytes,
                skipped,
                concurrency,
            } => self.run_started(*objects, *bytes, *skipped, *concurrency),
            Event::PlanGrew {
                objects,
                bytes,
                skipped,
                complete,
            } => self.plan_grew(*objects, *bytes, *skipped, *complete),
            Event::ObjectStarted {
                id,
                key,
                route: Route::Multipart,
                parts,
                resumed_parts,
                ..
            } if self.objects.len() < MAX_OBJECT_BARS => {
                self.multipart_started(*id, key, *parts, *resumed_parts)
            }
            Event::PartDone { id, .. } => self.part_done(*id),
            Event::PartRetry { .. } => self.update_counts(),
            Event::Progress { put_bytes, .. } => self.overall.set_position(*put_bytes),
            Event::ObjectDone {
                id,
                key,
                verification,
                ..
            } => self.object_done(*id, key, verification),
            Event::ObjectFailed {
                id,
                key,
                error,
                kept_upload,
                ..
            } => self.object_failed(*id, key, error, kept_upload.as_deref()),
            Event::PartsUploaded {
                id,
                key,
                first_part,
                last_part,
                ..
            } => self.parts_uploaded(*id, key, *first_part, *last_part),
            Event::ObjectCancelled { id, key } => self.object_cancelled(*id, key),
            Event::ObjectGone { id, key, reason } => {
                if let Some(bar) = self.objects.remove(id) {
                    bar.finish_and_clear();
                }
                self.line(format!("skipped: {key}: {reason}"));
            }
            Event::RunFinished { .. } => self.run_finished(),
            Event::ChecksumMode { mode, reason } => self.line(format!(
                "write mode '{mode}' (checksum = \"auto\"): {reason}"
            )),
            Event::ConcurrencyChanged { .. }
            | Event::DeletionsStarted { .. }
            | Event::ObjectDeleted { .. }
            | Event::DeleteFailed { .. }
            | Event::UploadLeft { .. }
            | Event::ForeignUpload { .. }
            | Event::DeletionsSkipped { .. } => {
                if let Some(text) = log_line(event) {
                    self.line(text);
                }
            }
            Event::ObjectStarted { .. }
            | Event::PartStarted { .. }
            | Event::BandwidthChanged { .. }
            | Event::Paused
            | Event::Resumed => {}
        }
    }

    fn finish(&mut self, summary: &RunSummary, out: &mut dyn Write) {
        let _ = self.bars.clear();
        write_summary(summary, out);
    }
}

/// The line printed for events that change no bar: concurrency changes and mirror deletions,
/// and uploads an abort left behind.
fn log_line(event: &Event) -> Option<String> {
    Some(match event {
        Event::ConcurrencyChanged { limit, reason } => format!("concurrency {limit}: {reason}"),
        Event::DeletionsStarted { objects, bytes } => format!(
            "mirror: deleting {objects} target objects ({}) with no source counterpart",
            human_bytes(*bytes)
        ),
        Event::ObjectDeleted { key, .. } => format!("deleted: {key}"),
        Event::DeleteFailed { key, error } => format!("delete failed: {key}: {error}"),
        Event::UploadLeft {
            key,
            upload_id,
            error,
            ..
        } => format!("abort refused: upload '{upload_id}' of {key} left at the target: {error}"),
        Event::ForeignUpload { key, upload_id, .. } => airlock_core::engine::ForeignUpload {
            key: key.clone(),
            upload_id: upload_id.clone(),
        }
        .warning(),
        Event::DeletionsSkipped {
            objects,
            bytes,
            reason,
        } => format!(
            "mirror: {objects} deletions ({}) skipped: {reason}",
            human_bytes(*bytes)
        ),
        _ => return None,
    })
}

/// `key` cut from the left to `max` characters, so the distinguishing end stays visible.
fn shorten(key: &str, max: usize) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= max {
        key.to_string()
    } else {
        format!(
            "…{}",
            chars[chars.len() - (max - 1)..].iter().collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overall_bar_counts_objects_failures_and_retries() {
        let mut reporter = TermReporter::new();
        let mut out = Vec::new();
        let verification = Verification {
            source: "crc32".into(),
            target: "crc64nvme".into(),
            verified: true,
        };
        let events = [
            Event::RunStarted {
                objects: 3,
                bytes: 30,
                skipped: 0,
                concurrency: 4,
            },
            Event::PartRetry {
                id: 1,
                part: 1,
                attempt: 1,
                class: airlock_core::error::Class::Retryable,
                error: "503".into(),
                delay_ms: 10,
            },
            Event::ObjectDone {
                id: 0,
                key: "a".into(),
                bytes: 10,
                verification,
                attempts: 1,
            },
            Event::ObjectFailed {
                id: 1,
                key: "b".into(),
                class: airlock_core::error::Class::Fatal,
                error: "AccessDenied".into(),
                kept_upload: None,
                removed_after_failed_check: false,
                wrong_object_left: None,
            },
        ];
        for event in &events {
            reporter.event(event, &mut out);
        }
        assert_eq!(reporter.message(), "1/3 objects, 1 failed, 1 retries");
        assert!(out.is_empty(), "bars and lines go to stderr");
    }
}
