//! The Transfers tab's state: engine events folded into per-object runs (a part map per
//! object in flight or failed: pending, in flight, done, retrying, failed), the active / failed
//! / done lists (counts of everything, but only the last [`DONE_KEPT`] done and
//! [`FAILED_KEPT`] failed objects kept, so a run of millions costs the same memory as one of
//! thousands; every failure is also in the message log and its file), the run phase, effective concurrency and why it changed, and [`Stats`] for the gauge, rates,
//! ETA and chart. Time is `now` since the run started, passed in. Folding events in is in
//! `transfers/events.rs`.

mod events;

pub use events::finished_message;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::tui::keymap::Action;
use airlock_core::config::limits;
use airlock_core::engine::{ObjectId, RunSummary, Verification};
use airlock_core::error::Class;
use airlock_core::plan::Route;
use airlock_core::progress::Stats;

/// One part's state in the part map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    Pending,
    InFlight,
    Done,
    Retrying,
    Failed,
}

/// How an object's run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done {
        verification: Verification,
        attempts: u32,
    },
    Failed {
        class: Class,
        error: String,
        kept_upload: Option<String>,
    },
    Cancelled,
}

/// One object of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRun {
    pub key: String,
    pub size: u64,
    pub route: Route,
    pub part_size: u64,
    /// Parts of the object (kept when the part map is let go).
    pub part_count: u32,
    /// The part map, while the object is active or failed; empty once it is done.
    pub parts: Vec<PartState>,
    pub resumed_parts: u32,
    /// Bytes streamed in its current attempts (from progress ticks).
    pub bytes: u64,
    /// Retries of its parts, all attempts together.
    pub retries: u32,
    /// The last retried error, while retrying.
    pub last_error: Option<String>,
    pub outcome: Option<Outcome>,
}

impl ObjectRun {
    pub fn parts_done(&self) -> usize {
        if self.parts.is_empty() && matches!(self.outcome, Some(Outcome::Done { .. })) {
            return self.part_count as usize;
        }
        self.parts.iter().filter(|p| **p == PartState::Done).count()
    }

    /// Bytes at the target or on their way: the progress ticks, or the parts known done
    /// (resumed parts count before the first tick).
    pub fn progress_bytes(&self) -> u64 {
        let parts = self.parts_done() as u64 * self.part_size;
        self.bytes.max(parts).min(self.size)
    }
}

/// Where the run stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// No run started yet.
    Idle,
    /// The engine is starting.
    Starting,
    Running,
    /// Stop was sent: in-flight requests finish, nothing new starts.
    Stopping,
    /// The run ended (boxed: the summary is large next to the other phases).
    Finished(Box<RunSummary>),
}

/// The three lists of the tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Active,
    Failed,
    Done,
}

impl ListKind {
    pub const ALL: [ListKind; 3] = [ListKind::Active, ListKind::Failed, ListKind::Done];
}

/// The Transfers tab.
#[derive(Debug, Clone)]
pub struct Transfers {
    pub phase: Phase,
    pub stats: Stats,
    /// App clock when the run started; stats time is measured from here.
    pub started_at: Duration,
    /// The objects of the three lists (nothing else: an object that leaves the kept part of
    /// the done or failed list is forgotten).
    pub objects: HashMap<ObjectId, ObjectRun>,
    /// In start order.
    pub active: Vec<ObjectId>,
    /// Failed and cancelled, in the order they ended: the last [`FAILED_KEPT`].
    pub failed: VecDeque<ObjectId>,
    /// Objects failed or cancelled now (not started again), kept or not.
    pub failed_count: u64,
    /// In the order they finished (shown newest first): the last [`DONE_KEPT`].
    pub done: VecDeque<ObjectId>,
    /// Objects finished in this run, kept or not.
    pub done_count: u64,
    pub list: ListKind,
    pub cursor: usize,
    pub offset: usize,
    /// Rows of the object list (each active object takes two), from the terminal size.
    pub rows: usize,
    /// The effective concurrency the engine reports.
    pub concurrency: usize,
    /// The most the user allows (the engine's max; SlowDown may run below it), or with
    /// `concurrency_auto` the ceiling the engine may climb to.
    pub concurrency_max: usize,
    /// `concurrency = "auto"` and no `+`/`-` yet: the engine moves the window itself.
    pub concurrency_auto: bool,
    /// Why the effective concurrency last changed.
    pub concurrency_reason: Option<String>,
    pub paused: bool,
    /// Bytes of parts a resumed upload already had at the target (not moved by this run, so
    /// the engine's byte counters leave them out).
    pub resumed_bytes: u64,
    /// The run's bandwidth cap in bytes per second (None: no cap), as the engine last set it.
    pub bandwidth_limit: Option<u64>,
}

/// The caps `b` and `B` step through, in bytes per second (raising past the last removes the
/// cap).
pub const BANDWIDTH_STEPS: &[u64] = &[
    MIB,
    2 * MIB,
    5 * MIB,
    10 * MIB,
    20 * MIB,
    50 * MIB,
    100 * MIB,
    200 * MIB,
    500 * MIB,
    1024 * MIB,
    2048 * MIB,
];

const MIB: u64 = 1024 * 1024;

/// Finished objects the done list keeps (the newest).
pub const DONE_KEPT: usize = 1_000;
/// Failed or cancelled objects the failed list keeps (the newest), with their part maps.
pub const FAILED_KEPT: usize = 5_000;

/// The next cap from `current`: lower (from no cap: the highest step) or raise (past the
/// highest step: no cap). A cap between steps moves to the neighbouring step.
pub fn step_bandwidth(current: Option<u64>, lower: bool) -> Option<u64> {
    match (current, lower) {
        (None, true) => BANDWIDTH_STEPS.last().copied(),
        (None, false) => None,
        (Some(cap), true) => Some(
            BANDWIDTH_STEPS
                .iter()
                .rev()
                .copied()
                .find(|&step| step < cap)
                // Already at or below the floor: stay.
                .unwrap_or(cap.min(BANDWIDTH_STEPS[0])),
        ),
        (Some(cap), false) => BANDWIDTH_STEPS.iter().copied().find(|&step| step > cap),
    }
}

impl Transfers {
    pub fn new(concurrency: usize) -> Self {
        Transfers {
            phase: Phase::Idle,
            stats: Stats::default(),
            started_at: Duration::ZERO,
            objects: HashMap::new(),
            active: Vec::new(),
            failed: VecDeque::new(),
            failed_count: 0,
            done: VecDeque::new(),
            done_count: 0,
            list: ListKind::Active,
            cursor: 0,
            offset: 0,
            rows: 5,
            concurrency,
            concurrency_max: concurrency,
            concurrency_auto: false,
            concurrency_reason: None,
            paused: false,
            bandwidth_limit: None,
            resumed_bytes: 0,
        }
    }

    /// A run is going (or stopping): quitting needs a confirmation.
    pub fn is_active(&self) -> bool {
        matches!(
            self.phase,
            Phase::Starting | Phase::Running | Phase::Stopping
        )
    }

    /// Reset for a new run, showing its active objects (the last run may have ended on the
    /// Done or Failed list).
    pub fn starting(&mut self, concurrency: usize, auto: bool) {
        *self = Transfers {
            list: ListKind::Active,
            rows: self.rows,
            concurrency_auto: auto,
            ..Transfers::new(concurrency)
        };
        self.phase = Phase::Starting;
    }

    /// Bytes of the run at the target: confirmed by this run plus resumed parts.
    pub fn moved_bytes(&self) -> u64 {
        (self.stats.put_bytes + self.resumed_bytes)
            .min(self.stats.total_bytes.max(self.stats.put_bytes))
    }

    /// Time left at the current PUT rate for the bytes not yet at the target.
    pub fn eta(&self) -> Option<Duration> {
        let left = self.stats.total_bytes.saturating_sub(self.moved_bytes());
        if left == 0 {
            return Some(Duration::ZERO);
        }
        let (_, put) = self.stats.rates();
        (put > 1.0).then(|| Duration::from_secs_f64(left as f64 / put))
    }

    /// Time since the run started.
    pub fn run_time(&self, now: Duration) -> Duration {
        now.saturating_sub(self.started_at)
    }

    /// Objects a list holds (the kept ones).
    pub fn kept(&self, list: ListKind) -> usize {
        match list {
            ListKind::Active => self.active.len(),
            ListKind::Failed => self.failed.len(),
            ListKind::Done => self.done.len(),
        }
    }

    /// Objects a list counts (kept or not).
    pub fn count(&self, list: ListKind) -> u64 {
        match list {
            ListKind::Active => self.active.len() as u64,
            ListKind::Failed => self.failed_count,
            ListKind::Done => self.done_count,
        }
    }

    /// The object at a row of the current list (done is shown newest first).
    pub fn id_at(&self, row: usize) -> Option<ObjectId> {
        match self.list {
            ListKind::Active => self.active.get(row).copied(),
            ListKind::Failed => self.failed.get(row).copied(),
            ListKind::Done => (self.done.len().checked_sub(row + 1)).map(|i| self.done[i]),
        }
    }

    pub fn selected(&self) -> Option<ObjectId> {
        self.id_at(self.cursor)
    }

    /// Keep the cursor in the current list and the window around it.
    pub fn clamp(&mut self) {
        let len = self.kept(self.list);
        self.cursor = self.cursor.min(len.saturating_sub(1));
        let rows = self.visible_objects().max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + rows {
            self.offset = self.cursor + 1 - rows;
        }
    }

    /// Objects that fit in the list (active and failed ones take two rows: text and part
    /// map, which shows how far a failed object got).
    pub fn visible_objects(&self) -> usize {
        match self.list {
            ListKind::Active | ListKind::Failed => self.rows / 2,
            ListKind::Done => self.rows,
        }
    }

    pub fn move_cursor(&mut self, action: Action) {
        let last = self.kept(self.list).saturating_sub(1);
        let page = self.visible_objects().max(1);
        self.cursor = match action {
            Action::Up => self.cursor.saturating_sub(1),
            Action::Down => (self.cursor + 1).min(last),
            Action::PageUp => self.cursor.saturating_sub(page),
            Action::PageDown => (self.cursor + page).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::SwitchList => {
                let next = ListKind::ALL
                    .iter()
                    .position(|l| *l == self.list)
                    .map_or(0, |i| (i + 1) % ListKind::ALL.len());
                self.list = ListKind::ALL[next];
                self.offset = 0;
                0
            }
            _ => self.cursor,
        };
        self.clamp();
    }

    /// The next concurrency for `+` / `-`: steps of one up to 8, then an eighth; from the
    /// effective value while the engine chooses it (`auto`), else from the user's maximum.
    pub fn step_concurrency(&self, up: bool) -> usize {
        let n = match self.concurrency_auto {
            true => self.concurrency,
            false => self.concurrency_max,
        };
        let step = (n / 8).max(1);
        if up {
            (n + step).min(*limits::CONCURRENCY.end())
        } else {
            n.saturating_sub(step).max(*limits::CONCURRENCY.start())
        }
    }
}
