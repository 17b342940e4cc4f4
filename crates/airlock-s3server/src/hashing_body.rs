//! [`HashingBody`]: a request body that computes checksums while s3s-fs reads it, and at its end
//! checks them against the values the client sent as headers or aws-chunked trailers. This is
//! how UploadPart gets verified without reading the part file again.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use s3s::dto::StreamingBlob;
use s3s::stream::{ByteStream, RemainingLength};
use s3s::{StdError, TrailingHeaders};

use super::checksum::{Algorithm, Hasher, Sums};

/// What [`HashingBody`] found once its body ended.
#[derive(Debug)]
pub(crate) struct Verified {
    pub sums: Sums,
    pub size_bytes: u64,
    /// The first algorithm whose sent value (header or trailer) differs from the computed one.
    pub mismatch: Option<Algorithm>,
}

/// Filled by [`HashingBody`] when the body ends; read by the handler after s3s-fs returns.
pub(crate) type Outcome = Arc<Mutex<Option<Verified>>>;

/// A request body that hashes the bytes on their way into s3s-fs. At the end of the body it
/// compares with the values sent as headers or aws-chunked trailers (s3s has parsed the trailers
/// by then); on a mismatch it ends with an error instead, so s3s-fs drops its temporary file and
/// leaves any earlier part with the same number untouched.
pub(crate) struct HashingBody {
    inner: StreamingBlob,
    hasher: Option<Hasher>,
    /// Values sent as request headers.
    sent: Sums,
    /// Values sent as trailers, readable once the body has ended.
    trailers: Option<TrailingHeaders>,
    /// Algorithms whose sent values are not checked (a legacy store does not know them).
    ignored: &'static [Algorithm],
    outcome: Outcome,
}

impl HashingBody {
    pub(crate) fn new(
        inner: StreamingBlob,
        algorithms: &[Algorithm],
        sent: Sums,
        trailers: Option<TrailingHeaders>,
        outcome: Outcome,
    ) -> Self {
        HashingBody {
            inner,
            hasher: Some(Hasher::new(algorithms)),
            sent,
            trailers,
            ignored: &[],
            outcome,
        }
    }

    /// Check nothing for these algorithms, whatever header or trailer carries them.
    pub(crate) fn ignoring(mut self, algorithms: &'static [Algorithm]) -> Self {
        self.ignored = algorithms;
        self
    }

    fn verify(&mut self, hasher: Hasher) -> bool {
        let (sums, size_bytes) = hasher.finish();
        let mut sent = self.sent.clone();
        if let Some(trailed) = self
            .trailers
            .as_ref()
            .and_then(|t| t.read(Sums::from_headers))
        {
            for (alg, value) in trailed.present() {
                sent.set(alg, value.to_string());
            }
        }
        for alg in self.ignored {
            sent.remove(*alg);
        }
        let mismatch = sent
            .present()
            .find(|(alg, value)| sums.get(*alg) != Some(*value))
            .map(|(alg, _)| alg);
        let ok = mismatch.is_none();
        let verified = Verified {
            sums,
            size_bytes,
            mismatch,
        };
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(verified);
        ok
    }
}

impl Stream for HashingBody {
    type Item = Result<Bytes, StdError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(bytes))) => {
                if let Some(hasher) = &mut this.hasher {
                    hasher.update(&bytes);
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(None) => {
                let matched = this.hasher.take().is_none_or(|hasher| this.verify(hasher));
                if matched {
                    Poll::Ready(None)
                } else {
                    let mismatch = io::Error::other("checksum does not match the body");
                    Poll::Ready(Some(Err(Box::new(mismatch))))
                }
            }
            other => other,
        }
    }
}

impl ByteStream for HashingBody {
    fn remaining_length(&self) -> RemainingLength {
        self.inner.remaining_length()
    }
}
