//! [`Throttled`]: a connection whose reads and writes each pass a token bucket, so one TCP
//! connection moves at most the [`ConnectionRate`](super::ConnectionRate) the switches hold, in
//! each direction, as a connection to S3 does. The rate is read on every read and write (one
//! relaxed atomic load; 0 passes straight through), so a test can turn it on and off on open
//! connections.
//!
//! Accuracy: tokens accrue continuously at the rate. While the connection wants to move more
//! than it may (it waits on our timer, or takes every token offered), every token that accrues
//! counts, so a timer that fires late (tokio's granularity is 1 ms) loses nothing. While it does
//! not (idle, or the peer is slow), at most [`IDLE_BURST_BYTES`] accrue: a response that starts
//! after an idle spell gets no more head start than that.
//!
//! Depends on tokio's I/O traits and timer only.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use crate::behaviours::Switches;

/// Tokens an idle direction may save up: what it can move at once when it starts again.
pub(crate) const IDLE_BURST_BYTES: f64 = 16.0 * 1024.0;
/// How far a busy direction may fall behind its schedule and catch up (a late timer, a busy
/// runtime): 20 ms of the rate.
const CATCH_UP: Duration = Duration::from_millis(20);
/// The least a waiting direction waits for: 1 ms of the rate, at least 4 KiB (fewer, shorter
/// timers would only add wake-ups below tokio's 1 ms granularity).
const MIN_WAIT: Duration = Duration::from_millis(1);
const MIN_STEP_BYTES: f64 = 4096.0;

/// One direction's token bucket.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// Whether the last attempt wanted more than the bucket allowed (so time since then was
    /// spent wanting: its tokens all count).
    hungry: bool,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Bucket {
    fn new() -> Self {
        Bucket {
            tokens: 0.0,
            refilled: Instant::now(),
            hungry: false,
            timer: None,
        }
    }

    /// How many of `wanted` bytes may move now; `Pending` with a timer set when none may.
    fn poll_allow(&mut self, cx: &mut Context<'_>, rate: u64, wanted: usize) -> Poll<usize> {
        let rate = rate as f64;
        let now = Instant::now();
        let accrued = now.saturating_duration_since(self.refilled).as_secs_f64() * rate;
        self.refilled = now;
        let cap = match self.hungry {
            true => (CATCH_UP.as_secs_f64() * rate).max(IDLE_BURST_BYTES),
            false => self.tokens.max(IDLE_BURST_BYTES),
        };
        self.tokens = (self.tokens + accrued).min(cap);
        let step = (MIN_WAIT.as_secs_f64() * rate)
            .max(MIN_STEP_BYTES)
            .min(wanted as f64);
        if self.tokens >= step {
            self.timer = None;
            return Poll::Ready((self.tokens as usize).min(wanted));
        }
        self.hungry = true;
        let wait = Duration::from_secs_f64((step - self.tokens) / rate);
        let deadline = now + wait.max(Duration::from_micros(100));
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(deadline),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        if let Some(timer) = &mut self.timer {
            ready!(timer.as_mut().poll(cx));
        }
        // The deadline had already passed: try again at once.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// After the inner stream answered: `moved` of the `allowed` bytes went.
    fn spent(&mut self, allowed: usize, wanted: usize, moved: usize) {
        self.tokens = (self.tokens - moved as f64).max(0.0);
        self.hungry = moved == allowed && allowed < wanted;
    }
}

/// A connection (any async stream) throttled to the switches' connection rate.
#[derive(Debug)]
pub(crate) struct Throttled<S> {
    inner: S,
    switches: Arc<Switches>,
    read: Bucket,
    write: Bucket,
}

impl<S> Throttled<S> {
    pub(crate) fn new(inner: S, switches: Arc<Switches>) -> Self {
        Throttled {
            inner,
            switches,
            read: Bucket::new(),
            write: Bucket::new(),
        }
    }

    /// Bytes per second now; 0: no cap.
    fn rate(&self) -> u64 {
        self.switches.connection_rate.load(Ordering::Relaxed)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Throttled<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let rate = this.rate();
        if rate == 0 {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let wanted = buf.remaining();
        let allowed = ready!(this.read.poll_allow(cx, rate, wanted));
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(allowed));
        match Pin::new(&mut this.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let moved = limited.filled().len();
                buf.advance(moved);
                this.read.spent(allowed, wanted, moved);
                Poll::Ready(Ok(()))
            }
            other => {
                // Nothing came: the peer, not the cap, is what we wait for.
                this.read.hungry = false;
                other
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Throttled<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rate = this.rate();
        if rate == 0 {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        let allowed = ready!(this.write.poll_allow(cx, rate, buf.len()));
        let result = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..allowed]));
        if let Ok(moved) = &result {
            this.write.spent(allowed, buf.len(), *moved);
        }
        Poll::Ready(result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let rate = this.rate();
        if rate == 0 {
            return Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        }
        let wanted: usize = bufs.iter().map(|b| b.len()).sum();
        let allowed = ready!(this.write.poll_allow(cx, rate, wanted));
        let mut limited = Vec::with_capacity(bufs.len());
        let mut left = allowed;
        for buf in bufs {
            if left == 0 {
                break;
            }
            let take = buf.len().min(left);
            limited.push(IoSlice::new(&buf[..take]));
            left -= take;
        }
        let result = ready!(Pin::new(&mut this.inner).poll_write_vectored(cx, &limited));
        if let Ok(moved) = &result {
            this.write.spent(allowed, wanted, *moved);
        }
        Poll::Ready(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn switches_at(rate: u64) -> Arc<Switches> {
        let switches = Arc::new(Switches::default());
        switches.connection_rate.store(rate, Ordering::Relaxed);
        switches
    }

    /// Seconds to push `bytes` through a throttled writer into a fast reader.
    async fn write_seconds(rate: u64, bytes: usize) -> f64 {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let mut writer = Throttled::new(near, switches_at(rate));
        let reader = tokio::spawn(async move {
            let mut sink = Vec::new();
            far.read_to_end(&mut sink).await.unwrap();
            sink.len()
        });
        let started = std::time::Instant::now();
        let data = vec![7u8; bytes];
        for chunk in data.chunks(256 * 1024) {
            writer.write_all(chunk).await.unwrap();
        }
        writer.shutdown().await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        drop(writer);
        assert_eq!(reader.await.unwrap(), bytes);
        seconds
    }

    #[tokio::test]
    async fn writes_move_at_the_rate() {
        // 4 MiB at 40 MB/s: 0.105 s (the first 16 KiB go at once).
        let seconds = write_seconds(40_000_000, 4 << 20).await;
        let ideal = ((4 << 20) as f64 - IDLE_BURST_BYTES) / 40e6;
        assert!(seconds >= ideal * 0.98, "{seconds} < {ideal}");
        assert!(seconds < ideal * 1.5 + 0.05, "{seconds}");
    }

    #[tokio::test]
    async fn reads_move_at_the_rate_and_zero_is_no_cap() {
        let (near, mut far) = tokio::io::duplex(1 << 20);
        let switches = switches_at(20_000_000);
        let mut reader = Throttled::new(near, switches.clone());
        let writer = tokio::spawn(async move {
            far.write_all(&vec![1u8; 2 << 20]).await.unwrap();
            far.shutdown().await.unwrap();
        });
        let started = std::time::Instant::now();
        let mut first = vec![0u8; 1 << 20];
        reader.read_exact(&mut first).await.unwrap();
        let capped = started.elapsed().as_secs_f64();
        assert!(capped >= 0.05, "1 MiB at 20 MB/s took {capped} s");
        switches.connection_rate.store(0, Ordering::Relaxed);
        let started = std::time::Instant::now();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest.len(), 1 << 20);
        assert!(started.elapsed().as_secs_f64() < 0.04);
        writer.await.unwrap();
    }
}
