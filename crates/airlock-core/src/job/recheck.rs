//! Before a saved plan runs: read the target (and, for a plan that deletes, the source) once
//! more, so objects an earlier run already copied become skips (a rerun of a finished shard
//! sends nothing) and deletions that are no longer safe are dropped. Depends on `aws`
//! (listings; HEAD through [`super::inventory`]), `config` and `plan`.

use std::collections::HashMap;

use super::inventory::{Inventory, enrich, list_source_at};
use crate::aws::Sides;
use crate::aws::listing::list_all;
use crate::config::{CompareMode, Settings};
use crate::error::Result;
use crate::plan::{self, ObjectInfo};

/// What [`recheck_saved_plan`] changed in a saved plan before running it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rechecked {
    /// Objects the target already holds: now skips.
    pub already_there: usize,
    pub deletions: DeletionRecheck,
}

/// Before running a saved plan: one listing of the target prefix (and, for a plan that
/// deletes, one of the source), then `recheck` and `recheck_deletions` on them.
pub(crate) async fn recheck_saved_plan(
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
            .map(|&i| plan.items[i].source_info())
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
pub(crate) fn overwritten(planned: &plan::Deletion, now: &ObjectInfo) -> bool {
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
