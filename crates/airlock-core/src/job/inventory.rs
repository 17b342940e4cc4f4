//! Listing to plan, the I/O half of planning: list both sides (under the configured prefixes,
//! or a selection of the TUI's browser), apply the filters, find mirror deletions, and HEAD the
//! pairs whose listings cannot decide "same or not", so the pure [`crate::plan::build`] has
//! what it needs. Depends on `aws` (listings, HEAD), `plan` and `config`.

use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, TryStreamExt};
use tokio::task::JoinSet;

use super::key_list;
use crate::aws::listing::{Listing, head, head_version, list_all};
use crate::aws::versions::objects_at_moment;
use crate::aws::{SideClient, Sides};
use crate::config::{CompareMode, Settings, Side, TransferSettings};
use crate::error::{Error, Result};
use crate::plan::{self, ObjectInfo, PlanInput, Verdict};

/// HEAD requests in flight while enriching listings.
const HEAD_CONCURRENCY: usize = 32;

/// Listings of selected folders in flight at once while gathering a selection.
const SELECTION_LISTINGS: usize = 4;

/// What to list for a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Everything under the configured prefixes.
    Configured,
    /// Selected folders (source prefixes, listed recursively) and selected objects (the TUI's
    /// browser); a plan of a selection deletes nothing.
    Selection {
        folders: Vec<String>,
        objects: Vec<ObjectInfo>,
    },
}

/// Source and target objects under the configured prefixes, enriched where needed.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub source: Vec<ObjectInfo>,
    pub target: Vec<ObjectInfo>,
    /// HEAD requests made to decide equality.
    pub heads: usize,
    /// What the `[filter]` settings left out of `source`.
    pub selection: plan::Selection,
    /// Mirror mode: target objects with no source counterpart (empty in copy mode).
    pub deletions: Vec<plan::Deletion>,
}

/// The inventory for a plan of `scope`: both sides listed, filtered and, where the listings
/// cannot decide, HEADed. `progress` sees (source objects, target objects) listed so far.
pub async fn gather(
    sides: &Sides,
    settings: &Settings,
    scope: Scope,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Inventory> {
    match scope {
        Scope::Configured => {
            if let Some(inventory) = &settings.filter.inventory {
                // This would list the source: an S3 Inventory is only read streaming.
                let why = if settings.filter.from_list.is_some() {
                    "a fresh sharded run with --from-list plans in memory: plan once \
                     ('airlock plan -o plan.jsonl.zst --from-list FILE') and give the shards \
                     --plan plan.jsonl.zst"
                } else {
                    "this plan cannot stream (the target listed out of key order): unset \
                     source.inventory to plan from a listing"
                };
                return Err(Error::usage(format!(
                    "a plan from the S3 Inventory '{}' is made streaming only, and {why}",
                    inventory.location()
                )));
            }
            gather_configured(sides, settings, progress).await
        }
        Scope::Selection { folders, objects } => {
            gather_selection(sides, settings, folders, objects, progress).await
        }
    }
}

/// The filters of `settings` with their key list read (once per plan) and the clock read.
fn with_criteria<T>(
    settings: &Settings,
    apply: impl FnOnce(&plan::Criteria<'_>) -> Result<T>,
) -> Result<T> {
    let keys = key_list::keys_of(&settings.filter)?;
    apply(&plan::Criteria {
        settings: &settings.filter,
        keys: keys.as_deref(),
        now_ms: crate::config::filter::now_ms(),
    })
}

/// Everything under the configured prefixes, with mirror deletions.
async fn gather_configured(
    sides: &Sides,
    settings: &Settings,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Inventory> {
    let progress = &progress;
    let source_count = std::sync::atomic::AtomicUsize::new(0);
    let target_count = std::sync::atomic::AtomicUsize::new(0);
    let (source, target) = tokio::try_join!(
        list_source(sides, settings, &settings.source.prefix, |n| {
            source_count.store(n, std::sync::atomic::Ordering::Relaxed);
            progress(n, target_count.load(std::sync::atomic::Ordering::Relaxed));
        }),
        list_all(&sides.target, &settings.target.prefix, true, |n| {
            target_count.store(n, std::sync::atomic::Ordering::Relaxed);
            progress(source_count.load(std::sync::atomic::Ordering::Relaxed), n);
        }),
    )?;
    let (deletions, (source_objects, selection)) = with_criteria(settings, |criteria| {
        let deletions = mirror_deletions(&source.objects, &target.objects, settings, criteria)?;
        // Filter before HEADs, so left-out objects cost no requests.
        Ok((
            deletions,
            criteria.select(source.objects, &settings.source.prefix)?,
        ))
    })?;
    let mut inventory = Inventory {
        source: source_objects,
        target: target.objects,
        heads: 0,
        selection,
        deletions,
    };
    if settings.transfer.compare == CompareMode::Checksum {
        enrich(sides, settings, &mut inventory).await?;
    }
    learn_restores(sides, &mut inventory).await?;
    Ok(inventory)
}

/// The source objects under `prefix`, recursively: the latest versions, or with
/// `source.version_at` each key as it was at that moment (with its version id).
async fn list_source(
    sides: &Sides,
    settings: &Settings,
    prefix: &str,
    on_page: impl FnMut(usize),
) -> Result<Listing> {
    list_source_at(sides, prefix, settings.filter.version_at, on_page).await
}

/// The source objects under `prefix`, recursively: the latest versions, or each key as it was
/// at `moment_ms`.
pub(super) async fn list_source_at(
    sides: &Sides,
    prefix: &str,
    moment_ms: Option<i64>,
    on_page: impl FnMut(usize),
) -> Result<Listing> {
    match moment_ms {
        None => list_all(&sides.source, prefix, true, on_page).await,
        Some(moment_ms) => Ok(Listing {
            objects: objects_at_moment(&sides.source, prefix, moment_ms, on_page).await?,
            ..Default::default()
        }),
    }
}

/// In mirror mode, the target objects to delete (rule in [`plan::mirror`]); `source` is the
/// whole source listing, before filtering; `criteria` are the filters of `settings`, keys read.
/// Empty in copy mode.
fn mirror_deletions(
    source: &[ObjectInfo],
    target: &[ObjectInfo],
    settings: &Settings,
    criteria: &plan::Criteria<'_>,
) -> Result<Vec<plan::Deletion>> {
    if settings.transfer.mode != crate::config::TransferMode::Mirror {
        return Ok(Vec::new());
    }
    let source_keys: std::collections::HashSet<String> =
        source.iter().map(|o| o.key.clone()).collect();
    plan::mirror::deletions(
        &source_keys,
        target,
        &settings.source,
        &settings.target,
        criteria,
    )
}

/// HEAD both objects of every pair whose listing verdict is `Unknown`.
pub(super) async fn enrich(
    sides: &Sides,
    settings: &Settings,
    inventory: &mut Inventory,
) -> Result<()> {
    let target_index: HashMap<String, usize> = inventory
        .target
        .iter()
        .enumerate()
        .map(|(i, o)| (o.key.clone(), i))
        .collect();
    let pairs: Vec<(usize, usize)> = inventory
        .source
        .iter()
        .enumerate()
        .filter_map(|(si, s)| {
            let key = plan::target_key(&s.key, &settings.source.prefix, &settings.target.prefix);
            let ti = *target_index.get(&key)?;
            matches!(
                plan::verdict(s, &inventory.target[ti], settings.transfer.compare),
                Verdict::Unknown(_)
            )
            .then_some((si, ti))
        })
        .collect();
    let source = &inventory.source;
    let target = &inventory.target;
    let heads: Vec<(usize, usize, Option<ObjectInfo>, Option<ObjectInfo>)> =
        futures::stream::iter(pairs)
            .map(|(si, ti)| async move {
                let t = head(&sides.target, &target[ti].key).await?;
                // The target HEAD often decides alone (airlock records the source ETag it
                // copied), but a target checksum must meet the source's before provenance may
                // say "same": a copy that failed its check carries the provenance too.
                let decided = t.as_ref().is_some_and(|t| {
                    match plan::verdict(&source[si], t, CompareMode::Checksum) {
                        Verdict::Unknown(_) => false,
                        Verdict::Same(_) => t.checksum.is_none() || source[si].checksum.is_some(),
                        Verdict::Differs(_) => true,
                    }
                });
                let s = if decided {
                    None
                } else {
                    let version = source[si].version_id.as_deref();
                    head_version(&sides.source, &source[si].key, version).await?
                };
                Ok::<_, crate::Error>((si, ti, s, t))
            })
            .buffer_unordered(HEAD_CONCURRENCY)
            .try_collect()
            .await?;
    for (si, ti, s, t) in heads {
        inventory.heads += 1 + usize::from(s.is_some());
        if let Some(t) = t {
            merge_headed(&mut inventory.target[ti], t);
        }
        if let Some(s) = s {
            merge_headed(&mut inventory.source[si], s);
        }
    }
    Ok(())
}

/// HEAD every source object listed in an archived storage class (GLACIER, DEEP_ARCHIVE) whose
/// restore status is not known yet: a listing does not show whether a restored copy is
/// readable, and the plan holds back the ones that are not.
async fn learn_restores(sides: &Sides, inventory: &mut Inventory) -> Result<()> {
    let archived: Vec<usize> = (0..inventory.source.len())
        .filter(|&i| {
            let object = &inventory.source[i];
            plan::archived_class(object).is_some() && object.restored.is_none()
        })
        .collect();
    let source = &inventory.source;
    let heads: Vec<(usize, Option<ObjectInfo>)> = futures::stream::iter(archived)
        .map(|i| async move {
            let version = source[i].version_id.as_deref();
            let headed = head_version(&sides.source, &source[i].key, version).await?;
            Ok::<_, crate::Error>((i, headed))
        })
        .buffer_unordered(HEAD_CONCURRENCY)
        .try_collect()
        .await?;
    for (i, headed) in heads {
        inventory.heads += 1;
        inventory.source[i].restored = headed.and_then(|h| h.restored);
    }
    Ok(())
}

/// Fill what a HEAD learned into a listed object (keeping the listed key).
pub(super) fn merge_headed(listed: &mut ObjectInfo, headed: ObjectInfo) {
    if listed.etag.is_none() || listed.etag == headed.etag {
        listed.etag_md5 = headed.etag_md5;
    }
    listed.etag = listed.etag.take().or(headed.etag);
    listed.checksum = headed.checksum;
    listed.copied_from_etag = headed.copied_from_etag;
    listed.restored = headed.restored;
    if listed.modified_ms.is_none() {
        listed.modified_ms = headed.modified_ms;
    }
}

/// List, enrich and plan the configured prefixes in one call (what `airlock plan` and
/// `airlock run` do).
pub async fn plan(sides: &Sides, settings: &Settings) -> Result<(plan::Plan, Inventory)> {
    let inventory = gather(sides, settings, Scope::Configured, |_, _| {}).await?;
    let mut plan = build_plan(&inventory, settings, &settings.transfer);
    super::layouts::learn(&sides.source, &mut plan).await;
    Ok((plan, inventory))
}

/// The plan of an inventory (pure): [`plan::build`] with `transfer` (the TUI's edited
/// settings, or the config's), plus the selection, the `version_at` moment and the deletions.
pub fn build_plan(
    inventory: &Inventory,
    settings: &Settings,
    transfer: &TransferSettings,
) -> plan::Plan {
    let mut plan = plan::build(
        &inventory.source,
        &inventory.target,
        PlanInput {
            source: &settings.source,
            target: &settings.target,
            transfer,
        },
    );
    plan.selection = inventory.selection.clone();
    plan.version_at = settings
        .filter
        .version_at
        .map(crate::config::filter::format_rfc3339);
    plan.set_deletions(inventory.deletions.clone());
    plan
}

/// The selection (selected objects plus everything under selected folders, and what lies at
/// the mirrored target keys), filtered and enriched like the configured prefixes.
async fn gather_selection(
    sides: &Sides,
    settings: &Settings,
    folders: Vec<String>,
    objects: Vec<ObjectInfo>,
    progress: impl Fn(usize, usize) + Sync,
) -> Result<Inventory> {
    let to_target =
        |key: &str| plan::target_key(key, &settings.source.prefix, &settings.target.prefix);
    let mut source: BTreeMap<String, ObjectInfo> = BTreeMap::new();
    match settings.filter.version_at {
        None => source.extend(objects.into_iter().map(|o| (o.key.clone(), o))),
        // The browser lists the latest versions: take each selected key as it was then.
        Some(_) => {
            for object in objects {
                let listed = list_source(sides, settings, &object.key, |_| {}).await?;
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
    let mut jobs: Vec<(SideClient, String, bool)> = folders
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
        while running.len() < SELECTION_LISTINGS {
            let Some((client, folder, recursive)) = jobs.next() else {
                break;
            };
            let version_at = settings.filter.version_at;
            running.spawn(async move {
                let listed = match (client.side, version_at) {
                    (Side::Source, Some(moment_ms)) => {
                        objects_at_moment(&client, &folder, moment_ms, |_| {})
                            .await
                            .map(|objects| Listing {
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
        let (side, listed) =
            joined.map_err(|e| Error::internal(format!("a listing task ended abnormally: {e}")))?;
        let listed = listed?;
        let into = match side {
            Side::Source => {
                counts.0 += listed.objects.len();
                &mut source
            }
            Side::Target => {
                counts.1 += listed.objects.len();
                &mut target
            }
        };
        for object in listed.objects {
            into.insert(object.key.clone(), object);
        }
        progress(counts.0, counts.1);
    }
    let (source, selection) = with_criteria(settings, |criteria| {
        criteria.select(source.into_values().collect(), &settings.source.prefix)
    })?;
    let mut inventory = Inventory {
        source,
        target: target.into_values().collect(),
        heads: 0,
        selection,
        // Mirror deletions need the whole configured prefix: a selection deletes nothing.
        deletions: Vec::new(),
    };
    if settings.transfer.compare == CompareMode::Checksum {
        enrich(sides, settings, &mut inventory).await?;
    }
    learn_restores(sides, &mut inventory).await?;
    Ok(inventory)
}
