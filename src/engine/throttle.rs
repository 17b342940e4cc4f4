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
pub struct Throttle {
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
    pub fn new(rate: u64) -> Self {
        Throttle {
            state: Mutex::new(Bucket {
                rate,
                tokens: rate as f64 * BURST,
                refilled: Instant::now(),
            }),
        }
    }

    /// Change the rate now (0 removes the cap).
    pub fn set_rate(&self, rate: u64) {
        let mut bucket = self.state.lock().expect("throttle");
        bucket.refill(Instant::now());
        bucket.rate = rate;
        bucket.tokens = bucket.tokens.min(rate as f64 * BURST);
    }

    pub fn rate(&self) -> u64 {
        self.state.lock().expect("throttle").rate
    }

    /// Charge `bytes` that just passed.
    pub fn charge(&self, bytes: u64) {
        let mut bucket = self.state.lock().expect("throttle");
        if bucket.rate == 0 {
            return;
        }
        bucket.refill(Instant::now());
        bucket.tokens -= bytes as f64;
    }

    /// How long the next read must wait for the debt to be paid (None: go now).
    pub fn delay(&self) -> Option<Duration> {
        let mut bucket = self.state.lock().expect("throttle");
        if bucket.rate == 0 {
            return None;
        }
        bucket.refill(Instant::now());
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

    #[tokio::test(start_paused = true)]
    async fn debt_is_paid_back_at_the_rate() {
        let throttle = Throttle::new(1000);
        // One burst (250 bytes) is free; 1250 more are a debt of 1000 bytes: one second.
        throttle.charge(250);
        assert_eq!(throttle.delay(), None);
        throttle.charge(1000);
        let delay = throttle.delay().expect("in debt");
        assert!((delay.as_secs_f64() - 1.0).abs() < 1e-6, "{delay:?}");
        tokio::time::advance(Duration::from_millis(500)).await;
        let delay = throttle.delay().expect("half paid");
        assert!((delay.as_secs_f64() - 0.5).abs() < 1e-6, "{delay:?}");
        tokio::time::advance(Duration::from_millis(500)).await;
        assert_eq!(throttle.delay(), None);
        // Idle time saves up at most one burst.
        tokio::time::advance(Duration::from_secs(60)).await;
        throttle.charge(500);
        let delay = throttle.delay().expect("burst is capped");
        assert!((delay.as_secs_f64() - 0.25).abs() < 1e-6, "{delay:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn zero_rate_means_no_cap_and_the_rate_changes_live() {
        let throttle = Throttle::new(0);
        throttle.charge(u64::MAX / 2);
        assert_eq!(throttle.delay(), None);
        throttle.set_rate(100);
        throttle.charge(125);
        assert_eq!(throttle.delay(), Some(Duration::from_secs(1)));
        throttle.set_rate(0);
        assert_eq!(throttle.delay(), None);
    }
}
