//! The bandwidth cap (`transfer.bandwidth_limit`): one token bucket shared by every stream of
//! the run, charged in the data path as chunks pass through the relay.
//!
//! A chunk is always let through and its bytes charged afterwards, so the bucket may go into
//! debt; the next read on any stream then waits until the debt is paid back at the configured
//! rate. With network-sized chunks (tens of KiB) the rate is smooth at well under a second's
//! scale, and a burst is at most `BURST` of a second's worth of bytes. The rate can be changed
//! while the run goes (0 means no cap).

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Largest saving-up, as a fraction of one second's rate: an idle moment does not turn into
/// a long burst later.
const BURST: f64 = 0.25;

/// A shared token bucket; cheap to call from `poll` functions.
#[derive(Debug)]
pub(super) struct Throttle {
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Bytes per second; 0 means no cap.
    rate: u64,
    /// Bytes that may pass now; negative is debt.
    tokens: f64,
    refilled: Instant,
}

impl Throttle {
    /// A bucket for `rate` bytes per second (0: no cap), starting with one burst of tokens.
    pub(super) fn new(rate: u64) -> Self {
        Self::new_at(rate, Instant::now())
    }

    fn new_at(rate: u64, now: Instant) -> Self {
        Throttle {
            state: Mutex::new(Bucket {
                rate,
                tokens: rate as f64 * BURST,
                refilled: now,
            }),
        }
    }

    /// Change the rate now (0 removes the cap).
    pub(super) fn set_rate(&self, rate: u64) {
        self.set_rate_at(rate, Instant::now());
    }

    fn set_rate_at(&self, rate: u64, now: Instant) {
        let mut bucket = self.state.lock().expect("throttle");
        bucket.refill(now);
        bucket.rate = rate;
        bucket.tokens = bucket.tokens.min(rate as f64 * BURST);
    }

    /// Charge `bytes` that just passed.
    pub(super) fn charge(&self, bytes: u64) {
        self.charge_at(bytes, Instant::now());
    }

    fn charge_at(&self, bytes: u64, now: Instant) {
        let mut bucket = self.state.lock().expect("throttle");
        if bucket.rate == 0 {
            return;
        }
        bucket.refill(now);
        bucket.tokens -= bytes as f64;
    }

    /// How long the next read must wait for the debt to be paid (None: go now).
    pub(super) fn delay(&self) -> Option<Duration> {
        self.delay_at(Instant::now())
    }

    fn delay_at(&self, now: Instant) -> Option<Duration> {
        let mut bucket = self.state.lock().expect("throttle");
        if bucket.rate == 0 {
            return None;
        }
        bucket.refill(now);
        if bucket.tokens >= 0.0 {
            return None;
        }
        Some(Duration::from_secs_f64(-bucket.tokens / bucket.rate as f64))
    }
}

impl Bucket {
    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        let cap = self.rate as f64 * BURST;
        self.tokens = (self.tokens + elapsed * self.rate as f64).min(cap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(delay: Option<Duration>, secs: f64) -> bool {
        delay.is_some_and(|d| (d.as_secs_f64() - secs).abs() < 1e-6)
    }

    #[test]
    fn debt_is_paid_back_at_the_rate() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let throttle = Throttle::new_at(1000, t0);
        // One burst (250 bytes) is free; 1000 more are a debt of one second.
        throttle.charge_at(250, t0);
        assert_eq!(throttle.delay_at(t0), None);
        throttle.charge_at(1000, t0);
        assert!(close(throttle.delay_at(t0), 1.0));
        assert!(close(throttle.delay_at(at(500)), 0.5));
        assert_eq!(throttle.delay_at(at(1000)), None);
        // Idle time saves up at most one burst.
        throttle.charge_at(500, at(61_000));
        assert!(close(throttle.delay_at(at(61_000)), 0.25));
    }

    #[test]
    fn zero_rate_means_no_cap_and_the_rate_changes_live() {
        let t0 = Instant::now();
        let throttle = Throttle::new_at(0, t0);
        throttle.charge_at(u64::MAX / 2, t0);
        assert_eq!(throttle.delay_at(t0), None);
        throttle.set_rate_at(100, t0);
        throttle.charge_at(125, t0);
        assert!(close(throttle.delay_at(t0), 1.25));
        throttle.set_rate_at(0, t0);
        assert_eq!(throttle.delay_at(t0), None);
    }
}
