//! The request side of our uploads. [`UnsignedTrailer`] sets the headers of an `aws-chunked`
//! body with an unsigned CRC64NVME trailer (or, for a composite upload, the source's algorithm) and tells the signer the payload is
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER`; the body itself is framed by
//! `engine::chunked::ChunkedBody` (see there for why we do not let the SDK do it).
//! [`UnsignedPlain`] is for a plain streamed body whose checksum travels as a header.

use aws_runtime::auth::PayloadSigningOverride;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::plan::ChecksumAlgorithm;

/// Header name of the CRC64NVME trailer, shared with the body framing.
pub const TRAILER_HEADER: &str = "x-amz-checksum-crc64nvme";

/// Header name of a trailer (or header) carrying a checksum of `algorithm`.
pub fn checksum_header(algorithm: ChecksumAlgorithm) -> &'static str {
    match algorithm {
        ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
        ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
        ChecksumAlgorithm::Crc64nvme => TRAILER_HEADER,
        ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
        ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
    }
}

/// `x-amz-sdk-checksum-algorithm`'s value for `algorithm`.
fn sdk_name(algorithm: ChecksumAlgorithm) -> &'static str {
    match algorithm {
        ChecksumAlgorithm::Crc32 => "CRC32",
        ChecksumAlgorithm::Crc32c => "CRC32C",
        ChecksumAlgorithm::Crc64nvme => "CRC64NVME",
        ChecksumAlgorithm::Sha1 => "SHA1",
        ChecksumAlgorithm::Sha256 => "SHA256",
    }
}

/// Sets `aws-chunked` headers for a body of `decoded_length` payload bytes framed into
/// `encoded_length` bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct UnsignedTrailer {
    pub decoded_length: u64,
    pub encoded_length: u64,
    /// The trailer's checksum (CRC64NVME but for a composite upload in the source's algorithm).
    pub algorithm: ChecksumAlgorithm,
}

impl Intercept for UnsignedTrailer {
    fn name(&self) -> &'static str {
        "airlock::UnsignedTrailer"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        headers.insert(
            "x-amz-decoded-content-length",
            self.decoded_length.to_string(),
        );
        headers.insert("content-length", self.encoded_length.to_string());
        headers.insert("x-amz-trailer", checksum_header(self.algorithm));
        headers.insert("x-amz-sdk-checksum-algorithm", sdk_name(self.algorithm));
        headers.remove("transfer-encoding");
        // aws-chunked goes first in one header with any Content-Encoding the object carries: a
        // second header line is refused by some servers (s3s: "duplicate header").
        let value = content_encoding(headers.get_all("content-encoding"));
        headers.insert("content-encoding", value);
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::StreamingUnsignedPayloadTrailer);
        Ok(())
    }
}

/// A plain streamed body, its checksum already in an `x-amz-checksum-*` header: the payload is
/// `UNSIGNED-PAYLOAD` (the signer cannot hash a stream it has not read).
#[derive(Debug, Clone, Copy)]
pub(super) struct UnsignedPlain;

impl Intercept for UnsignedPlain {
    fn name(&self) -> &'static str {
        "airlock::UnsignedPlain"
    }

    fn modify_before_signing(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::UnsignedPayload);
        Ok(())
    }
}

/// The Content-Encoding of an aws-chunked upload: `aws-chunked`, then the object's own
/// encodings (an `aws-chunked` among them, left over from how the source was written, is
/// dropped, not doubled).
pub(super) fn content_encoding<'a>(existing: impl IntoIterator<Item = &'a str>) -> String {
    let mut value = String::from("aws-chunked");
    for token in existing
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
    {
        if !token.is_empty() && !token.eq_ignore_ascii_case("aws-chunked") {
            value.push(',');
            value.push_str(token);
        }
    }
    value
}

/// An object's stored Content-Encoding without `aws-chunked`, which describes how a request
/// was framed, not the object (S3 drops it; some servers store it); `None` when nothing is left.
pub(super) fn stored_encoding(value: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("aws-chunked"))
        .collect();
    (!kept.is_empty()).then(|| kept.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_leads_one_header_and_is_never_doubled() {
        assert_eq!(content_encoding([]), "aws-chunked");
        assert_eq!(content_encoding(["gzip"]), "aws-chunked,gzip");
        assert_eq!(content_encoding(["aws-chunked"]), "aws-chunked");
        assert_eq!(
            content_encoding(["aws-chunked, gzip", "br"]),
            "aws-chunked,gzip,br"
        );
    }

    #[test]
    fn stored_encoding_drops_request_framing() {
        assert_eq!(stored_encoding("aws-chunked"), None);
        assert_eq!(stored_encoding("AWS-CHUNKED,gzip"), Some("gzip".into()));
        assert_eq!(stored_encoding("gzip, br"), Some("gzip,br".into()));
        assert_eq!(stored_encoding(""), None);
    }
}
