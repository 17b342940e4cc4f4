//! [`Synthetic`]: the S3 trait surface of a synthetic server. One bucket; listings and object
//! reads from the [`Catalog`]; a sink also takes writes (module `sink`), a source refuses them
//! (403 AccessDenied). Operations not listed here answer 501 NotImplemented (s3s's default).

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};

use super::dataset::Catalog;
use super::received::Received;
use super::sink::{self, Uploads};

pub(crate) struct Synthetic {
    pub catalog: Catalog,
    pub bucket: String,
    /// A sink's open multipart uploads (empty on a source).
    pub uploads: Uploads,
    /// The objects a sink received last, for HEAD (empty on a source).
    pub received: Received,
}

impl Synthetic {
    fn check_bucket(&self, bucket: &str) -> S3Result<()> {
        match bucket == self.bucket {
            true => Ok(()),
            false => Err(s3_error!(
                NoSuchBucket,
                "The specified bucket does not exist"
            )),
        }
    }

    /// The bucket is this one, and this server takes writes.
    fn check_writable(&self, bucket: &str) -> S3Result<()> {
        self.check_bucket(bucket)?;
        match self.catalog.sink {
            true => Ok(()),
            false => Err(s3_error!(
                AccessDenied,
                "This synthetic source is read-only"
            )),
        }
    }
}

fn answer<T>(output: T) -> S3Result<S3Response<T>> {
    Ok(S3Response::new(output))
}

#[async_trait::async_trait]
impl S3 for Synthetic {
    async fn list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let bucket = Bucket {
            name: Some(self.bucket.clone()),
            creation_date: Some(super::objects::timestamp(1_735_689_600)),
            ..Default::default()
        };
        answer(ListBucketsOutput {
            buckets: Some(vec![bucket]),
            ..Default::default()
        })
    }

    async fn head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        self.check_bucket(&req.input.bucket)?;
        answer(HeadBucketOutput::default())
    }

    async fn get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.check_bucket(&req.input.bucket)?;
        answer(GetBucketLocationOutput::default())
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        self.check_bucket(&req.input.bucket)?;
        answer(self.catalog.list_objects_v2(&req.input)?)
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        self.check_bucket(&req.input.bucket)?;
        if let Some(object) = self.received.get(&req.input.key) {
            return answer(object.head(&req.input)?);
        }
        answer(self.catalog.head_object(&req.input).await?)
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        self.check_bucket(&req.input.bucket)?;
        if self.received.get(&req.input.key).is_some() {
            return Err(s3_error!(
                NotImplemented,
                "This synthetic sink keeps no bytes: what it received cannot be read back"
            ));
        }
        answer(self.catalog.get_object(&req.input).await?)
    }

    async fn get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        self.check_bucket(&req.input.bucket)?;
        self.catalog.found(&req.input.key)?;
        answer(GetObjectTaggingOutput::default())
    }

    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        self.check_writable(&req.input.bucket)?;
        let key = &req.input.key;
        let exists = || self.catalog.find(key).is_some() || self.received.get(key).is_some();
        if matches!(req.input.if_none_match, Some(ETagCondition::Any)) && exists() {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
        answer(sink::put_object(req, &self.received).await?)
    }

    async fn create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        self.check_writable(&req.input.bucket)?;
        answer(self.uploads.create(&req.input)?)
    }

    async fn upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        self.check_writable(&req.input.bucket)?;
        answer(self.uploads.upload_part(req).await?)
    }

    async fn complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        self.check_writable(&req.input.bucket)?;
        answer(self.uploads.complete(&req.input, &self.received)?)
    }

    async fn abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        self.check_writable(&req.input.bucket)?;
        self.uploads.abort(&req.input)?;
        answer(AbortMultipartUploadOutput::default())
    }

    async fn list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        self.check_writable(&req.input.bucket)?;
        answer(self.uploads.list_parts(&req.input)?)
    }

    async fn list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        self.check_bucket(&req.input.bucket)?;
        answer(self.uploads.list(&req.input)?)
    }

    /// The delete succeeds as on S3 (204 for any key) and the sink forgets the object if it
    /// received it; its preset objects stay listed.
    async fn delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        self.check_writable(&req.input.bucket)?;
        self.received.forget(&req.input.key);
        answer(DeleteObjectOutput::default())
    }

    async fn delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        self.check_writable(&req.input.bucket)?;
        let quiet = req.input.delete.quiet.unwrap_or(false);
        for object in &req.input.delete.objects {
            self.received.forget(&object.key);
        }
        let deleted = req.input.delete.objects.iter().map(|o| DeletedObject {
            key: Some(o.key.clone()),
            ..Default::default()
        });
        answer(DeleteObjectsOutput {
            deleted: (!quiet).then(|| deleted.collect()),
            ..Default::default()
        })
    }
}
