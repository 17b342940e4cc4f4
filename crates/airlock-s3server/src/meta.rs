//! What the faithful server knows beyond s3s-fs: in-progress uploads (with their parts' sizes,
//! ETags and checksums) and, per object, the full-object checksum, tags, and what the switched
//! behaviours need (encryption, storage class and restore, folder markers). Held in memory and
//! persisted as small JSON sidecars under `<root>/.airlock-meta/` (a name that can never be a
//! bucket, so listings never show it), so a server restarted on the same root keeps them.
//!
//! Layout: `uploads/<upload id>/upload.json`, `uploads/<upload id>/part-<n>.json` (one file per
//! part, so a 10,000-part upload never rewrites a growing file), `objects/<md5 of bucket and
//! key>.json` (hashed because keys can be longer than a file name). Writes go to a temporary
//! file and are renamed into place.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use md5::{Digest as _, Md5};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::checksum::{Algorithm, Sums};
use super::parts::StoredPart;
use super::sse::Encryption;

/// The hidden directory under the server root.
pub(crate) const META_DIR: &str = ".airlock-meta";

/// A tag as S3 stores it: key and value.
pub(crate) type TagPair = (String, String);

/// A multipart upload started through the faithful server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct UploadMeta {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    /// When CreateMultipartUpload ran, in milliseconds since the Unix epoch.
    pub initiated_unix_ms: u64,
    /// `x-amz-checksum-algorithm` of CreateMultipartUpload.
    pub checksum_algorithm: Option<Algorithm>,
    /// `x-amz-checksum-type` of CreateMultipartUpload, as sent (`FULL_OBJECT`, `COMPOSITE`).
    pub checksum_type: Option<String>,
    /// Tags from `x-amz-tagging`, given to the object at CompleteMultipartUpload.
    #[serde(default)]
    pub tags: Vec<TagPair>,
    /// The encryption the object will have (SSE behaviours only).
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// `x-amz-storage-class` of CreateMultipartUpload (archive behaviour only).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Parts received so far, by part number (stored in their own files).
    #[serde(skip)]
    pub parts: BTreeMap<i32, PartMeta>,
}

impl UploadMeta {
    /// The CRC whose full-object value CompleteMultipartUpload must compute, if any: CRC64NVME
    /// (always full-object), or CRC32/CRC32C created with `ChecksumType=FULL_OBJECT`.
    pub(crate) fn full_object_crc(&self) -> Option<Algorithm> {
        let alg = self.checksum_algorithm?;
        let full = self.checksum_type.as_deref() == Some("FULL_OBJECT");
        match alg {
            Algorithm::Crc64Nvme => Some(alg),
            Algorithm::Crc32 | Algorithm::Crc32c if full => Some(alg),
            _ => None,
        }
    }
}

/// One received part.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PartMeta {
    pub part_number: i32,
    pub size_bytes: u64,
    /// The part's ETag value (without quotes), as UploadPart answered it.
    pub etag: String,
    /// Checksums computed over the part's bytes (base64).
    #[serde(default)]
    pub sums: Sums,
}

/// A full-object checksum stored for a multipart object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FullChecksum {
    pub algorithm: Algorithm,
    /// Base64 of the big-endian CRC.
    pub value: String,
}

/// What we know about one object beyond s3s-fs.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct ObjectMeta {
    pub bucket: String,
    pub key: String,
    /// The object's ETag when this was stored. If the object's ETag differs now, it was replaced
    /// behind our back (by a plain server on the same root, or on disk) and this is stale.
    pub etag: String,
    #[serde(default)]
    pub full_checksum: Option<FullChecksum>,
    #[serde(default)]
    pub tags: Vec<TagPair>,
    /// How the object is encrypted, when an SSE behaviour gave it a non-MD5 ETag.
    #[serde(default)]
    pub encryption: Option<Encryption>,
    /// Its storage class, when not STANDARD (archive behaviour only).
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Until when a RestoreObject made an archived object readable, in ms since the epoch.
    #[serde(default)]
    pub restored_until_unix_ms: Option<u64>,
    /// Set for a folder marker (a 0-byte key ending in `/`), which s3s-fs does not store: this
    /// entry is the whole object.
    #[serde(default)]
    pub folder_marker: Option<FolderMarker>,
    /// A multipart object's parts (size and checksums), in part order; empty for a single PUT.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<StoredPart>,
    /// A multipart object's COMPOSITE checksum (`value-N`), when its upload had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composite: Option<FullChecksum>,
}

impl ObjectMeta {
    /// An entry for `bucket`/`key` that holds nothing yet.
    pub(crate) fn new(bucket: &str, key: &str) -> Self {
        ObjectMeta {
            bucket: bucket.to_string(),
            key: key.to_string(),
            ..Default::default()
        }
    }

    /// Whether the entry says nothing s3s-fs does not (then it is not kept).
    fn is_empty(&self) -> bool {
        self.full_checksum.is_none()
            && self.tags.is_empty()
            && self.encryption.is_none()
            && self.storage_class.is_none()
            && self.restored_until_unix_ms.is_none()
            && self.folder_marker.is_none()
            && self.parts.is_empty()
            && self.composite.is_none()
    }
}

/// A folder marker's own attributes (its ETag is the entry's).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct FolderMarker {
    pub last_modified_unix_ms: u64,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
}

#[derive(Default)]
struct State {
    uploads: HashMap<String, UploadMeta>,
    objects: HashMap<(String, String), ObjectMeta>,
}

/// The store. One lock for all of it: entries are tiny, and holding the lock across the sidecar
/// write keeps memory and disk in the same order.
pub(crate) struct MetaStore {
    dir: PathBuf,
    state: Mutex<State>,
}

impl MetaStore {
    /// Open (or create) the store under `root` and load everything it holds, dropping uploads
    /// for which `upload_alive` says s3s-fs no longer has them (finished by a plain server).
    pub(crate) fn open(root: &Path, upload_alive: impl Fn(&str) -> bool) -> io::Result<Self> {
        let dir = root.join(META_DIR);
        std::fs::create_dir_all(dir.join("uploads"))?;
        std::fs::create_dir_all(dir.join("objects"))?;
        let mut state = State::default();
        for path in json_files(&dir.join("objects"))? {
            if let Some(object) = read_json::<ObjectMeta>(&path) {
                state
                    .objects
                    .insert((object.bucket.clone(), object.key.clone()), object);
            }
        }
        for entry in std::fs::read_dir(dir.join("uploads"))? {
            let upload_dir = entry?.path();
            let Some(mut upload) = read_json::<UploadMeta>(&upload_dir.join("upload.json")) else {
                continue;
            };
            if !upload_alive(&upload.upload_id) {
                std::fs::remove_dir_all(&upload_dir)?;
                continue;
            }
            for path in json_files(&upload_dir)? {
                if let Some(part) = read_json::<PartMeta>(&path).filter(|_| is_part_file(&path)) {
                    upload.parts.insert(part.part_number, part);
                }
            }
            state.uploads.insert(upload.upload_id.clone(), upload);
        }
        Ok(MetaStore {
            dir,
            state: Mutex::new(state),
        })
    }

    fn upload_dir(&self, upload_id: &str) -> PathBuf {
        self.dir.join("uploads").join(upload_id)
    }

    fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        let digest = Md5::new()
            .chain_update(bucket)
            .chain_update(b"\n")
            .chain_update(key)
            .finalize();
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join("objects").join(format!("{name}.json"))
    }

    /// Record a new upload. Its id comes from s3s-fs (a UUID), so it is a safe directory name.
    pub(crate) async fn add_upload(&self, upload: UploadMeta) -> io::Result<()> {
        let mut state = self.state.lock().await;
        let dir = self.upload_dir(&upload.upload_id);
        tokio::fs::create_dir_all(&dir).await?;
        write_json(&dir.join("upload.json"), &upload).await?;
        state.uploads.insert(upload.upload_id.clone(), upload);
        Ok(())
    }

    /// A known upload, with its parts.
    pub(crate) async fn upload(&self, upload_id: &str) -> Option<UploadMeta> {
        self.state.lock().await.uploads.get(upload_id).cloned()
    }

    /// Record a received part of a known upload (replacing an earlier one with its number).
    pub(crate) async fn add_part(&self, upload_id: &str, part: PartMeta) -> io::Result<()> {
        let mut state = self.state.lock().await;
        let Some(upload) = state.uploads.get_mut(upload_id) else {
            return Ok(());
        };
        let path = self
            .upload_dir(upload_id)
            .join(format!("part-{}.json", part.part_number));
        write_json(&path, &part).await?;
        upload.parts.insert(part.part_number, part);
        Ok(())
    }

    /// Forget an upload (completed or aborted).
    pub(crate) async fn remove_upload(&self, upload_id: &str) -> io::Result<()> {
        let mut state = self.state.lock().await;
        if state.uploads.remove(upload_id).is_some() {
            remove_dir_if_present(&self.upload_dir(upload_id)).await?;
        }
        Ok(())
    }

    /// Uploads in a bucket, without their parts.
    pub(crate) async fn uploads_in(&self, bucket: &str) -> Vec<UploadMeta> {
        let state = self.state.lock().await;
        let uploads = state.uploads.values().filter(|u| u.bucket == bucket);
        uploads
            .map(|u| UploadMeta {
                parts: BTreeMap::new(),
                ..u.clone()
            })
            .collect()
    }

    /// What we stored for an object, if anything.
    pub(crate) async fn object(&self, bucket: &str, key: &str) -> Option<ObjectMeta> {
        let state = self.state.lock().await;
        let id = (bucket.to_string(), key.to_string());
        state.objects.get(&id).cloned()
    }

    /// Store an object's meta, replacing what was there; with nothing to keep, drop the entry.
    pub(crate) async fn set_object(&self, object: ObjectMeta) -> io::Result<()> {
        if object.is_empty() {
            return self.remove_object(&object.bucket, &object.key).await;
        }
        let mut state = self.state.lock().await;
        write_json(&self.object_path(&object.bucket, &object.key), &object).await?;
        let id = (object.bucket.clone(), object.key.clone());
        state.objects.insert(id, object);
        Ok(())
    }

    /// Drop an object's meta (deleted or overwritten).
    pub(crate) async fn remove_object(&self, bucket: &str, key: &str) -> io::Result<()> {
        let mut state = self.state.lock().await;
        let id = (bucket.to_string(), key.to_string());
        if state.objects.remove(&id).is_some() {
            remove_file_if_present(&self.object_path(bucket, key)).await?;
        }
        Ok(())
    }

    /// What we stored for these objects of a bucket (those we know anything about).
    pub(crate) async fn objects_in<'a>(
        &self,
        bucket: &str,
        keys: impl Iterator<Item = &'a str>,
    ) -> HashMap<String, ObjectMeta> {
        let state = self.state.lock().await;
        let mut found = HashMap::new();
        let mut id = (bucket.to_string(), String::new());
        for key in keys {
            key.clone_into(&mut id.1);
            if let Some(object) = state.objects.get(&id) {
                found.insert(key.to_string(), object.clone());
            }
        }
        found
    }

    /// The folder markers of a bucket whose keys start with `prefix`, sorted by key.
    pub(crate) async fn folder_markers(&self, bucket: &str, prefix: &str) -> Vec<ObjectMeta> {
        let state = self.state.lock().await;
        let mut markers: Vec<ObjectMeta> = state
            .objects
            .values()
            .filter(|o| o.bucket == bucket && o.key.starts_with(prefix))
            .filter(|o| o.folder_marker.is_some())
            .cloned()
            .collect();
        markers.sort_by(|a, b| a.key.cmp(&b.key));
        markers
    }

    /// Drop everything about a deleted bucket.
    pub(crate) async fn remove_bucket(&self, bucket: &str) -> io::Result<()> {
        let mut state = self.state.lock().await;
        let objects: Vec<(String, String)> = state
            .objects
            .keys()
            .filter(|(b, _)| b == bucket)
            .cloned()
            .collect();
        for id in objects {
            state.objects.remove(&id);
            remove_file_if_present(&self.object_path(&id.0, &id.1)).await?;
        }
        let uploads: Vec<String> = state
            .uploads
            .values()
            .filter(|u| u.bucket == bucket)
            .map(|u| u.upload_id.clone())
            .collect();
        for upload_id in uploads {
            state.uploads.remove(&upload_id);
            remove_dir_if_present(&self.upload_dir(&upload_id)).await?;
        }
        Ok(())
    }
}

fn is_part_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("part-"))
}

/// `*.json` files directly in `dir`.
fn json_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

/// A sidecar that does not parse is skipped (and logged), never fatal: it only ever loses the
/// extra behaviour for one object or upload.
fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "skipping unreadable sidecar");
            None
        }
    }
}

async fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec(value).map_err(io::Error::other)?;
    let tmp = path.with_extension("json.tmp");
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}

async fn remove_file_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

async fn remove_dir_if_present(path: &Path) -> io::Result<()> {
    match tokio::fs::remove_dir_all(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}
