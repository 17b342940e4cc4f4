//! The proxy's streaming pieces: the client socket wrapper that can be reset (RST), and the
//! request and response bodies that count bytes as they pass and inject body faults. Nothing
//! here collects a body: each frame is handed on as it arrives.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a faulted response body waits after its last byte before breaking, so the server
/// has flushed those bytes to the socket first.
const FLUSH_GRACE: Duration = Duration::from_millis(30);

/// The accepted client socket. Once `kill` is set every read and write fails, and dropping it
/// closes with SO_LINGER 0: the client sees a reset (RST), not an orderly close.
pub(super) struct KillableIo {
    pub stream: TcpStream,
    pub kill: Arc<AtomicBool>,
}

impl KillableIo {
    fn killed(&self) -> Option<std::io::Error> {
        self.kill
            .load(Ordering::Acquire)
            .then(|| std::io::Error::new(std::io::ErrorKind::ConnectionReset, "fault proxy reset"))
    }
}

impl Drop for KillableIo {
    fn drop(&mut self) {
        if self.kill.load(Ordering::Acquire) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for KillableIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if let Some(e) = self.killed() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a response body does after `after_bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyFault {
    /// Reset the client connection.
    Reset,
    /// End the body early (fewer bytes than its Content-Length); the server then closes.
    Truncate,
    /// Send nothing more, keeping the connection open.
    Stall,
    /// Send nothing more until the test releases held requests, then go on.
    Hold,
}

type Delay = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A body passed through the proxy, counting into `counter`, with an optional fault after
/// `limit` bytes. `guard` lives as long as the body (the in-flight count).
pub(super) struct FaultBody<B> {
    inner: B,
    counter: Arc<AtomicU64>,
    fault: Option<(BodyFault, u64)>,
    passed: u64,
    kill: Arc<AtomicBool>,
    /// Armed once the limit is reached: the grace before breaking, or forever for a stall.
    delay: Option<Delay>,
    stop: tokio_util::sync::CancellationToken,
    /// Flip the bits of the byte at this offset as it passes.
    corrupt_at: Option<u64>,
    /// For [`BodyFault::Hold`]: waits for the release and counts the body as held meanwhile.
    hold: Option<HoldGate>,
    _guard: Option<Box<dyn Send + Sync>>,
}

/// What a held body needs: the proxy's release signal and its held counter.
pub(super) struct HoldGate {
    pub release: tokio::sync::watch::Receiver<u64>,
    pub held: Arc<std::sync::atomic::AtomicUsize>,
}

/// Flip the byte at stream offset `at` if it lies in `data`, which starts at offset `passed`.
fn corrupt(data: Bytes, passed: u64, at: Option<u64>) -> Bytes {
    match at {
        Some(at) if at >= passed && at < passed + data.len() as u64 => {
            let mut owned = data.to_vec();
            owned[(at - passed) as usize] ^= 0xff;
            Bytes::from(owned)
        }
        _ => data,
    }
}

impl<B> FaultBody<B> {
    pub(super) fn new(
        inner: B,
        counter: Arc<AtomicU64>,
        fault: Option<(BodyFault, u64)>,
        kill: Arc<AtomicBool>,
        stop: tokio_util::sync::CancellationToken,
        guard: Option<Box<dyn Send + Sync>>,
    ) -> Self {
        FaultBody {
            inner,
            counter,
            fault,
            passed: 0,
            kill,
            delay: None,
            stop,
            corrupt_at: None,
            hold: None,
            _guard: guard,
        }
    }

    /// The gate a [`BodyFault::Hold`] waits on.
    pub(super) fn hold_gate(mut self, gate: Option<HoldGate>) -> Self {
        self.hold = gate;
        self
    }

    /// Flip the byte at offset `at` of the body.
    pub(super) fn corrupt_at(mut self, at: Option<u64>) -> Self {
        self.corrupt_at = at;
        self
    }
}

impl<B> Body for FaultBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some((fault, limit)) = this.fault
            && this.passed >= limit
        {
            if this.delay.is_none() {
                let stop = this.stop.clone();
                let delay: Delay = match (fault, this.hold.take()) {
                    (BodyFault::Stall, _) => Box::pin(async move { stop.cancelled().await }),
                    (BodyFault::Hold, Some(mut gate)) => Box::pin(async move {
                        gate.held.fetch_add(1, Ordering::AcqRel);
                        let generation = *gate.release.borrow_and_update();
                        tokio::select! {
                            _ = gate.release.wait_for(|g| *g != generation) => {}
                            () = stop.cancelled() => {}
                        }
                        gate.held.fetch_sub(1, Ordering::AcqRel);
                    }),
                    _ => Box::pin(tokio::time::sleep(FLUSH_GRACE)),
                };
                this.delay = Some(delay);
            }
            let delay = this.delay.as_mut().expect("armed above");
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if fault == BodyFault::Hold {
                // Released: stream the rest untouched.
                this.fault = None;
                this.delay = None;
                return self.poll_frame(cx);
            }
            return match fault {
                BodyFault::Hold => unreachable!("handled above"),
                BodyFault::Truncate => Poll::Ready(None),
                BodyFault::Reset | BodyFault::Stall => {
                    this.kill.store(true, Ordering::Release);
                    Poll::Ready(Some(Err("fault proxy: connection reset mid-body".into())))
                }
            };
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let frame = match frame.into_data() {
                    Ok(mut data) => {
                        if let Some((_, limit)) = this.fault {
                            let room = (limit - this.passed) as usize;
                            if data.len() > room {
                                data.truncate(room);
                            }
                        }
                        let data = corrupt(data, this.passed, this.corrupt_at);
                        this.passed += data.len() as u64;
                        this.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                        Frame::data(data)
                    }
                    Err(frame) => frame,
                };
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.fault.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        // Keep the original length: a truncated body must fall short of what was promised.
        self.inner.size_hint()
    }
}

/// A request body forwarded upstream, counting into `counter`; after `reset_after` bytes the
/// client connection is marked for reset and the body fails, which fails the upstream request.
pub(super) struct RequestBody<B> {
    inner: B,
    counter: Arc<AtomicU64>,
    reset_after: Option<u64>,
    passed: u64,
    kill: Arc<AtomicBool>,
    /// Flip the bits of the byte at this offset as it passes.
    corrupt_at: Option<u64>,
    /// Pass at most this many bytes per second (from the first poll), and when the next frame
    /// may be read.
    bandwidth: Option<(u64, Option<tokio::time::Instant>)>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<B> RequestBody<B> {
    pub(super) fn new(
        inner: B,
        counter: Arc<AtomicU64>,
        reset_after: Option<u64>,
        kill: Arc<AtomicBool>,
    ) -> Self {
        RequestBody {
            inner,
            counter,
            reset_after,
            passed: 0,
            kill,
            corrupt_at: None,
            bandwidth: None,
            pause: None,
        }
    }

    /// Read the body at no more than `bytes_per_second`.
    pub(super) fn bandwidth(mut self, bytes_per_second: Option<u64>) -> Self {
        self.bandwidth = bytes_per_second.map(|rate| (rate, None));
        self
    }

    /// Flip the byte at offset `at` of the body.
    pub(super) fn corrupt_at(mut self, at: Option<u64>) -> Self {
        self.corrupt_at = at;
        self
    }
}

impl<B> Body for RequestBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.reset_after.is_some_and(|limit| this.passed >= limit) {
            this.kill.store(true, Ordering::Release);
            return Poll::Ready(Some(Err("fault proxy: request body reset".into())));
        }
        if let Some(pause) = this.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.pause = None;
        }
        if let Some((_, start @ None)) = &mut this.bandwidth {
            *start = Some(tokio::time::Instant::now());
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let frame = match frame.into_data() {
                    Ok(mut data) => {
                        if let Some(limit) = this.reset_after {
                            data.truncate((limit - this.passed).min(data.len() as u64) as usize);
                        }
                        let data = corrupt(data, this.passed, this.corrupt_at);
                        this.passed += data.len() as u64;
                        this.counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                        if let Some((rate, Some(start))) = this.bandwidth {
                            let due =
                                start + Duration::from_secs_f64(this.passed as f64 / rate as f64);
                            if due > tokio::time::Instant::now() {
                                this.pause = Some(Box::pin(tokio::time::sleep_until(due)));
                            }
                        }
                        Frame::data(data)
                    }
                    Err(frame) => frame,
                };
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.reset_after.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
