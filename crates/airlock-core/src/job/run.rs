//! The run pipeline both UIs call: resolve the plan (saved, or listed and planned now, or the
//! caller's own), cut this process's shard, recheck a saved plan against the target, start the
//! engine, record the run's outputs (manifest, shard report) from its events, write them when it
//! ends, and compute the exit code schedulers understand: 0 all copied or skipped and verified,
//! 1 some objects failed (or `--from-list` keys were missing, or the report could not be
//! written), 130 interrupted.
//!
//! [`start`] is the headless entry: where it can, it feeds the engine as the plan is made or
//! read ([`feed`]: a fresh run plans straight into the engine; a format 5 plan streams from its
//! file; a manifest is recorded streaming too), so memory does not grow with the number of
//! objects; otherwise (a shard report asked for, an older plan format, split objects, a saved
//! plan's deletions, `version_at`, `--from-list`) it is [`prepare`] then [`Prepared::start`],
//! with the plan in memory.
//!
//! The steps are types, so each UI stops where it needs to:
//! - [`prepare`] (or [`Prepared::of_plan`] for a plan in hand, as the TUI's of its selection)
//!   gives a [`Prepared`] plan; `airlock run --dry-run` prints it and stops there;
//! - [`Prepared::start`] starts the engine: a [`Run`]. The CLI reads its events with
//!   [`Run::next_event`] (which records them for the outputs) and ends with [`Run::join`] and
//!   [`Ended::write_outputs`]; the TUI, whose engine lingers for retries, takes the handle and
//!   the events with [`Run::detach`].
//!
//! What the pipeline has to say (a shard, objects already at the target, missing keys, where a
//! report went) comes to the caller as a [`Notice`], in order; the caller words and shows it.
//! Depends on `config`, `aws`, `plan`, `engine` and the rest of `job`; no UI crate.

mod feed;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

use super::inventory;
use super::manifest::ManifestRecorder;
use super::plan_store;
use super::recheck::{self, Rechecked};
use super::shard::{self, Shard};
use super::shard_report::{self, Collector, ReportTarget};
use super::stream_plan;
use crate::aws::Sides;
use crate::config::{Settings, TransferMode};
use crate::engine::{CommandSender, Engine, EngineHandle, EngineOptions, Event, RunSummary};
use crate::error::{Error, Result};
use crate::plan::{Plan, Selection};

/// Where the plan of a run comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanSource {
    /// List both sides and plan the configured prefixes now.
    Fresh,
    /// A saved plan (a file or `s3://BUCKET/KEY`), rechecked against the target before it runs.
    Saved(PathBuf),
}

/// How to run, beyond the plan.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The engine's options: [`EngineOptions::from_settings`] with the caller's changes
    /// (`confirm_delete`; the TUI's edited transfer settings, `linger`, journal directory).
    pub engine: EngineOptions,
    /// Run only this shard of the plan.
    pub shard: Option<Shard>,
    /// Leave the plan's deletions out and copy only (`--mode copy` on a saved mirror plan).
    pub copy_only: bool,
    /// Write a manifest of the run here when it ends.
    pub manifest: Option<PathBuf>,
    /// Write the run's JSON report here when it ends.
    pub report: Option<ReportTarget>,
}

impl RunOptions {
    /// Run the whole plan with these engine options, writing no manifest and no report.
    pub fn new(engine: EngineOptions) -> Self {
        RunOptions {
            engine,
            shard: None,
            copy_only: false,
            manifest: None,
            report: None,
        }
    }
}

/// What the pipeline tells the caller as it goes, in this order.
#[derive(Debug)]
pub enum Notice<'a> {
    /// `copy_only` left this many deletions of the plan out of the run.
    DeletionsLeftOut { deletions: usize },
    /// This process runs one shard of the plan.
    Shard(&'a Shard),
    /// A fresh plan's source is this S3 Inventory (its rows are not counted yet).
    Inventory(&'a crate::plan::lines::InventoryOrigin),
    /// A saved plan was checked against the target once more.
    Rechecked(Rechecked),
    /// Keys of the `--from-list` file that the source did not hold (the run exits 1).
    MissingKeys(&'a Selection),
    /// The run ended; its summary says what it did about the plan's deletions.
    Ended(&'a RunSummary),
    /// The manifest is written.
    ManifestWritten { records: usize, path: &'a Path },
    /// The shard report is written, to this file or `s3://` key.
    ReportWritten { location: &'a str },
    /// The shard report could not be written (the copy itself is done; the run exits 1).
    ReportFailed(&'a Error),
    /// The run was interrupted; finished parts are journaled under this directory (None: the
    /// run kept no journal).
    Interrupted { journal: Option<PathBuf> },
}

/// A plan ready to run: resolved, cut to this shard, rechecked if it was saved.
pub struct Prepared {
    plan: Plan,
    /// Fingerprint of the whole plan, before it was cut to this shard (the report's `plan_id`;
    /// computed only when a report is asked for).
    plan_id: Option<String>,
    sides: Sides,
    options: RunOptions,
}

/// Start a run of the plan `source` names: streamed into the engine where it can be, else
/// [`prepare`]d whole and started (see the module docs). Not for `--dry-run`, which prints
/// the prepared plan.
pub async fn start(
    settings: &Settings,
    sides: Sides,
    source: PlanSource,
    options: RunOptions,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<Run> {
    // A fresh plan from an S3 Inventory: its manifest is read and checked before anything
    // starts, so a wrong one is a config error (exit 2) with nothing written.
    if let (Some(inventory), PlanSource::Fresh) = (&settings.filter.inventory, &source) {
        let origin = super::s3_inventory::check(&sides, settings, inventory).await?;
        notice(Notice::Inventory(&origin));
    }
    // The shard report is still built from the whole plan.
    let from_list = settings.filter.from_list.is_some();
    if options.report.is_some() || from_list {
        return prepare(settings, sides, source, options, notice)
            .await?
            .start(notice);
    }
    // A manifest that cannot be written fails now, not after the copy.
    let manifest = (options.manifest.as_deref())
        .map(|path| {
            let (source, target) = (
                crate::plan::PlanSide::of(&settings.source),
                crate::plan::PlanSide::of(&settings.target),
            );
            ManifestRecorder::begin_stream(path, &source, &target)
        })
        .transpose()?;
    let tap = manifest.as_ref().map(ManifestRecorder::tap);
    let feeding = match &source {
        PlanSource::Fresh
            if stream_plan::can_stream(settings)
                && !(options.copy_only || options.shard.is_some()) =>
        {
            feed::fresh(&sides, settings, tap)
        }
        PlanSource::Saved(path) => {
            let shard = options.shard.as_ref().map(|s| (s.index, s.count));
            match feed::saved(path, settings, &sides, shard, options.copy_only, tap).await? {
                feed::Saved::Fed {
                    feeding,
                    deletions_left_out,
                } => {
                    if deletions_left_out > 0 {
                        notice(Notice::DeletionsLeftOut {
                            deletions: deletions_left_out as usize,
                        });
                    }
                    *feeding
                }
                feed::Saved::Whole => {
                    return prepare(settings, sides, source, options, notice)
                        .await?
                        .start(notice);
                }
            }
        }
        PlanSource::Fresh => {
            return prepare(settings, sides, source, options, notice)
                .await?
                .start(notice);
        }
    };
    if let Some(shard) = &options.shard {
        tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard (streamed)");
        notice(Notice::Shard(shard));
    }
    let journal = options
        .engine
        .journal_dir
        .as_ref()
        .map(|d| d.join("journal"));
    let mut handle = Engine::start_stream(feeding.feed, sides.clone(), options.engine)?;
    let events = handle
        .take_events()
        .ok_or_else(|| Error::internal("a fresh engine handle has no event stream"))?;
    Ok(Run {
        handle,
        events,
        outputs: Outputs {
            sides,
            collector: None,
            manifest,
            report: None,
            missing_keys: false,
            journal,
            already_there: feeding.already_there,
        },
        feeder: Some(feeding.task),
    })
}

/// Resolve the plan from `source` and prepare it (see [`Prepared::of_plan`]); a saved plan is
/// then rechecked against the target, so objects an earlier run copied are skipped.
pub async fn prepare(
    settings: &Settings,
    sides: Sides,
    source: PlanSource,
    options: RunOptions,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<Prepared> {
    let (plan, saved) = match source {
        PlanSource::Saved(path) => match &options.shard {
            // A sharded run streams the plan and keeps only its own items where it can.
            Some(shard) => {
                let read = plan_store::read_shard(
                    &path,
                    settings,
                    &sides,
                    (shard.index, shard.count),
                    options.copy_only,
                    options.report.is_some(),
                )
                .await?;
                match read {
                    plan_store::ShardRead::Whole(plan) => (plan, true),
                    plan_store::ShardRead::Cut(mut cut) => {
                        super::layouts::learn(&sides.source, &mut cut.plan).await;
                        let mut prepared = Prepared::of_cut(cut, sides, options, notice);
                        let rechecked = recheck::recheck_saved_plan(
                            &prepared.sides,
                            settings,
                            &mut prepared.plan,
                        )
                        .await?;
                        notice(Notice::Rechecked(rechecked));
                        return Ok(prepared);
                    }
                }
            }
            None => (plan_store::read_plan(&path, settings, &sides).await?, true),
        },
        PlanSource::Fresh => (inventory::plan(&sides, settings).await?.0, false),
    };
    let mut plan = plan;
    if saved {
        // A plan saved without layouts (the TUI's, an older airlock's) learns them now;
        // items that have one keep it.
        super::layouts::learn(&sides.source, &mut plan).await;
    }
    let mut prepared = Prepared::of_plan(plan, sides, options, notice)?;
    if saved {
        let rechecked =
            recheck::recheck_saved_plan(&prepared.sides, settings, &mut prepared.plan).await?;
        notice(Notice::Rechecked(rechecked));
    }
    Ok(prepared)
}

impl Prepared {
    /// Prepare a plan in hand: leave its deletions out if asked (`copy_only`), refuse to shard
    /// a plan that deletes, and cut it to the shard of `options`.
    pub fn of_plan(
        mut plan: Plan,
        sides: Sides,
        options: RunOptions,
        notice: &mut dyn FnMut(Notice<'_>),
    ) -> Result<Prepared> {
        if options.copy_only && !plan.deletions.is_empty() {
            notice(Notice::DeletionsLeftOut {
                deletions: plan.deletions.len(),
            });
            plan.set_deletions(Vec::new());
            plan.settings.mode = TransferMode::Copy;
        }
        refuse_shard(&plan, options.shard.is_some())?;
        let plan_id = options
            .report
            .is_some()
            .then(|| shard_report::plan_id(&plan));
        if let Some(shard) = &options.shard {
            tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard");
            notice(Notice::Shard(shard));
            plan = shard::shard_of(plan, shard.index, shard.count);
        }
        Ok(Prepared {
            plan,
            plan_id,
            sides,
            options,
        })
    }

    /// A shard of a saved plan cut while it streamed ([`plan_store::read_shard`]).
    fn of_cut(
        cut: plan_store::ShardCut,
        sides: Sides,
        options: RunOptions,
        notice: &mut dyn FnMut(Notice<'_>),
    ) -> Prepared {
        if cut.deletions_left_out > 0 {
            notice(Notice::DeletionsLeftOut {
                deletions: cut.deletions_left_out as usize,
            });
        }
        if let Some(shard) = &options.shard {
            tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard (streamed)");
            notice(Notice::Shard(shard));
        }
        Prepared {
            plan: cut.plan,
            plan_id: cut.plan_id,
            sides,
            options,
        }
    }

    /// The plan as it will run (this shard's items; skips where the target has the object).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Get the outputs ready (a manifest file that cannot be written fails now, not after the
    /// copy) and start the engine.
    pub fn start(self, notice: &mut dyn FnMut(Notice<'_>)) -> Result<Run> {
        let Prepared {
            plan,
            plan_id,
            sides,
            options,
        } = self;
        let collector = plan_id.map(|id| Collector::new(&plan, id, options.shard.as_ref()));
        let missing_keys = !plan.selection.missing.is_empty();
        if missing_keys {
            notice(Notice::MissingKeys(&plan.selection));
        }
        let manifest = (options.manifest.as_deref())
            .map(|path| ManifestRecorder::begin(path, &plan))
            .transpose()?;
        let journal = options
            .engine
            .journal_dir
            .as_ref()
            .map(|d| d.join("journal"));
        let mut handle = Engine::start(plan, sides.clone(), options.engine)?;
        let events = handle
            .take_events()
            .ok_or_else(|| Error::internal("a fresh engine handle has no event stream"))?;
        Ok(Run {
            handle,
            events,
            outputs: Outputs {
                sides,
                collector,
                manifest,
                report: options.report,
                missing_keys,
                journal,
                already_there: None,
            },
            feeder: None,
        })
    }
}

/// Mirror deletions run once, after every copy of the whole plan succeeded: a shard cannot
/// know that, so a plan that deletes is refused with a shard (exit 2).
fn refuse_shard(plan: &Plan, sharded: bool) -> Result<()> {
    if sharded && !plan.deletions.is_empty() {
        return Err(deletions_cannot_be_sharded(plan.deletions.len()));
    }
    Ok(())
}

/// The error of a sharded run of a plan that deletes.
pub(crate) fn deletions_cannot_be_sharded(deletions: usize) -> Error {
    Error::usage(format!(
        "this plan deletes {deletions} target objects (mirror mode), and deletions cannot be \
         sharded: run it without --shard (and without a scheduler's shard variables), or \
         make a copy-only plan with 'airlock plan --mode copy -o FILE' for the shards"
    ))
}

/// What a run records while it goes and writes when it ends.
struct Outputs {
    sides: Sides,
    collector: Option<Collector>,
    manifest: Option<ManifestRecorder>,
    report: Option<ReportTarget>,
    /// `--from-list` keys were missing at the source: the run exits at least 1.
    missing_keys: bool,
    /// Where the journal keeps finished parts, for the message after an interrupted run.
    journal: Option<PathBuf>,
    /// A saved plan rechecked while it streamed: the items found already at the target (told
    /// when the run ends).
    already_there: Option<Arc<AtomicUsize>>,
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
    handle: EngineHandle,
    events: mpsc::UnboundedReceiver<Event>,
    outputs: Outputs,
    /// The task feeding a streamed plan to the engine (it ends when the engine stops reading).
    feeder: Option<tokio::task::JoinHandle<()>>,
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
        if let Some(count) = &outputs.already_there {
            notice(Notice::Rechecked(Rechecked {
                already_there: count.load(Ordering::Relaxed),
                deletions: Default::default(),
            }));
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
        let missing_code = i32::from(outputs.missing_keys);
        if let (Some(target), Some(collector)) = (&outputs.report, outputs.collector) {
            let report = collector.finish(&summary);
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

#[cfg(test)]
mod tests;
