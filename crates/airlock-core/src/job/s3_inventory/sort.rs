//! The external sort for inventories whose rows are not in key order (`inventory_sort`):
//! objects are gathered into runs of [`RUN_OBJECTS`], each sorted in memory and spilled as
//! JSON lines to an unnamed temp file under the data directory's `tmp/` (deleted on close);
//! at the end the runs are merged k ways (at most [`FAN_IN`] files open at once: more runs
//! are first merged into bigger ones). Memory holds one run while reading and one line per
//! run while merging, however many rows there are. A key listed twice is an error.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, Write};
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::plan::ObjectInfo;

/// Objects sorted in memory at once (about 100 MiB of keys and fields at most).
const RUN_OBJECTS: usize = 250_000;

/// Runs merged at once (open files).
const FAN_IN: usize = 128;

/// Objects in, sorted objects out.
pub(super) struct Sorter {
    dir: PathBuf,
    run: Vec<ObjectInfo>,
    runs: Vec<File>,
    /// [`RUN_OBJECTS`] and [`FAN_IN`] (small in tests).
    run_objects: usize,
    fan_in: usize,
}

impl Sorter {
    pub(super) fn new() -> Sorter {
        Sorter {
            dir: crate::dirs::data_dir().join("tmp"),
            run: Vec::new(),
            runs: Vec::new(),
            run_objects: RUN_OBJECTS,
            fan_in: FAN_IN,
        }
    }

    pub(super) fn push(&mut self, object: ObjectInfo) -> Result<()> {
        self.run.push(object);
        if self.run.len() >= self.run_objects {
            self.spill()?;
        }
        Ok(())
    }

    /// Sort the run in memory and write it to a new temp file.
    fn spill(&mut self) -> Result<()> {
        let mut run = std::mem::take(&mut self.run);
        run.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let file = self.temp_file()?;
        let mut out = BufWriter::new(file);
        for object in &run {
            write_line(&mut out, object).map_err(|e| self.io(e))?;
        }
        let file = out.into_inner().map_err(|e| self.io(e.into_error()))?;
        self.runs.push(file);
        Ok(())
    }

    fn temp_file(&self) -> Result<File> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(e))?;
        tempfile::tempfile_in(&self.dir).map_err(|e| self.io(e))
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(&self.dir, e)
    }

    /// Give every object to `each` in key order; a key seen twice is an error. `each` returns
    /// false to stop.
    pub(super) fn finish(mut self, mut each: impl FnMut(ObjectInfo) -> bool) -> Result<()> {
        if self.runs.is_empty() {
            // Everything fits in one run: no file.
            let mut run = std::mem::take(&mut self.run);
            run.sort_unstable_by(|a, b| a.key.cmp(&b.key));
            let mut last: Option<String> = None;
            for object in run {
                check_unique(&mut last, &object.key)?;
                if !each(object) {
                    break;
                }
            }
            return Ok(());
        }
        if !self.run.is_empty() {
            self.spill()?;
        }
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > self.fan_in {
            let rest = runs.split_off(self.fan_in);
            let mut out = BufWriter::new(self.temp_file()?);
            merge(&self, runs, |object| write_line(&mut out, &object).is_ok())?;
            let merged = out.into_inner().map_err(|e| self.io(e.into_error()))?;
            runs = rest;
            runs.push(merged);
        }
        let mut last: Option<String> = None;
        let mut duplicate = None;
        merge(&self, runs, |object| {
            if let Err(e) = check_unique(&mut last, &object.key) {
                duplicate = Some(e);
                return false;
            }
            each(object)
        })?;
        duplicate.map_or(Ok(()), Err)
    }
}

fn write_line(out: &mut impl Write, object: &ObjectInfo) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, object)?;
    out.write_all(b"\n")
}

fn check_unique(last: &mut Option<String>, key: &str) -> Result<()> {
    if last.as_deref() == Some(key) {
        return Err(Error::config(format!(
            "the inventory lists '{key}' twice: is it a versioned inventory without its \
             IsLatest column? use an inventory of current versions"
        )));
    }
    *last = Some(key.to_string());
    Ok(())
}

/// Merge sorted runs (rewound here) into `each` in key order, until it returns false.
fn merge(sorter: &Sorter, runs: Vec<File>, mut each: impl FnMut(ObjectInfo) -> bool) -> Result<()> {
    let mut readers = Vec::with_capacity(runs.len());
    for mut file in runs {
        file.rewind().map_err(|e| sorter.io(e))?;
        readers.push(BufReader::new(file));
    }
    let mut heads: Vec<Option<ObjectInfo>> = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::new();
    for (i, reader) in readers.iter_mut().enumerate() {
        let head = read_line(sorter, reader)?;
        if let Some(object) = &head {
            heap.push(Reverse((object.key.clone(), i)));
        }
        heads.push(head);
    }
    while let Some(Reverse((_, i))) = heap.pop() {
        let object = heads[i].take().expect("a run in the heap has a head");
        let next = read_line(sorter, &mut readers[i])?;
        if let Some(next) = &next {
            heap.push(Reverse((next.key.clone(), i)));
        }
        heads[i] = next;
        if !each(object) {
            return Ok(());
        }
    }
    Ok(())
}

fn read_line(sorter: &Sorter, reader: &mut BufReader<File>) -> Result<Option<ObjectInfo>> {
    let mut line = String::new();
    if reader.read_line(&mut line).map_err(|e| sorter.io(e))? == 0 {
        return Ok(None);
    }
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| Error::internal(format!("a sorted run's line does not read back: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: String) -> ObjectInfo {
        ObjectInfo {
            key,
            size: 1,
            modified_ms: None,
            etag: None,
            etag_md5: None,
            checksum: None,
            copied_from_etag: None,
            storage_class: None,
            restored: None,
            version_id: None,
        }
    }

    #[test]
    fn runs_on_disk_merge_into_key_order_and_duplicates_are_named() {
        let dir = tempfile::tempdir().unwrap();
        // 1,003 keys in a scrambled order: 100 runs of 10, merged 7 at a time.
        let keys: Vec<String> = (0..1_003)
            .map(|i| format!("k/{:05}", (i * 7_919) % 1_003))
            .collect();
        let mut sorter = Sorter {
            dir: dir.path().to_path_buf(),
            run_objects: 10,
            fan_in: 7,
            ..Sorter::new()
        };
        for key in &keys {
            sorter.push(object(key.clone())).unwrap();
        }
        assert_eq!(sorter.runs.len(), 100, "full runs spilled");
        let mut out = Vec::new();
        sorter
            .finish(|o| {
                out.push(o.key);
                true
            })
            .unwrap();
        let mut wanted = keys.clone();
        wanted.sort();
        assert_eq!(out, wanted);

        let mut sorter = Sorter::new();
        for key in ["b", "a", "b"] {
            sorter.push(object(key.into())).unwrap();
        }
        let err = sorter.finish(|_| true).unwrap_err().to_string();
        assert!(err.contains("lists 'b' twice"), "{err}");
    }
}
