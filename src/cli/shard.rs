//! `--shard I/N`: run a deterministic, byte-balanced slice of a plan, so N workers (an AWS
//! Batch array job, a Kubernetes indexed Job) copy one plan together. The index and count come
//! from `--shard`, else `AWS_BATCH_JOB_ARRAY_INDEX` / `AWS_BATCH_JOB_ARRAY_SIZE`, else
//! `JOB_COMPLETION_INDEX` with `--shards` (or `AIRLOCK_SHARDS`).

use super::args::RunArgs;
use crate::error::{Error, Result};
use crate::plan::{Plan, Route, Summary};

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
    if let Some(index) = number("AWS_BATCH_JOB_ARRAY_INDEX")? {
        let count = number("AWS_BATCH_JOB_ARRAY_SIZE")?.ok_or_else(|| {
            Error::usage("AWS_BATCH_JOB_ARRAY_INDEX is set but AWS_BATCH_JOB_ARRAY_SIZE is not")
        })?;
        return checked(
            index,
            count,
            "AWS Batch array job (AWS_BATCH_JOB_ARRAY_INDEX/SIZE)",
        );
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
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

/// Which shard each plan item belongs to: largest first, each to the shard with the fewest
/// bytes so far (ties to the lowest index). Deterministic for a given plan.
pub fn assign(plan: &Plan, count: u32) -> Vec<u32> {
    let mut order: Vec<usize> = (0..plan.items.len()).collect();
    let weight = |i: usize| {
        let item = &plan.items[i];
        if item.route == Route::Skip {
            0
        } else {
            item.size.max(1)
        }
    };
    order.sort_by(|&a, &b| {
        weight(b)
            .cmp(&weight(a))
            .then_with(|| plan.items[a].source_key.cmp(&plan.items[b].source_key))
    });
    let mut loads = vec![0u64; count as usize];
    let mut owner = vec![0u32; plan.items.len()];
    for i in order {
        let (shard, _) = loads
            .iter()
            .enumerate()
            .min_by_key(|(s, load)| (**load, *s))
            .expect("count > 0");
        loads[shard] += weight(i);
        owner[i] = shard as u32;
    }
    owner
}

/// Keep only this shard's items (the plan's summary is recomputed).
pub fn apply(plan: Plan, args: &RunArgs) -> Result<Plan> {
    let Some(shard) = resolve(args, |name| std::env::var(name).ok())? else {
        return Ok(plan);
    };
    tracing::info!(index = shard.index, count = shard.count, source = %shard.source, "running one shard");
    eprintln!(
        "shard {}/{} (from {})",
        shard.index, shard.count, shard.source
    );
    let owner = assign(&plan, shard.count);
    let mut plan = plan;
    let items = std::mem::take(&mut plan.items);
    plan.items = items
        .into_iter()
        .zip(owner)
        .filter(|(_, s)| *s == shard.index)
        .map(|(i, _)| i)
        .collect();
    plan.summary = Summary::of(&plan.items, &plan.settings);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanItem;

    fn args(shard: Option<&str>, shards: Option<u32>) -> RunArgs {
        RunArgs {
            plan: None,
            json: false,
            dry_run: false,
            shard: shard.map(str::to_string),
            shards,
            filter: Default::default(),
            bandwidth_limit: None,
            manifest: None,
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
            })
            .collect();
        let plan = Plan {
            format: 1,
            source: crate::plan::PlanSide {
                bucket: "s".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            target: crate::plan::PlanSide {
                bucket: "t".into(),
                prefix: String::new(),
                region: "r".into(),
                endpoint_url: None,
            },
            settings: crate::plan::PlanSettings::of(&Default::default()),
            items,
            summary: Default::default(),
            selection: Default::default(),
            warnings: vec![],
        };
        let owner = assign(&plan, 2);
        assert_eq!(owner, assign(&plan, 2), "deterministic");
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
}
