//! `--shard I/N` and the schedulers' environment, converted into the [`Shard`] this process
//! runs (the cutting itself is `airlock_core::job::shard`). The index and count come from
//! `--shard`, else `AWS_BATCH_JOB_ARRAY_INDEX` / `AWS_BATCH_JOB_ARRAY_SIZE`, else
//! `JOB_COMPLETION_INDEX` with `--shards` (or `AIRLOCK_SHARDS`).

use super::args::RunArgs;
use airlock_core::error::{Error, Result};
use airlock_core::job::shard::Shard;

/// Set by AWS Batch in each child of an array job.
pub(super) const BATCH_INDEX_ENV: &str = "AWS_BATCH_JOB_ARRAY_INDEX";
/// Not set by AWS Batch: the submission sets it to the array size (see assets/deploy/batch).
pub(super) const BATCH_SIZE_ENV: &str = "AWS_BATCH_JOB_ARRAY_SIZE";
/// Set by Kubernetes in each pod of an indexed Job.
pub(super) const K8S_INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// Parse `I/N`.
pub(super) fn parse(text: &str) -> Result<(u32, u32)> {
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
pub(super) fn resolve(
    args: &RunArgs,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            grace: std::time::Duration::from_secs(25),
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
}
