//! Plan file format 5, line-oriented, for plans of millions of objects: JSON lines, written and
//! read one line at a time. Line 1 is the [`PlanHeader`] (format 5, sides, settings,
//! `version_at`, the S3 Inventory the source came from if any, what the filters left out, the
//! totals, warnings); then one [`Entry`] per line
//! in target-key order: a copy item as the JSON object formats 1-4 hold in `items`, or a mirror
//! deletion as `{"delete": {...}}`. Compression (zstd, gzip) and where the file lives are
//! `job::plan_file`'s business; this module is pure: lines in, lines out, and the checks a plan
//! read back must pass, made per line in bounded memory ([`Checker`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::format::{check_item, check_side};
use super::{
    DeleteTotals, Deletion, Plan, PlanItem, PlanSettings, PlanSide, Planned, Selection, Summary,
};
use crate::config::Settings;
use crate::error::{Error, Result};

/// The line-oriented format: older airlocks (formats 1-4) refuse it.
pub const LINES_FORMAT_VERSION: u32 = 5;

/// Line 1 of a format 5 plan: everything but the entries, totals included (written last, put
/// first: see `job::plan_file`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanHeader {
    pub format: u32,
    pub source: PlanSide,
    pub target: PlanSide,
    pub settings: PlanSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_at: Option<String>,
    #[serde(default, skip_serializing_if = "Selection::is_empty")]
    pub selection: Selection,
    pub summary: Summary,
    /// Copy items (lines that are not deletions).
    pub items: u64,
    pub deletions: DeleteTotals,
    /// Items with an open split upload (`airlock prepare`).
    #[serde(default)]
    pub split_objects: u64,
    pub warnings: Vec<String>,
    /// The S3 Inventory the source side was read from, when it was not listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<InventoryOrigin>,
}

/// Which S3 Inventory a plan's source side came from (shown with the plan and on `run`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryOrigin {
    /// Where its `manifest.json` is (`s3://bucket/key`).
    pub manifest: String,
    /// When AWS made it (`creationTimestamp`), RFC 3339 UTC.
    pub created: String,
    /// `creationTimestamp` in milliseconds since the epoch.
    pub created_ms: i64,
    /// Data rows read (all versions and keys outside the prefix included).
    pub rows: u64,
}

impl std::fmt::Display for InventoryOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "S3 Inventory of {} ({} rows, '{}')",
            self.created, self.rows, self.manifest
        )
    }
}

impl PlanHeader {
    /// The header of a plan in memory.
    pub fn of(plan: &Plan) -> Self {
        PlanHeader {
            format: LINES_FORMAT_VERSION,
            source: plan.source.clone(),
            target: plan.target.clone(),
            settings: plan.settings.clone(),
            version_at: plan.version_at.clone(),
            selection: plan.selection.clone(),
            summary: plan.summary.clone(),
            items: plan.items.len() as u64,
            deletions: plan.delete_totals(),
            split_objects: plan.items.iter().filter(|i| i.split.is_some()).count() as u64,
            warnings: plan.warnings.clone(),
            inventory: None,
        }
    }

    /// The header of a streamed plan of the configured sides: what the [`Planner`] counted,
    /// what the filters left out, the deletions met and the S3 Inventory it came from, if any.
    ///
    /// [`Planner`]: super::Planner
    pub fn streamed(
        settings: &Settings,
        planned: Planned,
        selection: Selection,
        deletions: DeleteTotals,
        inventory: Option<InventoryOrigin>,
    ) -> Self {
        PlanHeader {
            format: LINES_FORMAT_VERSION,
            source: PlanSide::of(&settings.source),
            target: PlanSide::of(&settings.target),
            settings: planned.settings,
            version_at: None,
            selection,
            summary: planned.summary,
            items: planned.items,
            deletions,
            split_objects: 0,
            warnings: planned.warnings,
            inventory,
        }
    }

    /// A plan in memory with this header and these entries. Its `format` is the JSON format
    /// (2-4) that holds what it has, so it can be saved as one JSON document too.
    pub fn into_plan(self, items: Vec<PlanItem>, deletions: Vec<Deletion>) -> Plan {
        let mut plan = Plan {
            format: super::PLAN_FORMAT_VERSION,
            source: self.source,
            target: self.target,
            settings: self.settings,
            items,
            summary: self.summary,
            warnings: self.warnings,
            selection: self.selection,
            version_at: self.version_at,
            deletions: Vec::new(),
        };
        plan.set_deletions(deletions);
        plan.summary = Summary::of(&plan.items, &plan.settings);
        plan
    }
}

/// One line after the header.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "the large variant is the common one: boxing it would allocate once per object"
)]
pub enum Entry {
    Item(PlanItem),
    Deletion(Deletion),
}

impl Entry {
    pub fn target_key(&self) -> &str {
        match self {
            Entry::Item(item) => &item.target_key,
            Entry::Deletion(deletion) => &deletion.target_key,
        }
    }
}

/// How a deletion line is tagged.
#[derive(Serialize, Deserialize)]
struct DeleteLine<T> {
    delete: T,
}

/// The header as one line (with its newline).
pub fn header_line(header: &PlanHeader) -> Result<Vec<u8>> {
    let mut line = serde_json::to_vec(header)
        .map_err(|e| Error::internal(format!("plan header to JSON: {e}")))?;
    line.push(b'\n');
    Ok(line)
}

/// Append one entry as a line (with its newline) to `out`.
pub fn push_entry_line(entry: &Entry, out: &mut Vec<u8>) -> Result<()> {
    let written = match entry {
        Entry::Item(item) => serde_json::to_writer(&mut *out, item),
        Entry::Deletion(deletion) => {
            serde_json::to_writer(&mut *out, &DeleteLine { delete: deletion })
        }
    };
    written.map_err(|e| Error::internal(format!("plan entry to JSON: {e}")))?;
    out.push(b'\n');
    Ok(())
}

/// The header, if `first_line` is one of a format 5 plan; None when it is not (the first line
/// of a JSON plan of formats 1-4). A header of a newer format is refused.
pub fn parse_header(first_line: &[u8], path: &Path) -> Result<Option<PlanHeader>> {
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let Ok(Format { format }) = serde_json::from_slice::<Format>(first_line) else {
        return Ok(None);
    };
    if format < LINES_FORMAT_VERSION {
        return Ok(None);
    }
    if format > LINES_FORMAT_VERSION {
        return Err(Error::plan(format!(
            "'{}' has format {format} but this airlock reads formats 1 to {LINES_FORMAT_VERSION}; make a new plan",
            path.display()
        )));
    }
    serde_json::from_slice(first_line)
        .map(Some)
        .map_err(|e| not_a_plan(path, 1, &e))
}

fn not_a_plan(path: &Path, line: u64, e: &serde_json::Error) -> Error {
    let e = e.to_string().replace('`', "'");
    Error::plan(format!(
        "'{}' line {line} is not a valid plan line ({e}); make a new plan with 'airlock plan -o {}'",
        path.display(),
        path.display()
    ))
}

/// One entry from its line (without the newline); `number` counts lines from 1 (the header).
pub fn parse_entry(line: &[u8], number: u64, path: &Path) -> Result<Entry> {
    let parsed = if line.starts_with(b"{\"delete\"") {
        serde_json::from_slice::<DeleteLine<Deletion>>(line).map(|d| Entry::Deletion(d.delete))
    } else {
        serde_json::from_slice::<PlanItem>(line).map(Entry::Item)
    };
    parsed.map_err(|e| not_a_plan(path, number, &e))
}

/// The checks of a format 5 plan read back, line by line in bounded memory: the header was
/// made for this config; every entry passes the per-item checks of formats 1-4; target keys
/// strictly increase (so no key is copied twice, deleted twice, or both copied and deleted);
/// and at the end the entries add up to the header's totals (a truncated or hand-edited file
/// is refused).
pub struct Checker<'a> {
    header: PlanHeader,
    path: &'a Path,
    last_key: Option<String>,
    summary: Summary,
    items: u64,
    deletions: DeleteTotals,
    line: u64,
}

impl<'a> Checker<'a> {
    pub fn new(header: PlanHeader, path: &'a Path, settings: &Settings) -> Result<Self> {
        check_side(
            "source",
            &header.source,
            &PlanSide::of(&settings.source),
            path,
        )?;
        check_side(
            "target",
            &header.target,
            &PlanSide::of(&settings.target),
            path,
        )?;
        Ok(Checker {
            header,
            path,
            last_key: None,
            summary: Summary::default(),
            items: 0,
            deletions: DeleteTotals::default(),
            line: 1,
        })
    }

    pub fn header(&self) -> &PlanHeader {
        &self.header
    }

    /// Check one entry (the next line).
    pub fn check(&mut self, entry: &Entry) -> Result<()> {
        self.line += 1;
        let key = entry.target_key();
        if self.last_key.as_deref().is_some_and(|last| key <= last) {
            return Err(Error::plan(format!(
                "'{}' line {}: target key '{key}' does not come after '{}' (a format 5 plan \
                 lists each target key once, in key order); make a new plan with 'airlock plan -o {}'",
                self.path.display(),
                self.line,
                self.last_key.as_deref().unwrap_or_default(),
                self.path.display()
            )));
        }
        match entry {
            Entry::Item(item) => {
                check_item(
                    item,
                    &self.header.source.prefix,
                    &self.header.target.prefix,
                    self.path,
                )?;
                self.summary.add(item);
                self.items += 1;
            }
            Entry::Deletion(deletion) => {
                if !deletion.target_key.starts_with(&self.header.target.prefix) {
                    return Err(Error::plan(format!(
                        "'{}': deletion of '{}' is outside the target prefix '{}'; make a new plan with 'airlock plan -o {}'",
                        self.path.display(),
                        deletion.target_key,
                        self.header.target.prefix,
                        self.path.display()
                    )));
                }
                self.deletions.objects += 1;
                self.deletions.bytes += deletion.size;
            }
        }
        match &mut self.last_key {
            Some(last) => {
                last.clear();
                last.push_str(key);
            }
            None => self.last_key = Some(key.to_string()),
        }
        Ok(())
    }

    /// After the last line: the entries must add up to the header's totals.
    pub fn finish(self) -> Result<PlanHeader> {
        let summary = self.summary.finish(&self.header.settings);
        let said = &self.header;
        let adds_up = self.items == said.items
            && self.deletions == said.deletions
            && summary.skip == said.summary.skip
            && summary.single == said.summary.single
            && summary.multipart == said.summary.multipart;
        if !adds_up {
            return Err(Error::plan(format!(
                "'{}' holds {} items ({} bytes to copy) and {} deletions, but its header says {} \
                 items ({} bytes) and {} deletions: the file is truncated or was edited; make a \
                 new plan with 'airlock plan -o {}'",
                self.path.display(),
                self.items,
                summary.copy_bytes(),
                self.deletions.objects,
                said.items,
                said.summary.copy_bytes(),
                said.deletions.objects,
                self.path.display()
            )));
        }
        let mut header = self.header;
        header.summary = summary;
        Ok(header)
    }
}
