//! ListMultipartUploads for the faithful server (s3s-fs answers 501): the in-progress uploads
//! started through it, with key, upload id, initiated time and checksum settings. Supports
//! `prefix`, `delimiter` (common prefixes), `max-uploads` and the `key-marker` /
//! `upload-id-marker` cursor. Sorted by key, then initiation time, as S3 does. An upload s3s-fs
//! no longer has (finished through a plain server on the same root) is not listed.

use std::time::{Duration, UNIX_EPOCH};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::faithful::{Faithful, sub_request};
use super::meta::UploadMeta;

const MAX_UPLOADS: usize = 1000;

/// One entry of the answer: an upload, or a common prefix standing for several.
enum Entry {
    Upload(Box<UploadMeta>),
    Prefix(String),
}

fn to_dto(upload: UploadMeta) -> MultipartUpload {
    let initiated = UNIX_EPOCH + Duration::from_millis(upload.initiated_unix_ms);
    MultipartUpload {
        checksum_algorithm: upload
            .checksum_algorithm
            .map(|a| ChecksumAlgorithm::from_static(a.name())),
        checksum_type: upload.checksum_type.map(ChecksumType::from),
        initiated: Some(Timestamp::from(initiated)),
        key: Some(upload.key),
        storage_class: Some(StorageClass::from_static(StorageClass::STANDARD)),
        upload_id: Some(upload.upload_id),
        ..Default::default()
    }
}

/// Drop what comes at or before the cursor. With an upload-id marker, resume after that upload
/// (our own `NextUploadIdMarker` always names one); without, after every upload of the key.
fn skip_to_cursor(uploads: &mut Vec<UploadMeta>, key_marker: &str, upload_id_marker: Option<&str>) {
    let position = upload_id_marker.and_then(|id| {
        uploads
            .iter()
            .position(|u| u.key == key_marker && u.upload_id == id)
    });
    match position {
        Some(i) => {
            uploads.drain(..=i);
        }
        None => uploads.retain(|u| u.key.as_str() > key_marker),
    }
}

/// Group keys that contain `delimiter` after the prefix into common prefixes.
fn group(uploads: Vec<UploadMeta>, prefix: &str, delimiter: Option<&str>) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let common = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            let rest = &upload.key[prefix.len()..];
            rest.find(d)
                .map(|at| upload.key[..prefix.len() + at + d.len()].to_string())
        });
        match common {
            Some(common) => {
                let seen = matches!(entries.last(), Some(Entry::Prefix(p)) if *p == common);
                if !seen {
                    entries.push(Entry::Prefix(common));
                }
            }
            None => entries.push(Entry::Upload(Box::new(upload))),
        }
    }
    entries
}

impl Faithful {
    pub(super) async fn list_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let head = HeadBucketInput {
            bucket: req.input.bucket.clone(),
            ..Default::default()
        };
        self.fs.head_bucket(sub_request(&req, head)).await?;
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut uploads: Vec<UploadMeta> = self.meta.uploads_in(&input.bucket).await;
        uploads.retain(|u| u.key.starts_with(&prefix) && self.upload_alive(&u.upload_id));
        uploads.sort_by(|a, b| {
            (&a.key, a.initiated_unix_ms, &a.upload_id).cmp(&(
                &b.key,
                b.initiated_unix_ms,
                &b.upload_id,
            ))
        });
        if let Some(key_marker) = input.key_marker.as_deref() {
            skip_to_cursor(&mut uploads, key_marker, input.upload_id_marker.as_deref());
        }
        let max_uploads = input.max_uploads.map_or(MAX_UPLOADS, |m| {
            usize::try_from(m).unwrap_or(0).min(MAX_UPLOADS)
        });
        let mut entries = group(uploads, &prefix, input.delimiter.as_deref());
        let is_truncated = entries.len() > max_uploads;
        entries.truncate(max_uploads);
        let (next_key_marker, next_upload_id_marker) = match entries.last() {
            Some(Entry::Upload(u)) => (Some(u.key.clone()), Some(u.upload_id.clone())),
            Some(Entry::Prefix(p)) => (Some(p.clone()), None),
            None => (None, None),
        };
        let mut listed = Vec::new();
        let mut common_prefixes = Vec::new();
        for entry in entries {
            match entry {
                Entry::Upload(u) => listed.push(to_dto(*u)),
                Entry::Prefix(p) => common_prefixes.push(CommonPrefix { prefix: Some(p) }),
            }
        }
        let output = ListMultipartUploadsOutput {
            bucket: Some(input.bucket),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            delimiter: input.delimiter,
            is_truncated: Some(is_truncated),
            key_marker: input.key_marker,
            max_uploads: Some(i32::try_from(max_uploads).unwrap_or(i32::MAX)),
            next_key_marker: next_key_marker.filter(|_| is_truncated),
            next_upload_id_marker: next_upload_id_marker.filter(|_| is_truncated),
            prefix: input.prefix,
            upload_id_marker: input.upload_id_marker,
            uploads: Some(listed),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}
