//! The concurrency window: how many requests may be in flight now.
//!
//! - **Fixed** (`concurrency = N`): additive increase, multiplicative decrease. A 503 SlowDown
//!   halves the window (at most once per cool-down, so one burst of SlowDowns from many
//!   parallel requests counts once); every window's worth of successes adds one back, up to N.
//! - **Adaptive** (`concurrency = "auto"`): on a store far away every request waits tens of
//!   milliseconds for its first byte, so throughput grows with the requests in flight until the
//!   store, the network or this host is the limit, and no fixed number is right for every
//!   store. The window starts at [`ADAPTIVE_START`] and measures completed requests per second
//!   over each sample period. While the last raise still paid (the rate grew by at least
//!   [`GAIN`]), it raises the window by half again, up to the ceiling; when a raise gained
//!   nothing, it goes back to the limit before it and holds there for [`HOLD`], then probes
//!   again (the store's capacity moves during a long run). SlowDown halves the window and
//!   holds, as in fixed mode. A concurrency set by the user (a TUI key, a command) makes the
//!   window fixed from then on: the user gets exactly that.

use std::time::{Duration, Instant};

/// After a decrease, further SlowDowns within this time do not decrease again.
const COOL_DOWN: Duration = Duration::from_secs(1);
/// Where an adaptive window starts (below the ceiling).
pub(super) const ADAPTIVE_START: usize = 16;
/// An adaptive window measures its rate over at least this long...
const SAMPLE: Duration = Duration::from_millis(500);
/// ...and over at least this many completed requests.
const SAMPLE_REQUESTS: u64 = 16;
/// A raise pays when the rate grows by at least this factor.
const GAIN: f64 = 1.10;
/// After a raise that did not pay, or a SlowDown, the window stays put this long.
const HOLD: Duration = Duration::from_secs(10);

/// A change of the window, with why (for `Event::ConcurrencyChanged`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Change {
    pub limit: usize,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub(super) struct Window {
    max: usize,
    current: f64,
    last_decrease: Option<Instant>,
    /// Some in adaptive mode.
    probe: Option<Probe>,
}

/// An adaptive window's measurements.
#[derive(Debug, Clone)]
struct Probe {
    /// Start of the current sample period and the requests completed in it.
    since: Option<Instant>,
    done: u64,
    /// The limit and rate (requests/s) of the last sample that counts.
    last: Option<(usize, f64)>,
    hold_until: Option<Instant>,
}

impl Window {
    /// A fixed window of `max` requests.
    pub(super) fn new(max: usize) -> Self {
        Window {
            max: max.max(1),
            current: max.max(1) as f64,
            last_decrease: None,
            probe: None,
        }
    }

    /// An adaptive window that may climb to `ceiling`.
    pub(super) fn adaptive(ceiling: usize) -> Self {
        let max = ceiling.max(1);
        Window {
            max,
            current: ADAPTIVE_START.min(max) as f64,
            last_decrease: None,
            probe: Some(Probe {
                since: None,
                done: 0,
                last: None,
                hold_until: None,
            }),
        }
    }

    /// Requests allowed in flight now.
    pub(super) fn limit(&self) -> usize {
        (self.current as usize).clamp(1, self.max)
    }

    /// A request got SlowDown. Returns the new limit when it changed.
    pub(super) fn slow_down(&mut self, now: Instant) -> Option<usize> {
        if self
            .last_decrease
            .is_some_and(|t| now.duration_since(t) < COOL_DOWN)
        {
            return None;
        }
        let before = self.limit();
        self.current = (self.current / 2.0).max(1.0);
        self.last_decrease = Some(now);
        if let Some(probe) = &mut self.probe {
            probe.hold_until = Some(now + HOLD);
            probe.last = None;
            probe.since = None;
        }
        (self.limit() != before).then(|| self.limit())
    }

    /// A request succeeded at `now`. Returns the change when the limit moved.
    pub(super) fn success(&mut self, now: Instant) -> Option<Change> {
        if self.probe.is_some() {
            return self.sample(now);
        }
        if self.current >= self.max as f64 {
            return None;
        }
        let before = self.limit();
        self.current = (self.current + 1.0 / self.current).min(self.max as f64);
        (self.limit() != before).then(|| Change {
            limit: self.limit(),
            reason: "recovering after SlowDown".into(),
        })
    }

    /// Adaptive mode: count a completed request; at the end of a sample period, decide.
    fn sample(&mut self, now: Instant) -> Option<Change> {
        let limit = self.limit();
        let max = self.max;
        let probe = self.probe.as_mut()?;
        let Some(since) = probe.since else {
            probe.since = Some(now);
            probe.done = 0;
            return None;
        };
        probe.done += 1;
        let elapsed = now.duration_since(since);
        if elapsed < SAMPLE || probe.done < SAMPLE_REQUESTS {
            return None;
        }
        let rate = probe.done as f64 / elapsed.as_secs_f64();
        probe.since = Some(now);
        probe.done = 0;
        if probe.hold_until.is_some_and(|t| now < t) {
            probe.last = Some((limit, rate));
            return None;
        }
        probe.hold_until = None;
        let raise = |probe: &mut Probe| {
            probe.last = Some((limit, rate));
            let next = (limit + limit / 2).max(limit + 1).min(max);
            (next != limit).then_some(next)
        };
        let (next, reason) = match probe.last {
            Some((before, before_rate)) if limit > before && rate < before_rate * GAIN => {
                // The last raise gained nothing: go back and stay there a while.
                probe.last = Some((before, before_rate));
                probe.hold_until = Some(now + HOLD);
                (
                    before,
                    format!("no throughput gain above {before} requests: holding there"),
                )
            }
            _ => (
                raise(probe)?,
                format!("throughput still growing ({rate:.0} requests/s): raising"),
            ),
        };
        self.current = next as f64;
        (next != limit).then_some(Change {
            limit: next,
            reason,
        })
    }

    /// The user changed the concurrency: the window is fixed at `max` from now on.
    pub(super) fn set_max(&mut self, max: usize) {
        self.max = max.max(1);
        self.current = self.max as f64;
        self.probe = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_slowdown_once_per_cool_down_and_recovers() {
        let t0 = Instant::now();
        let mut w = Window::new(16);
        assert_eq!(w.slow_down(t0), Some(8));
        assert_eq!(
            w.slow_down(t0 + Duration::from_millis(100)),
            None,
            "same burst"
        );
        assert_eq!(w.slow_down(t0 + Duration::from_secs(2)), Some(4));
        let mut raised = 0;
        for _ in 0..1000 {
            if w.success(t0).is_some() {
                raised += 1;
            }
        }
        assert_eq!(w.limit(), 16);
        assert_eq!(raised, 12);
    }

    #[test]
    fn never_below_one() {
        let t0 = Instant::now();
        let mut w = Window::new(2);
        w.slow_down(t0);
        w.slow_down(t0 + Duration::from_secs(5));
        assert_eq!(w.limit(), 1);
        w.set_max(3);
        assert_eq!(w.limit(), 3);
    }

    /// Drives an adaptive window against a store that completes `min(limit, capacity)`
    /// requests per `latency`, for `run`; returns the limits it went through.
    fn climb(w: &mut Window, capacity: usize, latency: Duration, run: Duration) -> Vec<usize> {
        let t0 = Instant::now();
        let mut now = t0;
        let mut limits = vec![w.limit()];
        while now.duration_since(t0) < run {
            let per_round = w.limit().min(capacity);
            now += latency;
            for _ in 0..per_round {
                if let Some(change) = w.success(now) {
                    limits.push(change.limit);
                }
            }
        }
        limits
    }

    #[test]
    fn adaptive_climbs_while_throughput_grows_and_settles_at_the_store_limit() {
        let mut w = Window::adaptive(256);
        assert_eq!(w.limit(), ADAPTIVE_START);
        // 30 ms per request, the store serves at most 100 at once.
        let limits = climb(
            &mut w,
            100,
            Duration::from_millis(30),
            Duration::from_secs(8),
        );
        assert!(
            limits.windows(2).take(3).all(|p| p[1] > p[0]),
            "climbs first: {limits:?}"
        );
        let limit = w.limit();
        assert!(
            (100..=150).contains(&limit),
            "settles just above the store's 100, not at 256: {limit} ({limits:?})"
        );
    }

    #[test]
    fn adaptive_reaches_the_ceiling_when_the_store_keeps_up() {
        let mut w = Window::adaptive(64);
        climb(
            &mut w,
            10_000,
            Duration::from_millis(30),
            Duration::from_secs(8),
        );
        assert_eq!(w.limit(), 64);
    }

    #[test]
    fn adaptive_stays_low_when_more_requests_do_not_help() {
        let mut w = Window::adaptive(256);
        let limits = climb(&mut w, 8, Duration::from_millis(30), Duration::from_secs(8));
        assert!(w.limit() <= 24, "{limits:?}");
    }

    #[test]
    fn slowdown_halves_an_adaptive_window_and_holds_it() {
        let t0 = Instant::now();
        let mut w = Window::adaptive(256);
        assert_eq!(w.slow_down(t0), Some(ADAPTIVE_START / 2));
        // Within the hold the rate is measured but the window does not move.
        let mut now = t0;
        for _ in 0..200 {
            now += Duration::from_millis(20);
            assert_eq!(w.success(now), None);
        }
        assert!(now < t0 + HOLD);
    }

    #[test]
    fn a_user_setting_makes_an_adaptive_window_fixed() {
        let mut w = Window::adaptive(256);
        w.set_max(40);
        let limits = climb(
            &mut w,
            10_000,
            Duration::from_millis(30),
            Duration::from_secs(5),
        );
        assert_eq!(limits, vec![40]);
        assert_eq!(w.limit(), 40);
    }
}
