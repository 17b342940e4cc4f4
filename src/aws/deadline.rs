//! Progress deadlines for data requests. The side's `data` client has no HTTP read timeout
//! (the SDK's runs from the first byte sent to the response headers, so it cuts slow uploads
//! that are making progress; see `aws::client`). Instead: a GET must answer within the read
//! timeout; an upload fails when the target takes none of its body, or gives no answer after
//! all of it, for longer than the read timeout; a CompleteMultipartUpload, which may take
//! minutes on a big object (S3 assembles it, some servers re-read it), gets [`COMPLETE_TIMEOUT`].
//!
//! Depends on `error` and `config` only.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

use super::SideClient;
use crate::error::{Class, Error, S3Failure};

/// Longest wait for a CompleteMultipartUpload answer.
pub const COMPLETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Extra time before an upload counts as stalled, so that a stalled *source* (cut by the relay
/// after the same read timeout) is reported as the source's fault, not the target's.
const UPLOAD_GRACE: Duration = Duration::from_secs(5);

/// A request body that counts the bytes the HTTP client has taken from it.
pub struct Counted {
    inner: SdkBody,
    taken: Arc<AtomicU64>,
}

/// Wrap `body`; the counter grows as the target accepts bytes.
pub fn counted(body: SdkBody) -> (SdkBody, Arc<AtomicU64>) {
    let taken = Arc::new(AtomicU64::new(0));
    let body = Counted {
        inner: body,
        taken: taken.clone(),
    };
    (SdkBody::from_body_1_x(body), taken)
}

impl Body for Counted {
    type Data = Bytes;
    type Error = aws_smithy_types::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let poll = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &poll
            && let Some(data) = frame.data_ref()
        {
            self.taken.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Run an upload's `send` until it answers, or until `taken` has not moved for longer than the
/// side's read timeout.
pub async fn upload<T>(
    side: &SideClient,
    operation: &'static str,
    key: &str,
    taken: &AtomicU64,
    encoded_length: u64,
    send: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let idle = side.read_timeout + UPLOAD_GRACE;
    tokio::pin!(send);
    loop {
        let before = taken.load(Ordering::Relaxed);
        tokio::select! {
            result = &mut send => return result,
            () = tokio::time::sleep(idle) => {}
        }
        let now = taken.load(Ordering::Relaxed);
        if now == before {
            let secs = idle.as_secs();
            let message = if now >= encoded_length {
                format!("sent the whole body and got no answer for {secs}s")
            } else {
                format!("the target took no bytes for {secs}s ({now} of {encoded_length} sent)")
            };
            return Err(stalled(side, operation, key, message));
        }
    }
}

/// Run `send` with a deadline of `limit`.
pub async fn answer<T>(
    side: &SideClient,
    operation: &'static str,
    key: &str,
    limit: Duration,
    send: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match tokio::time::timeout(limit, send).await {
        Ok(result) => result,
        Err(_) => Err(stalled(
            side,
            operation,
            key,
            format!("no answer within {}s", limit.as_secs()),
        )),
    }
}

fn stalled(side: &SideClient, operation: &'static str, key: &str, message: String) -> Error {
    Error::from(S3Failure {
        side: side.side,
        operation,
        bucket: side.bucket.clone(),
        key: Some(key.to_string()),
        status: None,
        code: None,
        message: format!("timed out: {message}"),
        class: Class::Retryable,
    })
}
