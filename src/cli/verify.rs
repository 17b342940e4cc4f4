//! `airlock verify --manifest FILE`: re-check the target against a run's manifest. Every object
//! the manifest records at the target (copied or skipped) is HEADed with checksum mode and its
//! size, ETag and full-object checksum compared with what was recorded after the run. Prints
//! one line per problem and a count; exit 0 when everything matches, 1 on any mismatch or
//! missing object, 2 when the manifest cannot be read or was made for another target.

use std::io::Write;
use std::path::Path;

use futures::StreamExt;

use airlock_core::aws::SideClient;
use airlock_core::aws::listing::head;
use airlock_core::config::Settings;
use airlock_core::error::{Error, Result};
use airlock_core::job::manifest::{Record, read};
use airlock_core::plan::{ObjectInfo, PlanSide};

/// HEAD requests in flight.
const HEAD_CONCURRENCY: usize = 16;

/// Check the target against `path`; returns the exit code.
pub(crate) async fn verify(
    target: &SideClient,
    settings: &Settings,
    path: &Path,
    out: &mut dyn Write,
) -> Result<i32> {
    let (header, records) = read(path)?;
    if let Some(header) = &header {
        let configured = PlanSide::of(&settings.target);
        if header.target.bucket != configured.bucket
            || header.target.endpoint_url != configured.endpoint_url
        {
            return Err(Error::usage(format!(
                "'{}' records a copy to 's3://{}/{}' but the config's target is 's3://{}/{}': \
                 use the config the run was made with",
                path.display(),
                header.target.bucket,
                header.target.prefix,
                configured.bucket,
                configured.prefix
            )));
        }
    }
    let checked: Vec<&Record> = records
        .iter()
        .filter(|r| matches!(r.outcome.as_str(), "copied" | "skipped"))
        .collect();
    let not_at_target = records.len() - checked.len();
    let results: Vec<(&Record, Result<Option<ObjectInfo>>)> = futures::stream::iter(checked)
        .map(|r| async move { (r, head(target, &r.target_key).await) })
        .buffered(HEAD_CONCURRENCY)
        .collect()
        .await;
    let (mut ok, mut bad) = (0u64, 0u64);
    for (record, result) in results {
        let problems = match result {
            Ok(Some(now)) => compare(record, &now),
            Ok(None) => vec!["missing at the target".to_string()],
            Err(e) => vec![format!("HEAD failed: {e}")],
        };
        if problems.is_empty() {
            ok += 1;
        } else {
            bad += 1;
            let _ = writeln!(
                out,
                "MISMATCH {}: {}",
                record.target_key,
                problems.join("; ")
            );
        }
    }
    let _ = writeln!(
        out,
        "verify: {} objects checked at the target: {ok} match, {bad} differ or are missing{}",
        ok + bad,
        if not_at_target > 0 {
            format!(" ({not_at_target} not copied by that run, not checked)")
        } else {
            String::new()
        }
    );
    Ok(if bad > 0 { 1 } else { 0 })
}

/// What differs between the record and the object's HEAD now. A value the manifest did not
/// record cannot be compared; a record with nothing comparable at all is a problem too.
fn compare(record: &Record, now: &ObjectInfo) -> Vec<String> {
    let mut problems = Vec::new();
    let recorded = record.target_size.unwrap_or(record.size);
    if now.size != recorded {
        problems.push(format!("size {recorded} at copy, {} now", now.size));
    }
    if let Some(etag) = &record.target_etag
        && now.etag.as_ref() != Some(etag)
    {
        problems.push(format!(
            "ETag '{etag}' at copy, '{}' now",
            now.etag.as_deref().unwrap_or("none")
        ));
    }
    if let (Some(algorithm), Some(value)) =
        (&record.target_checksum_algorithm, &record.target_checksum)
    {
        let current = now
            .checksum
            .as_ref()
            .filter(|c| format!("{:?}", c.algorithm).eq_ignore_ascii_case(algorithm))
            .map(|c| c.value.as_str());
        if current != Some(value.as_str()) {
            problems.push(format!(
                "{algorithm} '{value}' at copy, '{}' now",
                current.unwrap_or("none")
            ));
        }
    }
    if record.target_etag.is_none() && record.target_checksum.is_none() {
        problems.push("the manifest recorded no ETag or checksum to compare".into());
    }
    problems
}
