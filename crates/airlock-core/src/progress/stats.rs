//! Run statistics shared by the TUI and the headless reporter: folds engine events into
//! totals, GET and PUT throughput over time, and an ETA. Time is passed in (`now` since the
//! run started), so tests and snapshots are deterministic. Samples are kept as a struct of
//! arrays and pruned to the last [`HISTORY`].

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use crate::engine::{Event, ObjectId};

/// How much throughput history is kept (the chart shows the last minutes).
pub const HISTORY: Duration = Duration::from_secs(600);
/// Samples closer together than this are merged.
const SAMPLE_EVERY: Duration = Duration::from_millis(900);
/// Rates are averaged over this window.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// Chart points: (seconds since start, MB/s).
pub type Series = Vec<(f64, f64)>;

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub total_objects: u64,
    pub total_bytes: u64,
    pub skipped: u64,
    pub done_objects: u64,
    pub verified: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub retries: u64,
    pub get_bytes: u64,
    pub put_bytes: u64,
    pub buffered_bytes: u64,
    pub concurrency: usize,
    pub paused: bool,
    pub finished: bool,
    /// The plan is still streaming in (a fresh run): the totals are what it holds so far.
    pub plan_growing: bool,
    /// Bytes of parts found already at the target when an upload resumed: part of `put_bytes`
    /// (they count toward the total and the ETA) but not of the PUT rate.
    pub resumed_bytes: u64,
    /// Mirror mode: target objects deleted, and deletions that failed.
    pub deleted: u64,
    pub delete_failed: u64,
    /// Parts started in this run and not yet done; a PartDone without a PartStarted is a part
    /// a resumed upload already had.
    started_parts: HashSet<(ObjectId, u32)>,
    /// Sample times (seconds since start), cumulative GET and PUT bytes (PUT without resumed
    /// bytes, so rates show only what this run sent).
    times: VecDeque<f64>,
    gets: VecDeque<u64>,
    puts: VecDeque<u64>,
}

impl Stats {
    pub fn apply(&mut self, event: &Event, now: Duration) {
        match event {
            Event::RunStarted {
                objects,
                bytes,
                skipped,
                concurrency,
            } => {
                self.total_objects = *objects;
                self.total_bytes = *bytes;
                self.skipped = *skipped;
                self.concurrency = *concurrency;
                self.finished = false;
                self.sample(now);
            }
            Event::PlanGrew {
                objects,
                bytes,
                skipped,
                complete,
            } => {
                self.total_objects = *objects;
                self.total_bytes = *bytes;
                self.skipped = *skipped;
                self.plan_growing = !complete;
            }
            Event::Progress {
                get_bytes,
                put_bytes,
                buffered_bytes,
                ..
            } => {
                self.get_bytes = *get_bytes;
                self.put_bytes = *put_bytes;
                self.buffered_bytes = *buffered_bytes;
                self.sample(now);
            }
            Event::ObjectDone { verification, .. } => {
                self.done_objects += 1;
                if verification.verified {
                    self.verified += 1;
                }
            }
            // This run's share of a split object is done (finalize completes it).
            Event::PartsUploaded { .. } => self.done_objects += 1,
            // Parts in flight when an object ends badly never report done: forget them, so
            // the set holds only parts in flight however many objects fail.
            Event::ObjectFailed { id, .. } => {
                self.failed += 1;
                self.started_parts.retain(|(part_of, _)| part_of != id);
            }
            Event::ObjectCancelled { id, .. } => {
                self.cancelled += 1;
                self.started_parts.retain(|(part_of, _)| part_of != id);
            }
            // Planned from an S3 Inventory and gone at the source since: a skip.
            Event::ObjectGone { id, .. } => {
                self.skipped += 1;
                self.started_parts.retain(|(part_of, _)| part_of != id);
            }
            Event::PartRetry { .. } => self.retries += 1,
            Event::ConcurrencyChanged { limit, .. } => self.concurrency = *limit,
            Event::Paused => self.paused = true,
            Event::Resumed => self.paused = false,
            Event::RunFinished { summary } => {
                self.finished = true;
                self.failed = summary.failed;
                self.cancelled = summary.cancelled;
                self.sample(now);
            }
            Event::PartStarted { id, part } => {
                self.started_parts.insert((*id, *part));
            }
            Event::PartDone { id, part, bytes } => {
                if !self.started_parts.remove(&(*id, *part)) {
                    self.resumed_bytes += bytes;
                }
            }
            Event::ObjectDeleted { .. } => self.deleted += 1,
            Event::DeleteFailed { .. } => self.delete_failed += 1,
            Event::ObjectStarted { .. }
            | Event::UploadLeft { .. }
            | Event::ForeignUpload { .. }
            | Event::BandwidthChanged { .. }
            | Event::ChecksumMode { .. }
            | Event::DeletionsStarted { .. }
            | Event::DeletionsSkipped { .. } => {}
        }
    }

    fn sample(&mut self, now: Duration) {
        let t = now.as_secs_f64();
        if let Some(&last) = self.times.back()
            && t - last < SAMPLE_EVERY.as_secs_f64()
        {
            *self.gets.back_mut().expect("parallel arrays") = self.get_bytes;
            *self.puts.back_mut().expect("parallel arrays") = self.sent_bytes();
            return;
        }
        self.times.push_back(t);
        self.gets.push_back(self.get_bytes);
        self.puts.push_back(self.sent_bytes());
        while self
            .times
            .front()
            .is_some_and(|&first| t - first > HISTORY.as_secs_f64())
        {
            self.times.pop_front();
            self.gets.pop_front();
            self.puts.pop_front();
        }
    }

    /// Bytes this run sent to the target (`put_bytes` without resumed parts).
    fn sent_bytes(&self) -> u64 {
        self.put_bytes.saturating_sub(self.resumed_bytes)
    }

    /// (GET, PUT) bytes per second over the last few seconds.
    pub fn rates(&self) -> (f64, f64) {
        let Some(&t_end) = self.times.back() else {
            return (0.0, 0.0);
        };
        let start = self
            .times
            .iter()
            .position(|&t| t_end - t <= RATE_WINDOW.as_secs_f64())
            .unwrap_or(0);
        let dt = t_end - self.times[start];
        if dt <= 0.0 {
            return (0.0, 0.0);
        }
        let n = self.times.len() - 1;
        (
            self.gets[n].saturating_sub(self.gets[start]) as f64 / dt,
            self.puts[n].saturating_sub(self.puts[start]) as f64 / dt,
        )
    }

    /// Time left at the current PUT rate.
    pub fn eta(&self) -> Option<Duration> {
        let (_, put) = self.rates();
        let left = self.total_bytes.saturating_sub(self.put_bytes);
        if left == 0 {
            return Some(Duration::ZERO);
        }
        (put > 1.0).then(|| Duration::from_secs_f64(left as f64 / put))
    }

    /// Throughput series for a chart: (seconds since start, MB/s) for GET and for PUT,
    /// covering the last `span`.
    pub fn series(&self, span: Duration) -> (Series, Series) {
        let mut get = Vec::new();
        let mut put = Vec::new();
        let Some(&t_end) = self.times.back() else {
            return (get, put);
        };
        for i in 1..self.times.len() {
            let t = self.times[i];
            if t_end - t > span.as_secs_f64() {
                continue;
            }
            let dt = t - self.times[i - 1];
            if dt <= 0.0 {
                continue;
            }
            let got = self.gets[i].saturating_sub(self.gets[i - 1]);
            let sent = self.puts[i].saturating_sub(self.puts[i - 1]);
            get.push((t, got as f64 / dt / 1e6));
            put.push((t, sent as f64 / dt / 1e6));
        }
        (get, put)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(get: u64, put: u64) -> Event {
        Event::Progress {
            get_bytes: get,
            put_bytes: put,
            buffered_bytes: 0,
            objects: vec![],
        }
    }

    #[test]
    fn rates_series_and_eta_from_injected_time() {
        let mut stats = Stats::default();
        stats.apply(
            &Event::RunStarted {
                objects: 1,
                bytes: 100_000_000,
                skipped: 0,
                concurrency: 8,
            },
            Duration::ZERO,
        );
        for s in 1..=10u64 {
            stats.apply(
                &progress(s * 6_000_000, s * 5_000_000),
                Duration::from_secs(s),
            );
        }
        let (get, put) = stats.rates();
        assert!((get - 6e6).abs() < 1.0, "{get}");
        assert!((put - 5e6).abs() < 1.0, "{put}");
        assert_eq!(stats.eta(), Some(Duration::from_secs(10)));
        let (g, p) = stats.series(Duration::from_secs(60));
        assert_eq!(g.len(), 10);
        assert_eq!(p[9], (10.0, 5.0));
    }

    #[test]
    fn resumed_parts_count_toward_the_total_but_not_the_rate() {
        let mut stats = Stats::default();
        let started = Event::RunStarted {
            objects: 1,
            bytes: 100_000_000,
            skipped: 0,
            concurrency: 4,
        };
        stats.apply(&started, Duration::ZERO);
        // Half the object was at the target already: its parts come done, never started.
        for part in 1..=5 {
            let done = Event::PartDone {
                id: 0,
                part,
                bytes: 10_000_000,
            };
            stats.apply(&done, Duration::from_millis(100));
        }
        assert_eq!(stats.resumed_bytes, 50_000_000);
        for s in 1..=4u64 {
            let part = s as u32 + 5;
            stats.apply(&Event::PartStarted { id: 0, part }, Duration::from_secs(s));
            stats.apply(
                &Event::PartDone {
                    id: 0,
                    part,
                    bytes: 5_000_000,
                },
                Duration::from_secs(s),
            );
            let put = 50_000_000 + s * 5_000_000;
            stats.apply(&progress(s * 5_000_000, put), Duration::from_secs(s));
        }
        assert_eq!(stats.put_bytes, 70_000_000);
        assert_eq!(
            stats.resumed_bytes, 50_000_000,
            "sent parts are not resumed"
        );
        let (_, put) = stats.rates();
        assert!((put - 5e6).abs() < 1.0, "{put}");
        // 30 MB left at 5 MB/s: the resumed half is neither left to do nor a burst of speed.
        assert_eq!(stats.eta(), Some(Duration::from_secs(6)));
    }

    #[test]
    fn samples_within_a_second_merge_and_old_ones_are_pruned() {
        let mut stats = Stats::default();
        stats.apply(&progress(1, 1), Duration::from_millis(100));
        stats.apply(&progress(2, 2), Duration::from_millis(300));
        assert_eq!(stats.times.len(), 1);
        assert_eq!(stats.gets[0], 2);
        stats.apply(&progress(3, 3), Duration::from_secs(700));
        assert_eq!(
            stats.times.len(),
            1,
            "the first sample is older than the history"
        );
    }
}
