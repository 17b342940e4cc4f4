//! Per-route totals, peak memory and ETA of a plan.

use serde::{Deserialize, Serialize};

use super::{HeldBackCounts, PlanItem, PlanSettings, Route, STREAM_BUFFER};

/// Objects, bytes and data requests of one route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTotals {
    pub objects: u64,
    pub bytes: u64,
    pub parts: u64,
}

impl RouteTotals {
    fn add(&mut self, item: &PlanItem) {
        self.objects += 1;
        self.bytes += item.size;
        self.parts += u64::from(item.parts);
    }
}

/// What the plan adds up to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub skip: RouteTotals,
    pub single: RouteTotals,
    pub multipart: RouteTotals,
    /// Requests that can be in flight at once: `min(concurrency, memory_limit / STREAM_BUFFER)`.
    pub streams: u64,
    /// Most bytes the run will hold in its buffers at once (`streams * STREAM_BUFFER`).
    pub peak_memory_bytes: u64,
    /// The rate the ETA assumes, in bytes per second: `estimate_rate`, or `bandwidth_limit`
    /// when that is lower.
    pub estimate_rate: u64,
    /// Estimated seconds to copy everything not skipped at `estimate_rate`.
    pub eta_seconds: u64,
    /// Skips the target does not have (archived objects, the source prefix's folder marker).
    #[serde(default, skip_serializing_if = "HeldBackCounts::is_empty")]
    pub held_back: HeldBackCounts,
}

impl Summary {
    pub fn of(items: &[PlanItem], settings: &PlanSettings) -> Summary {
        let mut summary = Summary::default();
        for item in items {
            summary.add(item);
        }
        summary.finish(settings)
    }

    /// Count one item in its route's totals (and the held-back counts); [`Summary::finish`]
    /// adds what depends on the settings once all are counted.
    pub fn add(&mut self, item: &PlanItem) {
        self.held_back.add(item);
        match item.route {
            Route::Skip => self.skip.add(item),
            Route::Single => self.single.add(item),
            Route::Multipart => self.multipart.add(item),
        }
    }

    /// The counted totals with streams, peak memory, rate and ETA for `settings`.
    pub fn finish(self, settings: &PlanSettings) -> Summary {
        let mut summary = self;
        summary.streams = streams(settings.concurrency, settings.memory_limit);
        summary.peak_memory_bytes = summary.streams * STREAM_BUFFER.0;
        summary.estimate_rate = match settings.bandwidth_limit {
            Some(cap) => settings.estimate_rate.min(cap),
            None => settings.estimate_rate,
        };
        summary.eta_seconds = (summary.copy_bytes()).div_ceil(summary.estimate_rate.max(1));
        summary
    }

    /// Bytes that will move (everything not skipped).
    pub fn copy_bytes(&self) -> u64 {
        self.single.bytes + self.multipart.bytes
    }

    /// Objects that will move.
    pub fn copy_objects(&self) -> u64 {
        self.single.objects + self.multipart.objects
    }

    pub fn total_objects(&self) -> u64 {
        self.copy_objects() + self.skip.objects
    }
}

/// Requests in flight allowed by both limits; at least one so a tiny budget still progresses.
pub(super) fn streams(concurrency: usize, memory_limit: u64) -> u64 {
    (concurrency as u64)
        .min(memory_limit / STREAM_BUFFER.0)
        .max(1)
}
