//! The streaming planner: one (source object, target object or none) pair in, one
//! [`PlanItem`] out, with what the plan adds up to (route totals, held-back counts, warnings,
//! whether a version is pinned) kept as a few counters, so a plan of any number of objects is
//! made in bounded memory. [`super::build`] is a loop over it; `job::stream_plan` feeds it from
//! a listing merge-join. Pure.

use super::held::{self, HeldBack, archived_class};
use super::summary::Summary;
use super::{
    ObjectInfo, PlanInput, PlanItem, PlanSettings, Route, part_layout, route_for_size, same_object,
    target_key,
};
use crate::config::TransferSettings;

/// Distinct warning texts a plan keeps; more are counted, not kept (a fixed `part_size` can
/// warn once per object size, and a plan may hold millions of sizes).
const MAX_DISTINCT_WARNINGS: usize = 20;

/// Warnings said once each, with a count, in the order first seen.
#[derive(Debug, Clone, Default)]
pub(crate) struct Warnings {
    counts: Vec<(String, u64)>,
    /// Warnings beyond [`MAX_DISTINCT_WARNINGS`] distinct texts.
    more: u64,
}

impl Warnings {
    pub(crate) fn add(&mut self, warning: String) {
        if let Some((_, n)) = self.counts.iter_mut().find(|(seen, _)| *seen == warning) {
            *n += 1;
        } else if self.counts.len() < MAX_DISTINCT_WARNINGS {
            self.counts.push((warning, 1));
        } else {
            self.more += 1;
        }
    }

    /// Each warning once, `(N objects)` after those raised more than once.
    pub(crate) fn finish(self) -> Vec<String> {
        let mut out: Vec<String> = self
            .counts
            .into_iter()
            .map(|(w, n)| {
                if n > 1 {
                    format!("{w} ({n} objects)")
                } else {
                    w
                }
            })
            .collect();
        if self.more > 0 {
            out.push(format!(
                "{} more warnings of other kinds not shown (only the first {MAX_DISTINCT_WARNINGS} kinds are)",
                self.more
            ));
        }
        out
    }
}

/// What a finished planner adds up to: everything of a plan but its items.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub settings: PlanSettings,
    pub summary: Summary,
    pub warnings: Vec<String>,
    /// Some item names a source version (`version_at`): the plan needs format 4 or newer.
    pub pinned: bool,
    /// Items planned.
    pub items: u64,
}

/// Plans one pair at a time; see the module docs.
pub struct Planner<'a> {
    input: PlanInput<'a>,
    summary: Summary,
    warnings: Warnings,
    pinned: bool,
    items: u64,
}

impl<'a> Planner<'a> {
    pub fn new(input: PlanInput<'a>) -> Self {
        Planner {
            input,
            summary: Summary::default(),
            warnings: Warnings::default(),
            pinned: false,
            items: 0,
        }
    }

    /// The target key of a source key (the source prefix swapped for the target prefix).
    pub fn target_key(&self, source_key: &str) -> String {
        target_key(
            source_key,
            &self.input.source.prefix,
            &self.input.target.prefix,
        )
    }

    /// Plan one source object, given what the target holds at `target_key` (None: nothing),
    /// and count it in the totals.
    pub fn plan(
        &mut self,
        object: ObjectInfo,
        target_key: String,
        existing: Option<&ObjectInfo>,
    ) -> PlanItem {
        let item = self.item(object, target_key, existing);
        self.count(&item);
        item
    }

    /// [`Planner::plan`] without counting: for a pipeline that changes the item before it is
    /// counted (a multipart source's own part layout), then calls [`Planner::count`].
    pub fn item(
        &mut self,
        object: ObjectInfo,
        target_key: String,
        existing: Option<&ObjectInfo>,
    ) -> PlanItem {
        plan_item(
            object,
            target_key,
            existing,
            self.input.transfer,
            &mut self.warnings,
        )
    }

    /// Count a planned item in the totals.
    pub fn count(&mut self, item: &PlanItem) {
        self.summary.add(item);
        self.pinned |= item.source_version_id.is_some();
        self.items += 1;
    }

    /// The totals of everything planned.
    pub fn finish(self) -> Planned {
        let settings = PlanSettings::of(self.input.transfer);
        Planned {
            summary: self.summary.finish(&settings),
            settings,
            warnings: self.warnings.finish(),
            pinned: self.pinned,
            items: self.items,
        }
    }
}

/// The route of one object: held back, skipped (same at the target), or copied whole or in
/// parts. The one place routing and comparing happen.
fn plan_item(
    object: ObjectInfo,
    target_key: String,
    existing: Option<&ObjectInfo>,
    transfer: &TransferSettings,
    warnings: &mut Warnings,
) -> PlanItem {
    let verdict = existing.map(|t| same_object(&object, t, transfer.compare));
    let held_back = match &verdict {
        _ if held::is_source_prefix_marker(&object, &target_key) => {
            Some(HeldBack::SourcePrefixMarker)
        }
        Some(Ok(_)) => None,
        _ => archived_class(&object).map(|_| HeldBack::Archived),
    };
    let (route, reason) = match (held_back, verdict) {
        (Some(held), _) => (Route::Skip, held::reason(held, &object)),
        (None, Some(Ok(why))) => (Route::Skip, why),
        (None, Some(Err(why))) => (
            route_for_size(object.size, transfer.multipart_threshold.0),
            why,
        ),
        (None, None) => (
            route_for_size(object.size, transfer.multipart_threshold.0),
            "new".to_string(),
        ),
    };
    let (part_size, parts) = match route {
        Route::Skip => (0, 0),
        Route::Single => (object.size, 1),
        Route::Multipart => {
            let (part_size, parts, warning) = part_layout(object.size, transfer.part_size);
            if let Some(warning) = warning {
                warnings.add(warning);
            }
            (part_size, parts)
        }
    };
    PlanItem {
        source_key: object.key,
        target_key,
        size: object.size,
        source_etag: object.etag,
        source_modified_ms: object.modified_ms,
        route,
        part_size,
        parts,
        reason,
        split: None,
        source_version_id: object.version_id,
        held_back,
        source_layout: None,
        inventory_of_ms: None,
    }
}
