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
