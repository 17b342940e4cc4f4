//! S3 Inventory as the source listing (`[source] inventory`, `--inventory`): instead of
//! ListObjectsV2 on the source, the rows of AWS's daily CSV inventory are read and fed to the
//! streaming plan's merge ([`super::stream_plan`]) as if they were the source's listing pages.
//!
//! - The manifest (`manifest.json`) is read with the credentials of the side that owns the
//!   inventory bucket ([`crate::config::inventory::InventorySource::credentials`]) and checked
//!   ([`manifest`]): CSV only, an inventory of the configured source bucket, the columns
//!   airlock needs.
//! - The data files (gzip CSV) are read one after another by streamed GETs ([`read`]), each
//!   file's MD5 computed as its bytes arrive, gunzipped and parsed row by row on a blocking
//!   thread, and sent on in pages: memory does not grow with rows.
//! - Rows ([`rows`]): the latest version of each key that is not a delete marker, under the
//!   source prefix, key URL-decoded. The merge needs target-key order, which AWS does not
//!   promise across data files: the order is checked as rows pass, and an inventory out of
//!   order stops the plan with an error that says so and names `inventory_sort`, which sorts
//!   the rows on disk first ([`sort`]: bounded memory; the first item waits for the last row).
//!
//! Items planned from an inventory carry its date ([`crate::plan::PlanItem::inventory_of_ms`]):
//! a source that answers 404 at copy time was deleted since, and is skipped with that reason.
//! Depends on `aws` (GETs), `config`, `plan`.

mod manifest;
mod read;
mod rows;
mod sort;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::aws::{SideClient, Sides};
use crate::config::Settings;
use crate::config::inventory::InventorySource;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::ObjectInfo;
use crate::plan::lines::InventoryOrigin;

/// Pages of source objects in the inventory's order (an error ends them).
pub(crate) type RowPages = mpsc::Receiver<Result<Vec<ObjectInfo>>>;

/// An inventory being read: what it is.
pub(crate) struct Opened {
    /// Its location and date; `rows` is filled in from [`Opened::rows`] at the end.
    pub origin: InventoryOrigin,
    /// Data rows read so far.
    pub rows: Arc<AtomicU64>,
}

impl Opened {
    /// The origin with the rows read (call when the pages are done).
    pub(crate) fn finished_origin(&self) -> InventoryOrigin {
        InventoryOrigin {
            rows: self.rows.load(Ordering::Relaxed),
            ..self.origin.clone()
        }
    }
}

/// The client that reads `inventory`: the chosen side's account, pointed at its bucket.
fn reader(sides: &Sides, inventory: &InventorySource) -> SideClient {
    let mut reader = sides.get(inventory.credentials).clone();
    reader.bucket = inventory.bucket.clone();
    reader
}

/// Read and check the manifest only (a run checks it before it starts anything); its origin
/// has no rows counted yet.
pub(crate) async fn check(
    sides: &Sides,
    settings: &Settings,
    inventory: &InventorySource,
) -> Result<InventoryOrigin> {
    let manifest = fetch_manifest(&reader(sides, inventory), settings, inventory).await?;
    Ok(origin(inventory, &manifest))
}

fn origin(inventory: &InventorySource, manifest: &manifest::Manifest) -> InventoryOrigin {
    InventoryOrigin {
        manifest: inventory.location(),
        created: crate::config::filter::format_rfc3339(manifest.created_ms),
        created_ms: manifest.created_ms,
        rows: 0,
    }
}

/// Read the manifest and start reading the data files (see the module docs).
pub(crate) async fn open(
    sides: &Sides,
    settings: &Settings,
    inventory: &InventorySource,
) -> Result<(Opened, RowPages)> {
    let reader = reader(sides, inventory);
    let manifest = fetch_manifest(&reader, settings, inventory).await?;
    let rows = Arc::new(AtomicU64::new(0));
    let origin = origin(inventory, &manifest);
    let pages = read::spawn(
        reader,
        manifest,
        settings.source.prefix.clone(),
        inventory.location(),
        rows.clone(),
        inventory.sort,
    );
    Ok((Opened { origin, rows }, pages))
}

async fn fetch_manifest(
    reader: &SideClient,
    settings: &Settings,
    inventory: &InventorySource,
) -> Result<manifest::Manifest> {
    let location = inventory.location();
    let text = crate::aws::documents::get(reader, &inventory.bucket, &inventory.key)
        .await
        .map_err(|e| access_error(&e, reader, &location, "its manifest"))?;
    manifest::parse(&text, &location, &settings.source.bucket)
}

/// A failed read of the inventory as a config error: which side's credentials read it, and
/// what to set when they may not.
pub(crate) fn access_error(e: &Error, reader: &SideClient, location: &str, what: &str) -> Error {
    let side = reader.side;
    let other = side.other();
    let hint = match e.kind() {
        ErrorKind::S3(failure) if failure.status == Some(403) => format!(
            "if the inventory was delivered to a bucket of the {other} account, set \
             source.inventory_credentials = '{other}' (or --inventory-credentials {other}); \
             otherwise grant s3:GetObject on it to the {side} credentials"
        ),
        ErrorKind::S3(failure) if failure.class == crate::error::Class::NotFound => {
            "check the location: an inventory's manifest is at \
             DESTINATION-PREFIX/SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json"
                .to_string()
        }
        _ => "check the location and that the inventory bucket is reachable".to_string(),
    };
    Error::config(format!(
        "could not read {what} of the inventory '{location}' with the {side} credentials \
         ({}): {e}; {hint}",
        reader.credentials
    ))
}
