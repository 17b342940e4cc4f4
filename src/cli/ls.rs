//! `airlock ls source|target [PREFIX] [--recursive]`: folders first, then objects with size
//! and date, across every page of the listing. `--versions KEY` lists one key's versions.

use std::io::Write;

use airlock_core::aws::versions::key_versions;
use airlock_core::aws::{SideClient, list_page};
use airlock_core::config::filter::format_rfc3339;
use airlock_core::error::Result;
use airlock_core::progress::{human_bytes, human_time};

/// List and print. `prefix` defaults to the side's configured prefix.
pub(crate) async fn ls(
    side: &SideClient,
    prefix: Option<&str>,
    recursive: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let prefix = prefix.unwrap_or(&side.prefix);
    let mut token = None;
    let (mut objects, mut bytes, mut folders) = (0u64, 0u64, 0u64);
    loop {
        let page = list_page(side, prefix, recursive, token).await?;
        for folder in &page.prefixes {
            folders += 1;
            let _ = writeln!(out, "{:>19} {:>10}  {folder}", "", "PRE");
        }
        for object in &page.objects {
            objects += 1;
            bytes += object.size;
            let _ = writeln!(
                out,
                "{} {:>10}  {}",
                human_time(object.modified_ms),
                human_bytes(object.size),
                object.key
            );
        }
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let _ = writeln!(
        out,
        "{objects} objects, {} in s3://{}/{prefix}{}",
        human_bytes(bytes),
        side.bucket,
        if folders > 0 {
            format!(" ({folders} folders)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// `airlock ls SIDE --versions KEY`: every version and delete marker of one key, newest first,
/// as a table or (`json`) one JSON object per line. A key with no versions prints a line
/// saying so (exit 0: listing found nothing, nothing failed).
pub(crate) async fn ls_versions(
    side: &SideClient,
    key: &str,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let versions = key_versions(side, key).await?;
    if json {
        for version in &versions {
            let line = serde_json::json!({
                "key": version.key,
                "version_id": version.version_id,
                "last_modified": version.modified_ms.map(format_rfc3339),
                "size": version.size,
                "etag": version.etag,
                "is_latest": version.is_latest,
                "delete_marker": version.delete_marker,
            });
            let _ = writeln!(out, "{line}");
        }
        return Ok(());
    }
    let id_width = versions
        .iter()
        .map(|v| v.version_id.len())
        .max()
        .unwrap_or(0)
        .max("VERSION ID".len());
    let etag_width = versions
        .iter()
        .filter_map(|v| v.etag.as_ref().map(String::len))
        .max()
        .unwrap_or(0)
        .max("ETAG".len());
    let _ = writeln!(
        out,
        "{:<id_width$}  {:<20}  {:>10}  {:<etag_width$}  FLAGS",
        "VERSION ID", "LAST MODIFIED", "SIZE", "ETAG"
    );
    for v in &versions {
        let flags: Vec<&str> = [(v.is_latest, "latest"), (v.delete_marker, "delete-marker")]
            .into_iter()
            .filter_map(|(set, name)| set.then_some(name))
            .collect();
        let _ = writeln!(
            out,
            "{:<id_width$}  {:<20}  {:>10}  {:<etag_width$}  {}",
            v.version_id,
            v.modified_ms.map_or_else(|| "-".into(), format_rfc3339),
            if v.delete_marker {
                "-".to_string()
            } else {
                human_bytes(v.size)
            },
            v.etag.as_deref().unwrap_or("-"),
            flags.join(" ")
        );
    }
    let markers = versions.iter().filter(|v| v.delete_marker).count();
    let _ = writeln!(
        out,
        "{} versions of '{key}' in s3://{}{}",
        versions.len() - markers,
        side.bucket,
        if markers > 0 {
            format!(" ({markers} delete markers)")
        } else {
            String::new()
        }
    );
    Ok(())
}
