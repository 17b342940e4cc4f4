//! Reading an inventory's data files, streamed: a task GETs them one after another and hashes
//! each body as it arrives (MD5, checked against the manifest at the body's end); a blocking
//! thread gunzips and parses the bytes row by row and sends the objects on in pages, checking
//! their key order (or, with `inventory_sort`, gives them to the external sort, [`super::sort`],
//! and sends its output). Bounded channels between them: memory holds a few body chunks and one
//! page, however many rows there are. A file whose MD5 or size does not match ends its bytes
//! with that error instead of an end of file, so its last page is never sent.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use md5::{Digest, Md5};
use tokio::sync::mpsc;

use super::manifest::{DataFile, Manifest};
use super::rows::Columns;
use super::sort::Sorter;
use crate::aws::SideClient;
use crate::error::{Error, Result};
use crate::plan::ObjectInfo;

/// Objects per page sent to the merge.
const PAGE_OBJECTS: usize = 1000;

/// Body chunks in flight between the GET task and the parser.
const CHUNKS_AHEAD: usize = 8;

/// What the GET task gives the parser, per data file: bytes, then its end or why it failed.
enum Piece {
    Bytes(Bytes),
    End,
    Failed(Error),
}

/// Start reading `manifest`'s data files with `reader`; the pages hold the rows' objects
/// under `prefix`, and end with an error if anything fails.
pub(super) fn spawn(
    reader: SideClient,
    manifest: Manifest,
    prefix: String,
    location: String,
    rows: Arc<AtomicU64>,
    sort: bool,
) -> mpsc::Receiver<Result<Vec<ObjectInfo>>> {
    let (pages_tx, pages_rx) = mpsc::channel(2);
    let (pieces_tx, pieces_rx) = mpsc::channel(CHUNKS_AHEAD);
    let files = manifest.files.clone();
    tokio::spawn(fetch_all(reader, files, location.clone(), pieces_tx));
    tokio::task::spawn_blocking(move || {
        let mut parser = Parser {
            pieces: pieces_rx,
            pages: pages_tx,
            columns: manifest.columns,
            prefix,
            location,
            rows,
            last: None,
            sorter: sort.then(Sorter::new),
        };
        if let Err(e) = parser.parse_all(&manifest.files) {
            let _ = parser.pages.blocking_send(Err(e));
        }
    });
    pages_rx
}

/// GET each file in turn and pass its bytes on; stop when the parser has gone.
async fn fetch_all(
    reader: SideClient,
    files: Vec<DataFile>,
    location: String,
    pieces: mpsc::Sender<Piece>,
) {
    for file in &files {
        let last = match fetch(&reader, file, &location, &pieces).await {
            Ok(true) => Piece::End,
            Ok(false) => return,
            Err(e) => Piece::Failed(e),
        };
        let failed = matches!(last, Piece::Failed(_));
        if pieces.send(last).await.is_err() || failed {
            return;
        }
    }
}

/// One file's bytes; `Ok(false)` when the parser has gone. Checks size and MD5 at the end.
async fn fetch(
    reader: &SideClient,
    file: &DataFile,
    location: &str,
    pieces: &mpsc::Sender<Piece>,
) -> Result<bool> {
    let what = format!("data file '{}'", file.key);
    let context = crate::aws::errors::Context {
        side: reader.side,
        operation: "GetObject",
        bucket: &reader.bucket,
        key: Some(&file.key),
    };
    let mut out = reader
        .client
        .get_object()
        .bucket(&reader.bucket)
        .key(&file.key)
        .send()
        .await
        .map_err(|e| {
            let e = Error::from(crate::aws::errors::s3_failure(&e, context));
            super::access_error(&e, reader, location, &what)
        })?;
    let (mut md5, mut bytes) = (Md5::new(), 0u64);
    while let Some(chunk) = out.body.next().await {
        let chunk = chunk.map_err(|e| {
            Error::config(format!(
                "reading {what} of the inventory '{location}' failed: {e}; run again"
            ))
        })?;
        md5.update(&chunk);
        bytes += chunk.len() as u64;
        if pieces.send(Piece::Bytes(chunk)).await.is_err() {
            return Ok(false);
        }
    }
    let got: String = md5.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if bytes != file.size || !got.eq_ignore_ascii_case(file.md5_hex.trim()) {
        return Err(Error::config(format!(
            "{what} of the inventory '{location}' does not match its manifest: {bytes} bytes \
             with MD5 '{got}' where the manifest says {} bytes with MD5checksum '{}'; the \
             inventory is damaged or was rewritten: use another day's report",
            file.size, file.md5_hex
        )));
    }
    Ok(true)
}

/// The blocking side: gunzip, parse, filter, check order, page.
struct Parser {
    pieces: mpsc::Receiver<Piece>,
    pages: mpsc::Sender<Result<Vec<ObjectInfo>>>,
    columns: Columns,
    prefix: String,
    location: String,
    rows: Arc<AtomicU64>,
    /// The last key sent, for the order check.
    last: Option<String>,
    /// `inventory_sort`: rows go through an external sort before they are sent.
    sorter: Option<Sorter>,
}

impl Parser {
    fn parse_all(&mut self, files: &[DataFile]) -> Result<()> {
        let mut page = Vec::with_capacity(PAGE_OBJECTS);
        for file in files {
            if !self.parse_file(file, &mut page)? {
                return Ok(());
            }
            // A page never holds rows of a file that is not checked yet.
            if !page.is_empty() && !send(&self.pages, &mut page) {
                return Ok(());
            }
        }
        if let Some(sorter) = self.sorter.take() {
            let mut open = true;
            sorter.finish(|object| {
                page.push(object);
                open = page.len() < PAGE_OBJECTS || send(&self.pages, &mut page);
                open
            })?;
            if open && !page.is_empty() {
                send(&self.pages, &mut page);
            }
        }
        Ok(())
    }

    /// `Ok(false)` when the merge has gone.
    fn parse_file(&mut self, file: &DataFile, page: &mut Vec<ObjectInfo>) -> Result<bool> {
        let body = Body {
            pieces: &mut self.pieces,
            chunk: Bytes::new(),
            failed: None,
            ended: false,
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(flate2::read::MultiGzDecoder::new(body));
        let mut record = csv::StringRecord::new();
        loop {
            let read = csv.read_record(&mut record);
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    if let Some(failed) = csv.get_mut().get_mut().failed.take() {
                        return Err(failed);
                    }
                    return Err(Error::config(format!(
                        "data file '{}' of the inventory '{}' is not gzip CSV ({e}); use \
                         another day's report",
                        file.key, self.location
                    )));
                }
            };
            if !read {
                return Ok(true);
            }
            self.rows.fetch_add(1, Ordering::Relaxed);
            let object = self.columns.object(&record, &self.prefix).map_err(|why| {
                Error::config(format!(
                    "data file '{}' of the inventory '{}', line {}: {why}",
                    file.key,
                    self.location,
                    record.position().map_or(0, |p| p.line())
                ))
            })?;
            let Some(object) = object else { continue };
            if let Some(sorter) = &mut self.sorter {
                sorter.push(object)?;
                continue;
            }
            if let Some(before) = &self.last
                && object.key.as_str() <= before.as_str()
            {
                return Err(Error::plan(format!(
                    "the inventory '{}' is not in key order ('{}' came after '{before}', in \
                     data file '{}'): airlock merges an inventory in key order; set \
                     source.inventory_sort = true (or --inventory-sort) to sort it on disk \
                     first",
                    self.location, object.key, file.key
                )));
            }
            self.last = Some(object.key.clone());
            page.push(object);
            if page.len() == PAGE_OBJECTS {
                // Sent before the file's MD5 is known: see the module docs of `s3_inventory`.
                if !send(&self.pages, page) {
                    return Ok(false);
                }
            }
        }
    }
}

/// Send the page on (leaving an empty one); false when the merge has gone.
fn send(pages: &mpsc::Sender<Result<Vec<ObjectInfo>>>, page: &mut Vec<ObjectInfo>) -> bool {
    let full = std::mem::replace(page, Vec::with_capacity(PAGE_OBJECTS));
    pages.blocking_send(Ok(full)).is_ok()
}

/// One data file's bytes as a `Read` (for the gzip decoder), pulled from the GET task.
struct Body<'a> {
    pieces: &'a mut mpsc::Receiver<Piece>,
    chunk: Bytes,
    /// Why the bytes stopped (a failed GET, a wrong MD5), taken by the parser.
    failed: Option<Error>,
    ended: bool,
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if !self.chunk.is_empty() {
                let n = buf.len().min(self.chunk.len());
                buf[..n].copy_from_slice(&self.chunk.split_to(n));
                return Ok(n);
            }
            if self.ended {
                return Ok(0);
            }
            match self.pieces.blocking_recv() {
                Some(Piece::Bytes(chunk)) => self.chunk = chunk,
                Some(Piece::End) => self.ended = true,
                Some(Piece::Failed(e)) => {
                    self.failed = Some(e);
                    return Err(std::io::Error::other("the inventory's data file failed"));
                }
                None => {
                    self.failed = Some(Error::internal("the inventory's reader stopped"));
                    return Err(std::io::Error::other("the inventory's reader stopped"));
                }
            }
        }
    }
}
