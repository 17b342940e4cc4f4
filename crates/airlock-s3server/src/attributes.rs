//! GetObjectAttributes on the faithful server (s3s-fs has none): ETag, size, storage class, the
//! object's checksum (full-object, or COMPOSITE without its `-N`, as S3 lists it there) and, for
//! a multipart object, its parts with their sizes and checksums (module `parts`).

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use super::checksum::dto_sums;
use super::faithful::{Faithful, sub_request};
use super::parts;

impl Faithful {
    pub(super) async fn object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = &req.input;
        let head = HeadObjectInput {
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            version_id: input.version_id.clone(),
            ..Default::default()
        };
        let head = self.fs.head_object(sub_request(&req, head)).await?.output;
        let meta = self
            .current_meta(&input.bucket, &input.key, head.e_tag.as_ref())
            .await;
        let wants = |name: &str| {
            input
                .object_attributes
                .iter()
                .any(|a| a.as_str().eq_ignore_ascii_case(name))
        };
        let mut out = GetObjectAttributesOutput {
            last_modified: head.last_modified.clone(),
            version_id: head.version_id.clone(),
            ..Default::default()
        };
        if wants(ObjectAttributes::ETAG) {
            out.e_tag = head.e_tag.clone();
        }
        if wants(ObjectAttributes::OBJECT_SIZE) {
            out.object_size = head.content_length;
        }
        if wants(ObjectAttributes::STORAGE_CLASS) {
            out.storage_class = Some(
                meta.as_ref()
                    .and_then(|m| m.storage_class.clone())
                    .map_or_else(
                        || StorageClass::from_static(StorageClass::STANDARD),
                        StorageClass::from,
                    ),
            );
        }
        let Some(meta) = meta else {
            return Ok(S3Response::new(out));
        };
        if wants(ObjectAttributes::CHECKSUM) {
            let stored = meta
                .full_checksum
                .clone()
                .map(|c| (c, ChecksumType::FULL_OBJECT));
            let composite = meta.composite.clone().map(|mut c| {
                c.value = c
                    .value
                    .rsplit_once('-')
                    .map_or(c.value.clone(), |(v, _)| v.into());
                (c, ChecksumType::COMPOSITE)
            });
            if let Some((checksum, kind)) = stored.or(composite) {
                let mut sums = super::checksum::Sums::default();
                sums.set(checksum.algorithm, checksum.value);
                let mut dto = Checksum {
                    checksum_type: Some(ChecksumType::from_static(kind)),
                    ..Default::default()
                };
                dto_sums!(write sums => dto);
                out.checksum = Some(dto);
            }
        }
        if wants(ObjectAttributes::OBJECT_PARTS) && !meta.parts.is_empty() {
            out.object_parts = Some(parts::attributes_parts(
                &meta.parts,
                input.part_number_marker,
                input.max_parts,
            ));
        }
        Ok(S3Response::new(out))
    }
}
