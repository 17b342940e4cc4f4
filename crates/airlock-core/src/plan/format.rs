//! The plan file format: JSON, its version numbers, and the checks a plan read back must pass
//! (made for this config, no hand edit the engine cannot do safely). Pure: bytes in, bytes
//! out; where plan files live (a local file, `s3://`) is `job::plan_store`'s business.

use std::path::Path;

use super::{Plan, PlanSide};
use crate::config::Settings;
use crate::error::{Error, Result};

/// Bumped when the plan file format changes incompatibly. Format 2 added split objects
/// (`split` on an item, written by `airlock prepare`): an older airlock refuses such a plan
/// instead of copying split objects whole in every shard.
pub const PLAN_FORMAT_VERSION: u32 = 2;

/// Format of a plan that deletes (mirror mode): format 2 plus `deletions`. Plans without
/// deletions are still written as format 2, so older airlocks keep reading them; a plan with
/// deletions is refused by an airlock that would ignore them and copy only.
pub const MIRROR_FORMAT_VERSION: u32 = 3;

/// Format of a plan that pins source versions (`version_at`, `source_version_id`): format 3
/// plus the pins. Only such plans are written as format 4 ([`format_for`]), so an older
/// airlock refuses them instead of copying the latest versions, and reads every other plan.
pub const PINNED_FORMAT_VERSION: u32 = 4;

/// The format a plan with these items (and deletions or not) is written as: the oldest that
/// holds them.
pub fn format_for(items: &[super::PlanItem], deletes: bool) -> u32 {
    format_of(items.iter().any(|i| i.source_version_id.is_some()), deletes)
}

/// [`format_for`] from what a streaming planner knows: some item is pinned, some deletion.
pub fn format_of(pinned: bool, deletes: bool) -> u32 {
    if pinned {
        PINNED_FORMAT_VERSION
    } else if deletes {
        MIRROR_FORMAT_VERSION
    } else {
        PLAN_FORMAT_VERSION
    }
}

/// Oldest format this airlock still reads (format 1 is format 2 without split objects).
const OLDEST_FORMAT_READ: u32 = 1;

/// Newest format of one JSON document this airlock reads (format 5 is line-oriented: see
/// [`super::lines`]).
const NEWEST_FORMAT_READ: u32 = PINNED_FORMAT_VERSION;

/// The plan as pretty JSON, as plan files hold it.
pub fn plan_json(plan: &Plan) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(plan).map_err(|e| Error::internal(format!("plan to JSON: {e}")))
}

/// A plan from its JSON, read from `path` (named in errors: a file or an `s3://` URL), checked
/// against the config (same buckets, prefixes, endpoints) and for unsafe hand edits.
pub fn parse_plan(text: &[u8], path: &Path, settings: &Settings) -> Result<Plan> {
    let plan: Plan = serde_json::from_slice(text).map_err(|e| {
        // serde quotes values in backticks; the house style is 'like this'.
        let e = e.to_string().replace('`', "'");
        Error::plan(format!(
            "'{}' is not a valid plan file ({e}); make a new plan with 'airlock plan -o {}'",
            path.display(),
            path.display()
        ))
    })?;
    if !(OLDEST_FORMAT_READ..=NEWEST_FORMAT_READ).contains(&plan.format) {
        return Err(Error::plan(format!(
            "'{}' has format {} but this airlock reads formats {OLDEST_FORMAT_READ} to {NEWEST_FORMAT_READ}; make a new plan",
            path.display(),
            plan.format
        )));
    }
    check_side(
        "source",
        &plan.source,
        &PlanSide::of(&settings.source),
        path,
    )?;
    check_side(
        "target",
        &plan.target,
        &PlanSide::of(&settings.target),
        path,
    )?;
    check_items(&plan, path)?;
    check_deletions(&plan, path)?;
    // The summary is derived data: recompute it rather than trust a hand-edited one.
    let mut plan = plan;
    plan.summary = super::Summary::of(&plan.items, &plan.settings);
    Ok(plan)
}

pub(super) fn check_side(
    name: &str,
    in_plan: &PlanSide,
    in_config: &PlanSide,
    path: &Path,
) -> Result<()> {
    if in_plan.bucket != in_config.bucket
        || in_plan.prefix != in_config.prefix
        || in_plan.endpoint_url != in_config.endpoint_url
    {
        return Err(Error::plan(format!(
            "'{}' was made for {name} 's3://{}/{}' but the config names 's3://{}/{}'; \
             make a new plan with 'airlock plan -o {}' or use the config it was made with",
            path.display(),
            in_plan.bucket,
            in_plan.prefix,
            in_config.bucket,
            in_config.prefix,
            path.display()
        )));
    }
    Ok(())
}

/// Reject hand edits that would make the engine do something unsafe.
fn check_items(plan: &Plan, path: &Path) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for item in &plan.items {
        check_item(item, &plan.source.prefix, &plan.target.prefix, path)?;
        if !seen.insert(item.target_key.as_str()) {
            return Err(item_error(
                item,
                path,
                format!("is listed twice for target key '{}'", item.target_key),
            ));
        }
    }
    Ok(())
}

fn item_error(item: &super::PlanItem, path: &Path, why: String) -> Error {
    Error::plan(format!(
        "'{}': object '{}' {why}; make a new plan with 'airlock plan -o {}'",
        path.display(),
        item.source_key,
        path.display()
    ))
}

/// The checks of one item that need nothing but the item and the plan's prefixes (a
/// streaming reader runs them line by line).
pub(super) fn check_item(
    item: &super::PlanItem,
    source_prefix: &str,
    target_prefix: &str,
    path: &Path,
) -> Result<()> {
    use super::{Route, part_layout};
    use crate::config::ByteSize;
    use crate::config::defaults::{
        MAX_OBJECT_SIZE, MAX_PART_SIZE, MAX_PARTS, MAX_SINGLE_PUT, MIN_PART_SIZE,
    };
    let bad = |why: String| Err(item_error(item, path, why));
    if !item.source_key.starts_with(source_prefix) {
        return bad(format!("is outside the source prefix '{source_prefix}'"));
    }
    if !item.target_key.starts_with(target_prefix) {
        return bad(format!(
            "maps to '{}', outside the target prefix '{target_prefix}'",
            item.target_key
        ));
    }
    if item.size > MAX_OBJECT_SIZE.0 {
        return bad(format!(
            "has size {} bytes, above 5 TiB, the largest S3 object",
            item.size
        ));
    }
    match item.route {
        Route::Skip => {}
        Route::Single => {
            if item.size > MAX_SINGLE_PUT.0 {
                return bad("is larger than 5 GiB but routed 'single'".into());
            }
        }
        Route::Multipart => {
            let parts = item.size.div_ceil(item.part_size.max(1));
            if item.part_size < MIN_PART_SIZE.0 && item.size > item.part_size
                || item.part_size > MAX_PART_SIZE.0
                || parts > MAX_PARTS
                || item.parts == 0
                || parts != u64::from(item.parts)
            {
                let (size, count, _) = part_layout(item.size, crate::config::PartSize::Auto);
                return bad(format!(
                    "has part size {} and {} parts for {}, which S3 cannot accept (expected e.g. {} parts of {})",
                    ByteSize(item.part_size),
                    item.parts,
                    ByteSize(item.size),
                    count,
                    ByteSize(size)
                ));
            }
        }
    }
    if let Some(why) = item
        .split
        .as_ref()
        .and_then(|split| split_problem(item, split))
    {
        return bad(why);
    }
    Ok(())
}

/// Reject deletions a hand edit could have made dangerous: outside the target prefix, twice,
/// or of a key the same plan copies to.
fn check_deletions(plan: &Plan, path: &Path) -> Result<()> {
    if plan.deletions.is_empty() {
        return Ok(());
    }
    if plan.format < MIRROR_FORMAT_VERSION {
        return Err(Error::plan(format!(
            "'{}' lists deletions but has format {}; a plan that deletes has format \
             {MIRROR_FORMAT_VERSION}: make a new plan with 'airlock plan --mode mirror -o {}'",
            path.display(),
            plan.format,
            path.display()
        )));
    }
    let copied: std::collections::HashSet<&str> =
        plan.items.iter().map(|i| i.target_key.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    for deletion in &plan.deletions {
        let why = if !deletion.target_key.starts_with(&plan.target.prefix) {
            Some(format!(
                "is outside the target prefix '{}'",
                plan.target.prefix
            ))
        } else if copied.contains(deletion.target_key.as_str()) {
            Some("is also a copy's target key".to_string())
        } else if !seen.insert(deletion.target_key.as_str()) {
            Some("is listed twice".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(Error::plan(format!(
                "'{}': deletion of '{}' {why}; make a new plan with 'airlock plan -o {}'",
                path.display(),
                deletion.target_key,
                path.display()
            )));
        }
    }
    Ok(())
}

/// What is wrong with a split object's record, if anything.
fn split_problem(item: &super::PlanItem, split: &super::SplitUpload) -> Option<String> {
    if item.route != super::Route::Multipart {
        return Some(format!(
            "has an open split upload but is routed '{}'",
            item.route.as_str()
        ));
    }
    if split.upload_id.trim().is_empty() || split.source_etag.trim().is_empty() {
        return Some("has a split upload without an upload id or source ETag".into());
    }
    if item.source_etag.as_deref() != Some(split.source_etag.as_str()) {
        return Some(format!(
            "has source ETag '{}' but its split upload is for '{}'",
            item.source_etag.as_deref().unwrap_or("none"),
            split.source_etag
        ));
    }
    if split.first_part < 1 || split.first_part > split.last_part || split.last_part > item.parts {
        return Some(format!(
            "has split parts {}..={} outside its {} parts",
            split.first_part, split.last_part, item.parts
        ));
    }
    None
}
