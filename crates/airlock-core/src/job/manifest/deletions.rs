//! A manifest's mirror deletions between being planned and their outcome, on disk instead of
//! in memory: the engine makes a plan's deletions in the order they were fed to it (in
//! DeleteObjects batches, each key's outcome its own event, [`crate::engine::Event`]), and
//! when it skips them it skips the rest of them. So the planned records wait in a temporary
//! file (one JSON line each, in feed order), and each deletion event takes the next one; a
//! skip marks the rest; what is left at the end is read back then. Only the record an event
//! did not match (a key out of the expected order) is held, one at most; that event's record
//! is made from its own key and size, and the planned record it did not find would be listed
//! again at the end as not deleted (the engine keeps the order, so this is not expected). A
//! leaf of `job::manifest`.

use std::io::{BufRead, BufReader, BufWriter, Lines, Write};

use tempfile::NamedTempFile;

use super::Record;
use crate::error::{Error, Result};

/// The planned deletions' records, in feed order (see the module docs).
pub(super) struct DeletionSpool {
    writer: BufWriter<NamedTempFile>,
    /// Reads the records back from the first, with its own file offset; opened at the first
    /// outcome (every deletion has been fed by then: deletions run after the copies).
    reader: Option<Lines<BufReader<std::fs::File>>>,
    /// A record read back that the last event did not match.
    peeked: Option<Record>,
}

impl DeletionSpool {
    pub(super) fn new() -> Result<Self> {
        let file = NamedTempFile::new().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        Ok(DeletionSpool {
            writer: BufWriter::new(file),
            reader: None,
            peeked: None,
        })
    }

    /// A planned deletion's record (outcome `not_deleted`).
    pub(super) fn push(&mut self, record: &Record) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.writer, record).map_err(std::io::Error::other)?;
        self.writer.write_all(b"\n")
    }

    /// The next planned record, if any.
    fn next(&mut self) -> std::io::Result<Option<Record>> {
        if let Some(record) = self.peeked.take() {
            return Ok(Some(record));
        }
        if self.reader.is_none() {
            self.writer.flush()?;
            let file = self.writer.get_ref().reopen()?;
            self.reader = Some(BufReader::new(file).lines());
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(None);
        };
        match reader.next().transpose()? {
            None => Ok(None),
            Some(line) => {
                let record = serde_json::from_str(&line).map_err(std::io::Error::other)?;
                Ok(Some(record))
            }
        }
    }

    /// The planned record of the deletion of `key`, whose outcome just came; None when it is
    /// not the next one (the caller records the event's own facts then).
    pub(super) fn take(&mut self, key: &str) -> std::io::Result<Option<Record>> {
        match self.next()? {
            Some(record) if record.target_key == key => Ok(Some(record)),
            other => {
                self.peeked = other;
                Ok(None)
            }
        }
    }

    /// The records no outcome came for, in feed order.
    pub(super) fn rest(&mut self) -> std::io::Result<Option<Record>> {
        self.next()
    }

    /// Records held in memory (at most one).
    #[cfg(test)]
    pub(super) fn held(&self) -> usize {
        usize::from(self.peeked.is_some())
    }
}
