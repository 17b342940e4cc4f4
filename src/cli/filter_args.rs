//! Filter flags shared by `airlock plan` and `airlock run` (`--include`, `--exclude`,
//! `--min-size`, `--max-size`, `--modified-after`, `--modified-before`, `--from-list`,
//! `--version-at`, and `--inventory` which says where the listing comes from), how
//! they combine with the config's `[filter]` table, and how a plan's selection is printed.
//!
//! Precedence between the two: a flag replaces the config key of the same name (every
//! `--include` together replace `filter.include`); keys with no flag keep their config value.
//! Filters then combine as `plan::filter` documents (all must pass; exclude beats include).

use std::io::Write;
use std::path::PathBuf;

use clap::Args as ClapArgs;

use airlock_core::config::filter::{check_glob, check_ranges, parse_time, parse_version_at};
use airlock_core::config::inventory::{self, InventorySource};
use airlock_core::config::{ByteSize, Settings, Side, limits};
use airlock_core::error::{Error, Result};
use airlock_core::plan::Selection;
use airlock_core::progress::human_bytes;

/// Which source objects to take; each flag replaces the `[filter]` key of the same name.
#[derive(Debug, Clone, Default, ClapArgs)]
#[command(next_help_heading = "Filters (replace the same keys of [filter])")]
pub struct FilterArgs {
    /// Only keys (relative to the source prefix) matching this glob; repeat for several.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out keys matching this glob, even if included; repeat for several.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Leave out objects smaller than this (e.g. 1MiB).
    #[arg(long, value_name = "SIZE")]
    pub min_size: Option<String>,
    /// Leave out objects larger than this (e.g. 5GiB).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// Only objects modified at or after this RFC 3339 time, date, or duration ago (24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub modified_after: Option<String>,
    /// Only objects modified before this RFC 3339 time, date, or duration ago.
    #[arg(long, value_name = "TIME")]
    pub modified_before: Option<String>,
    /// Only the source keys in this file (one per line, CSV with a 'key' column, JSON, or a
    /// run manifest); keys not found at the source are reported and make `run` exit 1.
    #[arg(long, value_name = "FILE")]
    pub from_list: Option<PathBuf>,
    /// Copy each key as it was at this RFC 3339 moment (e.g. 2026-11-20T13:00:00Z): the newest
    /// version not newer than it; versioned source buckets only. Replaces source.version_at.
    #[arg(long, value_name = "TIME")]
    pub version_at: Option<String>,
    /// Plan from this S3 Inventory instead of listing the source: the s3:// location of its
    /// manifest.json (CSV format). Replaces source.inventory.
    #[arg(long, value_name = "S3_URL")]
    pub inventory: Option<String>,
    /// Whose credentials read the inventory bucket: 'source' (default) or 'target'. Replaces
    /// source.inventory_credentials.
    #[arg(long, value_name = "SIDE", requires = "inventory")]
    pub inventory_credentials: Option<String>,
    /// Sort the inventory's rows on disk before planning (its data files are not in key
    /// order). Sets source.inventory_sort.
    #[arg(long, requires = "inventory")]
    pub inventory_sort: bool,
}

impl FilterArgs {
    /// True when no filter flag was given.
    pub fn is_empty(&self) -> bool {
        self.include.is_empty()
            && self.exclude.is_empty()
            && self.min_size.is_none()
            && self.max_size.is_none()
            && self.modified_after.is_none()
            && self.modified_before.is_none()
            && self.from_list.is_none()
            && self.version_at.is_none()
            && self.inventory.is_none()
    }
}

/// Settings with the filter flags applied over `[filter]`. With a saved plan (`run --plan`)
/// the filters are already in the plan, so flags are refused rather than silently ignored.
pub(crate) fn with_filters(
    mut settings: Settings,
    args: &FilterArgs,
    saved_plan: bool,
) -> Result<Settings> {
    if args.is_empty() {
        return Ok(settings);
    }
    if saved_plan {
        return Err(Error::usage(
            "filters are part of the plan: give --include, --exclude, --version-at, ... to \
             'airlock plan -o FILE' instead of 'airlock run --plan FILE'",
        ));
    }
    let filter = &mut settings.filter;
    if !args.include.is_empty() {
        for glob in &args.include {
            check_glob("--include", glob)?;
        }
        filter.include = args.include.clone();
    }
    if !args.exclude.is_empty() {
        for glob in &args.exclude {
            check_glob("--exclude", glob)?;
        }
        filter.exclude = args.exclude.clone();
    }
    let size = |flag: &str, text: &str| -> Result<ByteSize> {
        text.parse().map_err(|e| {
            Error::usage(format!(
                "{flag} '{text}' is not a size ({e}): write one like '1MiB' or '500KB'"
            ))
        })
    };
    if let Some(text) = &args.min_size {
        filter.min_size = Some(size("--min-size", text)?);
    }
    if let Some(text) = &args.max_size {
        filter.max_size = Some(size("--max-size", text)?);
    }
    if let Some(text) = &args.modified_after {
        filter.modified_after = Some(parse_time("--modified-after", text)?);
    }
    if let Some(text) = &args.modified_before {
        filter.modified_before = Some(parse_time("--modified-before", text)?);
    }
    if let Some(path) = &args.from_list {
        filter.from_list = Some(path.clone());
    }
    if let Some(text) = &args.version_at {
        filter.version_at = Some(parse_version_at("--version-at", text, Error::usage)?);
    }
    if let Some(text) = &args.inventory {
        let credentials = match &args.inventory_credentials {
            Some(side) => inventory::parse_side("--inventory-credentials", side, Error::usage)?,
            None => filter
                .inventory
                .as_ref()
                .map_or(Side::Source, |configured| configured.credentials),
        };
        let sort = args.inventory_sort
            || (filter.inventory.as_ref()).is_some_and(|configured| configured.sort);
        filter.inventory = Some(InventorySource {
            sort,
            ..InventorySource::parse("--inventory", text, credentials, Error::usage)?
        });
    }
    check_ranges(filter, "--")?;
    inventory::check(&settings).map_err(|e| Error::usage(e.to_string()))?;
    Ok(settings)
}

/// The plan's selection, under its summary: each filter with what it left out, then every
/// listed key that was not found.
pub(super) fn print_selection(selection: &Selection, out: &mut dyn Write) {
    if selection.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  filters    {} of {} listed objects left out",
        selection.excluded_objects(),
        selection.listed
    );
    for e in &selection.excluded {
        let _ = writeln!(
            out,
            "    {:<16} {:>8} objects {:>11}  {}",
            e.filter,
            e.objects,
            human_bytes(e.bytes),
            e.rule
        );
    }
    print_missing(selection, out);
}

/// `missing: N keys ...` and each key, when a key list named keys the source does not hold.
pub(super) fn print_missing(selection: &Selection, out: &mut dyn Write) {
    if selection.missing.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "missing: {} key{} from --from-list not found at the source:",
        selection.missing.len(),
        if selection.missing.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    for key in &selection.missing {
        let _ = writeln!(out, "  {key}");
    }
}

/// Settings with `--bandwidth-limit RATE` applied over `transfer.bandwidth_limit` (`off`
/// removes the cap).
pub(crate) fn with_bandwidth_limit(mut settings: Settings, rate: Option<&str>) -> Result<Settings> {
    let Some(text) = rate else {
        return Ok(settings);
    };
    let trimmed = text.trim();
    if trimmed.eq_ignore_ascii_case("off") {
        settings.transfer.bandwidth_limit = None;
        return Ok(settings);
    }
    let size = trimmed.strip_suffix("/s").unwrap_or(trimmed);
    let rate: ByteSize = size.parse().map_err(|e| {
        Error::usage(format!(
            "--bandwidth-limit '{text}' is not a rate ({e}): write one like '200MiB/s', or 'off'"
        ))
    })?;
    if rate < limits::BANDWIDTH_FLOOR {
        return Err(Error::usage(format!(
            "--bandwidth-limit '{text}' is too small: use at least '{}', or 'off'",
            limits::BANDWIDTH_FLOOR_TEXT
        )));
    }
    settings.transfer.bandwidth_limit = Some(rate);
    Ok(settings)
}
