//! Checksums computed while bytes stream through: CRC64NVME always (what we send the target;
//! CRCs combine across parts, so a full-object value comes from per-part values without
//! re-reading), the source's own algorithm when it differs (a CRC, or SHA-1/SHA-256 for a
//! composite source's parts), and MD5 when an ETag is the only thing to compare against.
//!
//! Why CRC64NVME for the target: it is S3's default full-object checksum, it can be checked by
//! S3 on every UploadPart and on CompleteMultipartUpload (FULL_OBJECT type), it is comparable
//! across different part layouts (unlike MD5 ETags or composite checksums), and with SIMD
//! (crc-fast) it costs a few hundredths of a CPU second per GiB, against ~1.5 s/GiB for MD5.

use base64::Engine as _;
use crc_fast::{CrcAlgorithm, Digest};
use md5::Digest as _;

use crate::plan::ChecksumAlgorithm;

/// The CRC behind an S3 checksum algorithm (None for SHA, which cannot be combined).
pub fn crc_algorithm(algorithm: ChecksumAlgorithm) -> Option<CrcAlgorithm> {
    match algorithm {
        ChecksumAlgorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
        ChecksumAlgorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
        ChecksumAlgorithm::Crc64nvme => Some(CrcAlgorithm::Crc64Nvme),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => None,
    }
}

/// S3's header form: base64 of the big-endian CRC (4 bytes for CRC32/C, 8 for CRC64).
pub fn encode(algorithm: ChecksumAlgorithm, value: u64) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    match algorithm {
        ChecksumAlgorithm::Crc64nvme => engine.encode(value.to_be_bytes()),
        _ => engine.encode((value as u32).to_be_bytes()),
    }
}

/// Characters of a base64 checksum value of `algorithm` (4-byte CRCs 8, CRC64 12, SHA-1 28,
/// SHA-256 44).
pub fn encoded_len(algorithm: ChecksumAlgorithm) -> u64 {
    let bytes: u64 = match algorithm {
        ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
        ChecksumAlgorithm::Crc64nvme => 8,
        ChecksumAlgorithm::Sha1 => 20,
        ChecksumAlgorithm::Sha256 => 32,
    };
    bytes.div_ceil(3) * 4
}

/// The base64 value of `algorithm` over a finished stream, when it was computed: CRC64NVME
/// always, the source's algorithm when the digest plan asked for it.
pub fn trailer_value(algorithm: ChecksumAlgorithm, values: &DigestValues) -> Option<String> {
    match algorithm {
        ChecksumAlgorithm::Crc64nvme => Some(encode(algorithm, values.crc64nvme)),
        ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256 => {
            let sha = values.sha.filter(|s| s.algorithm == algorithm)?;
            Some(base64::engine::general_purpose::STANDARD.encode(sha.bytes()))
        }
        _ => {
            let (computed, value) = values.source_crc?;
            (computed == algorithm).then(|| encode(algorithm, value))
        }
    }
}

/// CRC of `a` followed by `b` (of `b_len` bytes), from the CRCs of each.
pub fn combine(algorithm: ChecksumAlgorithm, a: u64, b: u64, b_len: u64) -> u64 {
    match crc_algorithm(algorithm) {
        Some(crc) if b_len > 0 => crc_fast::checksum_combine(crc, a, b, b_len),
        _ => a,
    }
}

/// What to compute for one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestPlan {
    /// The source's algorithm, when it is not CRC64NVME: a CRC (full-object or a composite's
    /// parts), or SHA-1/SHA-256 (a composite's parts).
    pub source_crc: Option<ChecksumAlgorithm>,
    pub md5: bool,
}

/// A running SHA digest (a composite SHA source's part).
enum Sha {
    One(sha1::Sha1),
    Two(sha2::Sha256),
}

/// Running digests of one stream.
pub struct Digests {
    crc64: Digest,
    source: Option<(ChecksumAlgorithm, Digest)>,
    sha: Option<Sha>,
    md5: Option<md5::Md5>,
    bytes: u64,
}

/// A finished SHA-1 (20 bytes) or SHA-256 (32 bytes) digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShaValue {
    pub algorithm: ChecksumAlgorithm,
    bytes: [u8; 32],
    len: usize,
}

impl ShaValue {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Final values of one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestValues {
    pub bytes: u64,
    pub crc64nvme: u64,
    pub source_crc: Option<(ChecksumAlgorithm, u64)>,
    /// The source's SHA, when its digest plan names SHA-1 or SHA-256.
    pub sha: Option<ShaValue>,
    pub md5: Option<[u8; 16]>,
}

impl Digests {
    pub fn new(plan: DigestPlan) -> Self {
        Digests {
            crc64: Digest::new(CrcAlgorithm::Crc64Nvme),
            source: plan
                .source_crc
                .filter(|a| *a != ChecksumAlgorithm::Crc64nvme)
                .and_then(|a| crc_algorithm(a).map(|crc| (a, Digest::new(crc)))),
            sha: match plan.source_crc {
                Some(ChecksumAlgorithm::Sha1) => Some(Sha::One(sha1::Sha1::new())),
                Some(ChecksumAlgorithm::Sha256) => Some(Sha::Two(sha2::Sha256::new())),
                _ => None,
            },
            md5: plan.md5.then(md5::Md5::new),
            bytes: 0,
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        self.crc64.update(data);
        if let Some((_, digest)) = &mut self.source {
            digest.update(data);
        }
        match &mut self.sha {
            Some(Sha::One(sha)) => sha.update(data),
            Some(Sha::Two(sha)) => sha.update(data),
            None => {}
        }
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        self.bytes += data.len() as u64;
    }

    pub fn finish(self) -> DigestValues {
        DigestValues {
            bytes: self.bytes,
            crc64nvme: self.crc64.finalize(),
            source_crc: self.source.map(|(a, d)| (a, d.finalize())),
            sha: self.sha.map(|sha| {
                let (algorithm, digest) = match sha {
                    Sha::One(sha) => (ChecksumAlgorithm::Sha1, sha.finalize().to_vec()),
                    Sha::Two(sha) => (ChecksumAlgorithm::Sha256, sha.finalize().to_vec()),
                };
                let mut bytes = [0u8; 32];
                bytes[..digest.len()].copy_from_slice(&digest);
                ShaValue {
                    algorithm,
                    bytes,
                    len: digest.len(),
                }
            }),
            md5: self.md5.map(|m| m.finalize().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_part_crcs_equal_the_whole_crc() {
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for algorithm in [
            ChecksumAlgorithm::Crc64nvme,
            ChecksumAlgorithm::Crc32,
            ChecksumAlgorithm::Crc32c,
        ] {
            let crc = crc_algorithm(algorithm).unwrap();
            let whole = crc_fast::checksum(crc, &data);
            let (a, b) = data.split_at(37_000);
            let combined = combine(
                algorithm,
                crc_fast::checksum(crc, a),
                crc_fast::checksum(crc, b),
                b.len() as u64,
            );
            assert_eq!(whole, combined, "{algorithm:?}");
        }
    }

    #[test]
    fn encodes_like_s3() {
        // CRC64NVME of "123456789" is 0xAE8B14860A799888 (the check value of the algorithm).
        let value = crc_fast::checksum(CrcAlgorithm::Crc64Nvme, b"123456789");
        assert_eq!(value, 0xAE8B_1486_0A79_9888);
        assert_eq!(encode(ChecksumAlgorithm::Crc64nvme, value), "rosUhgp5mIg=");
        // CRC32 of "123456789" is 0xCBF43926.
        let crc32 = crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, b"123456789");
        assert_eq!(encode(ChecksumAlgorithm::Crc32, crc32), "y/Q5Jg==");
    }

    #[test]
    fn digests_compute_what_was_asked() {
        let mut d = Digests::new(DigestPlan {
            source_crc: Some(ChecksumAlgorithm::Crc32c),
            md5: true,
        });
        d.update(b"1234");
        d.update(b"56789");
        let v = d.finish();
        assert_eq!(v.bytes, 9);
        assert_eq!(v.crc64nvme, 0xAE8B_1486_0A79_9888);
        assert_eq!(v.source_crc, Some((ChecksumAlgorithm::Crc32c, 0xE306_9283)));
        assert_eq!(hex(&v.md5.unwrap()), "25f9e794323b453885f5181f1b624d0b");
        assert_eq!(v.sha, None);
    }

    #[test]
    fn sha_parts_are_digested_for_a_composite_sha_source() {
        for (algorithm, want) in [
            (
                ChecksumAlgorithm::Sha256,
                "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225",
            ),
            (
                ChecksumAlgorithm::Sha1,
                "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
            ),
        ] {
            let mut d = Digests::new(DigestPlan {
                source_crc: Some(algorithm),
                md5: false,
            });
            d.update(b"1234");
            d.update(b"56789");
            let v = d.finish();
            assert_eq!(hex(v.sha.unwrap().bytes()), want, "{algorithm:?}");
            assert_eq!(v.source_crc, None);
            let value = trailer_value(algorithm, &v).unwrap();
            assert_eq!(encoded_len(algorithm), value.len() as u64);
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
