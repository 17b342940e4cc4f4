//! A plan kept on disk for the TUI, so its Plan tab holds totals and a window of rows, never
//! the whole plan: a temporary file of format 5 entry lines (the plan file's lines without the
//! header, uncompressed, in the order they were planned) with a sparse line -> byte offset
//! index, one offset per [`INDEX_STRIDE`] entries, so reading the rows around any position
//! seeks once and parses at most `INDEX_STRIDE` lines more than it returns. The index is the
//! only thing that grows with the object count (8 bytes per 1,024 entries).
//!
//! The file is removed when its [`PlanFile`] is dropped (a new plan, the app's exit).
//! Re-routing for new transfer settings ([`PlanFile::reroute`]) rewrites it streaming into a
//! new file; saving ([`PlanFile::save`]) streams it into a format 5 plan (local or `s3://`);
//! planning the configured prefix into it and running it are in `plan_window/stream.rs`,
//! planning a selection into it in `plan_window/selection.rs`. Depends on `plan` and the
//! rest of `job`.

mod selection;
mod stream;

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use super::plan_store::LinesOutput;
use crate::aws::Sides;
use crate::config::TransferSettings;
use crate::error::{Error, Result};
use crate::plan::lines::{Entry, PlanHeader, parse_entry, push_entry_line};
use crate::plan::{DeleteTotals, Plan, PlanSettings, Summary};

pub use selection::plan_selection_to_file;
pub use stream::{Streamed, feed, plan_to_file};

/// Entries between two offsets of the index.
pub const INDEX_STRIDE: u64 = 1024;

/// Items re-routed at once (they pass through a small plan in memory).
const REROUTE_BATCH: usize = 1024;

/// The running totals of entries written so far (the summary is not finished: see
/// [`Totals::summary_for`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub summary: Summary,
    /// Copy items (skips included).
    pub items: u64,
    pub deletions: DeleteTotals,
}

impl Totals {
    fn add(&mut self, entry: &Entry) {
        match entry {
            Entry::Item(item) => {
                self.summary.add(item);
                self.items += 1;
            }
            Entry::Deletion(deletion) => {
                self.deletions.objects += 1;
                self.deletions.bytes += deletion.size;
            }
        }
    }

    /// The summary so far, finished (memory, ETA) for these settings.
    pub fn summary_for(&self, transfer: &TransferSettings) -> Summary {
        self.summary.clone().finish(&PlanSettings::of(transfer))
    }
}

/// A plan's entries on disk, indexed; see the module docs.
#[derive(Debug)]
pub struct PlanFile {
    /// Removed from disk when dropped.
    path: tempfile::TempPath,
    /// Byte offset of entry `i * INDEX_STRIDE`.
    index: Vec<u64>,
    entries: u64,
}

impl PartialEq for PlanFile {
    /// The same file on disk.
    fn eq(&self, other: &Self) -> bool {
        self.path.as_os_str() == other.path.as_os_str()
    }
}

impl PlanFile {
    /// Entries (items and deletions).
    pub fn len(&self) -> u64 {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Where the file is (tests, diagnostics).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A plan in memory (a selection's, or one planned in memory), items then deletions as the
    /// plan holds them.
    pub fn of_plan(plan: &Plan) -> Result<PlanFile> {
        let mut writer = PlanFileWriter::new()?;
        for item in &plan.items {
            writer.push(&Entry::Item(item.clone()))?;
        }
        for deletion in &plan.deletions {
            writer.push(&Entry::Deletion(deletion.clone()))?;
        }
        writer.finish()
    }

    /// Up to `count` entries from entry `start` (fewer at the end).
    pub fn read(&self, start: u64, count: usize) -> Result<Vec<Entry>> {
        let mut rows = Vec::with_capacity(count.min(4096));
        if start >= self.entries || count == 0 {
            return Ok(rows);
        }
        let block = (start / INDEX_STRIDE) as usize;
        let mut lines = self.lines_from(self.index[block])?;
        let mut number = block as u64 * INDEX_STRIDE;
        while rows.len() < count {
            let Some(line) = lines.next_line()? else {
                break;
            };
            if number >= start {
                rows.push(parse_entry(line, number + 2, &self.path)?);
            }
            number += 1;
        }
        Ok(rows)
    }

    /// Every entry, in order, one at a time.
    pub fn entries(&self) -> Result<Entries> {
        Ok(Entries {
            lines: self.lines_from(0)?,
            number: 1,
        })
    }

    fn lines_from(&self, offset: u64) -> Result<Lines> {
        let mut file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(Lines {
            reader: BufReader::with_capacity(64 * 1024, file),
            line: Vec::with_capacity(512),
            path: self.path.to_path_buf(),
        })
    }

    /// The plan re-routed for `transfer` (as [`Plan::reroute`] does, a batch of items at a
    /// time): a new file and its header with the new totals, settings and warnings.
    pub fn reroute(
        &self,
        header: &PlanHeader,
        transfer: &TransferSettings,
    ) -> Result<(PlanFile, PlanHeader)> {
        let mut writer = PlanFileWriter::new()?;
        let mut warnings: Vec<String> = Vec::new();
        let mut batch = Plan {
            format: crate::plan::PLAN_FORMAT_VERSION,
            source: header.source.clone(),
            target: header.target.clone(),
            settings: header.settings.clone(),
            items: Vec::with_capacity(REROUTE_BATCH),
            summary: Summary::default(),
            warnings: Vec::new(),
            selection: Default::default(),
            version_at: None,
            deletions: Vec::new(),
        };
        let mut flush = |batch: &mut Plan, writer: &mut PlanFileWriter| -> Result<()> {
            batch.reroute(transfer);
            for warning in batch.warnings.drain(..) {
                if !warnings.contains(&warning) {
                    warnings.push(warning);
                }
            }
            for item in batch.items.drain(..) {
                writer.push(&Entry::Item(item))?;
            }
            Ok(())
        };
        for entry in self.entries()? {
            match entry? {
                Entry::Item(item) => {
                    batch.items.push(item);
                    if batch.items.len() == REROUTE_BATCH {
                        flush(&mut batch, &mut writer)?;
                    }
                }
                deletion => {
                    // Deletions keep their place among the items.
                    flush(&mut batch, &mut writer)?;
                    writer.push(&deletion)?;
                }
            }
        }
        flush(&mut batch, &mut writer)?;
        let totals = writer.totals().clone();
        let settings = PlanSettings::of(transfer);
        let header = PlanHeader {
            summary: totals.summary.finish(&settings),
            settings,
            items: totals.items,
            deletions: totals.deletions,
            warnings,
            ..header.clone()
        };
        Ok((writer.finish()?, header))
    }

    /// Save as a format 5 plan at `path` (a file, compressed as its name says, or `s3://`).
    /// Entries are written in target-key order, as format 5 requires: a plan whose deletions
    /// follow its items (a plan made in memory) is merged on the way.
    pub async fn save(&self, header: &PlanHeader, path: &Path, sides: &Sides) -> Result<()> {
        let mut out = LinesOutput::create(path)?;
        if self.in_key_order()? {
            for entry in self.entries()? {
                out.push(&entry?)?;
            }
        } else {
            // Items, then deletions: two ordered runs, merged.
            let items = self
                .entries()?
                .filter(|e| !matches!(e, Ok(Entry::Deletion(_))));
            let deletions = self.entries()?.filter(|e| !matches!(e, Ok(Entry::Item(_))));
            let mut deletions = deletions.peekable();
            for item in items {
                let item = item?;
                while let Some(Ok(deletion)) = deletions.peek()
                    && deletion.target_key() < item.target_key()
                {
                    out.push(&deletions.next().expect("peeked")?)?;
                }
                out.push(&item)?;
            }
            for deletion in deletions {
                out.push(&deletion?)?;
            }
        }
        out.finish(header, sides).await
    }

    fn in_key_order(&self) -> Result<bool> {
        let mut last: Option<String> = None;
        for entry in self.entries()? {
            let entry = entry?;
            if last.as_deref().is_some_and(|l| entry.target_key() <= l) {
                return Ok(false);
            }
            last = Some(entry.target_key().to_string());
        }
        Ok(true)
    }
}

/// Reads lines (without their newline) from an offset.
struct Lines {
    reader: BufReader<File>,
    line: Vec<u8>,
    path: std::path::PathBuf,
}

impl Lines {
    fn next_line(&mut self) -> Result<Option<&[u8]>> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        Ok((read > 0).then(|| self.line.trim_ascii()))
    }

    /// The next line as entry number `number` (the header counts as line 1).
    fn next_entry(&mut self, number: u64) -> Result<Option<Entry>> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        if read == 0 {
            return Ok(None);
        }
        parse_entry(self.line.trim_ascii(), number, &self.path).map(Some)
    }
}

/// The entries of a [`PlanFile`], in order.
pub struct Entries {
    lines: Lines,
    /// Line number as a plan file would count it (the header is line 1).
    number: u64,
}

impl Iterator for Entries {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        self.number += 1;
        let number = self.number;
        self.lines.next_entry(number).transpose()
    }
}

/// Writes a [`PlanFile`], counting its totals.
pub struct PlanFileWriter {
    out: BufWriter<File>,
    path: tempfile::TempPath,
    index: Vec<u64>,
    offset: u64,
    line: Vec<u8>,
    totals: Totals,
}

impl PlanFileWriter {
    /// A new temporary file in the system's temporary folder.
    pub fn new() -> Result<Self> {
        let dir = std::env::temp_dir();
        let (file, path) = tempfile::Builder::new()
            .prefix(".airlock-tui-plan-")
            .suffix(".jsonl")
            .tempfile_in(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .into_parts();
        Ok(PlanFileWriter {
            out: BufWriter::with_capacity(256 * 1024, file),
            path,
            index: Vec::new(),
            offset: 0,
            line: Vec::with_capacity(512),
            totals: Totals::default(),
        })
    }

    /// Append one entry.
    pub fn push(&mut self, entry: &Entry) -> Result<()> {
        let count = self.totals.items + self.totals.deletions.objects;
        if count.is_multiple_of(INDEX_STRIDE) {
            self.index.push(self.offset);
        }
        self.line.clear();
        push_entry_line(entry, &mut self.line)?;
        self.out
            .write_all(&self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        self.offset += self.line.len() as u64;
        self.totals.add(entry);
        Ok(())
    }

    /// The totals of the entries so far.
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    pub fn finish(mut self) -> Result<PlanFile> {
        self.out.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(PlanFile {
            entries: self.totals.items + self.totals.deletions.objects,
            path: self.path,
            index: self.index,
        })
    }
}

#[cfg(test)]
#[path = "plan_window_tests.rs"]
mod tests;
