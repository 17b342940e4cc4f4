//! `--shard I/N`: run a deterministic, byte-balanced slice of a plan, so N workers (an AWS
//! Batch array job, a Kubernetes indexed Job) copy one plan together. The index and count come
//! from `--shard`, else `AWS_BATCH_JOB_ARRAY_INDEX` / `AWS_BATCH_JOB_ARRAY_SIZE`, else
//! `JOB_COMPLETION_INDEX` with `--shards` (or `AIRLOCK_SHARDS`).

use super::args::RunArgs;
use airlock_core::error::{Error, Result};
use airlock_core::plan::{Plan, Route, Summary, range_bytes};

/// Set by AWS Batch in each child of an array job.
pub const BATCH_INDEX_ENV: &str = "AWS_BATCH_JOB_ARRAY_INDEX";
/// Not set by AWS Batch: the submission sets it to the array size (see assets/deploy/batch).
pub const BATCH_SIZE_ENV: &str = "AWS_BATCH_JOB_ARRAY_SIZE";
/// Set by Kubernetes in each pod of an indexed Job.
pub const K8S_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// Which shard this process runs, and where that came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
    pub source: String,
}

/// Parse `I/N`.
pub fn parse(text: &str) -> Result<(u32, u32)> {
    let bad = || {
        Error::usage(format!(
            "--shard '{text}' is not a shard: write INDEX/COUNT with 0 <= INDEX < COUNT, e.g. '0/4'"
        ))
    };
    let (index, count) = text.split_once('/').ok_or_else(bad)?;
    let index: u32 = index.trim().parse().map_err(|_| bad())?;
    let count: u32 = count.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok((index, count))
}

/// The shard from flags or the environment (`env` is injected for tests).
pub fn resolve(args: &RunArgs, env: impl Fn(&str) -> Option<String>) -> Result<Option<Shard>> {
    if let Some(text) = &args.shard {
        let (index, count) = parse(text)?;
        return Ok(Some(Shard {
            index,
            count,
            source: "--shard".into(),
        }));
    }
    let number = |name: &str| -> Result<Option<u32>> {
        match env(name) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| {
                Error::usage(format!("environment variable {name}='{v}' is not a number"))
            }),
        }
    };
    if let Some(index) = number(BATCH_INDEX_ENV)? {
        let count = number(BATCH_SIZE_ENV)?.ok_or_else(|| {
            Error::usage("AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not: Batch sets only the index, so set AWS_BATCH_JOB_ARRAY_SIZE to the array size in the job submission (see assets/deploy/batch), or pass --shard I/N")
        })?;
        return checked(
            index,
            count,
            "AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX/SIZE)",
        );
    }
    if let Some(index) = number(K8S_INDEX_ENV)? {
        let count = args.shards.ok_or_else(|| {
            Error::usage("JOB_COMPLETION_INDEX is set: pass --shards N (or AIRLOCK_SHARDS) with the Job's completions")
        })?;
        return checked(
            index,
            count,
            "Kubernetes indexed Job (JOB_COMPLETION_INDEX)",
        );
    }
    Ok(None)
}

fn checked(index: u32, count: u32, source: &str) -> Result<Option<Shard>> {
    if count == 0 || index >= count {
        return Err(Error::usage(format!(
            "{source}: index {index} is not below count {count}"
        )));
    }
    Ok(Some(Shard {
        index,
        count,
        source: source.into(),
    }))
}

/// One shard's share of one plan item: the whole object, or a range of a split object's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub shard: u32,
    /// `Some((first, last))` for a split object: the parts this shard uploads.
    pub parts: Option<(u32, u32)>,
}

/// Who runs what of each plan item. Split objects first: each is cut into contiguous ranges
/// of parts, one per shard, differing by at most one part, the longer ranges going to the
/// shards with the fewest bytes so far. Then whole objects, largest first, each to the shard
/// with the fewest bytes so far (ties to the lowest index). Deterministic for a given plan.
pub fn assign(plan: &Plan, count: u32) -> Vec<Vec<Slice>> {
    let mut loads = vec![0u64; count as usize];
    let mut slices: Vec<Vec<Slice>> = vec![Vec::new(); plan.items.len()];
    let by_size = |a: &usize, b: &usize| {
        let (a, b) = (&plan.items[*a], &plan.items[*b]);
        b.size
            .cmp(&a.size)
            .then_with(|| a.source_key.cmp(&b.source_key))
    };
    let mut split: Vec<usize> = (0..plan.items.len())
        .filter(|&i| plan.items[i].split.is_some() && plan.items[i].route != Route::Skip)
        .collect();
    split.sort_by(by_size);
    for i in split {
        let item = &plan.items[i];
        let range = item.split.as_ref().expect("filtered on split");
        let (base, extra) = (range.part_count() / count, range.part_count() % count);
        let mut by_load: Vec<usize> = (0..count as usize).collect();
        by_load.sort_by_key(|&s| (loads[s], s));
        let longer: Vec<usize> = by_load[..extra as usize].to_vec();
        let mut next = range.first_part;
        for (shard, load) in loads.iter_mut().enumerate() {
            let len = base + u32::from(longer.contains(&shard));
            if len == 0 {
                continue;
            }
            let (first, last) = (next, next + len - 1);
            next += len;
            *load += range_bytes(item, first, last);
            slices[i].push(Slice {
                shard: shard as u32,
                parts: Some((first, last)),
            });
        }
    }
    let mut whole: Vec<usize> = (0..plan.items.len())
        .filter(|&i| slices[i].is_empty())
        .collect();
    let weight = |i: usize| match plan.items[i].route {
        Route::Skip => 0,
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
        slices[i].push(Slice {
            shard: shard as u32,
            parts: None,
        });
    }
    slices
}

/// This shard's part of the plan: its whole objects and its ranges of split objects (the
/// plan's summary is recomputed).
pub fn slice(plan: Plan, index: u32, count: u32) -> Plan {
    let owners = assign(&plan, count);
    let mut plan = plan;
    let items = std::mem::take(&mut plan.items);
    for (mut item, slices) in items.into_iter().zip(owners) {
        let Some(slice) = slices.into_iter().find(|s| s.shard == index) else {
            continue;
        };
        if let (Some(split), Some((first, last))) = (item.split.as_mut(), slice.parts) {
            split.first_part = first;
            split.last_part = last;
        }
        plan.items.push(item);
    }
    plan.summary = Summary::of(&plan.items, &plan.settings);
    plan
}

/// Keep only this shard's share of the plan, when a shard (from [`resolve`]) is given.
pub fn apply(plan: Plan, shard: Option<&Shard>) -> Plan {
    let Some(shard) = shard else {
        return plan;
    };
    tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard");
    eprintln!(
        "shard {}/{} (from {})",
        shard.index, shard.count, shard.source
    );
    slice(plan, shard.index, shard.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_core::plan::PlanItem;

    fn args(shard: Option<&str>, shards: Option<u32>) -> RunArgs {
        RunArgs {
            plan: None,
            json: false,
            dry_run: false,
            shard: shard.map(str::to_string),
            shards,
            report: None,
            filter: Default::default(),
            bandwidth_limit: None,
            manifest: None,
            mode: None,
            confirm_delete: false,
        }
    }

    #[test]
    fn parses_and_refuses_bad_shards() {
        assert_eq!(parse("2/8").unwrap(), (2, 8));
        for bad in ["8/8", "1/0", "x/2", "3", "-1/2"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
    }

    #[test]
    fn index_comes_from_flag_then_batch_then_kubernetes() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = resolve(
            &args(Some("1/3"), None),
            env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "2")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!((s.index, s.count, s.source.as_str()), (1, 3, "--shard"));
        let s = resolve(
            &args(None, None),
            env(&[
                ("AWS_BATCH_JOB_ARRAY_INDEX", "2"),
                ("AWS_BATCH_JOB_ARRAY_SIZE", "4"),
            ]),
        )
        .unwrap()
        .unwrap();
        assert_eq!((s.index, s.count), (2, 4));
        let s = resolve(&args(None, Some(5)), env(&[("JOB_COMPLETION_INDEX", "4")]))
            .unwrap()
            .unwrap();
        assert_eq!((s.index, s.count), (4, 5));
        assert!(resolve(&args(None, None), env(&[("JOB_COMPLETION_INDEX", "4")])).is_err());
        assert!(resolve(&args(None, None), env(&[])).unwrap().is_none());
    }

    #[test]
    fn balances_bytes_and_covers_every_item_once() {
        let sizes = [1000u64, 900, 10, 10, 10, 10, 500, 400, 5, 1];
        let items = sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| PlanItem {
                source_key: format!("k{i}"),
                target_key: format!("t{i}"),
                size,
                source_etag: None,
                source_modified_ms: None,
                route: Route::Single,
                part_size: size,
                parts: 1,
                reason: "new".into(),
                split: None,
                source_version_id: None,
            })
            .collect();
        let plan = plan_of(items);
        let slices = assign(&plan, 2);
        assert_eq!(slices, assign(&plan, 2), "deterministic");
        assert!(slices.iter().all(|s| s.len() == 1 && s[0].parts.is_none()));
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
            source_key: key.into(),
            target_key: key.into(),
            size,
            source_etag: Some("e".into()),
            source_modified_ms: None,
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
            reason: "new".into(),
            split: split.then(|| airlock_core::plan::SplitUpload {
                upload_id: "u".into(),
                source_etag: "e".into(),
                source_checksum: None,
                first_part: 1,
                last_part: size.div_ceil(part_size) as u32,
            }),
            source_version_id: None,
        };
        // 10 parts (the last one 3 bytes) over 3 shards, plus two whole objects.
        let plan = plan_of(vec![
            item("big", 48, true),
            item("a", 7, false),
            item("b", 6, false),
        ]);
        let slices = assign(&plan, 3);
        let ranges: Vec<(u32, (u32, u32))> = slices[0]
            .iter()
            .map(|s| (s.shard, s.parts.expect("a range")))
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
            let mine = slice(plan.clone(), shard, 3);
            let big = mine.items.iter().find(|i| i.source_key == "big").unwrap();
            let split = big.split.as_ref().unwrap();
            let (_, expected) = ranges.iter().find(|(s, _)| *s == shard).unwrap();
            assert_eq!((split.first_part, split.last_part), *expected);
        }
        // Whole objects: once each, to some shard.
        assert_eq!(slices[1].len(), 1);
        assert_eq!(slices[2].len(), 1);
    }

    fn plan_of(items: Vec<PlanItem>) -> Plan {
        Plan {
            format: 1,
            source: airlock_core::plan::PlanSide {
                bucket: "s".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            target: airlock_core::plan::PlanSide {
                bucket: "t".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            settings: airlock_core::plan::PlanSettings::of(&Default::default()),
            items,
            summary: Default::default(),
            selection: Default::default(),
            version_at: None,
            warnings: vec![],
            deletions: vec![],
        }
    }
}
