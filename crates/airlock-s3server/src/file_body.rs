//! GET bodies read from the object's file in large blocks.
//!
//! s3s-fs streams a GET through `tokio::fs` with a 4 KiB buffer: one blocking-pool round trip
//! and one small socket write per 4 KiB. On a 2 GiB GET that is half a million thread handoffs,
//! and the server spent most of its CPU waking threads, not moving bytes; the client, woken for
//! each small write, paid too. Real S3 sends large segments. We let s3s-fs answer the request
//! (status, headers, conditions, range checks) and only replace its body with one that reads
//! [`BLOCK`] bytes per blocking call with `pread`.

use std::fs::File;
use std::io;
use std::ops::Range as Span;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use s3s::dto::{Range, StreamingBlob, Timestamp};

/// Bytes per blocking read and per body frame. 512 KiB: 4,096 reads for 2 GiB instead of
/// 524,288, and a frame hyper writes with one `writev`.
pub(super) const BLOCK: usize = 512 * 1024;

/// What s3s-fs already answered for this GET; the file we open must match it.
pub(super) struct Answered {
    pub range: Option<Range>,
    pub content_length: Option<i64>,
    pub last_modified: Option<Timestamp>,
}

/// A body for `bucket`/`key` under `root` with the same bytes s3s-fs would send, read in large
/// blocks; `None` (keep s3s-fs's body) when the key does not map plainly to a file under the
/// root, or when the file we open is not the one s3s-fs answered for (it was replaced between
/// the two opens: different size or modification time). The open runs on the blocking pool.
pub(super) async fn open(
    root: &Path,
    bucket: &str,
    key: &str,
    answered: Answered,
) -> Option<StreamingBlob> {
    let path = object_path(root, bucket, key)?;
    let opened = tokio::task::spawn_blocking(move || open_matching(&path, &answered));
    let (file, span) = opened.await.ok()??;
    Some(StreamingBlob::wrap(blocks(file, span)))
}

/// The file at `path` and the span of it to send, if it is the file s3s-fs answered for.
fn open_matching(path: &Path, answered: &Answered) -> Option<(File, Span<u64>)> {
    let file = File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let modified = Timestamp::from(meta.modified().ok()?);
    if answered.last_modified.as_ref() != Some(&modified) {
        return None;
    }
    let span = match &answered.range {
        None => 0..meta.len(),
        Some(range) => range.check(meta.len()).ok()?,
    };
    if answered.content_length != i64::try_from(span.end - span.start).ok() {
        return None;
    }
    Some((file, span))
}

/// The file s3s-fs keeps an object in: `root/bucket/key`. Only keys made of plain path
/// segments map here; anything else (`..`, `.`, empty segments, an absolute path) returns `None` and the
/// caller keeps s3s-fs's own body, so this never names a path s3s-fs would not.
pub(super) fn object_path(root: &Path, bucket: &str, key: &str) -> Option<PathBuf> {
    let plain = |name: &str| !matches!(name, "" | "." | "..") && !name.contains('\\');
    let plain = plain(bucket) && !bucket.contains('/') && key.split('/').all(plain);
    plain.then(|| root.join(bucket).join(key))
}

/// The bytes of `file` in `span`, [`BLOCK`] at a time, each read on the blocking pool.
fn blocks(file: File, span: Span<u64>) -> impl Stream<Item = io::Result<Bytes>> + Send + Sync {
    let file = Arc::new(file);
    let end = span.end;
    futures::stream::try_unfold(span.start, move |at| {
        let file = Arc::clone(&file);
        async move {
            if at >= end {
                return Ok(None);
            }
            let len = usize::try_from(end - at).map_or(BLOCK, |left| left.min(BLOCK));
            let read = tokio::task::spawn_blocking(move || read_block(&file, at, len));
            let bytes = read.await.map_err(io::Error::other)??;
            Ok(Some((bytes, at + len as u64)))
        }
    })
}

/// `len` bytes at offset `at`; a file that shrank under us is an error, not a short body.
fn read_block(file: &File, at: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = vec![0u8; len];
    file.read_exact_at(&mut buf, at)?;
    Ok(Bytes::from(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    async fn collect(file: File, span: Span<u64>) -> io::Result<Vec<u8>> {
        let chunks: Vec<Bytes> = blocks(file, span).try_collect().await?;
        assert!(chunks.iter().all(|c| c.len() <= BLOCK));
        Ok(chunks.concat())
    }

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("object");
        std::fs::write(&path, bytes).unwrap();
        (dir, path)
    }

    #[tokio::test]
    async fn reads_the_span_in_blocks_across_block_boundaries() {
        let data: Vec<u8> = (0..(2 * BLOCK + 1234)).map(|i| (i % 251) as u8).collect();
        let (_dir, path) = file_with(&data);
        let whole = collect(File::open(&path).unwrap(), 0..data.len() as u64)
            .await
            .unwrap();
        assert_eq!(whole, data);
        let (from, to) = (BLOCK as u64 - 7, 2 * BLOCK as u64 + 9);
        let part = collect(File::open(&path).unwrap(), from..to).await.unwrap();
        assert_eq!(part, &data[from as usize..to as usize]);
        let empty = collect(File::open(&path).unwrap(), 5..5).await.unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn a_file_shorter_than_the_span_is_an_error() {
        let (_dir, path) = file_with(&[7u8; 100]);
        let err = collect(File::open(&path).unwrap(), 0..200)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn only_plain_keys_map_to_a_path() {
        let root = Path::new("/srv/s3");
        assert_eq!(
            object_path(root, "bucket", "a/b.csv"),
            Some(PathBuf::from("/srv/s3/bucket/a/b.csv"))
        );
        for key in [
            "../other/x",
            "a/../../x",
            "/etc/passwd",
            "./a",
            "a/./b",
            "dir/",
        ] {
            assert_eq!(object_path(root, "bucket", key), None, "{key}");
        }
    }

    #[tokio::test]
    async fn a_replaced_file_keeps_the_original_body() {
        let (dir, path) = file_with(&[1u8; 64]);
        let bucket_dir = dir.path().join("b");
        std::fs::create_dir(&bucket_dir).unwrap();
        std::fs::rename(&path, bucket_dir.join("k")).unwrap();
        let modified = std::fs::metadata(bucket_dir.join("k"))
            .unwrap()
            .modified()
            .unwrap();
        let modified = Timestamp::from(modified);
        let answered = |len: i64, at: &Timestamp| Answered {
            range: None,
            content_length: Some(len),
            last_modified: Some(at.clone()),
        };
        let root = dir.path();
        assert!(
            open(root, "b", "k", answered(64, &modified))
                .await
                .is_some()
        );
        // Another size or another modification time: not the file s3s-fs answered for.
        assert!(
            open(root, "b", "k", answered(63, &modified))
                .await
                .is_none()
        );
        let earlier = Timestamp::from(std::time::SystemTime::UNIX_EPOCH);
        assert!(open(root, "b", "k", answered(64, &earlier)).await.is_none());
        assert!(
            open(root, "b", "missing", answered(64, &modified))
                .await
                .is_none()
        );
    }
}
