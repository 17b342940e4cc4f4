//! `request_payer = true`: every request of that side's S3 clients carries
//! `x-amz-request-payer: requester`, which a Requester Pays bucket demands (without it S3
//! answers 403 AccessDenied) and which acknowledges that this account pays for the requests
//! and the bytes. Added in one place, an interceptor on the side's clients, before signing, so
//! no S3 call (listing, HEAD, GET, tagging, PUT, multipart, delete, versions) can miss it.
//!
//! Depends on the SDK's interceptor API only.

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Adds `x-amz-request-payer: requester` to every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequesterPays;

impl Intercept for RequesterPays {
    fn name(&self) -> &'static str {
        "RequesterPays"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("x-amz-request-payer", "requester");
        Ok(())
    }
}
