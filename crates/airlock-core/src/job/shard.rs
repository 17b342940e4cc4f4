//! Shards: one worker's deterministic, byte-balanced slice of a plan, so N workers (an AWS
//! Batch array job, a Kubernetes indexed Job) copy one plan together. Whole objects go to one
//! shard each; a split object (one multipart upload opened by `airlock prepare`) is cut into
//! part ranges, one per shard. Pure, on `plan` only: which shard this process is comes from
//! the caller.

use crate::plan::{Plan, Route, Summary, range_bytes};

/// Which shard this process runs, and where that came from (`--shard`, a scheduler's
/// environment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    pub source: String,
}

/// One shard's share of one plan item: the whole object, or a part range of a split object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub shard: u32,
    /// `Some((first, last))` for a split object: the part range this shard uploads.
    pub part_range: Option<(u32, u32)>,
}

/// Who runs what of each plan item. Split objects first: each is cut into contiguous ranges
/// of parts, one per shard, differing by at most one part, the longer ranges going to the
/// shards with the fewest bytes so far. Then whole objects, largest first, each to the shard
/// with the fewest bytes so far (ties to the lowest index). Deterministic for a given plan.
/// Skips weigh nothing, unless `by_source` (a plan each shard makes for itself, see
/// [`StreamShard`]): then every object weighs its size, so the cut depends on the
/// source listing alone.
pub(crate) fn assign(plan: &Plan, count: u32, by_source: bool) -> Vec<Vec<Assignment>> {
    let mut loads = vec![0u64; count as usize];
    let mut assignments: Vec<Vec<Assignment>> = vec![Vec::new(); plan.items.len()];
    let by_size = |a: &usize, b: &usize| {
        let (a, b) = (&plan.items[*a], &plan.items[*b]);
        b.size
            .cmp(&a.size)
            .then_with(|| a.source_key.cmp(&b.source_key))
    };
    let mut split_objects: Vec<usize> = (0..plan.items.len())
        .filter(|&i| plan.items[i].split.is_some() && plan.items[i].route != Route::Skip)
        .collect();
    split_objects.sort_by(by_size);
    for i in split_objects {
        let item = &plan.items[i];
        let upload = item.split.as_ref().expect("filtered on split");
        let (base, extra) = (upload.part_count() / count, upload.part_count() % count);
        let mut by_load: Vec<usize> = (0..count as usize).collect();
        by_load.sort_by_key(|&s| (loads[s], s));
        let longer: Vec<usize> = by_load[..extra as usize].to_vec();
        let mut next = upload.first_part;
        for (shard, load) in loads.iter_mut().enumerate() {
            let len = base + u32::from(longer.contains(&shard));
            if len == 0 {
                continue;
            }
            let (first, last) = (next, next + len - 1);
            next += len;
            *load += range_bytes(item, first, last);
            assignments[i].push(Assignment {
                shard: shard as u32,
                part_range: Some((first, last)),
            });
        }
    }
    let mut whole: Vec<usize> = (0..plan.items.len())
        .filter(|&i| assignments[i].is_empty())
        .collect();
    let weight = |i: usize| match plan.items[i].route {
        Route::Skip if !by_source => 0,
        _ => plan.items[i].size.max(1),
    };
    whole.sort_by(|a, b| weight(*b).cmp(&weight(*a)).then_with(|| by_size(a, b)));
    for i in whole {
        let (shard, _) = loads
            .iter()
            .enumerate()
            .min_by_key(|(s, load)| (**load, *s))
            .expect("count > 0");
        loads[shard] += weight(i);
        assignments[i].push(Assignment {
            shard: shard as u32,
            part_range: None,
        });
    }
    assignments
}

/// Shard `index` of `count`: its whole objects and its part ranges of split objects (the
/// plan's summary is recomputed). `by_source`: see [`assign`].
pub(crate) fn shard_of(plan: Plan, index: u32, count: u32, by_source: bool) -> Plan {
    let owners = assign(&plan, count, by_source);
    let mut plan = plan;
    let items = std::mem::take(&mut plan.items);
    for (mut item, assignments) in items.into_iter().zip(owners) {
        let Some(mine) = assignments.into_iter().find(|a| a.shard == index) else {
            continue;
        };
        if let (Some(split), Some((first, last))) = (item.split.as_mut(), mine.part_range) {
            split.first_part = first;
            split.last_part = last;
        }
        plan.items.push(item);
    }
    plan.summary = Summary::of(&plan.items, &plan.settings);
    plan
}

/// The shard assignment of a format 5 plan without split objects, made while streaming it:
/// the plan's entries in file order are cut into `count` contiguous ranges of about equal
/// weight (an item weighs its size plus one byte, so a shard of skips or empty objects still
/// gets its share by count), from the header's totals alone. Every shard computes the same cut
/// from the same file; an item belongs to the range its middle falls in. The largest imbalance
/// is one object.
///
/// A plan each shard makes for itself (a fresh `run --shard I/N`) is cut by its source objects
/// alone (`by_source`): there the shards' plans are the same source listing, but their routes
/// differ with what the target held when each shard listed it, and a cut weighing skips
/// lightly would then leave objects to no shard.
pub(crate) struct StreamShard {
    index: u32,
    count: u32,
    /// A skip weighs its size too: the cut depends on the source listing alone.
    by_source: bool,
    /// Sum of all weights (the header's bytes to copy plus its items).
    total: u64,
    /// Weight of the items before the next one.
    before: u64,
}

impl StreamShard {
    /// Shard `index` of `count` of the plan whose totals are `summary`. With `by_source`, the
    /// cut is by the plan's source objects alone (every item weighs its size plus one, skip or
    /// not), so shards that listed the target at different times, before and after each
    /// other's copies, still cut the same listing the same way.
    pub(crate) fn new(index: u32, count: u32, summary: &Summary, by_source: bool) -> Self {
        let skips = if by_source { summary.skip.bytes } else { 0 };
        StreamShard {
            index,
            count,
            by_source,
            total: summary.copy_bytes() + skips + summary.total_objects(),
            before: 0,
        }
    }

    /// Whether the next item in file order is this shard's.
    pub(crate) fn owns(&mut self, item: &crate::plan::PlanItem) -> bool {
        let weight = match item.route {
            Route::Skip if !self.by_source => 1,
            _ => item.size + 1,
        };
        let middle = u128::from(self.before) + u128::from(weight / 2);
        self.before += weight;
        let shard = (middle * u128::from(self.count) / u128::from(self.total.max(1)))
            .min(u128::from(self.count - 1)) as u32;
        shard == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{PlanItem, PlanSettings, PlanSide, SplitUpload};

    #[test]
    fn balances_bytes_and_covers_every_item_once() {
        let sizes = [1000u64, 900, 10, 10, 10, 10, 500, 400, 5, 1];
        let items = sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| PlanItem::new_single(format!("k{i}"), format!("t{i}"), size))
            .collect();
        let plan = plan_of(items);
        let slices = assign(&plan, 2, false);
        assert_eq!(slices, assign(&plan, 2, false), "deterministic");
        assert!(
            slices
                .iter()
                .all(|s| s.len() == 1 && s[0].part_range.is_none())
        );
        let owner: Vec<u32> = slices.iter().map(|s| s[0].shard).collect();
        let load = |s: u32| -> u64 {
            owner
                .iter()
                .zip(sizes)
                .filter(|(o, _)| **o == s)
                .map(|(_, b)| b)
                .sum()
        };
        assert_eq!(load(0) + load(1), sizes.iter().sum::<u64>());
        assert!(
            load(0).abs_diff(load(1)) <= 100,
            "{} vs {}",
            load(0),
            load(1)
        );
    }

    #[test]
    fn split_objects_are_cut_into_contiguous_ranges_one_per_shard() {
        let part_size = 5u64;
        let item = |key: &str, size: u64, split: bool| PlanItem {
            source_etag: Some("e".into()),
            route: if split {
                Route::Multipart
            } else {
                Route::Single
            },
            part_size: if split { part_size } else { size },
            parts: if split {
                size.div_ceil(part_size) as u32
            } else {
                1
            },
            split: split.then(|| SplitUpload {
                upload_id: "u".into(),
                source_etag: "e".into(),
                source_checksum: None,
                composite: None,
                first_part: 1,
                last_part: size.div_ceil(part_size) as u32,
            }),
            ..PlanItem::new_single(key.into(), key.into(), size)
        };
        // 10 parts (the last one 3 bytes) over 3 shards, plus two whole objects.
        let plan = plan_of(vec![
            item("big", 48, true),
            item("a", 7, false),
            item("b", 6, false),
        ]);
        let slices = assign(&plan, 3, false);
        let ranges: Vec<(u32, (u32, u32))> = slices[0]
            .iter()
            .map(|s| (s.shard, s.part_range.expect("a range")))
            .collect();
        assert_eq!(ranges.len(), 3, "{ranges:?}");
        let mut next = 1;
        for (_, (first, last)) in &ranges {
            assert_eq!(*first, next, "contiguous: {ranges:?}");
            assert!(last >= first);
            next = last + 1;
        }
        assert_eq!(next, 11, "every part once: {ranges:?}");
        let lens: Vec<u32> = ranges.iter().map(|(_, (f, l))| l + 1 - f).collect();
        assert!(
            lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1,
            "{lens:?}"
        );
        // Each shard's slice of the plan holds its range only.
        for shard in 0..3 {
            let mine = shard_of(plan.clone(), shard, 3, false);
            let big = mine.items.iter().find(|i| i.source_key == "big").unwrap();
            let split = big.split.as_ref().unwrap();
            let (_, expected) = ranges.iter().find(|(s, _)| *s == shard).unwrap();
            assert_eq!((split.first_part, split.last_part), *expected);
        }
        // Whole objects: once each, to some shard.
        assert_eq!(slices[1].len(), 1);
        assert_eq!(slices[2].len(), 1);
    }

    /// Two plans of one listing made at different times: in the later one, what shard 1
    /// copied meanwhile is a skip. Cut by the source, both plans cut the same (in memory and
    /// streaming); cut by what is left to copy, they do not, and objects fall between.
    #[test]
    fn a_cut_by_source_is_the_same_whatever_the_target_held() {
        let item = |i: usize, route: Route| PlanItem {
            route,
            ..PlanItem::new_single(format!("k{i:02}"), format!("k{i:02}"), 100 + 37 * i as u64)
        };
        let earlier = plan_of((0..20).map(|i| item(i, Route::Single)).collect());
        let owners = |plan: &Plan, by_source: bool| -> Vec<u32> {
            assign(plan, 2, by_source)
                .iter()
                .map(|a| a[0].shard)
                .collect()
        };
        let streamed = |plan: &Plan, by_source: bool| -> Vec<bool> {
            let summary = Summary::of(&plan.items, &plan.settings);
            let mut cut = StreamShard::new(1, 2, &summary, by_source);
            plan.items.iter().map(|i| cut.owns(i)).collect()
        };
        let first = owners(&earlier, true);
        let first_streamed = streamed(&earlier, true);
        let later = plan_of(
            (0..20)
                .map(|i| match first_streamed[i] {
                    true => item(i, Route::Skip),
                    false => item(i, Route::Single),
                })
                .collect(),
        );
        assert_eq!(owners(&later, true), first);
        assert_eq!(streamed(&later, true), first_streamed);
        assert_ne!(streamed(&later, false), streamed(&earlier, false));
        assert_ne!(owners(&later, false), owners(&earlier, false));
    }

    fn plan_of(items: Vec<PlanItem>) -> Plan {
        Plan {
            format: 1,
            source: PlanSide {
                bucket: "s".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            target: PlanSide {
                bucket: "t".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            settings: PlanSettings::of(&Default::default()),
            items,
            summary: Default::default(),
            selection: Default::default(),
            version_at: None,
            warnings: vec![],
            deletions: vec![],
        }
    }
}
