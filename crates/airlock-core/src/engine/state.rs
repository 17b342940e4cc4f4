//! The target-side record of an open multipart upload, so that a run on another machine (an
//! empty data dir) can resume it: one small JSON object per upload under `[target]
//! state_prefix`, at `<prefix>uploads/<hex SHA-256 of the target key>.json`. It names the
//! target key, the upload id, the source version (ETag, version id, size), the part layout
//! and the checksum mode; no secrets. Written with the target client (and the run's SSE/ACL)
//! when an upload is opened, deleted (best effort) when it is completed or aborted. S3 gives no
//! way to read an open upload's metadata, hence this object.
//!
//! A leaf of the engine: depends on `crate::aws`, `crate::config` and `crate::error` only.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use aws_smithy_types::body::SdkBody;

use crate::aws::objects::{self, PlainUpload, PutBody, WriteParams};
use crate::aws::{SideClient, delete, documents};
use crate::config::WriteOptions;
use crate::error::Class;

/// What an open upload is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UploadState {
    pub target_key: String,
    pub upload_id: String,
    pub source_key: String,
    pub source_etag: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version_id: Option<String>,
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
    /// The write mode's name (`trailer`, `trailer-parts`, `md5`, `none`).
    pub checksum: String,
    /// When the upload was opened, ms since the epoch.
    pub created_ms: u64,
}

/// The state object's key for `target_key`.
pub(crate) fn key(state_prefix: &str, target_key: &str) -> String {
    let digest = sha2::Sha256::digest(target_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{state_prefix}uploads/{hex}.json")
}

/// Milliseconds since the epoch, now.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Record an upload, with the run's write options (SSE, ACL: a bucket policy that demands them
/// applies to this PUT too). A failure only logs: the upload still works, it just cannot be
/// resumed from the target.
pub(crate) async fn save(target: &SideClient, write: &WriteOptions, state: &UploadState) {
    use base64::Engine as _;
    use md5::Digest as _;
    let key = key(&write.state_prefix, &state.target_key);
    let body = match serde_json::to_vec(state) {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(error = %e, "could not encode the upload's state object");
            return;
        }
    };
    let content_md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
    let upload = PutBody::Plain(PlainUpload {
        length: body.len() as u64,
        body: SdkBody::from(body),
        checksum: None,
        content_md5: Some(content_md5),
    });
    let params = WriteParams {
        attributes: None,
        copied_from_etag: "airlock-upload-state",
        options: write,
        tagging: None,
    };
    if let Err(e) = objects::put_stream(target, &key, upload, &params).await {
        tracing::warn!(key = %state.target_key, state = %key, error = %e, "could not write the upload's state object; a run on another machine would start this object over");
    }
}

/// The recorded upload for `target_key`: None when there is none (404), when it cannot be
/// read (logged), or when it names another key.
pub(crate) async fn load(
    target: &SideClient,
    state_prefix: &str,
    target_key: &str,
) -> Option<UploadState> {
    let key = key(state_prefix, target_key);
    let body = match documents::get(target, &target.bucket, &key).await {
        Ok(body) => body,
        Err(e) if e.class() == Class::NotFound => return None,
        Err(e) => {
            tracing::warn!(key = %target_key, state = %key, error = %e, "could not read the upload's state object: starting the object over");
            return None;
        }
    };
    match serde_json::from_slice::<UploadState>(&body) {
        Ok(state) if state.target_key == target_key => Some(state),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(key = %target_key, state = %key, error = %e, "the upload's state object does not parse: ignored");
            None
        }
    }
}

/// The upload id the target's state object records for `target_key`, if any (`airlock uploads
/// list` marks that upload resumable from the target).
pub async fn recorded_upload_id(
    target: &SideClient,
    state_prefix: &str,
    target_key: &str,
) -> Option<String> {
    load(target, state_prefix, target_key)
        .await
        .map(|s| s.upload_id)
}

/// Delete the record of `target_key`'s upload (completed or aborted). A failure only logs.
pub(crate) async fn forget(target: &SideClient, state_prefix: &str, target_key: &str) {
    let key = key(state_prefix, target_key);
    if let Err(e) = delete::delete_object(target, &key).await
        && e.class() != Class::NotFound
    {
        tracing::warn!(key = %target_key, state = %key, error = %e, "could not delete the upload's state object");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_sha256_of_the_target_key_under_the_prefix() {
        assert_eq!(
            key(".airlock/", "abc"),
            ".airlock/uploads/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad.json"
        );
    }
}
