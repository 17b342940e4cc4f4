//! Folder markers (behaviour `set_folder_markers`). AWS: S3 has no folders; the console's
//! "Create folder" writes a 0-byte object whose key ends with `/` (`photos/`), and tools do the
//! same. It is an object like any other: HEAD and GET answer it (size 0, the MD5 ETag of
//! nothing, `d41d8cd98f00b204e9800998ecf8427e`), listings show it, and a delimiter rolls it into
//! the CommonPrefix `photos/` like the keys under it.
//!
//! s3s-fs maps keys to paths, so `photos/` becomes a directory: it is never listed, and HEAD/GET
//! answer 500 (a directory is not a file). With the behaviour on, a 0-byte PUT of such a key is
//! kept in our meta only (nothing on disk, so `photos` can still be an object too, as in S3),
//! and HEAD/GET of a key ending in `/` answer from there (404 NoSuchKey if there is none).
//! Deletes go through s3s-fs as before and drop the meta. A marker with content is refused as
//! s3s-fs refuses it (S3 would store it).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3s::dto::*;
use s3s::stream::ByteStream as _;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::behaviours::Switches;
use super::conditions::{Conditions, Verdict, not_modified, precondition_failed};
use super::faithful::Faithful;
use super::meta::{FolderMarker, ObjectMeta};
use super::sse::{Requested, encryption_for, report_encryption};
use super::tagging::parse_tagging_header;

/// The MD5 of nothing: a folder marker's ETag.
const EMPTY_MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";

/// What a marker answers HEAD and GET with.
struct Answer {
    etag: ETag,
    last_modified: Timestamp,
    content_type: Option<String>,
    metadata: Option<HashMap<String, String>>,
}

impl Faithful {
    /// Whether this key is a folder marker the behaviour handles.
    pub(super) fn is_marker_key(&self, key: &str) -> bool {
        key.ends_with('/') && Switches::on(&self.switches.folder_markers)
    }

    /// PutObject of a folder marker; `None`: not one (a body), let s3s-fs answer.
    pub(super) async fn put_marker(
        &self,
        req: &S3Request<PutObjectInput>,
    ) -> Option<S3Result<S3Response<PutObjectOutput>>> {
        let input = &req.input;
        let empty = input.content_length == Some(0)
            || input
                .body
                .as_ref()
                .and_then(|b| b.remaining_length().exact())
                == Some(0);
        if !empty {
            return None;
        }
        Some(self.store_marker(input).await)
    }

    async fn store_marker(&self, input: &PutObjectInput) -> S3Result<S3Response<PutObjectOutput>> {
        let tags = parse_tagging_header(input.tagging.as_deref())?;
        // s3s has validated the name; s3s-fs's buckets are directories of the root.
        if !self.root.join(&input.bucket).is_dir() {
            return Err(s3_error!(NoSuchBucket));
        }
        let encryption = encryption_for(
            &self.switches,
            Requested {
                sse: input.server_side_encryption.as_ref(),
                kms_key_id: input.ssekms_key_id.as_ref(),
                customer_algorithm: input.sse_customer_algorithm.as_ref(),
                customer_key_md5: input.sse_customer_key_md5.as_ref(),
            },
        );
        let etag = match encryption {
            Some(_) => super::sse::opaque_etag(),
            None => EMPTY_MD5.to_string(),
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let marker = FolderMarker {
            last_modified_unix_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            content_type: input.content_type.clone(),
            metadata: input.metadata.clone(),
        };
        let object = ObjectMeta {
            etag: etag.clone(),
            tags,
            encryption: encryption.clone(),
            folder_marker: Some(marker),
            ..ObjectMeta::new(&input.bucket, &input.key)
        };
        self.meta
            .set_object(object)
            .await
            .map_err(super::faithful::internal)?;
        let mut output = PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            ..Default::default()
        };
        report_encryption!(encryption.as_ref() => output);
        Ok(S3Response::new(output))
    }

    /// The marker `bucket`/`key` with its conditions applied, or the error S3 answers.
    async fn marker(
        &self,
        bucket: &str,
        key: &str,
        conditions: &Conditions,
    ) -> S3Result<(ObjectMeta, Answer)> {
        let meta = self.meta.object(bucket, key).await;
        let Some(meta) = meta.filter(|m| m.folder_marker.is_some()) else {
            return Err(s3_error!(NoSuchKey));
        };
        let marker = meta.folder_marker.clone().unwrap_or_default();
        let modified = UNIX_EPOCH + Duration::from_millis(marker.last_modified_unix_ms);
        let answer = Answer {
            etag: ETag::Strong(meta.etag.clone()),
            last_modified: Timestamp::from(modified),
            content_type: marker.content_type,
            metadata: marker.metadata,
        };
        match conditions.evaluate(Some(&answer.etag), Some(&answer.last_modified)) {
            Verdict::Failed => Err(precondition_failed()),
            Verdict::NotModified => Err(not_modified(
                Some(&answer.etag),
                Some(&answer.last_modified),
            )),
            Verdict::Proceed => Ok((meta, answer)),
        }
    }

    pub(super) async fn head_marker(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = &req.input;
        let conditions = Conditions::of_head(input);
        let (meta, answer) = self.marker(&input.bucket, &input.key, &conditions).await?;
        if let Some(encryption) = &meta.encryption {
            let key_md5 = input.sse_customer_key_md5.as_ref();
            encryption.check_read(input.sse_customer_algorithm.as_ref(), key_md5)?;
        }
        let mut output = HeadObjectOutput {
            content_length: Some(0),
            e_tag: Some(answer.etag),
            last_modified: Some(answer.last_modified),
            content_type: answer.content_type,
            metadata: answer.metadata,
            ..Default::default()
        };
        report_encryption!(meta.encryption.as_ref() => output);
        Ok(S3Response::new(output))
    }

    pub(super) async fn get_marker(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = &req.input;
        let conditions = Conditions::of_get(input);
        let (meta, answer) = self.marker(&input.bucket, &input.key, &conditions).await?;
        if let Some(encryption) = &meta.encryption {
            let key_md5 = input.sse_customer_key_md5.as_ref();
            encryption.check_read(input.sse_customer_algorithm.as_ref(), key_md5)?;
        }
        if let Some(range) = input.range {
            // Like any 0-byte object: no range of it can be satisfied.
            range.check(0)?;
        }
        let mut output = GetObjectOutput {
            body: Some(StreamingBlob::from(s3s::Body::empty())),
            content_length: Some(0),
            e_tag: Some(answer.etag),
            last_modified: Some(answer.last_modified),
            content_type: answer.content_type,
            metadata: answer.metadata,
            ..Default::default()
        };
        report_encryption!(meta.encryption.as_ref() => output);
        Ok(S3Response::new(output))
    }
}
