//! Format 5 plan files on disk, streamed: [`PlanWriter`] takes entries one at a time into a
//! temporary file next to the destination (the header's totals are known only at the end),
//! then writes the header and copies the entries after it; [`PlanLines`] reads the header and
//! then yields entries one at a time. Compressed with zstd when the name ends `.zst`, gzip
//! `.gz` (each written as two concatenated frames or members, header then entries, which any
//! zstd or gzip reader decodes as one stream); a reader recognises compression by its magic
//! bytes, whatever the name. Memory does not grow with the number of entries.
//!
//! Which names are format 5 ([`is_lines_name`]): `.jsonl`, `.jsonl.zst`, `.jsonl.gz`.
//! Depends on `plan::lines` (the lines and their checks), `fsutil`.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::plan::lines::{
    Entry, PlanHeader, header_line, parse_entry, parse_header, push_entry_line,
};

/// zstd level for plan files: fast, and plan lines compress well at any level.
const ZSTD_LEVEL: i32 = 3;

/// How a plan file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Plain,
    Zstd,
    Gzip,
}

impl Compression {
    /// The compression a name asks for: `.zst` zstd, `.gz` gzip, anything else none.
    pub fn of_name(name: &str) -> Self {
        if name.ends_with(".zst") {
            Compression::Zstd
        } else if name.ends_with(".gz") {
            Compression::Gzip
        } else {
            Compression::Plain
        }
    }
}

/// Whether a plan location (a path or `s3://` URL) names a format 5 plan file.
pub fn is_lines_name(name: &str) -> bool {
    [".jsonl", ".jsonl.zst", ".jsonl.gz"]
        .iter()
        .any(|ending| name.ends_with(ending))
}

/// A writer of one compression, finished explicitly (a frame or member must be closed).
enum Encoder<W: Write> {
    Plain(W),
    Zstd(zstd::Encoder<'static, W>),
    Gzip(flate2::write::GzEncoder<W>),
}

impl<W: Write> Encoder<W> {
    fn new(inner: W, compression: Compression) -> std::io::Result<Self> {
        Ok(match compression {
            Compression::Plain => Encoder::Plain(inner),
            Compression::Zstd => Encoder::Zstd(zstd::Encoder::new(inner, ZSTD_LEVEL)?),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::default(),
            )),
        })
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Encoder::Plain(w) => w.write_all(bytes),
            Encoder::Zstd(w) => w.write_all(bytes),
            Encoder::Gzip(w) => w.write_all(bytes),
        }
    }

    fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::Plain(w) => Ok(w),
            Encoder::Zstd(w) => w.finish(),
            Encoder::Gzip(w) => w.finish(),
        }
    }
}

/// Writes a format 5 plan; see the module docs.
pub struct PlanWriter {
    compression: Compression,
    /// The entries so far, compressed, in a temporary file in `dir`.
    entries: Encoder<BufWriter<NamedTempFile>>,
    dir: PathBuf,
    line: Vec<u8>,
}

impl PlanWriter {
    /// A writer whose temporary files go to `dir` (the destination's folder, so the last step
    /// is a rename), compressed as `compression`.
    pub fn new(dir: &Path, compression: Compression) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".airlock-plan-")
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        let entries = Encoder::new(BufWriter::with_capacity(256 * 1024, tmp), compression)
            .map_err(|e| Error::io(dir, e))?;
        Ok(PlanWriter {
            compression,
            entries,
            dir: dir.to_path_buf(),
            line: Vec::with_capacity(512),
        })
    }

    /// Append one entry.
    pub fn push(&mut self, entry: &Entry) -> Result<()> {
        self.line.clear();
        push_entry_line(entry, &mut self.line)?;
        self.entries
            .write_all(&self.line)
            .map_err(|e| Error::io(&self.dir, e))
    }

    /// The whole plan (header, then the entries) in a temporary file in the writer's folder,
    /// ready to be renamed or uploaded.
    pub fn finish(self, header: &PlanHeader) -> Result<NamedTempFile> {
        let dir = &self.dir;
        let io = |e: std::io::Error| Error::io(dir, e);
        let mut entries = self
            .entries
            .finish()
            .map_err(io)?
            .into_inner()
            .map_err(|e| io(e.into_error()))?;
        let whole = tempfile::Builder::new()
            .prefix(".airlock-plan-")
            .tempfile_in(dir)
            .map_err(io)?;
        let mut out = BufWriter::with_capacity(256 * 1024, whole);
        let mut head = Encoder::new(&mut out, self.compression).map_err(io)?;
        head.write_all(&header_line(header)?).map_err(io)?;
        head.finish().map_err(io)?;
        entries.seek(SeekFrom::Start(0)).map_err(io)?;
        std::io::copy(&mut entries, &mut out).map_err(io)?;
        let whole = out.into_inner().map_err(|e| io(e.into_error()))?;
        whole.as_file().sync_all().map_err(io)?;
        Ok(whole)
    }

    /// [`PlanWriter::finish`], then put the file at `path` (atomically, mode 0644).
    pub fn finish_to(self, header: &PlanHeader, path: &Path) -> Result<()> {
        let whole = self.finish(header)?;
        crate::fsutil::set_mode(whole.path(), 0o644)?;
        whole.persist(path).map_err(|e| Error::io(path, e.error))?;
        Ok(())
    }
}

/// The folder a plan file at `path` is written in (its parent, or `.`).
pub fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A plan file opened for reading: format 5 (its header, then entries) or an older JSON
/// document (the whole text, read by `plan::parse_plan`).
pub enum Opened {
    Lines(Box<PlanLines>),
    Json(Vec<u8>),
}

/// The entries of a format 5 plan after its header, one at a time.
pub struct PlanLines {
    reader: Box<dyn BufRead + Send>,
    path: PathBuf,
    header: PlanHeader,
    number: u64,
    line: Vec<u8>,
}

impl PlanLines {
    pub fn header(&self) -> &PlanHeader {
        &self.header
    }
}

impl Iterator for PlanLines {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        loop {
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(Error::io(&self.path, e))),
            }
            self.number += 1;
            let line = self.line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            return Some(parse_entry(line, self.number, &self.path));
        }
    }
}

/// Open the plan file at `file` (named `shown` in errors: the file, or the `s3://` URL it was
/// downloaded from), decompressing by its magic bytes.
pub fn open(file: &Path, shown: &Path) -> Result<Opened> {
    let cannot = |e: std::io::Error| {
        Error::plan(format!(
            "plan file '{}' cannot be read ({e}); make one with 'airlock plan -o {}' or check \
             the path",
            shown.display(),
            shown.display()
        ))
    };
    open_reader(Box::new(File::open(file).map_err(cannot)?), shown)
}

/// [`open`] of a plan's bytes as they come (a file, a download), named `shown` in errors.
pub fn open_reader(raw: Box<dyn Read + Send>, shown: &Path) -> Result<Opened> {
    let cannot = |e: std::io::Error| {
        Error::plan(format!(
            "plan file '{}' cannot be read ({e}); make one with 'airlock plan -o {}' or check \
             the path",
            shown.display(),
            shown.display()
        ))
    };
    let mut raw = BufReader::with_capacity(256 * 1024, raw);
    let magic = raw.fill_buf().map_err(cannot)?;
    let mut reader: Box<dyn BufRead + Send> = if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            zstd::Decoder::with_buffer(raw).map_err(cannot)?,
        ))
    } else if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    let mut first = Vec::new();
    reader.read_until(b'\n', &mut first).map_err(cannot)?;
    match parse_header(first.trim_ascii(), shown)? {
        Some(header) => Ok(Opened::Lines(Box::new(PlanLines {
            reader,
            path: shown.to_path_buf(),
            header,
            number: 1,
            line: Vec::with_capacity(512),
        }))),
        None => {
            reader.read_to_end(&mut first).map_err(cannot)?;
            Ok(Opened::Json(first))
        }
    }
}

#[cfg(test)]
#[path = "plan_file_tests.rs"]
mod tests;
