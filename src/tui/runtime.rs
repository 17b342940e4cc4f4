//! Executes [`Effect`]s: spawns a task per listing page and HEAD; plans the configured prefix
//! streaming into a plan file on a thread of its own (a selection, or a store that does not
//! list in key order, through the in-memory inventory); re-routes and saves plan files on the
//! blocking pool; starts the run with the plan file streamed into the engine and forwards its
//! events; sends commands. Every result comes back as a [`Msg`] on the app channel; spawned
//! tasks never touch app state. The UI reaches S3 only through `aws` (browser listings,
//! HEAD), `job` (planning, plan files) and the engine (transfers).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{AbortHandle, JoinSet};

use crate::tui::msg::{Effect, Msg, StreamedPlan};
use airlock_core::aws::{Sides, list_page, listing};
use airlock_core::config::{Settings, TransferSettings};
use airlock_core::engine::{Command, Engine, EngineHandle, EngineOptions};
use airlock_core::error::Error;
use airlock_core::job::plan_window::{self, PlanFile, Streamed};
use airlock_core::job::{self, Scope, stream_plan};
use airlock_core::plan::lines::PlanHeader;

/// Owns the connections, the engine handle and every task it spawned.
pub struct Runtime {
    sides: Sides,
    settings: Arc<Settings>,
    messages: UnboundedSender<Msg>,
    /// Dropped (aborted) with the runtime: no listing outlives the UI.
    tasks: JoinSet<()>,
    /// The current run; dropping it cancels the run but keeps uploads and journal for a resume.
    engine: Option<EngineHandle>,
    /// Commands sent while the run's source layouts are learnt (no engine yet): sent to the
    /// engine as soon as it starts, so a pause or stop pressed meanwhile is not lost.
    held: Option<Vec<Command>>,
    /// The gather in progress: a newer plan request makes its answer useless, so it is aborted.
    gathering: Option<AbortHandle>,
    /// Set to stop the streaming plan in progress (it runs on a thread of its own, which an
    /// abort cannot stop): a newer plan was asked for, or the UI is leaving.
    planning: Option<Arc<AtomicBool>>,
    /// The task feeding the run its plan file; aborted when a new run starts or the UI leaves.
    feeder: Option<AbortHandle>,
    /// Overrides where the journal goes (tests); None uses the user data dir.
    pub journal_dir: Option<std::path::PathBuf>,
}

impl Runtime {
    pub fn new(sides: Sides, settings: Settings, messages: UnboundedSender<Msg>) -> Self {
        Runtime {
            sides,
            settings: Arc::new(settings),
            messages,
            tasks: JoinSet::new(),
            engine: None,
            held: None,
            gathering: None,
            planning: None,
            feeder: None,
            journal_dir: None,
        }
    }

    /// Run one effect. Returns false for [`Effect::Quit`].
    pub fn execute(&mut self, effect: Effect) -> bool {
        // Reap finished tasks so the set does not grow with every page.
        while self.tasks.try_join_next().is_some() {}
        let tx = self.messages.clone();
        match effect {
            Effect::Quit => return false,
            Effect::List {
                side,
                prefix,
                continuation,
                request,
                page,
            } => {
                let client = self.sides.get(side).clone();
                self.tasks.spawn(async move {
                    let result = list_page(&client, &prefix, false, continuation).await;
                    let _ = tx.send(Msg::Listed {
                        side,
                        request,
                        page,
                        result,
                    });
                });
            }
            Effect::Head { side, key } => {
                let client = self.sides.get(side).clone();
                self.tasks.spawn(async move {
                    let result = listing::head(&client, &key).await;
                    let _ = tx.send(Msg::Headed { side, key, result });
                });
            }
            Effect::Gather {
                request,
                scope,
                transfer,
            } => self.gather(request, scope, *transfer),
            Effect::Reroute {
                request,
                file,
                header,
                transfer,
            } => {
                tokio::task::spawn_blocking(move || {
                    let result = file.reroute(&header, &transfer).map(|(file, header)| {
                        Box::new(StreamedPlan {
                            file,
                            header,
                            heads: 0,
                        })
                    });
                    let _ = tx.send(Msg::Rerouted { request, result });
                });
            }
            Effect::StartRun {
                file,
                header,
                transfer,
                confirm_delete,
            } => self.launch(file, &header, *transfer, confirm_delete),
            Effect::Send(command) => match (&self.engine, &mut self.held) {
                (Some(engine), _) => engine.send(command),
                (None, Some(held)) => held.push(command),
                (None, None) => {}
            },
            Effect::SavePlan { file, header, path } => {
                let sides = self.sides.clone();
                let runtime = tokio::runtime::Handle::current();
                // Writing a plan of millions of lines is file work: off the async workers.
                tokio::task::spawn_blocking(move || {
                    let result = runtime
                        .block_on(file.save(&header, &path, &sides))
                        .map(|()| path);
                    let _ = tx.send(Msg::PlanSaved(result));
                });
            }
        }
        true
    }

    /// Plan `scope` (see [`Effect::Gather`]); a newer request stops the older one.
    fn gather(&mut self, request: u64, scope: Scope, transfer: TransferSettings) {
        if let Some(previous) = self.gathering.take() {
            previous.abort();
        }
        if let Some(previous) = self.planning.take() {
            previous.store(true, Ordering::Relaxed);
        }
        let (sides, settings, tx) = (
            self.sides.clone(),
            self.settings.clone(),
            self.messages.clone(),
        );
        if stream_plan::can_stream(&settings) {
            let cancel = Arc::new(AtomicBool::new(false));
            self.planning = Some(cancel.clone());
            let runtime = tokio::runtime::Handle::current();
            // The streaming planner's future is not `Send`: a thread of its own drives it.
            tokio::task::spawn_blocking(move || {
                runtime.block_on(async move {
                    let grew_tx = tx.clone();
                    let grew = |totals: &plan_window::Totals| {
                        let _ = grew_tx.send(Msg::PlanGrew {
                            request,
                            totals: Box::new(totals.clone()),
                        });
                    };
                    let planned = match scope.clone() {
                        Scope::Configured => {
                            plan_window::plan_to_file(&sides, &settings, &transfer, cancel, grew)
                                .await
                        }
                        Scope::Selection { folders, objects } => {
                            plan_window::plan_selection_to_file(
                                &sides,
                                &settings,
                                &transfer,
                                (folders, objects),
                                &cancel,
                                grew,
                            )
                            .await
                        }
                    };
                    let result = match planned {
                        Ok(Streamed::Planned {
                            file,
                            header,
                            heads,
                        }) => Ok(Box::new(StreamedPlan {
                            file,
                            header: *header,
                            heads,
                        })),
                        Ok(Streamed::OutOfOrder(why)) => {
                            tracing::warn!(%why, "planning in memory");
                            let result =
                                gather_in_memory(&sides, &settings, scope, request, &tx).await;
                            let _ = tx.send(Msg::Gathered { request, result });
                            return;
                        }
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(Msg::Streamed { request, result });
                })
            });
            return;
        }
        self.gathering = Some(self.tasks.spawn(async move {
            let result = gather_in_memory(&sides, &settings, scope, request, &tx).await;
            let _ = tx.send(Msg::Gathered { request, result });
        }));
    }

    /// Start the engine on the plan in `file`, streamed, and forward its events.
    fn launch(
        &mut self,
        file: Arc<PlanFile>,
        header: &PlanHeader,
        transfer: TransferSettings,
        confirm_delete: bool,
    ) {
        let tx = self.messages.clone();
        let mut options = EngineOptions::from_settings(&self.settings);
        options.transfer = transfer;
        options.confirm_delete = confirm_delete;
        options.linger = true;
        if let Some(dir) = &self.journal_dir {
            options.journal_dir = Some(dir.clone());
        }
        // A finished, lingering engine is replaced by the new run.
        self.engine = None;
        if let Some(feeder) = self.feeder.take() {
            feeder.abort();
        }
        let (feed, feeder) = plan_window::feed(file, header, &self.sides);
        let started =
            Engine::start_stream(feed, self.sides.clone(), options).and_then(|mut handle| {
                let events = handle
                    .take_events()
                    .ok_or_else(|| Error::internal("a fresh engine handle has no event stream"))?;
                Ok((handle, events))
            });
        match started {
            Ok((handle, mut events)) => {
                self.feeder = Some(feeder.abort_handle());
                let forward = tx.clone();
                self.tasks.spawn(async move {
                    while let Some(event) = events.recv().await {
                        if forward.send(Msg::Engine(event)).is_err() {
                            break;
                        }
                    }
                });
                for command in self.held.take().unwrap_or_default() {
                    handle.send(command);
                }
                self.engine = Some(handle);
                let _ = tx.send(Msg::RunStarted(Ok(())));
            }
            Err(e) => {
                feeder.abort();
                self.held = None;
                let _ = tx.send(Msg::RunStarted(Err(e)));
            }
        }
    }

    /// Run several effects; false if one of them was [`Effect::Quit`].
    pub fn execute_all(&mut self, effects: Vec<Effect>) -> bool {
        let mut keep_going = true;
        for effect in effects {
            keep_going &= self.execute(effect);
        }
        keep_going
    }
}

impl Drop for Runtime {
    /// A streaming plan in progress stops (its file goes with it); the feeder stops reading.
    fn drop(&mut self) {
        if let Some(planning) = self.planning.take() {
            planning.store(true, Ordering::Relaxed);
        }
        if let Some(feeder) = self.feeder.take() {
            feeder.abort();
        }
    }
}

/// The inventory of `scope` gathered in memory, its progress told as [`Msg::GatherProgress`].
async fn gather_in_memory(
    sides: &Sides,
    settings: &Settings,
    scope: Scope,
    request: u64,
    tx: &UnboundedSender<Msg>,
) -> airlock_core::error::Result<job::Inventory> {
    let progress_tx = tx.clone();
    let progress = move |source, target| {
        let _ = progress_tx.send(Msg::GatherProgress {
            request,
            source,
            target,
        });
    };
    job::gather(sides, settings, scope, progress).await
}
