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
pub(super) const COMPLETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// Extra time before an upload counts as stalled, so that a stalled *source* (cut by the relay
/// after the same read timeout) is reported as the source's fault, not the target's.
const UPLOAD_GRACE: Duration = Duration::from_secs(5);

/// A request body that counts the bytes the HTTP client has taken from it.
pub(super) struct Counted {
    inner: SdkBody,
    taken: Arc<AtomicU64>,
}

/// Wrap `body`; the counter grows as the target accepts bytes.
pub(super) fn counted(body: SdkBody) -> (SdkBody, Arc<AtomicU64>) {
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
pub(super) async fn upload<T>(
    side: &SideClient,
    operation: &'static str,
    key: &str,
    taken: &AtomicU64,
    encoded_length: u64,
    send: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let idle = side.read_timeout + UPLOAD_GRACE;
    match until_idle(taken, idle, send).await {
        Ok(result) => result,
        Err(now) => {
            let secs = idle.as_secs();
            let message = if now >= encoded_length {
                format!("sent the whole body and got no answer for {secs}s")
            } else {
                format!("the target took no bytes for {secs}s ({now} of {encoded_length} sent)")
            };
            Err(stalled(side, operation, key, message))
        }
    }
}

/// `send`'s output, or `Err(bytes taken)` once `taken` stood still for a whole `idle`.
async fn until_idle<T>(
    taken: &AtomicU64,
    idle: Duration,
    send: impl Future<Output = T>,
) -> Result<T, u64> {
    tokio::pin!(send);
    loop {
        let before = taken.load(Ordering::Relaxed);
        tokio::select! {
            result = &mut send => return Ok(result),
            () = tokio::time::sleep(idle) => {}
        }
        let now = taken.load(Ordering::Relaxed);
        if now == before {
            return Err(now);
        }
    }
}

/// Run `send` with a deadline of `limit`.
pub(super) async fn answer<T>(
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

#[cfg(test)]
mod tests {
    use super::*;

    // Real time (tokio's paused clock needs its test-util feature): progress every 100 ms
    // against a 1 s idle limit leaves a wide margin on a busy machine.

    /// A slow upload that keeps moving is never cut, however long it takes in total.
    #[tokio::test]
    async fn a_slow_upload_that_progresses_is_not_cut() {
        let taken = AtomicU64::new(0);
        let send = async {
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                taken.fetch_add(1, Ordering::Relaxed);
            }
            "answered"
        };
        let result = until_idle(&taken, Duration::from_secs(1), send).await;
        assert_eq!(result, Ok("answered"));
    }

    #[tokio::test]
    async fn an_upload_that_stops_moving_is_cut() {
        let taken = AtomicU64::new(0);
        let send = async {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                taken.fetch_add(100, Ordering::Relaxed);
            }
            std::future::pending::<()>().await;
        };
        let result = until_idle(&taken, Duration::from_secs(1), send).await;
        assert_eq!(result, Err(300));
    }
}
