//! The `[filter]` table: which source objects a plan takes. Raw (serde) shape, the validated
//! [`FilterSettings`], and the value parsers the CLI flags share (`--include`, `--min-size`,
//! `--modified-after`, ...), so a flag and a key give the same error for the same bad value.
//!
//! Only checks values here (globs compile, sizes parse, times parse); matching objects is
//! `plan::filter`'s job. Depends on `error`, `globset` and `humantime`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

use super::ByteSize;
use crate::error::{Error, Result};

/// `[filter]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub min_size: Option<ByteSize>,
    pub max_size: Option<ByteSize>,
    pub modified_after: Option<String>,
    pub modified_before: Option<String>,
}

/// Which source objects the plan takes. Empty (the default) takes everything under the prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterSettings {
    /// Globs on the key relative to the source prefix; when any is given, a key must match one.
    pub include: Vec<String>,
    /// Globs on the relative key; a key matching any is left out, even if it matches an include.
    pub exclude: Vec<String>,
    /// Objects smaller than this are left out.
    pub min_size: Option<ByteSize>,
    /// Objects larger than this are left out.
    pub max_size: Option<ByteSize>,
    /// Objects last modified before this moment (or with no known time) are left out.
    pub modified_after: Option<TimeBound>,
    /// Objects last modified at or after this moment (or with no known time) are left out.
    pub modified_before: Option<TimeBound>,
    /// A file of source keys (`--from-list`): only these keys, and any not found is reported.
    pub from_list: Option<PathBuf>,
    /// `source.version_at` / `--version-at`, in milliseconds since the epoch: each key is taken
    /// as it was at this moment (ListObjectVersions), not as it is now. It picks versions, it
    /// leaves no key out by pattern, so [`FilterSettings::is_empty`] ignores it.
    pub version_at: Option<i64>,
    /// `source.inventory` / `--inventory`: plan from this S3 Inventory instead of listing the
    /// source. It says where the listing comes from, not which keys, so
    /// [`FilterSettings::is_empty`] ignores it too.
    pub inventory: Option<super::inventory::InventorySource>,
}

impl FilterSettings {
    /// True when no filter leaves keys out (`version_at` picks versions, it is not a filter).
    pub fn is_empty(&self) -> bool {
        FilterSettings {
            version_at: None,
            inventory: None,
            ..self.clone()
        } == FilterSettings::default()
    }
}

/// A moment for `modified_after` / `modified_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// Milliseconds since the Unix epoch (an RFC 3339 time).
    At(i64),
    /// This long before planning (`24h`, `7d`).
    Ago(Duration),
}

impl TimeBound {
    /// Milliseconds since the epoch, relative bounds taken back from `now_ms`.
    pub fn resolve(self, now_ms: i64) -> i64 {
        match self {
            TimeBound::At(ms) => ms,
            TimeBound::Ago(ago) => now_ms.saturating_sub(ago.as_millis() as i64),
        }
    }
}

/// Milliseconds since the epoch now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Validate `[filter]`.
pub fn validate(raw: Option<RawFilter>) -> Result<FilterSettings> {
    let Some(raw) = raw else {
        return Ok(FilterSettings::default());
    };
    let include = raw.include.unwrap_or_default();
    for glob in &include {
        check_glob("filter.include", glob)?;
    }
    let exclude = raw.exclude.unwrap_or_default();
    for glob in &exclude {
        check_glob("filter.exclude", glob)?;
    }
    let settings = FilterSettings {
        include,
        exclude,
        min_size: raw.min_size,
        max_size: raw.max_size,
        modified_after: raw
            .modified_after
            .map(|t| parse_time("filter.modified_after", &t))
            .transpose()?,
        modified_before: raw
            .modified_before
            .map(|t| parse_time("filter.modified_before", &t))
            .transpose()?,
        from_list: None,
        version_at: None,
        inventory: None,
    };
    check_ranges(&settings, "filter.")?;
    Ok(settings)
}

/// Bounds that can never both hold are an error, not an empty plan. `prefix` is `filter.`
/// for config keys or `--` for flags (with `_` written `-`).
pub fn check_ranges(settings: &FilterSettings, prefix: &str) -> Result<()> {
    let name = |key: &str| {
        if prefix == "--" {
            format!("--{}", key.replace('_', "-"))
        } else {
            format!("{prefix}{key}")
        }
    };
    if let (Some(min), Some(max)) = (settings.min_size, settings.max_size)
        && min > max
    {
        return Err(Error::config(format!(
            "{} '{min}' is larger than {} '{max}': no object could match; swap them or drop one",
            name("min_size"),
            name("max_size")
        )));
    }
    if let (Some(after), Some(before)) = (settings.modified_after, settings.modified_before) {
        let now = now_ms();
        if after.resolve(now) >= before.resolve(now) {
            return Err(Error::config(format!(
                "{} is not earlier than {}: no object could match; check the two times",
                name("modified_after"),
                name("modified_before")
            )));
        }
    }
    Ok(())
}

/// A glob must compile; `key` names where it was written.
pub fn check_glob(key: &str, glob: &str) -> Result<()> {
    if glob.is_empty() {
        return Err(Error::config(format!(
            "{key} has an empty pattern: remove it or write one like '**/*.parquet'"
        )));
    }
    globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .map(|_| ())
        .map_err(|e| {
            Error::config(format!(
                "{key} '{glob}' is not a glob ({}): write one like '**/*.parquet' or 'daily/2026-11-*/**'",
                e.kind()
            ))
        })
}

/// An RFC 3339 time (`2026-11-20T13:00:00Z`, `2026-11-20T14:00:00+01:00`), a date
/// (`2026-11-20`, midnight UTC) or a duration before now (`24h`, `7d`, `90m`).
pub fn parse_time(key: &str, text: &str) -> Result<TimeBound> {
    let trimmed = text.trim();
    let bad = || {
        Error::config(format!(
            "{key} '{text}' is not a time: write an RFC 3339 time like '2026-11-20T13:00:00Z', \
             a date like '2026-11-20', or a duration before now like '24h' or '7d'"
        ))
    };
    if trimmed.is_empty() {
        return Err(bad());
    }
    if let Ok(ago) = humantime::parse_duration(trimmed) {
        return Ok(TimeBound::Ago(ago));
    }
    parse_rfc3339_ms(trimmed).map(TimeBound::At).ok_or_else(bad)
}

/// A `version_at` moment: an RFC 3339 time with a zone (`2026-11-20T13:00:00Z`,
/// `2026-11-20T14:00:00+01:00`), not in the future. Dates alone and durations are refused: a
/// point-in-time copy names its moment exactly. `error` makes the kind (config or usage).
pub fn parse_version_at(key: &str, text: &str, error: fn(String) -> Error) -> Result<i64> {
    let trimmed = text.trim();
    let ms = Some(trimmed)
        .filter(|t| t.contains(['T', 't']))
        .and_then(parse_rfc3339_ms)
        .ok_or_else(|| {
            error(format!(
                "{key} '{text}' is not an RFC 3339 time: write one with a zone, like \
                 '2026-11-20T13:00:00Z' or '2026-11-20T14:00:00+01:00'"
            ))
        })?;
    if ms > now_ms() {
        return Err(error(format!(
            "{key} '{text}' is in the future: no version can be newer than now; give a past \
             moment, or drop {key} to copy the current objects"
        )));
    }
    Ok(ms)
}

/// `ms` since the epoch as RFC 3339 UTC (`2026-11-20T13:00:00Z`, milliseconds only when set).
pub fn format_rfc3339(ms: i64) -> String {
    let time = if ms >= 0 {
        UNIX_EPOCH + Duration::from_millis(ms as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
    };
    if ms % 1000 == 0 {
        humantime::format_rfc3339_seconds(time).to_string()
    } else {
        humantime::format_rfc3339_millis(time).to_string()
    }
}

/// Milliseconds since the epoch of an RFC 3339 time with `Z` or a `±HH:MM` offset, or of a
/// bare date (midnight UTC).
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let to_ms = |t: SystemTime| -> Option<i64> {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).ok(),
            Err(e) => i64::try_from(e.duration().as_millis()).ok().map(|ms| -ms),
        }
    };
    if text.len() == 10 {
        return humantime::parse_rfc3339(&format!("{text}T00:00:00Z"))
            .ok()
            .and_then(to_ms);
    }
    if let Some(local) = text.strip_suffix(['Z', 'z']) {
        return humantime::parse_rfc3339_weak(local).ok().and_then(to_ms);
    }
    // `...+01:00` / `...-05:30`: the offset is the last six characters.
    let split = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..split)?, text.get(split..)?);
    let sign = match offset.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (hours, minutes) = offset[1..].split_once(':')?;
    let (hours, minutes): (i64, i64) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 23 || minutes > 59 || !local.contains('T') {
        return None;
    }
    let utc_ms = humantime::parse_rfc3339_weak(local).ok().and_then(to_ms)?;
    Some(utc_ms - sign * (hours * 3600 + minutes * 60) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_with_zone_offset_date_and_duration() {
        let z = parse_rfc3339_ms("2026-11-20T13:00:00Z").unwrap();
        assert_eq!(parse_rfc3339_ms("2026-11-20T14:00:00+01:00"), Some(z));
        assert_eq!(parse_rfc3339_ms("2026-11-20T08:30:00-04:30"), Some(z));
        assert_eq!(parse_rfc3339_ms("2026-11-20"), Some(z - 13 * 3600 * 1000));
        assert_eq!(
            parse_time("k", "7d").unwrap(),
            TimeBound::Ago(Duration::from_secs(7 * 86400))
        );
        assert_eq!(
            parse_time("k", "24h").unwrap().resolve(100_000_000),
            100_000_000 - 86_400_000
        );
        let err = parse_time("filter.modified_after", "yesterday").unwrap_err();
        assert!(
            err.to_string()
                .contains("filter.modified_after 'yesterday' is not a time"),
            "{err}"
        );
        assert!(parse_rfc3339_ms("2026-11-20T13:00:00+25:00").is_none());
    }

    #[test]
    fn version_at_takes_rfc3339_only_and_not_the_future() {
        let ms = parse_version_at("k", "2026-11-20T14:00:00+01:00", Error::config).unwrap();
        assert_eq!(ms, parse_rfc3339_ms("2026-11-20T13:00:00Z").unwrap());
        assert_eq!(format_rfc3339(ms), "2026-11-20T13:00:00Z");
        assert_eq!(format_rfc3339(ms + 250), "2026-11-20T13:00:00.250Z");
        for bad in ["2026-11-20", "24h", "yesterday", ""] {
            let err = parse_version_at("--version-at", bad, Error::usage).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(
                err.to_string()
                    .contains(&format!("--version-at '{bad}' is not an RFC 3339 time")),
                "{err}"
            );
        }
        let err = parse_version_at("source.version_at", "2999-01-01T00:00:00Z", Error::config)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("source.version_at '2999-01-01T00:00:00Z' is in the future"),
            "{err}"
        );
    }

    #[test]
    fn bad_globs_and_impossible_ranges_are_errors_naming_the_key() {
        let err = check_glob("filter.include", "a/[b")
            .unwrap_err()
            .to_string();
        assert!(err.contains("filter.include 'a/[b' is not a glob"), "{err}");
        let raw = RawFilter {
            min_size: Some(ByteSize::mib(2)),
            max_size: Some(ByteSize::mib(1)),
            ..Default::default()
        };
        let err = validate(Some(raw)).unwrap_err().to_string();
        assert!(
            err.contains("filter.min_size '2 MiB' is larger than filter.max_size '1 MiB'"),
            "{err}"
        );
        let raw = RawFilter {
            modified_after: Some("2026-11-20".into()),
            modified_before: Some("2026-11-19".into()),
            ..Default::default()
        };
        assert!(validate(Some(raw)).is_err());
    }
}
