//! [`Faithful`]: s3s-fs wrapped so it behaves more like real S3 where airlock cares. Every
//! operation s3s-fs implements is delegated; on top of it come multipart checksums (per part and
//! full-object), `If-Match`/`If-None-Match` on GET/HEAD, ListMultipartUploads, object tags, and
//! NoSuchUpload for finished uploads. The object-state behaviours a test switches on
//! ([`Behaviours`](crate::Behaviours)) live here too, each in its module: `sse`, `folders`,
//! `listing`, `archive`, `legacy`. The operations' extra logic lives in the sibling modules
//! `objects`, `multipart`, `tagging` and those; this file is the `S3` trait surface and what
//! they share.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use s3s::dto::*;
use s3s::{S3, S3Error, S3Request, S3Response, S3Result};
use s3s_fs::FileSystem;

use super::behaviours::Switches;
use super::meta::{MetaStore, ObjectMeta};

/// s3s-fs plus the state it lacks (see [`MetaStore`]).
pub(crate) struct Faithful {
    pub(super) fs: FileSystem,
    pub(super) meta: MetaStore,
    /// The canonical server root, where s3s-fs keeps its `.upload-*` files.
    pub(super) root: PathBuf,
    /// The behaviour switches (see [`Switches`]); all off unless a test turns them on.
    pub(super) switches: Arc<Switches>,
}

impl Faithful {
    /// Serve `root` (which must exist), loading any sidecars a previous server left there.
    pub(crate) fn new(root: &Path, switches: Arc<Switches>) -> io::Result<Self> {
        let root = root.canonicalize()?;
        let fs = FileSystem::new(&root).map_err(|e| io::Error::other(format!("{e:?}")))?;
        let meta = MetaStore::open(&root, |id| upload_marker(&root, id).is_file())?;
        Ok(Faithful {
            fs,
            meta,
            root,
            switches,
        })
    }

    /// The object's meta if it still describes the object: its ETag is `current` (the ETag s3s-fs
    /// reports now). A mismatch means the object was replaced behind our back.
    pub(super) async fn current_meta(
        &self,
        bucket: &str,
        key: &str,
        current: Option<&ETag>,
    ) -> Option<ObjectMeta> {
        let meta = self.meta.object(bucket, key).await?;
        (current.map(ETag::value) == Some(meta.etag.as_str())).then_some(meta)
    }

    /// Whether s3s-fs still has the upload (its `.upload-<id>.json` marker exists).
    pub(super) fn upload_alive(&self, upload_id: &str) -> bool {
        upload_marker(&self.root, upload_id).is_file()
    }
}

/// s3s-fs's marker file for an upload; only for ids shaped like its UUIDs, so a client-sent id
/// can never name another path.
fn upload_marker(root: &Path, upload_id: &str) -> PathBuf {
    let uuid_shaped =
        !upload_id.is_empty() && upload_id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    match uuid_shaped {
        true => root.join(format!(".upload-{upload_id}.json")),
        false => root.join(".upload-invalid"),
    }
}

/// A request for another operation, carrying the caller's identity (s3s-fs checks upload ids
/// against the access key).
pub(super) fn sub_request<T, U>(req: &S3Request<T>, input: U) -> S3Request<U> {
    S3Request {
        input,
        method: req.method.clone(),
        uri: req.uri.clone(),
        headers: req.headers.clone(),
        extensions: Default::default(),
        credentials: req.credentials.clone(),
        region: req.region.clone(),
        service: req.service.clone(),
        trailing_headers: None,
    }
}

/// A failure to update the sidecars is a server fault, like s3s-fs's own I/O errors.
pub(super) fn internal(e: io::Error) -> S3Error {
    S3Error::internal_error(e)
}

#[async_trait::async_trait]
impl S3 for Faithful {
    // Plain delegation: s3s-fs already behaves like S3 here (for airlock's purposes).

    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.fs.create_bucket(req).await
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.fs.get_bucket_location(req).await
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.fs.head_bucket(req).await
    }

    async fn list_buckets(
        &self,
        req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        self.fs.list_buckets(req).await
    }

    // Listings: s3s-fs's, unless a listing behaviour is on (module `listing`).

    async fn list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        self.list_objects_decorated(req).await
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.list_objects_v2_decorated(req).await
    }

    async fn list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        self.list_object_versions_decorated(req).await
    }

    // Objects: delegated, then our meta follows (module `objects`).

    async fn delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        self.delete_bucket_and_meta(req).await
    }

    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        // Like S3: `aws-chunked` frames the request body; it is not the object's encoding.
        req.input.content_encoding = req.input.content_encoding.take().and_then(|encoding| {
            let own: Vec<&str> = encoding
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            (!own.is_empty()).then(|| own.join(","))
        });
        if self.is_marker_key(&req.input.key)
            && let Some(answer) = self.put_marker(&req).await
        {
            return answer;
        }
        self.put_object_with_tags(req).await
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        self.copy_object_with_meta(req).await
    }

    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.delete_object_and_meta(req).await
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.delete_objects_and_meta(req).await
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        if self.is_marker_key(&req.input.key) {
            return self.get_marker(req).await;
        }
        self.get_object_checked(req).await
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        if self.is_marker_key(&req.input.key) {
            return self.head_marker(req).await;
        }
        self.head_object_checked(req).await
    }

    async fn get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        self.object_attributes(req).await
    }

    // Multipart (module `multipart`).

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.create_upload(req).await
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.upload_part_verified(req).await
    }

    async fn upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        self.upload_part_copy_recorded(req).await
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.list_parts_with_meta(req).await
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.complete_upload(req).await
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        if !self.upload_alive(&upload_id) {
            return Err(super::multipart::no_such_upload());
        }
        let resp = self.fs.abort_multipart_upload(req).await?;
        self.meta
            .remove_upload(&upload_id)
            .await
            .map_err(internal)?;
        Ok(resp)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.list_uploads(req).await
    }

    async fn restore_object(
        &self,
        req: S3Request<RestoreObjectInput>,
    ) -> S3Result<S3Response<RestoreObjectOutput>> {
        self.restore(req).await
    }

    // Tags (module `tagging`); s3s-fs has none.

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.get_tags(req).await
    }

    async fn put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        self.put_tags(req).await
    }

    async fn delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        self.delete_tags(req).await
    }
}
