//! A started run ([`Run`]), its end ([`Ended`]) and what it came to ([`Finished`]): the
//! events recorded for the run's outputs (manifest, shard report) as they are read, the
//! outputs written when the engine has ended, and the exit code.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::Notice;
use super::recheck_feed;
use crate::aws::Sides;
use crate::engine::{CommandSender, EngineHandle, Event, RunSummary};
use crate::error::Result;
use crate::job::manifest::ManifestRecorder;
use crate::job::shard_report::{self, Collector, ReportTarget};
use crate::plan::lines::PlanHeader;

/// What a run records while it goes and writes when it ends.
pub(super) struct Outputs {
    pub(super) sides: Sides,
    pub(super) collector: Option<Collector>,
    pub(super) manifest: Option<ManifestRecorder>,
    pub(super) report: Option<ReportTarget>,
    /// `--from-list` keys were missing at the source: the run exits at least 1.
    pub(super) missing_keys: bool,
    /// A streamed `--from-list` run: the plan's header, told when planning ended, names the
    /// keys missing at the source (told when the run ends).
    pub(super) streamed_header: Option<tokio::sync::oneshot::Receiver<PlanHeader>>,
    /// Where the journal keeps finished parts, for the message after an interrupted run.
    pub(super) journal: Option<PathBuf>,
    /// A saved plan rechecked while it streamed: what the recheck changed (told when the run
    /// ends).
    pub(super) rechecked: Option<Arc<recheck_feed::Counts>>,
}

impl Outputs {
    fn record(&mut self, event: &Event) {
        if let Some(collector) = self.collector.as_mut() {
            collector.event(event);
        }
        if let Some(manifest) = self.manifest.as_mut() {
            manifest.event(event);
        }
    }

    fn is_empty(&self) -> bool {
        self.collector.is_none() && self.manifest.is_none()
    }
}

/// A started run. Dropping it drops the engine handle (see `engine`: the run is cancelled,
/// open uploads and the journal are kept for a resume).
pub struct Run {
    pub(super) handle: EngineHandle,
    pub(super) events: mpsc::UnboundedReceiver<Event>,
    pub(super) outputs: Outputs,
    /// The task feeding a streamed plan to the engine (it ends when the engine stops reading).
    pub(super) feeder: Option<tokio::task::JoinHandle<()>>,
}

impl Run {
    /// Sends commands to the engine (a Ctrl-C handler's [`crate::engine::Command::Stop`]).
    pub fn commands(&self) -> CommandSender {
        self.handle.commands()
    }

    /// The next event of the run, recorded for its outputs; None once the engine is done.
    pub async fn next_event(&mut self) -> Option<Event> {
        let event = self.events.recv().await?;
        self.outputs.record(&event);
        Some(event)
    }

    /// Wait for the engine to end (read the events first, or the run waits for nobody).
    pub async fn join(self) -> Result<Ended> {
        let summary = self.handle.join().await?;
        if let Some(feeder) = self.feeder {
            // The engine is done reading: a plan still being listed or read is not needed.
            feeder.abort();
        }
        Ok(Ended {
            summary,
            outputs: self.outputs,
        })
    }

    /// The engine handle and its events, for a UI that keeps the handle and reads the events
    /// on its own task (the TUI, whose engine lingers for retries). Nothing is recorded then,
    /// so this is for runs that asked for no manifest and no report.
    pub fn detach(self) -> (EngineHandle, mpsc::UnboundedReceiver<Event>) {
        debug_assert!(
            self.outputs.is_empty(),
            "a detached run writes no manifest or report"
        );
        (self.handle, self.events)
    }
}

/// A run whose engine has ended.
pub struct Ended {
    summary: RunSummary,
    outputs: Outputs,
}

/// What a run came to.
#[derive(Debug, Clone)]
pub struct Finished {
    pub summary: RunSummary,
    /// The process exit code: the summary's, raised to 1 for missing `--from-list` keys or a
    /// report that could not be written.
    pub exit_code: i32,
}

impl Ended {
    /// The engine's summary of the run.
    pub fn summary(&self) -> &RunSummary {
        &self.summary
    }

    /// Write the manifest (after HEADing what is at the target) and the shard report, and
    /// compute the exit code. A manifest that cannot be written is an error; a report that
    /// cannot be written is told and makes the exit code at least 1.
    pub async fn write_outputs(self, notice: &mut dyn FnMut(Notice<'_>)) -> Result<Finished> {
        let Ended { summary, outputs } = self;
        if let Some(counts) = &outputs.rechecked {
            notice(Notice::Rechecked(counts.rechecked()));
        }
        notice(Notice::Ended(&summary));
        if let Some(manifest) = outputs.manifest {
            let path = manifest.path().to_path_buf();
            let records = manifest.finish(&outputs.sides.target).await?;
            notice(Notice::ManifestWritten {
                records,
                path: &path,
            });
        }
        let mut missing_code = i32::from(outputs.missing_keys);
        // The feeder sends the header before it ends the feed, so a run that read its whole
        // feed has it. Not waited for: a run stopped early (or whose planning failed) does not
        // know which keys are missing, and its blocking feeder may list on until its next send.
        if let Some(mut header) = outputs.streamed_header
            && let Ok(header) = header.try_recv()
            && !header.selection.missing.is_empty()
        {
            notice(Notice::MissingKeys(&header.selection));
            missing_code = 1;
        }
        if let (Some(target), Some(collector)) = (&outputs.report, outputs.collector) {
            let report = collector.finish(&summary).await;
            match shard_report::write(&report, target, &outputs.sides).await {
                Ok(location) => notice(Notice::ReportWritten {
                    location: &location,
                }),
                Err(e) => {
                    notice(Notice::ReportFailed(&e));
                    tracing::error!(error = %e, "could not write the report");
                    let exit_code = summary.exit_code().max(1).max(missing_code);
                    return Ok(Finished { summary, exit_code });
                }
            }
        }
        if summary.interrupted {
            notice(Notice::Interrupted {
                journal: outputs.journal,
            });
        }
        let exit_code = summary.exit_code().max(missing_code);
        Ok(Finished { summary, exit_code })
    }
}
