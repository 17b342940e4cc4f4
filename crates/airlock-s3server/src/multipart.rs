//! Multipart uploads on the faithful server. s3s-fs stores the bytes; we record each upload
//! (checksum algorithm and type, tags, start time) and each part (size, ETag, checksums computed
//! while the part streams in). That gives S3's behaviour: UploadPart verifies and echoes the
//! part's checksum (header or aws-chunked trailer; BadDigest on mismatch), ListParts reports
//! ETags and checksums, and CompleteMultipartUpload computes the full-object CRC from the parts
//! by CRC combination, checks it against the one sent (BadDigest), and stores it with the object,
//! with the part layout and, for a COMPOSITE upload, the checksum-of-checksums (module `parts`).

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use tokio::io::AsyncReadExt;

use super::archive::take_class;
use super::behaviours::Switches;
use super::checksum::{Algorithm, Hasher, Sums, dto_sums};
use super::complete::check_complete;
use super::faithful::{Faithful, internal};
use super::hashing_body::{HashingBody, Outcome};
use super::legacy;
use super::meta::{ObjectMeta, PartMeta, UploadMeta};
use super::parts::composite_of;
use super::sse::{Requested, encryption_for, opaque_etag, report_encryption};
use super::tagging::parse_tagging_header;

/// Checks S3 makes on CreateMultipartUpload's checksum headers; returns the effective type
/// (S3's default: FULL_OBJECT for CRC64NVME, COMPOSITE for the others).
pub(crate) fn checksum_type_for(
    alg: Option<Algorithm>,
    requested: Option<&str>,
) -> S3Result<Option<String>> {
    let requested = requested.map(str::to_ascii_uppercase);
    let Some(alg) = alg else {
        return match requested {
            None => Ok(None),
            Some(_) => Err(s3_error!(
                InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )),
        };
    };
    let default = match alg {
        Algorithm::Crc64Nvme => "FULL_OBJECT",
        _ => "COMPOSITE",
    };
    let checksum_type = requested.unwrap_or_else(|| default.to_string());
    let allowed = match checksum_type.as_str() {
        "FULL_OBJECT" => alg.is_crc(),
        "COMPOSITE" => alg != Algorithm::Crc64Nvme,
        _ => false,
    };
    if !allowed {
        return Err(s3_error!(
            InvalidRequest,
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            checksum_type,
            alg.name()
        ));
    }
    Ok(Some(checksum_type))
}

pub(crate) fn parse_algorithm(alg: Option<&ChecksumAlgorithm>) -> S3Result<Option<Algorithm>> {
    alg.map(|a| {
        Algorithm::parse(a.as_str()).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "Checksum algorithm '{}' is not supported",
                a.as_str()
            )
        })
    })
    .transpose()
}

/// Algorithms a request names without (or before) sending a value: `x-amz-trailer` (header
/// names) and `x-amz-sdk-checksum-algorithm`, which is what the AWS SDKs send and s3s does not
/// map into the input (it reads `x-amz-checksum-algorithm`).
pub(crate) fn named_algorithms(headers: &hyper::HeaderMap) -> Vec<Algorithm> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let trailers: Vec<String> = header("x-amz-trailer")
        .map(|t| {
            t.split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let sdk = header("x-amz-sdk-checksum-algorithm").and_then(Algorithm::parse);
    let trailed = Algorithm::ALL
        .into_iter()
        .filter(|alg| trailers.iter().any(|n| n == alg.header()));
    trailed.chain(sdk).collect()
}

/// The one place we read bytes back from disk: UploadPartCopy's bytes never pass through us.
async fn hash_file(path: &Path, algorithms: &[Algorithm]) -> std::io::Result<(Sums, u64)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Hasher::new(algorithms);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}

fn now_unix_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX)
}

/// S3's answer for an upload id it does not know (any more): completed, aborted, or never
/// started. s3s-fs answers 403 AccessDenied instead.
pub(super) fn no_such_upload() -> s3s::S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may \
         have been aborted or completed."
    )
}

fn etag_value(etag: Option<&ETag>) -> String {
    etag.map(|e| e.value().to_string()).unwrap_or_default()
}

impl Faithful {
    pub(super) async fn create_upload(
        &self,
        mut req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let storage_class = take_class(&self.switches, &mut req.input.storage_class)?;
        legacy::forget_create(&mut req.input, legacy::unknown_algorithms(&self.switches));
        let input = &req.input;
        let algorithm = parse_algorithm(input.checksum_algorithm.as_ref())?;
        let checksum_type =
            checksum_type_for(algorithm, input.checksum_type.as_ref().map(|t| t.as_str()))?;
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
        let mut resp = self.fs.create_multipart_upload(req).await?;
        let Some(upload_id) = resp.output.upload_id.clone() else {
            return Ok(resp);
        };
        resp.output.checksum_algorithm =
            algorithm.map(|a| ChecksumAlgorithm::from_static(a.name()));
        resp.output.checksum_type = checksum_type.clone().map(ChecksumType::from);
        report_encryption!(encryption.as_ref() => resp.output);
        let upload = UploadMeta {
            upload_id,
            bucket,
            key,
            initiated_unix_ms: now_unix_ms(),
            checksum_algorithm: algorithm,
            checksum_type,
            tags,
            encryption,
            storage_class,
            parts: Default::default(),
        };
        self.meta.add_upload(upload).await.map_err(internal)?;
        Ok(resp)
    }

    pub(super) async fn upload_part_verified(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let (upload_id, part_number) = (req.input.upload_id.clone(), req.input.part_number);
        if !self.upload_alive(&upload_id) {
            return Err(no_such_upload());
        }
        let upload = self.meta.upload(&upload_id).await;
        let unknown = legacy::unknown_algorithms(&self.switches);
        let mut sent = dto_sums!(read req.input);
        let mut algorithms: Vec<Algorithm> = sent.present().map(|(alg, _)| alg).collect();
        algorithms.extend(parse_algorithm(req.input.checksum_algorithm.as_ref())?);
        algorithms.extend(named_algorithms(&req.headers));
        algorithms.extend(upload.as_ref().and_then(|u| u.checksum_algorithm));
        legacy::forget_part(&mut sent, &mut algorithms, unknown);
        let outcome = Outcome::default();
        if let Some(body) = req.input.body.take() {
            let trailers = req.trailing_headers.clone();
            let body = HashingBody::new(body, &algorithms, sent, trailers, outcome.clone());
            req.input.body = Some(StreamingBlob::new(body.ignoring(unknown)));
        }
        let result = self.fs.upload_part(req).await;
        let verified = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(alg) = verified.as_ref().and_then(|v| v.mismatch) {
            return Err(s3_error!(
                BadDigest,
                "The {} you specified did not match the calculated checksum.",
                alg.name()
            ));
        }
        let mut resp = result?;
        let Some(verified) = verified else {
            return Ok(resp);
        };
        dto_sums!(write verified.sums.clone() => resp.output);
        // Under SSE-KMS and SSE-C a part's ETag is opaque too; Complete must name that one.
        let encryption = upload.as_ref().and_then(|u| u.encryption.as_ref());
        if encryption.is_some() {
            resp.output.e_tag = Some(ETag::Strong(opaque_etag()));
            report_encryption!(encryption => resp.output);
        }
        if upload.is_some() {
            let part = PartMeta {
                part_number,
                size_bytes: verified.size_bytes,
                etag: etag_value(resp.output.e_tag.as_ref()),
                sums: verified.sums,
            };
            self.meta
                .add_part(&upload_id, part)
                .await
                .map_err(internal)?;
        }
        Ok(resp)
    }

    pub(super) async fn upload_part_copy_recorded(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let (upload_id, part_number) = (req.input.upload_id.clone(), req.input.part_number);
        if !self.upload_alive(&upload_id) {
            return Err(no_such_upload());
        }
        let mut resp = self.fs.upload_part_copy(req).await?;
        let Some(upload) = self.meta.upload(&upload_id).await else {
            return Ok(resp);
        };
        // A known upload id came from s3s-fs (a UUID): safe in a path.
        let path = self
            .root
            .join(format!(".upload_id-{upload_id}.part-{part_number}"));
        let algorithms: Vec<Algorithm> = upload.checksum_algorithm.into_iter().collect();
        let (sums, size_bytes) = hash_file(&path, &algorithms).await.map_err(internal)?;
        let result = resp
            .output
            .copy_part_result
            .get_or_insert_with(Default::default);
        dto_sums!(write sums.clone() => result);
        if upload.encryption.is_some() {
            result.e_tag = Some(ETag::Strong(opaque_etag()));
        }
        let part = PartMeta {
            part_number,
            size_bytes,
            etag: etag_value(result.e_tag.as_ref()),
            sums,
        };
        self.meta
            .add_part(&upload_id, part)
            .await
            .map_err(internal)?;
        Ok(resp)
    }

    pub(super) async fn list_parts_with_meta(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let upload_id = req.input.upload_id.clone();
        if !self.upload_alive(&upload_id) {
            return Err(no_such_upload());
        }
        let mut resp = self.fs.list_parts(req).await?;
        let Some(upload) = self.meta.upload(&upload_id).await else {
            return Ok(resp);
        };
        let output = &mut resp.output;
        for part in output.parts.iter_mut().flatten() {
            if let Some(known) = part.part_number.and_then(|n| upload.parts.get(&n)) {
                part.e_tag = Some(ETag::Strong(known.etag.clone()));
                dto_sums!(write known.sums.clone() => part);
            }
        }
        if let Some(parts) = &mut output.parts {
            parts.sort_by_key(|p| p.part_number);
        }
        output.checksum_algorithm = upload
            .checksum_algorithm
            .map(|a| ChecksumAlgorithm::from_static(a.name()));
        output.checksum_type = upload.checksum_type.map(ChecksumType::from);
        Ok(resp)
    }

    pub(super) async fn complete_upload(
        &self,
        mut req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let upload_id = req.input.upload_id.clone();
        let (bucket, key) = (req.input.bucket.clone(), req.input.key.clone());
        let upload = match self.meta.upload(&upload_id).await {
            Some(upload) if self.upload_alive(&upload_id) => upload,
            // Completed, aborted or never started: S3 says so (s3s-fs would answer 403).
            _ if !self.upload_alive(&upload_id) => return Err(no_such_upload()),
            // Started through a plain server on this root: s3s-fs answers as it always did.
            _ => {
                let resp = self.fs.complete_multipart_upload(req).await?;
                self.meta
                    .remove_object(&bucket, &key)
                    .await
                    .map_err(internal)?;
                return Ok(resp);
            }
        };
        legacy::screen_complete(&self.switches, &upload, &mut req.input)?;
        let small_parts_ok = Switches::on(&self.switches.small_parts_allowed);
        let completed = check_complete(&upload, &req.input, small_parts_ok)?;
        let full_checksum = completed.full_checksum;
        let composite = composite_of(&upload, &completed.parts);
        let part_count = req.input.multipart_upload.as_ref();
        let part_count = part_count
            .and_then(|m| m.parts.as_ref())
            .map_or(0, Vec::len);
        let assembled = self
            .assemble(&req.input, req.credentials.as_ref(), &upload)
            .await?;
        let mut resp = match assembled {
            Some(etag) => S3Response::new(CompleteMultipartUploadOutput {
                bucket: Some(bucket.clone()),
                key: Some(key.clone()),
                e_tag: Some(ETag::Strong(etag)),
                ..Default::default()
            }),
            None => self.fs.complete_multipart_upload(req).await?,
        };
        // s3s-fs answers through a keep-alive future; it is already done, so take its output.
        if let Some(future) = resp.output.future.take() {
            resp.output = future.await?;
        }
        if let Some(encryption) = &upload.encryption {
            let suffix = format!("-{part_count}");
            let etag = self.store_opaque_etag(&bucket, &key, &suffix).await?;
            resp.output.e_tag = Some(etag);
            let reported = encryption.reported();
            resp.output.server_side_encryption = reported.sse;
            resp.output.ssekms_key_id = reported.kms_key_id;
        }
        let output = &mut resp.output;
        if let Some(full) = &full_checksum {
            let mut sums = Sums::default();
            sums.set(full.algorithm, full.value.clone());
            dto_sums!(write sums => output);
            output.checksum_type = Some(ChecksumType::from_static(ChecksumType::FULL_OBJECT));
        }
        if let Some(composite) = &composite {
            let mut sums = Sums::default();
            sums.set(composite.algorithm, composite.value.clone());
            dto_sums!(write sums => output);
            output.checksum_type = Some(ChecksumType::from_static(ChecksumType::COMPOSITE));
        }
        let etag = output.e_tag.clone();
        let object = ObjectMeta {
            full_checksum,
            tags: upload.tags,
            encryption: upload.encryption,
            storage_class: upload.storage_class,
            parts: completed.parts,
            composite,
            ..ObjectMeta::new(&bucket, &key)
        };
        self.replace_meta(object, etag.as_ref()).await?;
        self.meta
            .remove_upload(&upload_id)
            .await
            .map_err(internal)?;
        Ok(resp)
    }
}
