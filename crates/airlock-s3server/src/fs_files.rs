//! s3s-fs's per-object files, in its layout (pinned by Cargo.lock), for the two places that
//! must change what s3s-fs answers for an object: `.bucket-<b64>.object-<b64><suffix>` in the
//! server root, where `.internal.json` holds the ETag under `e_tag` (s3s-fs reads it for GET,
//! HEAD, copies and conditional requests) and `.metadata.json` the object's attributes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// s3s-fs's per-object file `.bucket-<b64>.object-<b64><suffix>` in `root`.
pub(crate) fn object_sidecar(root: &Path, bucket: &str, key: &str, suffix: &str) -> PathBuf {
    let (b, k) = (URL_SAFE_NO_PAD.encode(bucket), URL_SAFE_NO_PAD.encode(key));
    root.join(format!(".bucket-{b}.object-{k}{suffix}"))
}

/// Record `etag` where s3s-fs reads it, keeping whatever else the file holds. Written to a
/// temporary file (named so s3s-fs's startup clean-up removes a leftover) and renamed.
pub(crate) fn save_etag(root: &Path, bucket: &str, key: &str, etag: &str) -> io::Result<()> {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let path = object_sidecar(root, bucket, key, ".internal.json");
    let mut info: serde_json::Map<String, serde_json::Value> = match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Default::default(),
        Err(e) => return Err(e),
    };
    info.insert("e_tag".into(), etag.into());
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = root.join(format!(".tmp.faithful-etag-{n}.internal.part"));
    fs::write(&tmp, serde_json::to_vec(&info).map_err(io::Error::other)?)?;
    fs::rename(&tmp, &path)
}

/// The object file at `root/bucket/key` as it was before a PutObject: S3 leaves an object
/// unchanged when it refuses a PUT (BadDigest), but s3s-fs moves the new file into place before
/// it checks the checksums. [`Self::keep`] hard-links the old file aside (no copy), and
/// [`Self::restore`] puts it back (or removes the refused new file when there was none).
pub(crate) struct PreviousObject {
    path: PathBuf,
    kept: Option<PathBuf>,
}

impl PreviousObject {
    pub(crate) fn keep(root: &Path, bucket: &str, key: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = root.join(bucket).join(key);
        let aside = root.join(format!(
            ".tmp.faithful-previous-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let kept = (path.is_file() && fs::hard_link(&path, &aside).is_ok()).then_some(aside);
        PreviousObject { path, kept }
    }

    /// The PUT was refused: the object is what it was.
    pub(crate) fn restore(self) {
        match &self.kept {
            Some(aside) => {
                let _ = fs::rename(aside, &self.path);
            }
            None => {
                let _ = fs::remove_file(&self.path);
            }
        }
    }

    /// The PUT succeeded: forget the old file.
    pub(crate) fn forget(self) {
        if let Some(aside) = &self.kept {
            let _ = fs::remove_file(aside);
        }
    }
}
