//! Where plan files live: a local file, or `s3://BUCKET/KEY` in the target account (read and
//! written with the target side's credentials, like shard reports), so that every shard of an
//! AWS Batch array or a Kubernetes indexed Job reads the one plan without a shared disk.
//!
//! The only module that reads or writes plan files; the format and the checks a plan read back
//! must pass are `plan`'s (pure). Depends on `plan`, `aws::documents` and `fsutil`.

use std::path::Path;

use crate::aws::Sides;
use crate::aws::documents::{self, S3Location};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::plan::{Plan, parse_plan, plan_json};

/// The S3 location a plan argument names, if it is an `s3://` URL. A prefix is refused: a plan
/// is one object.
fn location(path: &Path) -> Result<Option<S3Location>> {
    let Some(location) = path.to_str().map(S3Location::parse).transpose()?.flatten() else {
        return Ok(None);
    };
    if location.is_prefix() {
        return Err(Error::usage(format!(
            "'{}' names a prefix, not a plan: give the plan's key, e.g. s3://{}/plans/backfill.json",
            path.display(),
            location.bucket
        )));
    }
    Ok(Some(location))
}

/// Read a plan file and check it was made for this config (same buckets, prefixes, endpoints).
pub fn load_plan(path: &Path, settings: &Settings) -> Result<Plan> {
    let text = std::fs::read(path).map_err(|e| {
        Error::plan(format!(
            "plan file '{}' cannot be read ({e}); make one with 'airlock plan -o {}' or check \
             the path",
            path.display(),
            path.display()
        ))
    })?;
    parse_plan(&text, path, settings)
}

/// Write a plan's JSON ([`plan_json`]) as a plan file (atomically: temp file then rename).
fn write_plan_file(json: &[u8], path: &Path) -> Result<()> {
    crate::fsutil::write_atomic(path, json, 0o644)
}

/// Read a plan from a file or from S3, and check it was made for this config.
pub async fn read_plan(path: &Path, settings: &Settings, sides: &Sides) -> Result<Plan> {
    let Some(location) = location(path)? else {
        return load_plan(path, settings);
    };
    let text = documents::get(&sides.target, &location.bucket, &location.key)
        .await
        .map_err(|e| {
            Error::plan(format!(
                "plan '{location}' cannot be read with the target's credentials ({e}); make \
                 one with 'airlock plan -o {location}' or check the bucket and key"
            ))
        })?;
    parse_plan(&text, path, settings)
}

/// Save a plan to a file (on the blocking pool) or to S3.
pub async fn write_plan(plan: &Plan, path: &Path, sides: &Sides) -> Result<()> {
    let json = plan_json(plan)?;
    match location(path)? {
        None => {
            let path = path.to_path_buf();
            tokio::task::spawn_blocking(move || write_plan_file(&json, &path))
                .await
                .map_err(|e| Error::internal(format!("saving the plan: {e}")))?
        }
        Some(location) => {
            documents::put(&sides.target, &location.bucket, &location.key, json).await
        }
    }
}

/// Refuse a bad plan location before any listing or copying (an `s3://` prefix).
pub fn check(path: &Path) -> Result<()> {
    location(path).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_keys_are_locations_and_prefixes_are_refused() {
        assert_eq!(location(Path::new("plan.json")).unwrap(), None);
        assert_eq!(
            location(Path::new("s3://bucket/plans/p.json")).unwrap(),
            Some(S3Location {
                bucket: "bucket".into(),
                key: "plans/p.json".into()
            })
        );
        let err = location(Path::new("s3://bucket/plans/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("'s3://bucket/plans/' names a prefix"), "{err}");
        assert!(location(Path::new("s3://bucket")).is_err());
        assert!(location(Path::new("s3:///key")).is_err());
    }
}
