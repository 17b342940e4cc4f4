//! Executes [`Effect`]s: spawns a task per listing page, HEAD and inventory, learns a run's
//! source part layouts, starts the run through `job::run` and forwards its events, sends
//! commands, saves plans. Every result comes back as a [`Msg`] on the app channel; spawned
//! tasks never touch app state. The UI reaches
//! S3 only through `aws` (browser listings, HEAD), `job` (the plan's inventory, plan files)
//! and the engine (transfers).

use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{AbortHandle, JoinSet};

use crate::tui::msg::{Effect, Launch, Msg};
use airlock_core::aws::{Sides, list_page, listing};
use airlock_core::config::Settings;
use airlock_core::engine::{Command, EngineHandle, EngineOptions};
use airlock_core::job;
use airlock_core::job::run::{Prepared, RunOptions};

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
            Effect::Gather { request, scope } => {
                let (sides, settings) = (self.sides.clone(), self.settings.clone());
                if let Some(previous) = self.gathering.take() {
                    previous.abort();
                }
                self.gathering = Some(self.tasks.spawn(async move {
                    let progress_tx = tx.clone();
                    let progress = move |source, target| {
                        let _ = progress_tx.send(Msg::GatherProgress {
                            request,
                            source,
                            target,
                        });
                    };
                    let result = job::gather(&sides, &settings, scope, progress).await;
                    let _ = tx.send(Msg::Gathered { request, result });
                }));
            }
            Effect::StartRun {
                plan,
                transfer,
                confirm_delete,
            } => {
                // A finished, lingering engine is replaced by the new run.
                self.engine = None;
                self.held = Some(Vec::new());
                // The TUI plans without I/O: the source's part layouts are learnt now, so a
                // multipart source is copied in its own parts and checked by them.
                let source = self.sides.source.clone();
                self.tasks.spawn(async move {
                    let mut plan = *plan;
                    job::learn_layouts(&source, &mut plan).await;
                    let launch = Launch {
                        plan,
                        transfer: *transfer,
                        confirm_delete,
                    };
                    let _ = tx.send(Msg::LayoutsLearnt(Box::new(launch)));
                });
            }
            Effect::Launch(launch) => self.launch(*launch),
            Effect::Send(command) => match (&self.engine, &mut self.held) {
                (Some(engine), _) => engine.send(command),
                (None, Some(held)) => held.push(command),
                (None, None) => {}
            },
            Effect::SavePlan { plan, path } => {
                let sides = self.sides.clone();
                self.tasks.spawn(async move {
                    let result = airlock_core::job::plan_store::write_plan(&plan, &path, &sides)
                        .await
                        .map(|()| path);
                    let _ = tx.send(Msg::PlanSaved(result));
                });
            }
        }
        true
    }

    /// Start the engine on a plan whose layouts are learnt, and forward its events.
    fn launch(&mut self, launch: Launch) {
        let tx = self.messages.clone();
        let mut options = EngineOptions::from_settings(&self.settings);
        options.transfer = launch.transfer;
        options.confirm_delete = launch.confirm_delete;
        options.linger = true;
        if let Some(dir) = &self.journal_dir {
            options.journal_dir = Some(dir.clone());
        }
        self.engine = None;
        // The run pipeline with the plan in hand (the TUI plans its own selection): no shard,
        // no manifest or report; the UI shows what happens.
        let options = RunOptions::new(options);
        let started = Prepared::of_plan(launch.plan, self.sides.clone(), options, &mut |_| {})
            .and_then(|prepared| prepared.start(&mut |_| {}));
        match started {
            Ok(run) => {
                let (handle, mut events) = run.detach();
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
