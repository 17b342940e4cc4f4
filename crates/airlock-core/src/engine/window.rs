//! The concurrency window: how many requests may be in flight now.
//!
//! - **Fixed** (`concurrency = N`): additive increase, multiplicative decrease. A 503 SlowDown
//!   halves the window (at most once per cool-down, and not again while more requests are in
//!   flight than the lowered window, so one burst of SlowDowns from many parallel requests and
//!   their retries counts once); every window's worth of successes adds one back, up to N.
//! - **Adaptive** (`concurrency = "auto"`): on a store far away every request waits tens of
//!   milliseconds for its first byte, so throughput grows with the requests in flight until the
//!   store, the network or this host is the limit, and no fixed number is right for every
//!   store. The window starts at [`ADAPTIVE_START`] and measures completed requests per second
//!   over each sample period. While the last raise still paid (the rate grew by at least
//!   [`GAIN`]), it raises the window by half again, up to the ceiling; when a raise gained
//!   nothing, it goes back to the limit before it and holds there for [`HOLD`], then probes
//!   again (the store's capacity moves during a long run). SlowDown halves the window and
//!   holds, as in fixed mode, and remembers the window it came at: later raises stop an eighth
//!   below that, and past it the window probes in steps of an eighth instead of by half, so a
//!   store with a request-rate limit sees one short burst of SlowDowns per probe instead of a
//!   storm from a window that overshoots by half each time. A raise past that mark that still
//!   pays (the store's capacity grew) forgets it. Each back-off that starts a hold's time or
//!   more after the last one doubles the hold (10 s, 20 s, ... up to 80 s), so probes into a
//!   store's limit grow rare. A concurrency set by the user (a TUI key, a
//!   command) makes the window fixed from then on: the user gets exactly that.

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
/// After a raise that did not pay, or a SlowDown, the window stays put this long...
const HOLD: Duration = Duration::from_secs(10);
/// ...and after each further SlowDown (the store's limit found again) twice as long, up to this.
const MAX_HOLD: Duration = Duration::from_secs(80);

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
    /// The window at which the store last answered SlowDown.
    slowed_at: Option<usize>,
    /// How long the next SlowDown holds the window (doubles with each SlowDown while one is
    /// remembered).
    slow_hold: Duration,
}

impl Probe {
    /// The next window up from `limit` (at most `max`), and the reason's tail.
    fn next_up(&self, limit: usize, max: usize) -> (usize, String) {
        let by_half = (limit + limit / 2).max(limit + 1);
        let (next, how) = match self.slowed_at {
            None => (by_half, String::new()),
            Some(slowed) => {
                let below = slowed.saturating_sub((slowed / 8).max(1));
                if limit < below {
                    (
                        by_half.min(below),
                        format!(", staying below the SlowDown at {slowed}"),
                    )
                } else {
                    (
                        limit + (limit / 8).max(1),
                        format!(", an eighth at a time past the SlowDown at {slowed}"),
                    )
                }
            }
        };
        (next.min(max), how)
    }
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
                slowed_at: None,
                slow_hold: HOLD,
            }),
        }
    }

    /// Requests allowed in flight now.
    pub(super) fn limit(&self) -> usize {
        (self.current as usize).clamp(1, self.max)
    }

    /// A request got SlowDown. Returns the new limit when it changed.
    #[cfg(test)]
    pub(super) fn slow_down(&mut self, now: Instant) -> Option<usize> {
        self.slow_down_with(now, 0)
    }

    /// A request got SlowDown while `in_flight` requests were under way. Returns the new limit
    /// when it changed. While more requests are in flight than the (lowered) limit, a SlowDown
    /// most likely answers one sent before the last decrease (or its retry): it says nothing
    /// new and does not lower the window again.
    pub(super) fn slow_down_with(&mut self, now: Instant, in_flight: usize) -> Option<usize> {
        let recent = self
            .last_decrease
            .is_some_and(|t| now.duration_since(t) < COOL_DOWN);
        if recent || (self.last_decrease.is_some() && in_flight > self.limit()) {
            return None;
        }
        let before = self.limit();
        let previous = self.last_decrease.replace(now);
        self.current = (self.current / 2.0).max(1.0);
        if let Some(probe) = &mut self.probe {
            // SlowDown again, a hold's time or more after the last back-off: a later probe
            // found the store's limit again, so hold longer. Sooner, it is the same back-off
            // going on.
            let again = previous.is_some_and(|t| now.duration_since(t) >= probe.slow_hold);
            if probe.slowed_at.is_some() && again {
                probe.slow_hold = (probe.slow_hold * 2).min(MAX_HOLD);
            }
            probe.hold_until = Some(now + probe.slow_hold);
            probe.last = None;
            probe.since = None;
            probe.slowed_at = Some(before);
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
            last => {
                if let (Some((before, _)), Some(slowed)) = (last, probe.slowed_at)
                    && limit > before
                    && limit > slowed
                {
                    // Past the SlowDown mark and still gaining: the store's capacity grew.
                    probe.slowed_at = None;
                    probe.slow_hold = HOLD;
                }
                probe.last = Some((limit, rate));
                let (next, how) = probe.next_up(limit, max);
                if next == limit {
                    return None;
                }
                (
                    next,
                    format!("throughput still growing ({rate:.0} requests/s): raising{how}"),
                )
            }
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
    fn a_slowdown_from_before_the_decrease_does_not_lower_again() {
        let t0 = Instant::now();
        let mut w = Window::new(32);
        assert_eq!(w.slow_down_with(t0, 32), Some(16));
        // Two seconds on, 20 requests from before the decrease are still out: no news.
        assert_eq!(w.slow_down_with(t0 + Duration::from_secs(2), 20), None);
        // Once the in-flight requests fit the window, a SlowDown counts.
        assert_eq!(w.slow_down_with(t0 + Duration::from_secs(3), 16), Some(8));
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

    /// Like [`climb`], against a store that serves at most `capacity` requests per `latency`
    /// and answers SlowDown to the rest (a request-rate limit); returns when SlowDowns came.
    fn climb_limited(
        w: &mut Window,
        capacity: usize,
        latency: Duration,
        run: Duration,
    ) -> Vec<Duration> {
        let t0 = Instant::now();
        let mut now = t0;
        let mut slowed = Vec::new();
        while now.duration_since(t0) < run {
            let limit = w.limit();
            now += latency;
            if limit > capacity {
                w.slow_down(now);
                slowed.push(now.duration_since(t0));
            }
            for _ in 0..limit.min(capacity) {
                w.success(now);
            }
        }
        slowed
    }

    #[test]
    fn adaptive_settles_under_a_request_rate_limit_with_rare_probes() {
        let mut w = Window::adaptive(256);
        let run = Duration::from_secs(300);
        let slowed = climb_limited(&mut w, 40, Duration::from_millis(30), run);
        assert!(!slowed.is_empty(), "the climb reaches the limit");
        let late: Vec<_> = slowed.iter().filter(|t| **t > run / 2).collect();
        assert!(
            late.len() <= 3,
            "SlowDowns grow rare once the limit is known: {slowed:?}"
        );
        let limit = w.limit();
        assert!(
            (20..=45).contains(&limit),
            "settles near the store's 40: {limit} ({slowed:?})"
        );
    }

    #[test]
    fn a_probe_past_a_slowdown_goes_by_an_eighth() {
        let t0 = Instant::now();
        let mut w = Window::adaptive(256);
        w.current = 64.0;
        assert_eq!(w.slow_down(t0), Some(32));
        let probe = w.probe.as_ref().unwrap();
        assert_eq!(probe.next_up(32, 256).0, 48);
        assert_eq!(probe.next_up(48, 256).0, 56, "an eighth below 64");
        assert_eq!(probe.next_up(56, 256).0, 63, "past it: an eighth at a time");
        assert_eq!(probe.slow_hold, HOLD);
        // Within a hold's time: the same back-off, the hold stays.
        w.slow_down(t0 + Duration::from_secs(5));
        assert_eq!(w.probe.as_ref().unwrap().slow_hold, HOLD);
        // A hold's time later (a probe met SlowDown again): twice as long.
        w.slow_down(t0 + Duration::from_secs(30));
        assert_eq!(w.probe.as_ref().unwrap().slow_hold, HOLD * 2);
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
