//! Executes [`Effect`]s: spawns a task per listing page, HEAD and inventory, starts the engine
//! and forwards its events, sends commands, saves plans. Every result comes back as a
//! [`Msg`] on the app channel; spawned tasks never touch app state. The UI reaches S3 only
//! through `aws` (listings, HEAD, inventory) and the engine (transfers).

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::{AbortHandle, JoinSet};

use crate::tui::msg::{Effect, Msg, Scope};
use airlock_core::aws::inventory::{self, Inventory};
use airlock_core::aws::{Sides, list_all, list_page, listing};
use airlock_core::config::Settings;
use airlock_core::engine::{Engine, EngineHandle, EngineOptions};
use airlock_core::error::Result;
use airlock_core::plan::{self, ObjectInfo};

/// Listings of selected folders in flight at once while gathering a plan.
const GATHER_CONCURRENCY: usize = 4;

/// Owns the connections, the engine handle and every task it spawned.
pub struct Runtime {
    sides: Sides,
    settings: Arc<Settings>,
    messages: UnboundedSender<Msg>,
    /// Dropped (aborted) with the runtime: no listing outlives the UI.
    tasks: JoinSet<()>,
    /// The current run; dropping it cancels the run but keeps uploads and journal for a resume.
    engine: Option<EngineHandle>,
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
            } => {
                let client = self.sides.get(side).clone();
                self.tasks.spawn(async move {
                    let result = list_page(&client, &prefix, false, continuation).await;
                    let _ = tx.send(Msg::Listed {
                        side,
                        request,
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
                    let result = gather(&sides, &settings, scope, progress).await;
                    let _ = tx.send(Msg::Gathered { request, result });
                }));
            }
            Effect::StartRun {
                plan,
                transfer,
                confirm_delete,
            } => {
                let mut options = EngineOptions::from_settings(&self.settings);
                options.transfer = *transfer;
                options.confirm_delete = confirm_delete;
                options.linger = true;
                if let Some(dir) = &self.journal_dir {
                    options.journal_dir = Some(dir.clone());
                }
                // A finished, lingering engine is replaced by the new run.
                self.engine = None;
                match Engine::start(*plan, self.sides.clone(), options) {
                    Ok(mut handle) => {
                        if let Some(mut events) = handle.take_events() {
                            let tx = tx.clone();
                            self.tasks.spawn(async move {
                                while let Some(event) = events.recv().await {
                                    if tx.send(Msg::Engine(event)).is_err() {
                                        break;
                                    }
                                }
                            });
                        }
                        self.engine = Some(handle);
                        let _ = tx.send(Msg::RunStarted(Ok(())));
                    }
                    Err(e) => {
                        let _ = tx.send(Msg::RunStarted(Err(e)));
                    }
                }
            }
            Effect::Send(command) => {
                if let Some(engine) = &self.engine {
                    engine.send(command);
                }
            }
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

    /// Run several effects; false if one of them was [`Effect::Quit`].
    pub fn execute_all(&mut self, effects: Vec<Effect>) -> bool {
        let mut keep_going = true;
        for effect in effects {
            keep_going &= self.execute(effect);
        }
        keep_going
    }
}

/// The inventory for a plan: the configured prefixes, or the selection (selected objects
/// plus everything under selected folders, and what lies at the mirrored target keys).
pub async fn gather(
    sides: &Sides,
    settings: &Settings,
    scope: Scope,
    progress: impl Fn(usize, usize) + Send + Sync + 'static,
) -> Result<Inventory> {
    let (folders, objects) = match scope {
        Scope::Configured => return inventory::gather(sides, settings, progress).await,
        Scope::Selection { folders, objects } => (folders, objects),
    };
    let to_target =
        |key: &str| plan::target_key(key, &settings.source.prefix, &settings.target.prefix);
    let mut source: BTreeMap<String, ObjectInfo> = BTreeMap::new();
    match settings.filter.version_at {
        None => source.extend(objects.into_iter().map(|o| (o.key.clone(), o))),
        // The browser lists the latest versions: take each selected key as it was then.
        Some(_) => {
            for object in objects {
                let listed = inventory::list_source(sides, settings, &object.key, |_| {}).await?;
                source.extend(
                    listed
                        .objects
                        .into_iter()
                        .filter(|o| o.key == object.key)
                        .map(|o| (o.key.clone(), o)),
                );
            }
        }
    }
    // Selected objects are matched against a listing of their target folder.
    let mut target_folders: Vec<(String, bool)> = source
        .keys()
        .map(|key| {
            let target_key = to_target(key);
            let folder = match target_key.rfind('/') {
                Some(i) => target_key[..=i].to_string(),
                None => String::new(),
            };
            (folder, false)
        })
        .collect();
    target_folders.extend(folders.iter().map(|f| (to_target(f), true)));
    target_folders.sort();
    target_folders.dedup();
    let mut counts = (0usize, 0usize);
    let mut jobs: Vec<(airlock_core::aws::SideClient, String, bool)> = folders
        .iter()
        .map(|f| (sides.source.clone(), f.clone(), true))
        .collect();
    jobs.extend(
        target_folders
            .into_iter()
            .map(|(f, recursive)| (sides.target.clone(), f, recursive)),
    );
    let mut jobs = jobs.into_iter();
    let mut running = JoinSet::new();
    let mut target: BTreeMap<String, ObjectInfo> = BTreeMap::new();
    loop {
        while running.len() < GATHER_CONCURRENCY {
            let Some((client, folder, recursive)) = jobs.next() else {
                break;
            };
            let version_at = settings.filter.version_at;
            running.spawn(async move {
                let listed = match (client.side, version_at) {
                    (airlock_core::config::Side::Source, Some(moment_ms)) => {
                        airlock_core::aws::versions::objects_at_moment(
                            &client,
                            &folder,
                            moment_ms,
                            |_| {},
                        )
                        .await
                        .map(|objects| airlock_core::aws::Listing {
                            objects,
                            ..Default::default()
                        })
                    }
                    _ => list_all(&client, &folder, recursive, |_| {}).await,
                };
                (client.side, listed)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (side, listed) = joined.map_err(|e| {
            airlock_core::Error::internal(format!("a listing task ended abnormally: {e}"))
        })?;
        let listed = listed?;
        let into = match side {
            airlock_core::config::Side::Source => {
                counts.0 += listed.objects.len();
                &mut source
            }
            airlock_core::config::Side::Target => {
                counts.1 += listed.objects.len();
                &mut target
            }
        };
        for object in listed.objects {
            into.insert(object.key.clone(), object);
        }
        progress(counts.0, counts.1);
    }
    let keys = airlock_core::job::key_list::keys_of(&settings.filter)?;
    let criteria = plan::Criteria {
        settings: &settings.filter,
        keys: keys.as_deref(),
        now_ms: airlock_core::config::filter::now_ms(),
    };
    let (source, selection) =
        criteria.select(source.into_values().collect(), &settings.source.prefix)?;
    let mut inventory = Inventory {
        source,
        target: target.into_values().collect(),
        heads: 0,
        selection,
        // Mirror deletions need the whole configured prefix: a selection deletes nothing.
        deletions: Vec::new(),
    };
    if settings.transfer.compare == airlock_core::config::CompareMode::Checksum {
        inventory::enrich(sides, settings, &mut inventory).await?;
    }
    Ok(inventory)
}
