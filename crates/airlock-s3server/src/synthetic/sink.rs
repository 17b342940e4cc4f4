//! The sink: a target that takes PutObject and multipart uploads and keeps no bytes. Each body
//! is read to its end while its MD5, its CRC64NVME and the checksums the client named are
//! computed; values sent as headers or aws-chunked trailers (and Content-MD5) are checked
//! (BadDigest), then the bytes are dropped. Answers are S3's: MD5 ETags (`md5-of-md5s-N` after
//! Complete), the named checksums echoed, the full-object CRC of a multipart upload combined from
//! its parts and checked against the one sent, the checks S3 makes on Complete (module
//! `complete`). Nothing received is listed or read back: the sink lists only its preset objects;
//! HEAD finds the last few thousand it received (module `received`). In-flight uploads (their
//! parts' sizes and checksums) are dropped at Complete or Abort.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use futures::StreamExt as _;
use md5::{Digest as _, Md5};
use s3s::dto::*;
use s3s::{S3Request, S3Result, s3_error};

use crate::behaviours::lock;
use crate::checksum::{Algorithm, Sums, dto_sums};
use crate::complete::check_complete;
use crate::hashing_body::{HashingBody, Outcome};
use crate::meta::{PartMeta, UploadMeta};
use crate::multipart::{checksum_type_for, named_algorithms, no_such_upload, parse_algorithm};
use crate::seeded::mix;

use super::received::{Received, ReceivedObject};

/// The uploads a sink has open, by upload id.
#[derive(Debug, Default)]
pub(crate) struct Uploads {
    open: Mutex<HashMap<String, OpenUpload>>,
    started: AtomicU64,
}

/// An open upload: what Complete checks, and the user metadata the object will have.
#[derive(Clone, Debug)]
struct OpenUpload {
    meta: UploadMeta,
    metadata: Option<Metadata>,
}

/// What a drained body was.
struct Drained {
    md5: [u8; 16],
    /// Every checksum computed (the named ones and CRC64NVME).
    sums: Sums,
    /// The algorithms the client named, to echo.
    named: Vec<Algorithm>,
    size_bytes: u64,
}

/// Read `body` to its end, computing MD5, CRC64NVME and `named`, and checking what was sent.
async fn drain<T>(
    req: &S3Request<T>,
    body: Option<StreamingBlob>,
    sent: Sums,
    mut named: Vec<Algorithm>,
) -> S3Result<Drained> {
    named.extend(sent.present().map(|(alg, _)| alg));
    named.extend(named_algorithms(&req.headers));
    named.sort_by_key(|alg| alg.name());
    named.dedup();
    let mut algorithms = named.clone();
    algorithms.push(Algorithm::Crc64Nvme);
    let outcome = Outcome::default();
    let mut md5 = Md5::new();
    let body = body.unwrap_or_else(|| {
        StreamingBlob::wrap(futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>())
    });
    let trailers = req.trailing_headers.clone();
    let mut body = HashingBody::new(body, &algorithms, sent, trailers, outcome.clone());
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(bytes) => md5.update(&bytes),
            Err(_) if outcome_mismatch(&outcome).is_some() => break,
            Err(e) => {
                return Err(s3_error!(
                    IncompleteBody,
                    "the request body ended early: {e}"
                ));
            }
        }
    }
    if let Some(alg) = outcome_mismatch(&outcome) {
        return Err(s3_error!(
            BadDigest,
            "The {} you specified did not match the calculated checksum.",
            alg.name()
        ));
    }
    let Some(verified) = lock(&outcome).take() else {
        return Err(s3_error!(
            InternalError,
            "the body ended without its checksums"
        ));
    };
    let (sums, size_bytes) = (verified.sums, verified.size_bytes);
    Ok(Drained {
        md5: md5.finalize().into(),
        sums,
        named,
        size_bytes,
    })
}

fn outcome_mismatch(outcome: &Outcome) -> Option<Algorithm> {
    lock(outcome).as_ref().and_then(|v| v.mismatch)
}

impl Drained {
    fn etag(&self) -> String {
        hex(&self.md5)
    }

    /// What HEAD reports with checksum mode: the named ones and CRC64NVME.
    fn full_object(&self) -> Sums {
        let mut sums = self.echoed();
        if let Some(crc) = self.sums.get(Algorithm::Crc64Nvme) {
            sums.set(Algorithm::Crc64Nvme, crc.to_string());
        }
        sums
    }

    /// The checksums to answer: the ones the client named.
    fn echoed(&self) -> Sums {
        let mut echoed = Sums::default();
        for alg in &self.named {
            if let Some(value) = self.sums.get(*alg) {
                echoed.set(*alg, value.to_string());
            }
        }
        echoed
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

fn full_object_if_any(sums: &Sums) -> Option<ChecksumType> {
    let any = sums.present().next().is_some();
    any.then(|| ChecksumType::from_static(ChecksumType::FULL_OBJECT))
}

pub(crate) async fn put_object(
    mut req: S3Request<PutObjectInput>,
    received: &Received,
) -> S3Result<PutObjectOutput> {
    let sent = dto_sums!(read req.input);
    let named: Vec<Algorithm> = parse_algorithm(req.input.checksum_algorithm.as_ref())?
        .into_iter()
        .collect();
    let body = req.input.body.take();
    let content_md5 = req.input.content_md5.clone();
    let drained = drain(&req, body, sent, named).await?;
    if let Some(sent_md5) = content_md5 {
        let computed = base64::engine::general_purpose::STANDARD.encode(drained.md5);
        if sent_md5.trim() != computed {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    let object = ReceivedObject::new(
        drained.size_bytes,
        drained.etag(),
        drained.full_object(),
        req.input.metadata.take(),
    );
    received.remember(&req.input.key, object);
    let mut output = PutObjectOutput {
        e_tag: Some(ETag::Strong(drained.etag())),
        ..Default::default()
    };
    let echoed = drained.echoed();
    output.checksum_type = full_object_if_any(&echoed);
    dto_sums!(write echoed => output);
    Ok(output)
}

impl Uploads {
    pub(crate) fn create(
        &self,
        input: &CreateMultipartUploadInput,
    ) -> S3Result<CreateMultipartUploadOutput> {
        let algorithm = parse_algorithm(input.checksum_algorithm.as_ref())?;
        let requested = input.checksum_type.as_ref().map(|t| t.as_str());
        let checksum_type = checksum_type_for(algorithm, requested)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let count = self.started.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(now.as_nanos()).unwrap_or(u64::MAX);
        let upload_id = format!("{:016x}{:016x}", mix(nanos ^ count), mix(count));
        let upload = UploadMeta {
            upload_id: upload_id.clone(),
            bucket: input.bucket.clone(),
            key: input.key.clone(),
            initiated_unix_ms: u64::try_from(now.as_millis()).unwrap_or(u64::MAX),
            checksum_algorithm: algorithm,
            checksum_type: checksum_type.clone(),
            tags: Vec::new(),
            encryption: None,
            storage_class: None,
            parts: BTreeMap::new(),
        };
        let open = OpenUpload {
            meta: upload,
            metadata: input.metadata.clone(),
        };
        lock(&self.open).insert(upload_id.clone(), open);
        Ok(CreateMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(upload_id),
            checksum_algorithm: algorithm.map(|a| ChecksumAlgorithm::from_static(a.name())),
            checksum_type: checksum_type.map(ChecksumType::from),
            ..Default::default()
        })
    }

    /// The open upload `upload_id` of `key`.
    fn open_upload(&self, upload_id: &str, key: &str) -> S3Result<OpenUpload> {
        let open = lock(&self.open);
        let upload = open.get(upload_id).filter(|u| u.meta.key == key);
        upload.cloned().ok_or_else(no_such_upload)
    }

    pub(crate) async fn upload_part(
        &self,
        mut req: S3Request<UploadPartInput>,
    ) -> S3Result<UploadPartOutput> {
        let (upload_id, part_number) = (req.input.upload_id.clone(), req.input.part_number);
        let upload = self.open_upload(&upload_id, &req.input.key)?.meta;
        if !(1..=10_000).contains(&part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        let sent = dto_sums!(read req.input);
        let mut named: Vec<Algorithm> = parse_algorithm(req.input.checksum_algorithm.as_ref())?
            .into_iter()
            .collect();
        named.extend(upload.checksum_algorithm);
        let body = req.input.body.take();
        let drained = drain(&req, body, sent, named).await?;
        let part = PartMeta {
            part_number,
            size_bytes: drained.size_bytes,
            etag: drained.etag(),
            sums: drained.sums.clone(),
        };
        let mut open = lock(&self.open);
        let upload = open.get_mut(&upload_id).ok_or_else(no_such_upload)?;
        upload.meta.parts.insert(part_number, part);
        let mut output = UploadPartOutput {
            e_tag: Some(ETag::Strong(drained.etag())),
            ..Default::default()
        };
        dto_sums!(write drained.echoed() => output);
        Ok(output)
    }

    pub(crate) fn complete(
        &self,
        input: &CompleteMultipartUploadInput,
        received: &Received,
    ) -> S3Result<CompleteMultipartUploadOutput> {
        let OpenUpload {
            meta: upload,
            metadata,
        } = self.open_upload(&input.upload_id, &input.key)?;
        let full = check_complete(&upload, input, false)?.full_checksum;
        // Complete checked that the listed parts are 1..=N, each uploaded.
        let listed = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.as_ref());
        let listed = listed.map(Vec::as_slice).unwrap_or_default();
        let mut md5s = Md5::new();
        for given in listed {
            let part = given.part_number.and_then(|n| upload.parts.get(&n));
            md5s.update(part.and_then(|p| unhex(&p.etag)).unwrap_or_default());
        }
        let count = listed.len();
        let size_bytes = listed
            .iter()
            .filter_map(|given| given.part_number.and_then(|n| upload.parts.get(&n)))
            .map(|part| part.size_bytes)
            .sum();
        lock(&self.open).remove(&input.upload_id);
        let etag = format!("{}-{count}", hex(&md5s.finalize()));
        let mut sums = Sums::default();
        if let Some(full) = full {
            sums.set(full.algorithm, full.value);
        }
        let object = ReceivedObject::new(size_bytes, etag.clone(), sums.clone(), metadata);
        received.remember(&input.key, object);
        let mut output = CompleteMultipartUploadOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(etag)),
            checksum_type: full_object_if_any(&sums),
            ..Default::default()
        };
        dto_sums!(write sums => output);
        Ok(output)
    }

    pub(crate) fn abort(&self, input: &AbortMultipartUploadInput) -> S3Result<()> {
        self.open_upload(&input.upload_id, &input.key)?;
        lock(&self.open).remove(&input.upload_id);
        Ok(())
    }

    pub(crate) fn list_parts(&self, input: &ListPartsInput) -> S3Result<ListPartsOutput> {
        let upload = self.open_upload(&input.upload_id, &input.key)?.meta;
        let parts = upload.parts.values().map(|part| {
            let mut listed = Part {
                part_number: Some(part.part_number),
                size: Some(i64::try_from(part.size_bytes).unwrap_or(i64::MAX)),
                e_tag: Some(ETag::Strong(part.etag.clone())),
                ..Default::default()
            };
            dto_sums!(write part.sums.clone() => listed);
            listed
        });
        Ok(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            parts: Some(parts.collect()),
            is_truncated: Some(false),
            checksum_algorithm: upload
                .checksum_algorithm
                .map(|a| ChecksumAlgorithm::from_static(a.name())),
            checksum_type: upload.checksum_type.map(ChecksumType::from),
            ..Default::default()
        })
    }

    pub(crate) fn list(
        &self,
        input: &ListMultipartUploadsInput,
    ) -> S3Result<ListMultipartUploadsOutput> {
        let prefix = input.prefix.clone().unwrap_or_default();
        let open = lock(&self.open);
        let mut uploads: Vec<&UploadMeta> = open
            .values()
            .map(|u| &u.meta)
            .filter(|u| u.bucket == input.bucket && u.key.starts_with(&prefix))
            .collect();
        uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
        let uploads = uploads.into_iter().map(|u| MultipartUpload {
            key: Some(u.key.clone()),
            upload_id: Some(u.upload_id.clone()),
            initiated: Some(super::objects::timestamp(u.initiated_unix_ms / 1000)),
            checksum_algorithm: u
                .checksum_algorithm
                .map(|a| ChecksumAlgorithm::from_static(a.name())),
            ..Default::default()
        });
        Ok(ListMultipartUploadsOutput {
            bucket: Some(input.bucket.clone()),
            prefix: input.prefix.clone(),
            is_truncated: Some(false),
            uploads: Some(uploads.collect()),
            ..Default::default()
        })
    }
}
