//! What every unit of a run shares, built once per run ([`RunContext`]), and the options a run
//! is started with ([`EngineOptions`]): the clients of both sides (and their single-shot
//! twins), the transfer and write settings, the bandwidth throttle, the buffer gauge, the
//! journal, and the retry policy with the observer retries are reported to.
//!
//! May depend on `retry`, `journal`, `relay` (the gauge) and `throttle` of the engine, and on
//! `crate::aws` and `crate::config`; nothing above them.

use std::path::PathBuf;
use std::sync::Arc;

use super::journal::Journal;
use super::relay::BufferGauge;
use super::retry::{Observer, Renewals, Retry, RetryPolicy, Unobserved};
use super::throttle::Throttle;
use crate::aws::{SideClient, Sides};
use crate::config::{Settings, TransferSettings, WriteChecksum, WriteOptions};

/// How the engine runs, beyond the plan.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub transfer: TransferSettings,
    /// Options for objects written at the target.
    pub write: WriteOptions,
    /// Base directory of the resume journal (None: no journal, no resume).
    pub journal_dir: Option<PathBuf>,
    /// Keep the engine alive after the run finishes, waiting for retry commands (the TUI).
    pub linger: bool,
    /// Mirror mode: make the plan's deletions once every copy succeeded. False (the default)
    /// copies only and reports the deletions as skipped.
    pub confirm_delete: bool,
}

impl EngineOptions {
    /// Options from validated settings, with the journal in the user data dir.
    pub fn from_settings(settings: &Settings) -> Self {
        EngineOptions {
            transfer: settings.transfer.clone(),
            write: settings.target.write.clone(),
            journal_dir: Some(crate::dirs::data_dir()),
            linger: false,
            confirm_delete: false,
        }
    }
}

/// Everything the units of one run (or one step outside a run) share.
pub(crate) struct RunContext {
    pub sides: Sides,
    /// The same clients with the SDK's own retries off in both roles (`single_shot` as
    /// `client`), for every request the engine wraps in [`Retry::run`]: it counts, reports and backs off each attempt itself.
    /// (Nested SDK retries multiplied the attempts and hid seconds of backoff: a multipart
    /// setup failing its HEAD took ~8 s for two reported retries.)
    pub single_shot: Sides,
    pub transfer: TransferSettings,
    pub write: WriteOptions,
    pub gauge: Arc<BufferGauge>,
    /// The run's bandwidth cap (rate 0: none), shared by every relay.
    pub throttle: Arc<Throttle>,
    pub journal: Option<Journal>,
    /// `transfer.max_retries` with backoff, reporting to the run's observer.
    pub retry: Retry,
    /// `checksum = "auto"`: the mode the run's probe chose, set once before the first write.
    pub decided: std::sync::OnceLock<WriteChecksum>,
    /// `checksum = "auto"`: the probe found the target refusing FULL_OBJECT multipart checksums
    /// (set once, with `decided`): multipart uploads go without one ("trailer-parts").
    pub full_object_refused: std::sync::OnceLock<()>,
}

impl RunContext {
    /// The context of a run: the clients (and their single-shot twins), a bandwidth throttle
    /// set to `transfer`'s cap, an empty buffer gauge, the journal, and who hears of retries.
    pub(crate) fn new(
        sides: Sides,
        transfer: TransferSettings,
        write: WriteOptions,
        journal: Option<Journal>,
        observer: Arc<dyn Observer>,
    ) -> Self {
        RunContext {
            single_shot: single_shot(&sides),
            throttle: Arc::new(Throttle::new(
                transfer.bandwidth_limit.map_or(0, |rate| rate.0),
            )),
            retry: Retry {
                policy: RetryPolicy::backoff(transfer.max_retries),
                observer,
                renewals: Renewals::of(&sides),
            },
            sides,
            transfer,
            write,
            gauge: Arc::new(BufferGauge::default()),
            journal,
            decided: std::sync::OnceLock::new(),
            full_object_refused: std::sync::OnceLock::new(),
        }
    }

    /// The context of a step outside a run (prepare, finalize): no journal, and nobody hears
    /// of its retries.
    /// How this run writes and checks bytes at the target: the configured mode, or for `auto`
    /// what the probe chose (`trailer` until it has; a step outside a run does not probe).
    pub(crate) fn write_mode(&self) -> WriteChecksum {
        match self.write.checksum {
            WriteChecksum::Auto => self
                .decided
                .get()
                .copied()
                .unwrap_or(WriteChecksum::Trailer),
            mode => mode,
        }
    }

    /// Whether multipart uploads are created and completed with a FULL_OBJECT CRC64NVME for the
    /// target to check: `trailer`, unless the `auto` probe found the target refusing it.
    pub(crate) fn full_object(&self) -> bool {
        self.write_mode() == WriteChecksum::Trailer && self.full_object_refused.get().is_none()
    }

    /// Whether parts go with CRC64NVME trailers but the object without a full-object checksum.
    pub(crate) fn trailer_parts(&self) -> bool {
        self.write_mode() == WriteChecksum::Trailer && !self.full_object()
    }

    /// The write mode's name in the summary and events (`trailer-parts` for
    /// [`trailer_parts`](Self::trailer_parts)).
    pub(crate) fn write_mode_name(&self) -> &'static str {
        match self.trailer_parts() {
            true => "trailer-parts",
            false => self.write_mode().as_str(),
        }
    }

    pub(crate) fn detached(sides: Sides, options: &EngineOptions) -> Self {
        RunContext::new(
            sides,
            options.transfer.clone(),
            options.write.clone(),
            None,
            Arc::new(Unobserved),
        )
    }
}

/// `sides` with SDK retries off for every call (the `single_shot` clients as `client`).
fn single_shot(sides: &Sides) -> Sides {
    let bare = |side: &SideClient| SideClient {
        client: side.single_shot.clone(),
        ..side.clone()
    };
    Sides {
        source: bare(&sides.source),
        target: bare(&sides.target),
    }
}
