//! Headless reporters of engine events: indicatif progress bars for people (an overall bar
//! plus one bar per active multipart object), or one JSON object per line for schedulers'
//! logs (Airflow, Batch, Kubernetes). Both end with the run summary.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::format::{human_bytes, human_duration};
use crate::engine::{Event, ObjectId, RunSummary};
use crate::plan::Route;

/// Consumes events, then the summary.
pub trait Reporter {
    fn event(&mut self, event: &Event, out: &mut dyn Write);
    fn finish(&mut self, summary: &RunSummary, out: &mut dyn Write);
}

/// JSON lines on stdout. Progress is thinned to one line per second.
pub struct JsonReporter {
    started: Instant,
    last_progress: Option<Instant>,
}

impl JsonReporter {
    pub fn new() -> Self {
        JsonReporter {
            started: Instant::now(),
            last_progress: None,
        }
    }
}

impl Default for JsonReporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for JsonReporter {
    fn event(&mut self, event: &Event, out: &mut dyn Write) {
        if let Event::Progress { .. } = event {
            let now = Instant::now();
            if self
                .last_progress
                .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
            {
                return;
            }
            self.last_progress = Some(now);
        }
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

    fn finish(&mut self, _summary: &RunSummary, _out: &mut dyn Write) {
        // The summary travelled as the `run_finished` event.
    }
}

impl Default for TermReporter {
    fn default() -> Self {
        Self::new()
    }
}

/// indicatif bars on stderr (hidden when stderr is not a terminal).
pub struct TermReporter {
    bars: MultiProgress,
    overall: ProgressBar,
    objects: HashMap<ObjectId, ProgressBar>,
    done: u64,
    total: u64,
    failed: u64,
    retries: u64,
}

/// Bars for more objects than this are not drawn (their progress is in the overall bar).
const MAX_OBJECT_BARS: usize = 8;

impl TermReporter {
    pub fn new() -> Self {
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
            done: 0,
            total: 0,
            failed: 0,
            retries: 0,
        }
    }

    fn message(&self) -> String {
        let mut msg = format!("{}/{} objects", self.done, self.total);
        if self.failed > 0 {
            msg.push_str(&format!(", {} failed", self.failed));
        }
        if self.retries > 0 {
            msg.push_str(&format!(", {} retries", self.retries));
        }
        msg
    }

    fn line(&self, text: String) {
        let _ = self.bars.println(text);
    }
}

impl Reporter for TermReporter {
    fn event(&mut self, event: &Event, _out: &mut dyn Write) {
        match event {
            Event::RunStarted {
                objects,
                bytes,
                skipped,
                concurrency,
            } => {
                self.total = *objects;
                self.overall.set_length(*bytes);
                self.line(format!(
                    "copying {objects} objects ({}), {skipped} already at the target, {concurrency} requests in flight",
                    human_bytes(*bytes)
                ));
            }
            Event::ObjectStarted {
                id,
                key,
                route: Route::Multipart,
                parts,
                resumed_parts,
                ..
            } if self.objects.len() < MAX_OBJECT_BARS => {
                let bar = self.bars.add(ProgressBar::new(u64::from(*parts)));
                bar.set_style(
                    ProgressStyle::with_template(
                        "  {prefix:.bold} [{bar:30}] {pos}/{len} parts {msg}",
                    )
                    .expect("valid template")
                    .progress_chars("#- "),
                );
                bar.set_prefix(shorten(key, 40));
                if *resumed_parts > 0 {
                    bar.set_message(format!("({resumed_parts} resumed)"));
                }
                self.objects.insert(*id, bar);
            }
            Event::PartDone { id, .. } => {
                if let Some(bar) = self.objects.get(id) {
                    bar.inc(1);
                }
            }
            Event::PartRetry { .. } => {
                self.retries += 1;
                self.overall.set_message(self.message());
            }
            Event::Progress { put_bytes, .. } => self.overall.set_position(*put_bytes),
            Event::ObjectDone {
                id,
                key,
                verification,
                ..
            } => {
                self.done += 1;
                if let Some(bar) = self.objects.remove(id) {
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
                self.overall.set_message(self.message());
            }
            Event::ObjectFailed {
                id,
                key,
                error,
                kept_upload,
                ..
            } => {
                self.failed += 1;
                if let Some(bar) = self.objects.remove(id) {
                    bar.abandon();
                }
                let kept = kept_upload
                    .as_ref()
                    .map(|u| format!(" (upload '{u}' kept for resume)"))
                    .unwrap_or_default();
                self.line(format!("failed: {key}: {error}{kept}"));
                self.overall.set_message(self.message());
            }
            Event::PartsUploaded {
                id,
                key,
                first_part,
                last_part,
                ..
            } => {
                self.done += 1;
                if let Some(bar) = self.objects.remove(id) {
                    bar.finish_and_clear();
                }
                self.line(format!(
                    "parts {first_part}-{last_part} uploaded: {key} ('airlock finalize' completes it)"
                ));
                self.overall.set_message(self.message());
            }
            Event::ObjectCancelled { id, key } => {
                if let Some(bar) = self.objects.remove(id) {
                    bar.abandon();
                }
                self.line(format!("cancelled: {key}"));
            }
            Event::ConcurrencyChanged { limit, reason } => {
                self.line(format!("concurrency {limit}: {reason}"))
            }
            Event::RunFinished { .. } => {
                self.overall.finish_and_clear();
                for (_, bar) in self.objects.drain() {
                    bar.finish_and_clear();
                }
            }
            Event::DeletionsStarted { objects, bytes } => self.line(format!(
                "mirror: deleting {objects} target objects ({}) with no source counterpart",
                human_bytes(*bytes)
            )),
            Event::ObjectDeleted { key, .. } => self.line(format!("deleted: {key}")),
            Event::DeleteFailed { key, error } => {
                self.line(format!("delete failed: {key}: {error}"))
            }
            Event::DeletionsSkipped {
                objects,
                bytes,
                reason,
            } => self.line(format!(
                "mirror: {objects} deletions ({}) skipped: {reason}",
                human_bytes(*bytes)
            )),
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

/// The closing table of a run.
pub fn write_summary(s: &RunSummary, out: &mut dyn Write) {
    let elapsed = Duration::from_millis(s.elapsed_ms);
    let rate = if s.elapsed_ms > 0 {
        s.bytes_copied as f64 / elapsed.as_secs_f64()
    } else {
        0.0
    };
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
