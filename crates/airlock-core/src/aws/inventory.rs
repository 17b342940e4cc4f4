//! The I/O half of planning: list both sides under their prefixes and HEAD the pairs whose
//! listings cannot decide "same or not", so the pure [`crate::plan::build`] has what it needs.

use std::collections::HashMap;

use futures::{StreamExt, TryStreamExt};

use super::Sides;
use super::listing::{Listing, head, head_version, list_all};
use super::versions::objects_at_moment;
use crate::config::{CompareMode, Settings};
use crate::error::Result;
use crate::plan::{self, ObjectInfo, PlanInput, Verdict};

/// HEAD requests in flight while enriching listings.
const HEAD_CONCURRENCY: usize = 32;

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

/// List both sides and HEAD the undecided pairs. `progress` sees (source objects, target
/// objects) listed so far.
pub async fn gather(
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
    let keys = crate::job::key_list::keys_of(&settings.filter)?;
    let criteria = plan::Criteria {
        settings: &settings.filter,
        keys: keys.as_deref(),
        now_ms: crate::config::filter::now_ms(),
    };
    let deletions = mirror_deletions(&source.objects, &target.objects, settings, &criteria)?;
    // Filter before HEADs, so left-out objects cost no requests.
    let (source_objects, selection) = criteria.select(source.objects, &settings.source.prefix)?;
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
    Ok(inventory)
}

/// The source objects under `prefix`, recursively: the latest versions, or with
/// `source.version_at` each key as it was at that moment (with its version id).
pub async fn list_source(
    sides: &Sides,
    settings: &Settings,
    prefix: &str,
    on_page: impl FnMut(usize),
) -> Result<Listing> {
    list_source_at(sides, prefix, settings.filter.version_at, on_page).await
}

/// The source objects under `prefix`, recursively: the latest versions, or each key as it was
/// at `moment_ms`.
async fn list_source_at(
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
pub fn mirror_deletions(
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

/// HEAD both objects of every pair whose listing verdict is `Unknown` (also used by the TUI
/// for a plan of the selection).
pub async fn enrich(sides: &Sides, settings: &Settings, inventory: &mut Inventory) -> Result<()> {
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
                // The target HEAD often decides alone (airlock records the source ETag it copied).
                let decided = t.as_ref().is_some_and(|t| {
                    !matches!(
                        plan::verdict(&source[si], t, CompareMode::Checksum),
                        Verdict::Unknown(_)
                    )
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
            merge(&mut inventory.target[ti], t);
        }
        if let Some(s) = s {
            merge(&mut inventory.source[si], s);
        }
    }
    Ok(())
}

/// Fill what a HEAD learned into a listed object (keeping the listed key).
fn merge(listed: &mut ObjectInfo, headed: ObjectInfo) {
    listed.etag = listed.etag.take().or(headed.etag);
    listed.checksum = headed.checksum;
    listed.copied_from_etag = headed.copied_from_etag;
    if listed.modified_ms.is_none() {
        listed.modified_ms = headed.modified_ms;
    }
}

/// List, enrich and plan in one call (what `airlock plan` and `airlock run` do).
pub async fn plan(sides: &Sides, settings: &Settings) -> Result<(plan::Plan, Inventory)> {
    let inventory = gather(sides, settings, |_, _| {}).await?;
    let mut plan = plan::build(
        &inventory.source,
        &inventory.target,
        PlanInput {
            source: &settings.source,
            target: &settings.target,
            transfer: &settings.transfer,
        },
    );
    plan.selection = inventory.selection.clone();
    plan.version_at = settings
        .filter
        .version_at
        .map(crate::config::filter::format_rfc3339);
    plan.set_deletions(inventory.deletions.clone());
    Ok((plan, inventory))
}

/// What [`recheck_saved_plan`] changed in a saved plan before running it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rechecked {
    /// Objects the target already holds: now skips.
    pub already_there: usize,
    pub deletions: DeletionRecheck,
}

/// Before running a saved plan: one listing of the target prefix (and, for a plan that
/// deletes, one of the source), then [`recheck`] and [`recheck_deletions`] on them.
pub async fn recheck_saved_plan(
    sides: &Sides,
    settings: &Settings,
    plan: &mut plan::Plan,
) -> Result<Rechecked> {
    let pending = plan.items.iter().any(|i| i.route != plan::Route::Skip);
    if !pending && plan.deletions.is_empty() {
        return Ok(Rechecked::default());
    }
    // A pinned plan deletes what had no source counterpart at its moment, so the recheck
    // reads the source at that same moment, not as it is now.
    let moment = plan
        .version_at
        .as_deref()
        .and_then(crate::config::filter::parse_rfc3339_ms);
    let deletes = !plan.deletions.is_empty();
    let source = async {
        if !deletes {
            return Ok(None);
        }
        list_source_at(sides, &settings.source.prefix, moment, |_| {})
            .await
            .map(Some)
    };
    let (target, source) = tokio::join!(
        list_all(&sides.target, &settings.target.prefix, true, |_| {}),
        source
    );
    let target = target?.objects;
    let deletions = match source? {
        Some(source) => recheck_deletions(settings, plan, &source.objects, &target),
        None => DeletionRecheck::default(),
    };
    let already_there = recheck(sides, settings, plan, target).await?;
    Ok(Rechecked {
        already_there,
        deletions,
    })
}

/// Objects of a saved plan the target already holds (an earlier run of this plan or shard
/// copied them, or `airlock finalize` completed them) become skips, decided the way `plan`
/// decides (the compare mode, with HEADs where the listing cannot tell), so a rerun of a
/// finished shard sends nothing. `target` is a listing of the target prefix. Returns how many.
async fn recheck(
    sides: &Sides,
    settings: &Settings,
    plan: &mut plan::Plan,
    target: Vec<ObjectInfo>,
) -> Result<usize> {
    let pending: Vec<usize> = (0..plan.items.len())
        .filter(|&i| plan.items[i].route != plan::Route::Skip)
        .collect();
    if pending.is_empty() {
        return Ok(0);
    }
    let mut inventory = Inventory {
        source: pending
            .iter()
            .map(|&i| {
                let item = &plan.items[i];
                ObjectInfo {
                    key: item.source_key.clone(),
                    size: item.size,
                    modified_ms: item.source_modified_ms,
                    etag: item.source_etag.clone(),
                    version_id: item.source_version_id.clone(),
                    ..Default::default()
                }
            })
            .collect(),
        target,
        heads: 0,
        selection: Default::default(),
        deletions: Vec::new(),
    };
    if settings.transfer.compare == CompareMode::Checksum {
        enrich(sides, settings, &mut inventory).await?;
    }
    let targets: HashMap<&str, &ObjectInfo> = inventory
        .target
        .iter()
        .map(|o| (o.key.as_str(), o))
        .collect();
    let mut skipped = 0;
    for (source, &i) in inventory.source.iter().zip(&pending) {
        let item = &mut plan.items[i];
        let Some(target) = targets.get(item.target_key.as_str()) else {
            continue;
        };
        if let Ok(why) = plan::same_object(source, target, settings.transfer.compare) {
            item.route = plan::Route::Skip;
            item.reason = format!("already at the target ({why})");
            item.part_size = 0;
            item.parts = 0;
            item.split = None;
            skipped += 1;
        }
    }
    plan.summary = plan::Summary::of(&plan.items, &plan.settings);
    Ok(skipped)
}

/// Whether the target object `now` is not the one the plan saw: another size, or another ETag
/// or modification time where both are known.
fn overwritten(planned: &plan::Deletion, now: &ObjectInfo) -> bool {
    fn differs<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a != b)
    }
    now.size != planned.size
        || differs(&planned.etag, &now.etag)
        || differs(&planned.modified_ms, &now.modified_ms)
}

/// The deletions a saved plan dropped before running, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeletionRecheck {
    /// The source has the object again (at the plan's moment, for a pinned plan).
    pub source_back: usize,
    /// The target object was overwritten since the plan was made (another ETag or size).
    pub target_changed: usize,
    /// The target object is gone already.
    pub target_gone: usize,
}

/// A saved mirror plan's deletions against fresh listings: drop those whose source counterpart
/// appeared since the plan was made (never delete what the source has), whose target object
/// was overwritten since (never delete bytes the plan did not see), or which are gone already.
fn recheck_deletions(
    settings: &Settings,
    plan: &mut plan::Plan,
    source: &[ObjectInfo],
    target: &[ObjectInfo],
) -> DeletionRecheck {
    let mut out = DeletionRecheck::default();
    let source_keys: std::collections::HashSet<&str> =
        source.iter().map(|o| o.key.as_str()).collect();
    let targets: HashMap<&str, &ObjectInfo> = target.iter().map(|o| (o.key.as_str(), o)).collect();
    let kept: Vec<plan::Deletion> = std::mem::take(&mut plan.deletions)
        .into_iter()
        .filter(|d| {
            let relative = d
                .target_key
                .strip_prefix(settings.target.prefix.as_str())
                .unwrap_or(&d.target_key);
            if source_keys.contains(format!("{}{relative}", settings.source.prefix).as_str()) {
                out.source_back += 1;
                return false;
            }
            match targets.get(d.target_key.as_str()) {
                None => {
                    out.target_gone += 1;
                    false
                }
                Some(now) if overwritten(d, now) => {
                    out.target_changed += 1;
                    false
                }
                Some(_) => true,
            }
        })
        .collect();
    plan.set_deletions(kept);
    out
}
