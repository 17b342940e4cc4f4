//! `[source] inventory`, `inventory_credentials` and `inventory_sort` (and `--inventory`): plan from an S3
//! Inventory report instead of listing the source. Validated here: the location must be an
//! `s3://bucket/key` of a `manifest.json`, the credentials a side's name, and a point in time
//! (`version_at`) cannot be combined with it. Reading the inventory is `job::s3_inventory`'s.
//! Depends on `error` and the config's raw shape.

use super::Side;
use super::raw::RawSide;
use crate::error::{Error, Result};

/// Where an S3 Inventory's `manifest.json` is and whose credentials read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventorySource {
    /// The bucket holding the inventory (its destination bucket).
    pub bucket: String,
    /// The key of `manifest.json` in it.
    pub key: String,
    /// The side whose credentials (and endpoint) read the inventory bucket: the source's by
    /// default; `target` when the inventory was delivered to a bucket of the target account.
    pub credentials: Side,
    /// `inventory_sort`: sort the rows on disk before planning (for inventories whose data
    /// files are not in key order), instead of refusing them.
    pub sort: bool,
}

impl InventorySource {
    /// Parse `s3://bucket/path/manifest.json`; `name` is the key or flag, for messages.
    pub fn parse(
        name: &str,
        text: &str,
        credentials: Side,
        error: fn(String) -> Error,
    ) -> Result<Self> {
        let what = "write the s3:// location of the inventory's manifest.json, like \
                    's3://inventory-bucket/source-bucket/config-id/2026-12-05T01-00Z/manifest.json'";
        let Some(rest) = text.strip_prefix("s3://") else {
            return Err(error(format!(
                "{name} '{text}' is not an s3:// location: {what}"
            )));
        };
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || key.is_empty() || key.ends_with('/') {
            return Err(error(format!(
                "{name} '{text}' does not name an object: {what}"
            )));
        }
        Ok(InventorySource {
            bucket: bucket.to_string(),
            key: key.to_string(),
            credentials,
            sort: false,
        })
    }

    /// The manifest's location as written (`s3://bucket/key`).
    pub fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// The side named by `inventory_credentials` (`source` or `target`).
pub fn parse_side(name: &str, text: &str, error: fn(String) -> Error) -> Result<Side> {
    match text {
        "source" => Ok(Side::Source),
        "target" => Ok(Side::Target),
        _ => Err(error(format!(
            "{name} '{text}' is not a side: write 'source' (the default: the inventory is in a \
             bucket of the source account) or 'target' (it was delivered to the target account)"
        ))),
    }
}

/// Take `source.inventory` and `source.inventory_credentials` out of the raw config (they
/// choose where the listing comes from, like `version_at`); refuse them under `[target]`.
pub(super) fn take(
    source: Option<&mut RawSide>,
    target: Option<&RawSide>,
) -> Result<Option<InventorySource>> {
    if let Some(target) = target {
        if let Some(text) = &target.inventory {
            return Err(Error::config(format!(
                "target.inventory '{text}': an inventory lists the source; move it to [source]"
            )));
        }
        if target.inventory_sort.is_some() {
            return Err(Error::config(
                "target.inventory_sort: write it as source.inventory_sort",
            ));
        }
        if let Some(text) = &target.inventory_credentials {
            return Err(Error::config(format!(
                "target.inventory_credentials '{text}': write it as source.inventory_credentials"
            )));
        }
    }
    let Some(source) = source else {
        return Ok(None);
    };
    let credentials = source
        .inventory_credentials
        .take()
        .map(|text| parse_side("source.inventory_credentials", &text, Error::config))
        .transpose()?;
    let sort = source.inventory_sort.take();
    match source.inventory.take() {
        Some(text) => Ok(Some(InventorySource {
            sort: sort.unwrap_or(false),
            ..InventorySource::parse(
                "source.inventory",
                &text,
                credentials.unwrap_or(Side::Source),
                Error::config,
            )?
        })),
        None if credentials.is_some() || sort.is_some() => Err(Error::config(
            "source.inventory_credentials or inventory_sort is set without source.inventory: \
             add 'inventory = \"s3://…/manifest.json\"' to [source] or remove them",
        )),
        None => Ok(None),
    }
}

/// What an inventory cannot serve: a point in time (it lists each key's latest version), and
/// mirror mode (objects new at the source since the inventory are not in it, so their copies
/// at the target would be deleted).
pub fn check(settings: &super::Settings) -> Result<()> {
    let Some(inventory) = &settings.filter.inventory else {
        return Ok(());
    };
    if settings.filter.version_at.is_some() {
        return Err(Error::config(format!(
            "source.inventory '{}' and version_at cannot be combined: an inventory plans each \
             key's latest version; remove one of them",
            inventory.location()
        )));
    }
    if settings.transfer.mode == super::TransferMode::Mirror {
        return Err(Error::config(format!(
            "source.inventory '{}' cannot plan mirror mode: objects written at the source since \
             the inventory are not in it, and their copies at the target would be deleted; use \
             transfer.mode = 'copy' with an inventory, or plan mirror mode from a listing",
            inventory.location()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_location_parses_and_anything_else_is_named() {
        let source = InventorySource::parse(
            "source.inventory",
            "s3://inv/src/cfg/2026-12-05T01-00Z/manifest.json",
            Side::Target,
            Error::config,
        )
        .unwrap();
        assert_eq!(source.bucket, "inv");
        assert_eq!(source.key, "src/cfg/2026-12-05T01-00Z/manifest.json");
        assert_eq!(source.credentials, Side::Target);
        for bad in [
            "inv/manifest.json",
            "s3://inv",
            "s3://inv/",
            "s3:///x",
            "s3://inv/dir/",
        ] {
            let err = InventorySource::parse("source.inventory", bad, Side::Source, Error::config)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("source.inventory '{bad}'")), "{err}");
        }
        let err = parse_side("k", "both", Error::config)
            .unwrap_err()
            .to_string();
        assert!(err.contains("k 'both' is not a side"), "{err}");
    }
}
