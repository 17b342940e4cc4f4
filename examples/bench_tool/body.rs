//! Request bodies for uploads. Both are streamed (the SDK sees no in-memory bytes, so it sends
//! an unsigned payload, as it does for airlock's relayed bodies) and both are retryable.
//! [`generated`] makes an object's seeded bytes on the fly, 1 MiB at a time, so an 8 GiB object
//! never sits in memory; [`from_memory`] hands out slices of one shared buffer and costs almost
//! nothing, for the PUT-only ceiling.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::body::SdkBody;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use crate::dataset::generate;

const FRAME_BYTES: u64 = 1024 * 1024;

/// The seeded bytes `[offset, offset + length)` of the object seeded `seed`.
pub(crate) fn generated(seed: u64, offset: u64, length: u64) -> ByteStream {
    ByteStream::new(SdkBody::retryable(move || {
        SdkBody::from_body_1_x(Generated {
            seed,
            offset,
            remaining: length,
        })
    }))
}

/// `length` bytes cycled from `buffer` (which must not be empty).
pub(crate) fn from_memory(buffer: Bytes, length: u64) -> ByteStream {
    ByteStream::new(SdkBody::retryable(move || {
        SdkBody::from_body_1_x(Memory {
            buffer: buffer.clone(),
            position: 0,
            remaining: length,
        })
    }))
}

struct Generated {
    seed: u64,
    offset: u64,
    remaining: u64,
}

impl Body for Generated {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let len = self.remaining.min(FRAME_BYTES);
        let mut frame = BytesMut::zeroed(len as usize);
        generate(self.seed, self.offset, &mut frame);
        self.offset += len;
        self.remaining -= len;
        Poll::Ready(Some(Ok(Frame::data(frame.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

struct Memory {
    buffer: Bytes,
    position: usize,
    remaining: u64,
}

impl Body for Memory {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let available = (self.buffer.len() - self.position) as u64;
        let len = self.remaining.min(FRAME_BYTES).min(available) as usize;
        let frame = self.buffer.slice(self.position..self.position + len);
        self.position = (self.position + len) % self.buffer.len();
        self.remaining -= len as u64;
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}
