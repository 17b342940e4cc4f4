//! Object operations of the faithful server: s3s-fs does the work, then we apply what it lacks.
//! GET/HEAD evaluate the conditional headers (module `conditions`), report checksums only with
//! `x-amz-checksum-mode: ENABLED`, including the full-object or COMPOSITE checksum of multipart
//! objects, answer `partNumber=N` with that part (module `parts`), and
//! add what the switched behaviours keep (encryption, storage class: modules `sse`, `archive`).
//! PUT, copy and delete keep the per-object meta in step, so an overwritten or deleted object
//! loses it.

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::archive::take_class;
use super::checksum::{Sums, dto_sums};
use super::conditions::{Conditions, Verdict, not_modified, precondition_failed};
use super::faithful::{Faithful, internal};
use super::file_body;
use super::legacy;
use super::meta::{FullChecksum, ObjectMeta};
use super::parts;
use super::sse::{Requested, encryption_for, opaque_etag, report_encryption};
use super::tagging::parse_tagging_header;

fn checksum_mode_enabled(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
}

/// The checksums to report for a whole-object read. s3s-fs's own values only for objects it
/// stored with a single PUT: for a multipart ETag (`...-N`) it may still hold the values of an
/// object the upload replaced, so there only our full-object checksum counts.
fn reported_sums(
    from_fs: Sums,
    etag: Option<&ETag>,
    full: Option<FullChecksum>,
    enabled: bool,
) -> Sums {
    if !enabled {
        return Sums::default();
    }
    let multipart = etag.is_some_and(|e| e.value().contains('-'));
    let mut sums = if multipart { Sums::default() } else { from_fs };
    if let Some(full) = full {
        sums.set(full.algorithm, full.value);
    }
    sums
}

/// The checksums and type a whole-object read reports: the full-object ones, or else a
/// multipart object's COMPOSITE `value-N`.
fn whole_object_sums(
    from_fs: Sums,
    etag: Option<&ETag>,
    meta: Option<&ObjectMeta>,
    enabled: bool,
) -> (Sums, Option<ChecksumType>) {
    let full = meta.and_then(|m| m.full_checksum.clone());
    let mut sums = reported_sums(from_fs, etag, full, enabled);
    if sums.present().next().is_some() {
        return (
            sums,
            Some(ChecksumType::from_static(ChecksumType::FULL_OBJECT)),
        );
    }
    match meta.and_then(|m| m.composite.clone()) {
        Some(composite) if enabled => {
            sums.set(composite.algorithm, composite.value);
            (
                sums,
                Some(ChecksumType::from_static(ChecksumType::COMPOSITE)),
            )
        }
        _ => (sums, None),
    }
}

impl Faithful {
    pub(super) async fn get_object_checked(
        &self,
        mut req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = &req.input;
        let conditions = Conditions::of_get(input);
        let enabled = checksum_mode_enabled(input.checksum_mode.as_ref());
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let customer_key = (
            input.sse_customer_algorithm.clone(),
            input.sse_customer_key_md5.clone(),
        );
        // `partNumber`: s3s-fs ignores it; read that part's bytes as a range instead. Whether the
        // layout still describes the object is checked against the ETag s3s-fs answers.
        let part_number = req.input.part_number.take();
        let stored = self.meta.object(&bucket, &key).await;
        let part = parts::asked_part(part_number, stored.as_ref())?;
        if let Some((first, last, _, _)) = part {
            req.input.range = Some(Range::Int {
                first,
                last: Some(last),
            });
        }
        let range = req.input.range;
        let mut resp = self.fs.get_object(req).await?;
        let out = &mut resp.output;
        match conditions.evaluate(out.e_tag.as_ref(), out.last_modified.as_ref()) {
            Verdict::Failed => return Err(precondition_failed()),
            Verdict::NotModified => {
                return Err(not_modified(out.e_tag.as_ref(), out.last_modified.as_ref()));
            }
            Verdict::Proceed => {}
        }
        let answered = file_body::Answered {
            range,
            content_length: out.content_length,
            last_modified: out.last_modified.clone(),
        };
        if let Some(body) = file_body::open(&self.root, &bucket, &key, answered).await {
            out.body = Some(body);
        }
        let meta = self.current_meta(&bucket, &key, out.e_tag.as_ref()).await;
        let encryption = meta.as_ref().and_then(|m| m.encryption.as_ref());
        if let Some(encryption) = encryption {
            encryption.check_read(customer_key.0.as_ref(), customer_key.1.as_ref())?;
        }
        report_encryption!(encryption => out);
        self.check_readable(meta.as_ref())?;
        let class = self.reported_class(meta.as_ref());
        (out.storage_class, out.restore) = (class.storage_class, class.restore);
        let whole = out.content_range.is_none();
        let (mut sums, kind) = whole_object_sums(
            dto_sums!(read out),
            out.e_tag.as_ref(),
            meta.as_ref(),
            enabled && whole,
        );
        out.checksum_type = kind;
        if let (Some(number), Some(meta)) = (part_number.filter(|_| part.is_some()), &meta) {
            out.parts_count = parts::parts_count(&meta.parts);
            sums = parts::part_sums(meta, number, enabled);
        }
        dto_sums!(write sums => out);
        let tag_count = meta.map_or(0, |m| m.tags.len());
        out.tag_count = (tag_count > 0).then(|| i32::try_from(tag_count).unwrap_or(i32::MAX));
        Ok(resp)
    }

    pub(super) async fn head_object_checked(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = &req.input;
        let conditions = Conditions::of_head(input);
        let enabled = checksum_mode_enabled(input.checksum_mode.as_ref());
        let part_number = input.part_number;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let customer_key = (
            input.sse_customer_algorithm.clone(),
            input.sse_customer_key_md5.clone(),
        );
        let mut resp = self.fs.head_object(req).await?;
        let out = &mut resp.output;
        match conditions.evaluate(out.e_tag.as_ref(), out.last_modified.as_ref()) {
            Verdict::Failed => return Err(precondition_failed()),
            Verdict::NotModified => {
                return Err(not_modified(out.e_tag.as_ref(), out.last_modified.as_ref()));
            }
            Verdict::Proceed => {}
        }
        let meta = self.current_meta(&bucket, &key, out.e_tag.as_ref()).await;
        let encryption = meta.as_ref().and_then(|m| m.encryption.as_ref());
        if let Some(encryption) = encryption {
            encryption.check_read(customer_key.0.as_ref(), customer_key.1.as_ref())?;
        }
        report_encryption!(encryption => out);
        let class = self.reported_class(meta.as_ref());
        (out.storage_class, out.restore) = (class.storage_class, class.restore);
        out.archive_status = class.archive_status;
        let (mut sums, kind) = whole_object_sums(
            dto_sums!(read out),
            out.e_tag.as_ref(),
            meta.as_ref(),
            enabled,
        );
        out.checksum_type = kind;
        if let Some((first, last, size, count)) = parts::asked_part(part_number, meta.as_ref())? {
            let total = out.content_length.unwrap_or_default();
            out.content_length = i64::try_from(size).ok();
            out.content_range = Some(format!("bytes {first}-{last}/{total}"));
            out.parts_count = count;
            out.checksum_type = None;
            sums = meta
                .as_ref()
                .map(|m| parts::part_sums(m, part_number.unwrap_or_default(), enabled))
                .unwrap_or_default();
        }
        dto_sums!(write sums => out);
        Ok(resp)
    }

    /// Make our meta describe the object s3s-fs now holds under its bucket and key, whose ETag
    /// is now `etag` (none: s3s-fs holds nothing there, and neither do we).
    pub(super) async fn replace_meta(
        &self,
        object: ObjectMeta,
        etag: Option<&ETag>,
    ) -> S3Result<()> {
        let stored = match etag {
            Some(etag) => {
                let etag = etag.value().to_string();
                self.meta.set_object(ObjectMeta { etag, ..object }).await
            }
            None => self.meta.remove_object(&object.bucket, &object.key).await,
        };
        stored.map_err(internal)
    }

    /// Give the object s3s-fs just wrote an opaque ETag (an encrypted object's), where s3s-fs
    /// reads it; returns it.
    pub(super) async fn store_opaque_etag(
        &self,
        bucket: &str,
        key: &str,
        suffix: &str,
    ) -> S3Result<ETag> {
        let etag = format!("{}{suffix}", opaque_etag());
        let (root, bucket, key, value) = (
            self.root.clone(),
            bucket.to_string(),
            key.to_string(),
            etag.clone(),
        );
        let saved = tokio::task::spawn_blocking(move || {
            super::fs_files::save_etag(&root, &bucket, &key, &value)
        });
        saved
            .await
            .map_err(|e| internal(std::io::Error::other(e)))?
            .map_err(internal)?;
        Ok(ETag::Strong(etag))
    }

    pub(super) async fn put_object_with_tags(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let storage_class = take_class(&self.switches, &mut req.input.storage_class)?;
        let unknown = legacy::unknown_algorithms(&self.switches);
        let legacy_check = match unknown.is_empty() {
            true => None,
            false => legacy::forget_put(&mut req, unknown),
        };
        let input = &req.input;
        let tags = parse_tagging_header(input.tagging.as_deref())?;
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let encryption = encryption_for(
            &self.switches,
            Requested {
                sse: input.server_side_encryption.as_ref(),
                kms_key_id: input.ssekms_key_id.as_ref(),
                customer_algorithm: input.sse_customer_algorithm.as_ref(),
                customer_key_md5: input.sse_customer_key_md5.as_ref(),
            },
        );
        let previous = super::fs_files::PreviousObject::keep(&self.root, &bucket, &key);
        let result = self.fs.put_object(req).await;
        let result = legacy::put_verdict(legacy_check).and(result);
        let mut resp = match result {
            Ok(resp) => {
                previous.forget();
                resp
            }
            Err(e) => {
                // Refused (BadDigest...): as in S3, nothing changed at the key.
                previous.restore();
                return Err(e);
            }
        };
        if encryption.is_some() {
            let etag = self.store_opaque_etag(&bucket, &key, "").await?;
            resp.output.e_tag = Some(etag);
            report_encryption!(encryption.as_ref() => resp.output);
        }
        let object = ObjectMeta {
            tags,
            encryption,
            storage_class,
            ..ObjectMeta::new(&bucket, &key)
        };
        self.replace_meta(object, resp.output.e_tag.as_ref())
            .await?;
        Ok(resp)
    }

    /// The copy keeps the source's full-object checksum (same bytes) and, unless
    /// `x-amz-tagging-directive: REPLACE`, its tags, as S3 does. Encryption is the copy
    /// request's own (or the bucket default's); a plain copy of an encrypted object keeps the
    /// source's opaque ETag (S3 would give it an MD5; airlock never copies in place).
    pub(super) async fn copy_object_with_meta(
        &self,
        mut req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let storage_class = take_class(&self.switches, &mut req.input.storage_class)?;
        let input = &req.input;
        let CopySource::Bucket {
            bucket: source_bucket,
            key: source_key,
            ..
        } = &input.copy_source
        else {
            return self.fs.copy_object(req).await;
        };
        let (source_bucket, source_key) = (source_bucket.to_string(), source_key.to_string());
        let replace_tags = input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str().eq_ignore_ascii_case(TaggingDirective::REPLACE));
        let new_tags = match replace_tags {
            true => Some(parse_tagging_header(input.tagging.as_deref())?),
            false => None,
        };
        let (bucket, key) = (input.bucket.clone(), input.key.clone());
        let encryption = encryption_for(
            &self.switches,
            Requested {
                sse: input.server_side_encryption.as_ref(),
                kms_key_id: input.ssekms_key_id.as_ref(),
                customer_algorithm: input.sse_customer_algorithm.as_ref(),
                customer_key_md5: input.sse_customer_key_md5.as_ref(),
            },
        );
        let mut resp = self.fs.copy_object(req).await?;
        let result = resp
            .output
            .copy_object_result
            .get_or_insert_with(Default::default);
        // s3s-fs gives the copy the source's ETag, so the source meta is current if it matches.
        let source = self
            .current_meta(&source_bucket, &source_key, result.e_tag.as_ref())
            .await;
        if encryption.is_some() {
            result.e_tag = Some(self.store_opaque_etag(&bucket, &key, "").await?);
            report_encryption!(encryption.as_ref() => resp.output);
        }
        let etag = resp
            .output
            .copy_object_result
            .as_ref()
            .and_then(|r| r.e_tag.clone());
        let full_checksum = source.as_ref().and_then(|m| m.full_checksum.clone());
        let tags = new_tags.unwrap_or_else(|| source.map(|m| m.tags).unwrap_or_default());
        let object = ObjectMeta {
            full_checksum,
            tags,
            encryption,
            storage_class,
            ..ObjectMeta::new(&bucket, &key)
        };
        self.replace_meta(object, etag.as_ref()).await?;
        Ok(resp)
    }

    pub(super) async fn delete_object_and_meta(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let resp = self.fs.delete_object(req).await?;
        self.meta
            .remove_object(&bucket, &key)
            .await
            .map_err(internal)?;
        Ok(resp)
    }

    pub(super) async fn delete_objects_and_meta(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let bucket = req.input.bucket.clone();
        let resp = self.fs.delete_objects(req).await?;
        let deleted = resp.output.deleted.iter().flatten();
        for key in deleted.filter_map(|d| d.key.as_deref()) {
            self.meta
                .remove_object(&bucket, key)
                .await
                .map_err(internal)?;
        }
        Ok(resp)
    }

    pub(super) async fn delete_bucket_and_meta(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let bucket = req.input.bucket.clone();
        let resp = self.fs.delete_bucket(req).await?;
        self.meta.remove_bucket(&bucket).await.map_err(internal)?;
        Ok(resp)
    }
}
