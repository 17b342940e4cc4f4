//! The proxy's rules: what a rule does to the requests it matches ([`Fault`]), which requests it
//! matches ([`Rule`]), and the table that decides, per request and in rule order, the latency,
//! the request-body bandwidth limit and the first other fault that fires.

use std::collections::HashMap;
use std::time::Duration;

use super::classify::{Op, Target};
use super::rate::TokenBucket;

/// What a rule does to a request it fires on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Answer 500 InternalError (S3 XML body) after reading the request body, as S3 does.
    InternalError,
    /// Answer 503 SlowDown (S3 XML body) after reading the request body.
    SlowDown,
    /// Answer 503 SlowDown to the matching requests above this many per second (a token
    /// bucket holding a quarter second's worth); the others pass untouched.
    SlowDownAbove { per_second: u32 },
    /// Forward, then reset the client connection after this many response-body bytes.
    ResetResponse { after_bytes: u64 },
    /// Forward, and reset the connection after this many request-body bytes.
    ResetRequest { after_bytes: u64 },
    /// Forward, then end the response body after this many bytes (below its Content-Length)
    /// and close the connection.
    Truncate { after_bytes: u64 },
    /// Forward, then send nothing after this many response-body bytes (connection kept open).
    StallBody { after_bytes: u64 },
    /// Wait this long, then go on (latency rules add up and never stop other rules).
    Latency(Duration),
    /// Read the request body at most this many bytes per second (like latency, never stops
    /// other rules; the lowest limit that fires wins).
    Bandwidth(u64),
    /// Accept the request and never answer; the socket stays open.
    Stall,
    /// Keep the request until [`FaultProxy::release_held`], then forward it.
    Hold,
    /// Forward, then pause the response body after this many bytes until
    /// [`FaultProxy::release_held`] (counted in [`FaultProxy::held`] meanwhile).
    HoldBody { after_bytes: u64 },
    /// Answer this status with this S3 error code (e.g. 403 AccessDenied), after reading the
    /// request body.
    Status(u16, &'static str),
    /// Forward, flipping the bits of the response-body byte at this offset.
    CorruptResponse { at_byte: u64 },
    /// Forward, flipping the bits of the request-body byte at this offset.
    CorruptRequest { at_byte: u64 },
    /// Forward, dropping the response headers whose names start with this prefix (a server
    /// that does not report what it computed).
    DropResponseHeaders(&'static str),
}

impl Fault {
    pub(super) fn name(&self) -> &'static str {
        match self {
            Fault::InternalError => "500 InternalError",
            Fault::SlowDown | Fault::SlowDownAbove { .. } => "503 SlowDown",
            Fault::ResetResponse { .. } => "reset mid-response",
            Fault::ResetRequest { .. } => "reset mid-request",
            Fault::Truncate { .. } => "truncated body",
            Fault::StallBody { .. } => "stalled body",
            Fault::Latency(_) => "latency",
            Fault::Bandwidth(_) => "bandwidth limit",
            Fault::Stall => "stall",
            Fault::Hold => "hold",
            Fault::HoldBody { .. } => "held body",
            Fault::Status(..) => "error status",
            Fault::CorruptResponse { .. } => "corrupt response byte",
            Fault::CorruptRequest { .. } => "corrupt request byte",
            Fault::DropResponseHeaders(_) => "response headers dropped",
        }
    }
}

/// A fault, which requests it applies to, and how often.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub(super) fault: Fault,
    op: Option<Op>,
    key_contains: Option<String>,
    part: Option<u32>,
    rate: f64,
    skip: u64,
    times: Option<u64>,
}

impl Rule {
    /// Fires on every request (narrow it with the methods below).
    pub(crate) fn new(fault: Fault) -> Self {
        Rule {
            fault,
            op: None,
            key_contains: None,
            part: None,
            rate: 1.0,
            skip: 0,
            times: None,
        }
    }

    /// Only requests of this operation.
    pub(crate) fn on(mut self, op: Op) -> Self {
        self.op = Some(op);
        self
    }

    /// Only requests whose (decoded) key contains `needle`.
    pub(crate) fn key(mut self, needle: &str) -> Self {
        self.key_contains = Some(needle.to_string());
        self
    }

    /// Only UploadPart requests of this part number.
    pub(crate) fn part(mut self, part: u32) -> Self {
        self.part = Some(part);
        self
    }

    /// Fire on this fraction of the matching requests (seeded draw).
    pub(crate) fn rate(mut self, rate: f64) -> Self {
        self.rate = rate;
        self
    }

    /// Let the first `n` matching requests through untouched.
    pub(crate) fn skip(mut self, n: u64) -> Self {
        self.skip = n;
        self
    }

    /// Fire at most `n` times (the first `n` matches, at rate 1).
    pub(crate) fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire on every match (the default).
    pub(crate) fn every_time(mut self) -> Self {
        self.times = None;
        self
    }

    fn matches(&self, target: &Target) -> bool {
        self.op.is_none_or(|op| op == target.op)
            && self
                .key_contains
                .as_deref()
                .is_none_or(|needle| target.key.contains(needle))
            && self.part.is_none_or(|part| target.part == Some(part))
    }
}

/// Names a rule added to a proxy, to count its firings or remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct RuleId(pub(super) u64);

pub(super) struct ActiveRule {
    pub(super) id: RuleId,
    pub(super) rule: Rule,
    pub(super) matched: u64,
    /// For [`Fault::SlowDownAbove`].
    pub(super) bucket: Option<TokenBucket>,
}

pub(super) struct Rules {
    pub(super) active: Vec<ActiveRule>,
    pub(super) fired: HashMap<RuleId, u64>,
    pub(super) next_id: u64,
    pub(super) rng: u64,
}

impl Rules {
    fn roll(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Total latency, the request-body bandwidth limit and the first other fault that fires,
    /// in rule order.
    pub(super) fn decide(&mut self, target: &Target) -> (Duration, Option<u64>, Option<Fault>) {
        let mut latency = Duration::ZERO;
        let mut bandwidth: Option<u64> = None;
        let mut fault = None;
        for i in 0..self.active.len() {
            let is_latency = matches!(
                self.active[i].rule.fault,
                Fault::Latency(_) | Fault::Bandwidth(_)
            );
            if (fault.is_some() && !is_latency) || !self.active[i].rule.matches(target) {
                continue;
            }
            let active = &mut self.active[i];
            active.matched += 1;
            let (id, rate, times) = (active.id, active.rule.rate, active.rule.times);
            if active.matched <= active.rule.skip
                || times.is_some_and(|t| self.fired.get(&id).copied().unwrap_or(0) >= t)
                || self.roll() >= rate
            {
                continue;
            }
            if let Some(bucket) = &mut self.active[i].bucket
                && bucket.take(std::time::Instant::now())
            {
                continue;
            }
            *self.fired.entry(id).or_default() += 1;
            match self.active[i].rule.fault.clone() {
                Fault::Latency(delay) => latency += delay,
                Fault::Bandwidth(rate) => {
                    bandwidth = Some(bandwidth.map_or(rate, |limit| limit.min(rate)));
                }
                other => fault = Some(other),
            }
        }
        (latency, bandwidth, fault)
    }
}
