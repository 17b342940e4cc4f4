//! The run pipeline both UIs call: resolve the plan (saved, or listed and planned now, or the
//! caller's own), cut this process's shard, recheck a saved plan against the target, start the
//! engine, record the run's outputs (manifest, shard report) from its events, write them when it
//! ends, and compute the exit code schedulers understand: 0 all copied or skipped and verified,
//! 1 some objects failed (or `--from-list` keys were missing, or the report could not be
//! written), 130 interrupted.
//!
//! [`start`] is the headless entry: where it can, it feeds the engine as the plan is made or
//! read ([`feed`]: a fresh run plans straight into the engine; a format 5 plan streams from its
//! file; a fresh sharded run plans first into a temporary format 5 file, [`fresh_shard`], and
//! streams that; a manifest is recorded streaming too), so memory does not grow with the
//! number of objects (a shard report too: its collector keeps counts and a bounded list, see
//! [`super::shard_report`]); otherwise (an older plan format, split objects, a saved plan's
//! deletions pinned to a moment, `version_at`, a fresh shard with `--from-list`) it is
//! [`prepare`] then [`Prepared::start`], with the plan in memory. [`dry_run`] takes the same
//! paths and gives the entries to the caller instead of the engine ([`dry`]).
//!
//! The steps are types, so each UI stops where it needs to:
//! - [`prepare`] (or [`Prepared::of_plan`] for a plan in hand, as the TUI's of its selection)
//!   gives a [`Prepared`] plan; `airlock run --dry-run` prints it when [`dry_run`] cannot
//!   stream it;
//! - [`Prepared::start`] starts the engine: a [`Run`]. The CLI reads its events with
//!   [`Run::next_event`] (which records them for the outputs) and ends with [`Run::join`] and
//!   [`Ended::write_outputs`]; the TUI, whose engine lingers for retries, takes the handle and
//!   the events with [`Run::detach`].
//!
//! What the pipeline has to say (a shard, objects already at the target, missing keys, where a
//! report went) comes to the caller as a [`Notice`], in order; the caller words and shows it.
//! Depends on `config`, `aws`, `plan`, `engine` and the rest of `job`; no UI crate.

mod dry;
mod feed;
mod fresh_shard;
mod outputs;
mod recheck_feed;

pub use dry::{DryFeed, DryRun, dry_run};
use outputs::Outputs;
pub use outputs::{Ended, Finished, Run};

use std::path::{Path, PathBuf};

use super::inventory;
use super::manifest::{ManifestRecorder, ManifestTap};
use super::plan_store;
use super::recheck::{self, Rechecked};
use super::shard::{self, Shard};
use super::shard_report::{self, Collector, PlanId, ReportTarget};
use super::stream_plan;
use crate::aws::Sides;
use crate::config::{Settings, TransferMode};
use crate::engine::{Engine, EngineOptions, RunSummary};
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
    /// A fresh sharded run plans the whole listing first, into a temporary plan file on local
    /// disk: copying starts when planning ends.
    PlanningFirst,
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
/// [`prepare`]d whole and started (see the module docs). Not for `--dry-run`: [`dry_run`].
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
    // Kept to the end of this function: the plan reader has opened the file by then.
    let (source, temp_plan) = fresh_shard_plan(settings, &sides, source, &options, notice).await?;
    let (source_side, target_side) = (
        crate::plan::PlanSide::of(&settings.source),
        crate::plan::PlanSide::of(&settings.target),
    );
    // A manifest that cannot be written fails now, not after the copy.
    let manifest = (options.manifest.as_deref())
        .map(|path| ManifestRecorder::begin_stream(path, &source_side, &target_side))
        .transpose()?;
    // A saved plan's reader computes the whole plan's id for the report as it reads it.
    let (plan_id, id_from_reader) = match (&options.report, &source) {
        (None, _) => (None, None),
        (Some(_), PlanSource::Fresh) => (Some(PlanId::Tapped), None),
        (Some(_), PlanSource::Saved(_)) => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            (Some(PlanId::Reading(rx)), Some(tx))
        }
    };
    let collector =
        plan_id.map(|id| Collector::new(&source_side, &target_side, id, options.shard.as_ref()));
    let tap = ManifestTap::of(manifest.as_ref(), collector.as_ref().map(Collector::tap));
    let mut streamed_header = None;
    let feeding = match &source {
        PlanSource::Fresh if stream_plan::can_stream(settings) && options.shard.is_none() => {
            // `--from-list` names the keys missing at the source when planning has ended.
            let (header, told) = match settings.filter.from_list {
                Some(_) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    (Some(tx), Some(rx))
                }
                None => (None, None),
            };
            streamed_header = told;
            feed::fresh(
                &sides,
                &copy_mode(settings, options.copy_only),
                tap,
                false,
                header,
            )
        }
        PlanSource::Saved(path) => {
            let shard = options.shard.as_ref().map(|s| (s.index, s.count));
            let reading = feed::Reading {
                shard,
                copy_only: options.copy_only,
                plan_id: id_from_reader,
                every_entry: false,
                just_made: temp_plan.is_some(),
            };
            match feed::saved(path, settings, &sides, reading, tap).await? {
                feed::Saved::Fed {
                    feeding,
                    deletions_left_out,
                    ..
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
            collector,
            manifest,
            report: options.report,
            missing_keys: false,
            streamed_header,
            journal,
            rechecked: feeding.rechecked,
        },
        feeder: Some(feeding.task),
    })
}

/// The settings a fresh plan is made with: `copy_only` plans no deletions at all (the CLI's
/// `--mode copy` has already set the mode; this keeps the library's option honest too).
pub(super) fn copy_mode(settings: &Settings, copy_only: bool) -> std::borrow::Cow<'_, Settings> {
    if copy_only && settings.transfer.mode != TransferMode::Copy {
        let mut copy = settings.clone();
        copy.transfer.mode = TransferMode::Copy;
        std::borrow::Cow::Owned(copy)
    } else {
        std::borrow::Cow::Borrowed(settings)
    }
}

/// A fresh sharded run's plan, written first to a temporary file ([`fresh_shard`]), as the
/// source to run; any other source as it is.
async fn fresh_shard_plan(
    settings: &Settings,
    sides: &Sides,
    source: PlanSource,
    options: &RunOptions,
    notice: &mut dyn FnMut(Notice<'_>),
) -> Result<(PlanSource, Option<fresh_shard::TempPlan>)> {
    if source != PlanSource::Fresh
        || options.shard.is_none()
        || !stream_plan::can_stream(settings)
        || settings.filter.from_list.is_some()
    {
        return Ok((source, None));
    }
    notice(Notice::PlanningFirst);
    Ok(match fresh_shard::plan_to_file(sides, settings).await? {
        Some(temp) => (PlanSource::Saved(temp.path.clone()), Some(temp)),
        None => (source, None),
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
    // A fresh plan is this shard's own: cut by the source alone (see `shard::assign`).
    let mut prepared = Prepared::of_plan_cut(plan, sides, options, !saved, notice)?;
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
        plan: Plan,
        sides: Sides,
        options: RunOptions,
        notice: &mut dyn FnMut(Notice<'_>),
    ) -> Result<Prepared> {
        Prepared::of_plan_cut(plan, sides, options, false, notice)
    }

    /// [`Prepared::of_plan`], the shard cut by the source objects alone when `by_source`.
    fn of_plan_cut(
        mut plan: Plan,
        sides: Sides,
        options: RunOptions,
        by_source: bool,
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
            .then(|| shard_report::plan_id_of(&plan, by_source));
        if let Some(shard) = &options.shard {
            tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard");
            notice(Notice::Shard(shard));
            plan = shard::shard_of(plan, shard.index, shard.count, by_source);
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
        let collector = plan_id.map(|id| Collector::of_plan(&plan, id, options.shard.as_ref()));
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
                streamed_header: None,
                journal,
                rechecked: None,
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

#[cfg(test)]
mod tests;
