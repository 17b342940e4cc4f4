//! A plan read as it arrives ([`open`]): a local file, or the body of one GET of an `s3://`
//! plan (target account) handed chunk by chunk to the blocking thread that reads the plan, so
//! `run --plan s3://...` starts copying while the plan still downloads, and holds a few chunks
//! of it at most. A body that breaks mid-way is a read error of the plan (with the URL), as a
//! damaged line would be: the run copies what came before and ends halted.

use std::io::Read;
use std::path::Path;

use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

use crate::aws::Sides;
use crate::aws::documents::S3Location;
use crate::aws::errors::{Context, s3_failure};
use crate::error::{Error, Result};

/// Chunks of the body downloaded ahead of the reader.
const CHUNKS_AHEAD: usize = 16;

/// What the download task hands the reader.
enum Piece {
    Chunk(Bytes),
    /// The body ended where its length said.
    End,
    /// The body broke: why.
    Broken(String),
}

/// The plan at `path` as bytes to read on a blocking thread: the file, or an `s3://` plan's
/// GET body as it arrives. The GET is sent now, so a missing plan or a refused read fails
/// here, before anything runs.
pub(crate) async fn open(path: &Path, sides: &Sides) -> Result<Box<dyn Read + Send>> {
    let Some(location) = super::location(path)? else {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::plan(format!(
                "plan file '{}' cannot be read ({e}); make one with 'airlock plan -o {}' or \
                 check the path",
                path.display(),
                path.display()
            ))
        })?;
        return Ok(Box::new(file));
    };
    let side = &sides.target;
    let context = Context {
        side: side.side,
        operation: "GetObject",
        bucket: &location.bucket,
        key: Some(&location.key),
    };
    let mut out = (side.client.get_object())
        .bucket(&location.bucket)
        .key(&location.key)
        .send()
        .await
        .map_err(|e| cannot_read(&location, &Error::from(s3_failure(&e, context))))?;
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(async move {
        loop {
            let piece = match out.body.next().await {
                Some(Ok(chunk)) => Piece::Chunk(chunk),
                Some(Err(e)) => Piece::Broken(e.to_string()),
                None => Piece::End,
            };
            let last = !matches!(piece, Piece::Chunk(_));
            if tx.send(piece).await.is_err() || last {
                return;
            }
        }
    });
    Ok(Box::new(Body {
        rx,
        chunk: Bytes::new(),
        ended: false,
    }))
}

fn cannot_read(location: &S3Location, e: &Error) -> Error {
    Error::plan(format!(
        "plan '{location}' cannot be read with the target's credentials ({e}); make one with \
         'airlock plan -o {location}' or check the bucket and key"
    ))
}

/// A GET body read on a blocking thread (see the module docs).
struct Body {
    rx: mpsc::Receiver<Piece>,
    chunk: Bytes,
    ended: bool,
}

impl Read for Body {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Chunk(chunk)) => self.chunk = chunk,
                Some(Piece::End) => self.ended = true,
                Some(Piece::Broken(why)) => {
                    return Err(std::io::Error::other(format!(
                        "the plan's download broke off: {why}"
                    )));
                }
                None => {
                    return Err(std::io::Error::other(
                        "the plan's download stopped before its end",
                    ));
                }
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
