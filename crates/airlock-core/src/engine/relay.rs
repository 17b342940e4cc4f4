//! The relay body: the source GET's response body, handed to the target PUT / UploadPart as
//! its request body. Bytes are never collected: each chunk goes from one socket to the other,
//! so memory per stream is one network chunk whatever the object size.
//!
//! On the way it computes checksums ([`Digests`]), counts bytes for progress, accounts the
//! bytes it holds against the engine-wide buffer gauge, cuts a source that stalls longer than
//! the read timeout, and refuses a body that ends early or runs long (a truncated source
//! must never become a short object at the target).

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use aws_smithy_types::body::SdkBody;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::digest::{DigestPlan, DigestValues, Digests};

/// Bytes the relay gathers before handing them to the PUT. A GET response arrives in whatever
/// the socket held at each wakeup (~15 KiB on loopback); passing each piece on costs a task
/// wakeup and a `writev` on the target side per piece. Gathering up to this much first means one
/// `writev` per ~192 KiB, while the source socket keeps filling in the kernel.
///
/// A stream holds at most one gathered chunk and one read at once, and a read is at most what
/// hyper's read buffer held: up to 408 KiB asked for, under twice that once its buffer has
/// grown (reads of 664 KiB were seen on a busy host). 192 KiB + 816 KiB stays inside the
/// per-stream budget ([`crate::plan::STREAM_BUFFER`], 1 MiB); 256 KiB did not.
pub(super) const GATHER: usize = 192 * 1024;

/// Engine-wide gauge of bytes held in relay buffers, with its high-water mark.
#[derive(Debug, Default)]
pub struct BufferGauge {
    current: AtomicU64,
    peak: AtomicU64,
    /// Bytes received from sources (all attempts), for GET throughput.
    received: AtomicU64,
}

impl BufferGauge {
    fn hold(&self, bytes: u64) {
        let now = self.current.fetch_add(bytes, Ordering::AcqRel) + bytes;
        self.peak.fetch_max(now, Ordering::AcqRel);
        self.received.fetch_add(bytes, Ordering::Relaxed);
    }

    fn release(&self, bytes: u64) {
        self.current.fetch_sub(bytes, Ordering::AcqRel);
    }

    pub fn current(&self) -> u64 {
        self.current.load(Ordering::Acquire)
    }

    /// Most bytes ever held at once.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Acquire)
    }

    /// Bytes received from sources so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// What the relay learned, read by the engine after the PUT returns.
#[derive(Debug, Default)]
pub(super) struct RelayOutcome {
    state: Mutex<RelayState>,
}

#[derive(Debug, Default)]
struct RelayState {
    digests: Option<DigestValues>,
    /// Set when the source side broke the stream; the PUT error then names the real cause.
    source_error: Option<String>,
}

impl RelayOutcome {
    /// Final digests, present once the whole body was read.
    pub(super) fn digests(&self) -> Option<DigestValues> {
        self.state.lock().expect("relay state").digests
    }

    /// The source-side failure that ended the stream, if that is what happened.
    pub(super) fn source_error(&self) -> Option<String> {
        self.state.lock().expect("relay state").source_error.clone()
    }

    fn fail(&self, message: String) {
        self.state.lock().expect("relay state").source_error = Some(message);
    }
}

/// Error type of the relay body (what the PUT sees when the source breaks).
#[derive(Debug, thiserror::Error)]
#[error("source stream failed: {0}")]
pub(super) struct RelayError(pub String);

/// A value the stream must end with, or it is refused before the target sees its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expect {
    /// The source's full-object CRC (algorithm, value).
    Crc(crate::plan::ChecksumAlgorithm, u64),
    /// The source's MD5 ETag.
    Md5([u8; 16]),
}

/// GET body -> PUT body adapter. See the module docs.
pub(super) struct RelayBody {
    inner: SdkBody,
    remaining: u64,
    digests: Option<Digests>,
    expect: Option<Expect>,
    outcome: Arc<RelayOutcome>,
    /// Bytes streamed in this attempt, read by the engine for per-object progress.
    progress: Arc<AtomicU64>,
    gauge: Arc<BufferGauge>,
    /// Bytes of the chunk last handed on; released when the consumer asks for the next one.
    held: u64,
    /// Bytes read but not yet handed on (see [`GATHER`]); counted in the gauge. Never more
    /// than [`GATHER`]: a read that does not fit waits in `next` instead.
    gathered: BytesMut,
    /// A read that did not fit beside the gathered bytes: handed on by the next poll, as it
    /// came (no copy). Counted in the gauge.
    next: Option<Bytes>,
    read_timeout: Duration,
    stall: Pin<Box<Sleep>>,
    /// When the source last sent something. The timer is not moved on every read (that takes
    /// the timer wheel's lock hundreds of thousands of times per GiB): when it fires, it is
    /// moved to `last_read + read_timeout` if the source has sent something since.
    last_read: Instant,
    /// The stall timer starts at the first poll, not when the body is built.
    polled: bool,
    /// The run's bandwidth cap, charged per chunk; None in unit tests.
    throttle: Option<Arc<super::throttle::Throttle>>,
    /// Set while waiting for the cap before the next read.
    throttle_wait: Option<Pin<Box<Sleep>>>,
}

impl RelayBody {
    pub(super) fn new(
        inner: SdkBody,
        length: u64,
        plan: DigestPlan,
        gauge: Arc<BufferGauge>,
        read_timeout: Duration,
    ) -> Self {
        RelayBody {
            inner,
            remaining: length,
            digests: Some(Digests::new(plan)),
            expect: None,
            outcome: Arc::new(RelayOutcome::default()),
            progress: Arc::new(AtomicU64::new(0)),
            gauge,
            held: 0,
            gathered: BytesMut::new(),
            next: None,
            read_timeout,
            stall: Box::pin(tokio::time::sleep(read_timeout)),
            last_read: Instant::now(),
            polled: false,
            throttle: None,
            throttle_wait: None,
        }
    }

    /// Hold reads to the run's bandwidth cap.
    pub(super) fn throttle(mut self, throttle: Arc<super::throttle::Throttle>) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Refuse the end of the stream unless its digest matches.
    pub(super) fn expect(mut self, expect: Option<Expect>) -> Self {
        self.expect = expect;
        self
    }

    /// Count streamed bytes into `progress` (reset by the caller per attempt).
    pub(super) fn progress(mut self, progress: Arc<AtomicU64>) -> Self {
        self.progress = progress;
        self
    }

    /// Where the digests and any source failure end up.
    pub(super) fn outcome(&self) -> Arc<RelayOutcome> {
        self.outcome.clone()
    }

    /// Finish the digests; refuse the end if they contradict what the source promised.
    fn finish(&mut self) -> Result<(), String> {
        let Some(digests) = self.digests.take() else {
            return Ok(());
        };
        let values = digests.finish();
        match &self.expect {
            Some(Expect::Crc(algorithm, want)) => {
                let got = match values.source_crc {
                    Some((a, v)) if a == *algorithm => v,
                    _ => values.crc64nvme,
                };
                if got != *want {
                    return Err(format!(
                        "bytes read do not match the source's {} checksum (read {}, source says {})",
                        format!("{algorithm:?}").to_lowercase(),
                        super::digest::encode(*algorithm, got),
                        super::digest::encode(*algorithm, *want)
                    ));
                }
            }
            Some(Expect::Md5(want)) if values.md5.as_ref() != Some(want) => {
                return Err("bytes read do not match the source's MD5 ETag".to_string());
            }
            Some(Expect::Md5(_)) => {}
            None => {}
        }
        self.outcome.state.lock().expect("relay state").digests = Some(values);
        Ok(())
    }

    fn release_held(&mut self) {
        if self.held > 0 {
            self.gauge.release(self.held);
            self.held = 0;
        }
    }

    /// What to hand on now that `data` reached the gather size (or ended the stream): the
    /// gathered bytes with `data` when both fit in [`GATHER`], else the gathered bytes alone
    /// while `data` waits in `next` for the next poll, or `data` alone when nothing is
    /// gathered. A chunk is never larger than [`GATHER`] or one read, whatever capacity the
    /// buffer has.
    fn hand_on(&mut self, data: Bytes) -> Bytes {
        let chunk = if self.gathered.is_empty() {
            data
        } else if self.gathered.len() + data.len() <= GATHER {
            self.gathered.extend_from_slice(&data);
            self.gathered.split().freeze()
        } else {
            self.next = Some(data);
            self.gathered.split().freeze()
        };
        self.held = chunk.len() as u64;
        chunk
    }

    fn fail(&mut self, message: String) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        self.outcome.fail(message.clone());
        self.digests = None;
        let gathered = self.gathered.len() as u64;
        self.gathered = BytesMut::new();
        self.gauge.release(gathered);
        if let Some(next) = self.next.take() {
            self.gauge.release(next.len() as u64);
        }
        Poll::Ready(Some(Err(RelayError(message))))
    }
}

impl Drop for RelayBody {
    fn drop(&mut self) {
        self.release_held();
        self.gauge.release(self.gathered.len() as u64);
        if let Some(next) = self.next.take() {
            self.gauge.release(next.len() as u64);
        }
    }
}

impl Body for RelayBody {
    type Data = Bytes;
    type Error = RelayError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, RelayError>>> {
        let this = &mut *self;
        // The consumer asks for more: the previous chunk has left our hands. The time the
        // consumer took is not the source's: the stall clock starts again.
        if this.held > 0 {
            this.release_held();
            this.last_read = Instant::now();
        }
        // A read that waited beside the last chunk: a large one (or the stream's last) goes
        // now as it came; a smaller one starts the next chunk.
        if let Some(next) = this.next.take() {
            if next.len() >= GATHER || this.remaining == 0 {
                this.held = next.len() as u64;
                return Poll::Ready(Some(Ok(Frame::data(next))));
            }
            let wanted = this.remaining.saturating_add(next.len() as u64);
            this.gathered
                .reserve(usize::try_from(wanted).map_or(GATHER, |w| w.min(GATHER)));
            this.gathered.extend_from_slice(&next);
        }
        if this.digests.is_none() {
            return Poll::Ready(None);
        }
        if !this.polled {
            this.polled = true;
            this.last_read = Instant::now();
            this.stall
                .as_mut()
                .reset(this.last_read + this.read_timeout);
        }
        if let Some(throttle) = this.throttle.clone() {
            loop {
                if let Some(wait) = this.throttle_wait.as_mut() {
                    if wait.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.throttle_wait = None;
                    // Waiting for the cap is not a stalled source.
                    this.last_read = Instant::now();
                }
                match throttle.delay() {
                    Some(delay) => this.throttle_wait = Some(Box::pin(tokio::time::sleep(delay))),
                    None => break,
                }
            }
        }
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers of the GET response carry nothing we forward
                    };
                    let len = data.len() as u64;
                    if len > this.remaining {
                        let extra = len - this.remaining;
                        return this
                            .fail(format!("source sent {extra} bytes more than its length"));
                    }
                    this.remaining -= len;
                    if let Some(d) = this.digests.as_mut() {
                        d.update(&data);
                    }
                    this.progress.fetch_add(len, Ordering::Relaxed);
                    if let Some(throttle) = &this.throttle {
                        throttle.charge(len);
                    }
                    this.gauge.hold(len);
                    this.last_read = Instant::now();
                    if this.remaining == 0 {
                        if let Err(message) = this.finish() {
                            // Refuse the last chunk: the target never receives a complete body.
                            this.gauge.release(len);
                            return this.fail(message);
                        }
                    } else if this.gathered.len() + data.len() < GATHER {
                        if this.gathered.is_empty() {
                            // Never more than the body still holds: a 16 KiB object needs 16 KiB.
                            let wanted = this.remaining.saturating_add(len);
                            this.gathered
                                .reserve(usize::try_from(wanted).map_or(GATHER, |w| w.min(GATHER)));
                        }
                        this.gathered.extend_from_slice(&data);
                        continue;
                    }
                    let chunk = this.hand_on(data);
                    return Poll::Ready(Some(Ok(Frame::data(chunk))));
                }
                Poll::Ready(Some(Err(e))) => {
                    let mut text = e.to_string();
                    let mut source = e.source();
                    while let Some(s) = source {
                        text = format!("{text}: {s}");
                        source = s.source();
                    }
                    return this.fail(text);
                }
                Poll::Ready(None) => {
                    if this.remaining > 0 {
                        let missing = this.remaining;
                        return this.fail(format!(
                            "source body ended {missing} bytes early (truncated)"
                        ));
                    }
                    // A 0-byte body ends without a data frame.
                    if let Err(message) = this.finish() {
                        return this.fail(message);
                    }
                    return Poll::Ready(None);
                }
                Poll::Pending => {
                    while this.stall.as_mut().poll(cx).is_ready() {
                        let deadline = this.last_read + this.read_timeout;
                        if deadline <= Instant::now() {
                            let secs = this.read_timeout.as_secs_f32();
                            return this
                                .fail(format!("source sent nothing for {secs:.0}s (stalled)"));
                        }
                        this.stall.as_mut().reset(deadline);
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.next.is_none()
            && (self.digests.is_none() || self.remaining == 0 && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        // Gathered bytes are read from the source but not handed on yet.
        let next = self.next.as_ref().map_or(0, Bytes::len);
        SizeHint::with_exact(self.remaining + (self.gathered.len() + next) as u64)
    }
}

#[cfg(test)]
mod tests;
