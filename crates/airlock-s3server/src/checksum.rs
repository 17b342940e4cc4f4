//! Checksums for the faithful server: the algorithms S3 knows, a [`Hasher`] that computes them
//! in one pass, and the CRC combination S3 uses for full-object multipart checksums. CRCs come from `crc-fast`, SHA digests from `s3s::crypto`.
//! Values are spelled the way S3 sends them: base64 of the big-endian digest bytes.
//!
//! Depends on s3s types only; knows nothing about files or the sidecar store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crc_fast::CrcAlgorithm;
use s3s::crypto::{Checksum as _, Sha1, Sha256};
use serde::{Deserialize, Serialize};

/// A checksum algorithm S3 accepts in `x-amz-checksum-*` headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub(crate) const ALL: [Algorithm; 5] = [
        Algorithm::Crc32,
        Algorithm::Crc32c,
        Algorithm::Crc64Nvme,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// Parse S3's name (`CRC64NVME`, ...), as in `x-amz-checksum-algorithm`.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|alg| alg.name().eq_ignore_ascii_case(name))
    }

    /// S3's name for the algorithm, e.g. `CRC64NVME`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header (or aws-chunked trailer) carrying this checksum.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The `crc-fast` algorithm, for the CRCs (SHA digests have none).
    fn crc(self) -> Option<CrcAlgorithm> {
        match self {
            Algorithm::Crc32 => Some(CrcAlgorithm::Crc32IsoHdlc),
            Algorithm::Crc32c => Some(CrcAlgorithm::Crc32Iscsi),
            Algorithm::Crc64Nvme => Some(CrcAlgorithm::Crc64Nvme),
            Algorithm::Sha1 | Algorithm::Sha256 => None,
        }
    }

    /// Whether S3 can keep a full-object checksum of this kind for a multipart upload.
    pub(crate) fn is_crc(self) -> bool {
        self.crc().is_some()
    }
}

/// Base64 of the big-endian CRC bytes: 4 bytes for the CRC32s, 8 for CRC64NVME.
pub(crate) fn encode_crc(alg: Algorithm, crc: u64) -> String {
    match alg {
        Algorithm::Crc64Nvme => BASE64.encode(crc.to_be_bytes()),
        _ => BASE64.encode((crc as u32).to_be_bytes()),
    }
}

/// The inverse of [`encode_crc`]; `None` for a value of the wrong shape.
pub(crate) fn decode_crc(alg: Algorithm, value: &str) -> Option<u64> {
    let bytes = BASE64.decode(value).ok()?;
    match (alg, bytes.len()) {
        (Algorithm::Crc64Nvme, 8) => Some(u64::from_be_bytes(bytes.try_into().ok()?)),
        (Algorithm::Crc32 | Algorithm::Crc32c, 4) => {
            Some(u64::from(u32::from_be_bytes(bytes.try_into().ok()?)))
        }
        _ => None,
    }
}

/// The CRC of a whole object from its parts' CRCs and sizes, in part order (CRC combination:
/// no byte is read again). `None` if `alg` is not a CRC or a part value does not decode.
pub(crate) fn combine_crcs<'a>(
    alg: Algorithm,
    parts: impl IntoIterator<Item = (&'a str, u64)>,
) -> Option<u64> {
    let crc_alg = alg.crc()?;
    let mut combined: Option<u64> = None;
    for (value, size_bytes) in parts {
        let crc = decode_crc(alg, value)?;
        combined = Some(match combined {
            None => crc,
            Some(acc) => crc_fast::checksum_combine(crc_alg, acc, crc, size_bytes),
        });
    }
    combined
}

/// One value per algorithm, base64 as S3 sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Sums {
    fn slot(&mut self, alg: Algorithm) -> &mut Option<String> {
        match alg {
            Algorithm::Crc32 => &mut self.crc32,
            Algorithm::Crc32c => &mut self.crc32c,
            Algorithm::Crc64Nvme => &mut self.crc64nvme,
            Algorithm::Sha1 => &mut self.sha1,
            Algorithm::Sha256 => &mut self.sha256,
        }
    }

    pub(crate) fn get(&self, alg: Algorithm) -> Option<&str> {
        match alg {
            Algorithm::Crc32 => self.crc32.as_deref(),
            Algorithm::Crc32c => self.crc32c.as_deref(),
            Algorithm::Crc64Nvme => self.crc64nvme.as_deref(),
            Algorithm::Sha1 => self.sha1.as_deref(),
            Algorithm::Sha256 => self.sha256.as_deref(),
        }
    }

    pub(crate) fn set(&mut self, alg: Algorithm, value: String) {
        *self.slot(alg) = Some(value);
    }

    pub(crate) fn remove(&mut self, alg: Algorithm) {
        *self.slot(alg) = None;
    }

    /// The values present, with their algorithm.
    pub(crate) fn present(&self) -> impl Iterator<Item = (Algorithm, &str)> + '_ {
        Algorithm::ALL
            .into_iter()
            .filter_map(|alg| self.get(alg).map(|v| (alg, v)))
    }

    /// Checksums named in a header map (request headers or aws-chunked trailers).
    pub(crate) fn from_headers(headers: &hyper::HeaderMap) -> Sums {
        let mut sums = Sums::default();
        for alg in Algorithm::ALL {
            if let Some(value) = headers.get(alg.header()).and_then(|v| v.to_str().ok()) {
                sums.set(alg, value.trim().to_string());
            }
        }
        sums
    }
}

/// Copy between [`Sums`] and any s3s DTO with the five `checksum_*` fields.
macro_rules! dto_sums {
    (read $dto:expr) => {
        $crate::checksum::Sums {
            crc32: $dto.checksum_crc32.clone(),
            crc32c: $dto.checksum_crc32c.clone(),
            crc64nvme: $dto.checksum_crc64nvme.clone(),
            sha1: $dto.checksum_sha1.clone(),
            sha256: $dto.checksum_sha256.clone(),
        }
    };
    (write $sums:expr => $dto:expr) => {{
        let sums: $crate::checksum::Sums = $sums;
        $dto.checksum_crc32 = sums.crc32;
        $dto.checksum_crc32c = sums.crc32c;
        $dto.checksum_crc64nvme = sums.crc64nvme;
        $dto.checksum_sha1 = sums.sha1;
        $dto.checksum_sha256 = sums.sha256;
    }};
}
pub(crate) use dto_sums;

/// Computes the chosen algorithms over a byte stream, counting its bytes.
pub(crate) struct Hasher {
    crcs: Vec<(Algorithm, crc_fast::Digest)>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
    size_bytes: u64,
}

impl Hasher {
    pub(crate) fn new(algorithms: &[Algorithm]) -> Self {
        let mut hasher = Hasher {
            crcs: Vec::new(),
            sha1: None,
            sha256: None,
            size_bytes: 0,
        };
        for &alg in algorithms {
            match (alg, alg.crc()) {
                (Algorithm::Sha1, _) => hasher.sha1 = Some(Sha1::new()),
                (Algorithm::Sha256, _) => hasher.sha256 = Some(Sha256::new()),
                (_, Some(crc)) if !hasher.crcs.iter().any(|(a, _)| *a == alg) => {
                    hasher.crcs.push((alg, crc_fast::Digest::new(crc)));
                }
                _ => {}
            }
        }
        hasher
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.size_bytes += data.len() as u64;
        for (_, digest) in &mut self.crcs {
            digest.update(data);
        }
        if let Some(sha1) = &mut self.sha1 {
            sha1.update(data);
        }
        if let Some(sha256) = &mut self.sha256 {
            sha256.update(data);
        }
    }

    /// The checksums (base64) and the number of bytes seen.
    pub(crate) fn finish(self) -> (Sums, u64) {
        let mut sums = Sums::default();
        for (alg, digest) in &self.crcs {
            sums.set(*alg, encode_crc(*alg, digest.finalize()));
        }
        if let Some(sha1) = self.sha1 {
            sums.set(Algorithm::Sha1, BASE64.encode(sha1.finalize()));
        }
        if let Some(sha256) = self.sha256 {
            sums.set(Algorithm::Sha256, BASE64.encode(sha256.finalize()));
        }
        (sums, self.size_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_values_round_trip_as_big_endian_base64() {
        let crc = crc_fast::checksum(CrcAlgorithm::Crc64Nvme, b"123456789");
        let text = encode_crc(Algorithm::Crc64Nvme, crc);
        assert_eq!(BASE64.decode(&text).unwrap(), crc.to_be_bytes());
        assert_eq!(decode_crc(Algorithm::Crc64Nvme, &text), Some(crc));
        let crc32 = crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, b"123456789");
        assert_eq!(encode_crc(Algorithm::Crc32, crc32), "y/Q5Jg==");
        assert_eq!(decode_crc(Algorithm::Crc32, "y/Q5Jg=="), Some(crc32));
        assert_eq!(decode_crc(Algorithm::Crc32, &text), None);
    }

    #[test]
    fn combined_part_crcs_equal_the_whole_crc() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for alg in [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme] {
            let parts: Vec<(String, u64)> = data
                .chunks(3_000)
                .map(|part| {
                    let mut hasher = Hasher::new(&[alg]);
                    hasher.update(part);
                    let (sums, size) = hasher.finish();
                    (sums.get(alg).unwrap().to_string(), size)
                })
                .collect();
            let combined = combine_crcs(alg, parts.iter().map(|(v, n)| (v.as_str(), *n)));
            assert_eq!(
                combined,
                Some(crc_fast::checksum(alg.crc().unwrap(), &data))
            );
        }
    }

    #[test]
    fn hasher_computes_sha_digests_too() {
        let mut hasher = Hasher::new(&[Algorithm::Sha256, Algorithm::Crc32c]);
        hasher.update(b"abc");
        let (sums, size) = hasher.finish();
        assert_eq!(size, 3);
        assert_eq!(
            sums.sha256.as_deref(),
            Some("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        );
        assert!(sums.crc32c.is_some() && sums.crc32.is_none());
    }
}
