//! `aws-chunked` framing with an unsigned CRC64NVME trailer, around the relay body (for a
//! composite upload in the source's own algorithm, whose value the relay computes too).
//!
//! Why by hand: the SDK adds a checksum trailer to streamed uploads, but over plain `http://`
//! it also signs every 64 KiB chunk (SHA-256 of all the bytes: ~2-3 CPU seconds per GiB on
//! this kind of machine) and copies the payload into fixed-size chunks. With
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (what the SDK itself sends over https) the target
//! still verifies every byte through the CRC64NVME trailer, and the payload is forwarded
//! without a copy: network chunks are split at 64 KiB frame boundaries with `Bytes::split_to`.
//!
//! Frame format (as the SDK writes it): `HEX\r\n<data>\r\n` per chunk, then `0\r\n`, then
//! `x-amz-checksum-crc64nvme:<base64>\r\n` (or `x-amz-checksum-crc32:...`), then `\r\n`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::digest::{encoded_len, trailer_value};
use super::relay::{RelayBody, RelayError, RelayOutcome};
use crate::aws::checksum_header;
use crate::plan::ChecksumAlgorithm;

/// Payload bytes per aws-chunked frame (the SDK's choice; S3 needs >= 8 KiB but the last).
pub(super) const CHUNK_SIZE: u64 = 64 * 1024;

/// Length of a body of `length` payload bytes once framed with a trailer of `algorithm`.
pub(super) fn encoded_length(length: u64, algorithm: ChecksumAlgorithm) -> u64 {
    let full = length / CHUNK_SIZE;
    let rest = length % CHUNK_SIZE;
    let frame = |n: u64| hex_digits(n) + 2 + n + 2;
    let mut total = full * frame(CHUNK_SIZE);
    if rest > 0 {
        total += frame(rest);
    }
    // "0\r\n" + "name:value\r\n" (base64 of 8 bytes is 12 chars) + "\r\n"
    let trailer = checksum_header(algorithm).len() as u64 + 1 + encoded_len(algorithm) + 2;
    total + 3 + trailer + 2
}

fn hex_digits(mut n: u64) -> u64 {
    let mut digits = 1;
    while n >= 16 {
        n /= 16;
        digits += 1;
    }
    digits
}

/// The relay body framed as `aws-chunked` with a checksum trailer.
pub(super) struct ChunkedBody {
    inner: RelayBody,
    /// The trailer's algorithm (CRC64NVME, or a composite upload's).
    algorithm: ChecksumAlgorithm,
    outcome: Arc<RelayOutcome>,
    /// Payload bytes not yet framed.
    payload_left: u64,
    /// Payload bytes left in the frame being written.
    frame_left: u64,
    /// Encoded bytes not yet handed on (the exact size hint).
    encoded_left: u64,
    pending: VecDeque<Bytes>,
    done: bool,
}

impl ChunkedBody {
    /// `algorithm`'s value must be one the relay computes (CRC64NVME always; the source's
    /// algorithm when its digest plan asks for it).
    pub(super) fn new(inner: RelayBody, length: u64, algorithm: ChecksumAlgorithm) -> Self {
        ChunkedBody {
            outcome: inner.outcome(),
            inner,
            algorithm,
            payload_left: length,
            frame_left: 0,
            encoded_left: encoded_length(length, algorithm),
            pending: VecDeque::new(),
            done: false,
        }
    }

    pub(super) fn into_sdk_body(self) -> SdkBody {
        SdkBody::from_body_1_x(self)
    }

    fn frame(&mut self, mut data: Bytes) {
        while !data.is_empty() {
            if self.frame_left == 0 {
                self.frame_left = self.payload_left.min(CHUNK_SIZE);
                self.pending
                    .push_back(Bytes::from(format!("{:X}\r\n", self.frame_left)));
            }
            let take = (self.frame_left as usize).min(data.len());
            self.pending.push_back(data.split_to(take));
            self.frame_left -= take as u64;
            self.payload_left -= take as u64;
            if self.frame_left == 0 {
                self.pending.push_back(Bytes::from_static(b"\r\n"));
            }
        }
    }

    fn trailer(&mut self) -> Result<(), RelayError> {
        let digests = self
            .outcome
            .digests()
            .ok_or_else(|| RelayError("the stream ended without its checksum".into()))?;
        let value = trailer_value(self.algorithm, &digests).ok_or_else(|| {
            RelayError(format!(
                "no {:?} value was computed for the trailer",
                self.algorithm
            ))
        })?;
        let name = checksum_header(self.algorithm);
        self.pending
            .push_back(Bytes::from(format!("0\r\n{name}:{value}\r\n\r\n")));
        Ok(())
    }

    fn emit(&mut self) -> Option<Bytes> {
        let frame = self.pending.pop_front()?;
        self.encoded_left = self.encoded_left.saturating_sub(frame.len() as u64);
        Some(frame)
    }
}

impl Body for ChunkedBody {
    type Data = Bytes;
    type Error = RelayError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        let this = &mut *self;
        loop {
            if let Some(frame) = this.emit() {
                return Poll::Ready(Some(Ok(Frame::data(frame))));
            }
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        this.frame(data);
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    this.done = true;
                    if let Err(e) = this.trailer() {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.pending.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.encoded_left)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::BodyExt;

    use super::*;
    use crate::engine::digest::DigestPlan;
    use crate::engine::relay::BufferGauge;

    async fn framed(data: Vec<u8>) -> Vec<u8> {
        let len = data.len() as u64;
        let relay = RelayBody::new(
            SdkBody::from(data),
            len,
            DigestPlan::default(),
            Arc::new(BufferGauge::default()),
            Duration::from_secs(5),
        );
        let body = ChunkedBody::new(relay, len, ChecksumAlgorithm::Crc64nvme);
        let crc64 = ChecksumAlgorithm::Crc64nvme;
        assert_eq!(body.size_hint().exact(), Some(encoded_length(len, crc64)));
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn frames_like_the_sdk_with_a_crc64_trailer() {
        let out = framed(b"123456789".to_vec()).await;
        assert_eq!(
            out,
            b"9\r\n123456789\r\n0\r\nx-amz-checksum-crc64nvme:rosUhgp5mIg=\r\n\r\n"
        );
        assert_eq!(
            out.len() as u64,
            encoded_length(9, ChecksumAlgorithm::Crc64nvme)
        );
    }

    #[tokio::test]
    async fn splits_at_frame_boundaries_and_matches_the_encoded_length() {
        for len in [0usize, 1, 65_535, 65_536, 65_537, 200_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let out = framed(data.clone()).await;
            let crc64 = ChecksumAlgorithm::Crc64nvme;
            let encoded = encoded_length(len as u64, crc64);
            assert_eq!(out.len() as u64, encoded, "len {len}");
            // Decode the frames back and compare.
            let mut rest = &out[..];
            let mut decoded = Vec::new();
            loop {
                let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
                let size =
                    usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16)
                        .unwrap();
                rest = &rest[line_end + 2..];
                if size == 0 {
                    break;
                }
                assert!(size as u64 <= CHUNK_SIZE);
                decoded.extend_from_slice(&rest[..size]);
                rest = &rest[size + 2..];
            }
            assert_eq!(decoded, data, "len {len}");
            assert!(rest.starts_with(b"x-amz-checksum-crc64nvme:"));
        }
    }

    #[tokio::test]
    async fn a_composite_upload_part_carries_the_source_algorithm_in_its_trailer() {
        let data = b"123456789".to_vec();
        let relay = RelayBody::new(
            SdkBody::from(data),
            9,
            DigestPlan {
                source_crc: Some(ChecksumAlgorithm::Crc32),
                md5: false,
            },
            Arc::new(BufferGauge::default()),
            Duration::from_secs(5),
        );
        let body = ChunkedBody::new(relay, 9, ChecksumAlgorithm::Crc32);
        let out = body.collect().await.unwrap().to_bytes().to_vec();
        // CRC32 of "123456789" is 0xCBF43926.
        assert_eq!(
            out,
            b"9\r\n123456789\r\n0\r\nx-amz-checksum-crc32:y/Q5Jg==\r\n\r\n"
        );
        assert_eq!(
            out.len() as u64,
            encoded_length(9, ChecksumAlgorithm::Crc32)
        );
    }
}
