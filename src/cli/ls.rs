//! `airlock ls source|target [PREFIX] [--recursive]`: folders first, then objects with size
//! and date, across every page of the listing.

use std::io::Write;

use super::format::{human_bytes, human_time};
use crate::aws::{SideClient, list_page};
use crate::error::Result;

/// List and print. `prefix` defaults to the side's configured prefix.
pub async fn ls(
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
