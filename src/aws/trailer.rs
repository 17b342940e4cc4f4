//! The request side of our `aws-chunked` uploads: an interceptor that sets the headers of an
//! `aws-chunked` body with an unsigned CRC64NVME trailer and tells the signer the payload is
//! `STREAMING-UNSIGNED-PAYLOAD-TRAILER`. The body itself is framed by
//! `engine::chunked::ChunkedBody`; see there for why we do not let the SDK do it.

use aws_runtime::auth::PayloadSigningOverride;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Header name of the trailer, shared with the body framing.
pub const TRAILER_HEADER: &str = "x-amz-checksum-crc64nvme";

/// Sets `aws-chunked` headers for a body of `decoded_length` payload bytes framed into
/// `encoded_length` bytes.
#[derive(Debug, Clone, Copy)]
pub struct UnsignedTrailer {
    pub decoded_length: u64,
    pub encoded_length: u64,
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
        headers.insert("x-amz-trailer", TRAILER_HEADER);
        headers.insert("x-amz-sdk-checksum-algorithm", "CRC64NVME");
        headers.remove("transfer-encoding");
        // Like the SDK: aws-chunked is added to any Content-Encoding the object carries.
        headers.append("content-encoding", "aws-chunked");
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::StreamingUnsignedPayloadTrailer);
        Ok(())
    }
}
