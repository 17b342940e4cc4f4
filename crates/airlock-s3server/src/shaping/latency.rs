//! [`LatencyProfile`]: a first-byte delay per request kind, fixed or drawn uniformly from a
//! range, with its text form (`get=15-60ms,put=20-80ms,list=30ms`), and [`ActiveLatency`], the
//! profile a running server draws from. Draws are seeded: the n-th draw for a kind is a pure
//! function of the seed, the kind and n, so a run with the same requests in the same order gets
//! the same delays (concurrent requests may take the draws in another order).
//!
//! Depends on nothing but std; which kind a request is, is decided in `gate::latency`.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::ParseError;

/// What a request is, for its delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// GetObject (whole or ranged).
    Get,
    /// PutObject (and CopyObject).
    Put,
    /// UploadPart (and UploadPartCopy).
    UploadPart,
    /// HeadObject and HeadBucket.
    Head,
    /// ListObjectsV2, ListObjects, ListObjectVersions, ListMultipartUploads, ListParts.
    List,
    /// CompleteMultipartUpload.
    Complete,
    /// CreateMultipartUpload.
    Create,
    /// Everything else: deletes, aborts, tags, ACLs, bucket settings, ListBuckets.
    Other,
}

impl RequestKind {
    pub const ALL: [RequestKind; 8] = [
        RequestKind::Get,
        RequestKind::Put,
        RequestKind::UploadPart,
        RequestKind::Head,
        RequestKind::List,
        RequestKind::Complete,
        RequestKind::Create,
        RequestKind::Other,
    ];

    /// The name in the text form, e.g. `uploadpart`.
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Get => "get",
            RequestKind::Put => "put",
            RequestKind::UploadPart => "uploadpart",
            RequestKind::Head => "head",
            RequestKind::List => "list",
            RequestKind::Complete => "complete",
            RequestKind::Create => "create",
            RequestKind::Other => "other",
        }
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub(super) fn parse(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase().replace(['-', '_'], "");
        match name.as_str() {
            "part" => Some(RequestKind::UploadPart),
            _ => Self::ALL.into_iter().find(|kind| kind.name() == name),
        }
    }
}

/// How long one kind of request waits before its answer goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Delay {
    #[default]
    None,
    Fixed(Duration),
    /// Drawn uniformly from `min..=max` (microsecond steps).
    Uniform {
        min: Duration,
        max: Duration,
    },
}

impl Delay {
    /// A delay from `min` to `max`: none if both are zero, fixed if they are equal.
    pub fn between(min: Duration, max: Duration) -> Delay {
        let (min, max) = (min.min(max), min.max(max));
        match (min == max, max.is_zero()) {
            (_, true) => Delay::None,
            (true, false) => Delay::Fixed(min),
            (false, false) => Delay::Uniform { min, max },
        }
    }

    /// The smallest and largest delay this can give.
    pub fn bounds(self) -> (Duration, Duration) {
        match self {
            Delay::None => (Duration::ZERO, Duration::ZERO),
            Delay::Fixed(d) => (d, d),
            Delay::Uniform { min, max } => (min, max),
        }
    }
}

/// A first-byte delay for each [`RequestKind`], and the seed of its draws. The text form is
/// comma-separated `KIND=DELAY` entries, e.g. `get=15-60ms,put=20-80ms,list=30ms,seed=7`:
/// kinds `get`, `put`, `uploadpart` (or `part`), `head`, `list`, `complete`, `create`,
/// `other`, and `all` for every kind (later entries override it); a delay is a duration
/// (`30ms`, `0.5s`, `800us`) or a range drawn uniformly (`15-60ms`, `1ms-1s`); `0` is none.
/// `off` (or an empty text) is the profile with no delay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyProfile {
    delays: [Delay; 8],
    seed: u64,
}

impl LatencyProfile {
    /// No delay for any kind, seed 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// This profile with `delay` for `kind`.
    pub fn with(mut self, kind: RequestKind, delay: Delay) -> Self {
        self.delays[kind.index()] = delay;
        self
    }

    /// This profile with `delay` for every kind.
    pub fn with_all(mut self, delay: Delay) -> Self {
        self.delays = [delay; 8];
        self
    }

    /// This profile drawing from `seed`.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    pub fn delay(&self, kind: RequestKind) -> Delay {
        self.delays[kind.index()]
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether no kind has a delay.
    pub fn is_off(&self) -> bool {
        self.delays.iter().all(|d| *d == Delay::None)
    }
}

impl FromStr for LatencyProfile {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, ParseError> {
        let wrong = |why: String| ParseError::latency(text, why);
        let mut profile = LatencyProfile::new();
        if text.trim().eq_ignore_ascii_case("off") {
            return Ok(profile);
        }
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, value)) = entry.split_once('=') else {
                return Err(wrong(format!("'{entry}' is not KIND=DELAY")));
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("seed") {
                profile.seed = value
                    .parse()
                    .map_err(|_| wrong(format!("seed '{value}' is not a whole number")))?;
                continue;
            }
            let delay = parse_delay(value).map_err(&wrong)?;
            if name.eq_ignore_ascii_case("all") || name == "*" {
                profile = profile.with_all(delay);
            } else {
                let kind = RequestKind::parse(name)
                    .ok_or_else(|| wrong(format!("'{name}' is not a request kind")))?;
                profile = profile.with(kind, delay);
            }
        }
        Ok(profile)
    }
}

/// `30ms`, `15-60ms`, `15ms-1s`, `0`.
fn parse_delay(text: &str) -> Result<Delay, String> {
    let (low, high) = match text.split_once('-') {
        Some((low, high)) => (low.trim(), high.trim()),
        None => (text, text),
    };
    let high_duration = parse_duration(high)?;
    let low = match unit_of(low) {
        "" => format!("{low}{}", unit_of(high)),
        _ => low.to_string(),
    };
    Ok(Delay::between(parse_duration(&low)?, high_duration))
}

/// The unit letters at the end of `text` (`ms` of `15ms`).
fn unit_of(text: &str) -> &str {
    let at = text
        .rfind(|c: char| c.is_ascii_digit() || c == '.')
        .map_or(0, |i| i + 1);
    &text[at..]
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let unit = unit_of(text);
    let number = text[..text.len() - unit.len()].trim();
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("'{text}' is not a duration such as 30ms"))?;
    let micros_per_unit = match unit.trim() {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "" if value == 0.0 => 0.0,
        "" => return Err(format!("'{text}' has no unit (us, ms, s)")),
        other => return Err(format!("'{other}' in '{text}' is not a unit (us, ms, s)")),
    };
    let micros = value * micros_per_unit;
    if micros > 3_600e6 {
        return Err(format!("'{text}' is over an hour"));
    }
    Ok(Duration::from_micros(micros.round() as u64))
}

impl fmt::Display for LatencyProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries = Vec::new();
        for kind in RequestKind::ALL {
            let text = match self.delay(kind) {
                Delay::None => continue,
                Delay::Fixed(d) => spell(&[d]),
                Delay::Uniform { min, max } => spell(&[min, max]),
            };
            entries.push(format!("{}={text}", kind.name()));
        }
        if entries.is_empty() {
            return f.write_str("off");
        }
        if self.seed != 0 {
            entries.push(format!("seed={}", self.seed));
        }
        f.write_str(&entries.join(","))
    }
}

/// `15-60ms`, or in microseconds when one is not whole milliseconds.
fn spell(durations: &[Duration]) -> String {
    let whole_ms = durations.iter().all(|d| d.as_micros() % 1000 == 0);
    let (divisor, unit) = if whole_ms { (1000, "ms") } else { (1, "us") };
    let numbers: Vec<String> = durations
        .iter()
        .map(|d| (d.as_micros() / divisor).to_string())
        .collect();
    format!("{}{unit}", numbers.join("-"))
}

/// A profile in use on a server: the profile and a draw counter per kind.
#[derive(Debug)]
pub(crate) struct ActiveLatency {
    profile: LatencyProfile,
    draws: [AtomicU64; 8],
}

impl ActiveLatency {
    pub(crate) fn new(profile: LatencyProfile) -> Self {
        ActiveLatency {
            profile,
            draws: Default::default(),
        }
    }

    /// The next delay for a request of `kind`, if it has one.
    pub(crate) fn draw(&self, kind: RequestKind) -> Option<Duration> {
        match self.profile.delay(kind) {
            Delay::None => None,
            Delay::Fixed(delay) => Some(delay),
            Delay::Uniform { min, max } => {
                let n = self.draws[kind.index()].fetch_add(1, Ordering::Relaxed);
                let stream = mix(self.profile.seed ^ (kind.index() as u64 + 1).rotate_right(8));
                let word = mix(stream.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15)));
                let span_us = u64::try_from((max - min).as_micros()).unwrap_or(u64::MAX);
                let offset_us = word % span_us.saturating_add(1);
                Some(min + Duration::from_micros(offset_us))
            }
        }
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_text_form_names_each_kind_and_round_trips() {
        let text = "get=15-60ms,put=20-80ms,list=30ms,head=10-30ms,complete=50-200ms";
        let profile: LatencyProfile = text.parse().unwrap();
        assert_eq!(
            profile.delay(RequestKind::Get),
            Delay::Uniform {
                min: ms(15),
                max: ms(60)
            }
        );
        assert_eq!(profile.delay(RequestKind::List), Delay::Fixed(ms(30)));
        assert_eq!(profile.delay(RequestKind::UploadPart), Delay::None);
        let spelled = profile.to_string();
        assert_eq!(
            spelled,
            "get=15-60ms,put=20-80ms,head=10-30ms,list=30ms,complete=50-200ms"
        );
        assert_eq!(spelled.parse::<LatencyProfile>().unwrap(), profile);
    }

    #[test]
    fn all_sets_every_kind_and_later_entries_override() {
        let profile: LatencyProfile = "all=5ms, part=1ms-1s ,seed=9".parse().unwrap();
        assert_eq!(profile.delay(RequestKind::Other), Delay::Fixed(ms(5)));
        assert_eq!(
            profile.delay(RequestKind::UploadPart).bounds(),
            (ms(1), ms(1000))
        );
        assert_eq!(profile.seed(), 9);
        let micro: LatencyProfile = "get=0.5ms,put=250us-1.5ms".parse().unwrap();
        assert_eq!(micro.to_string(), "get=500us,put=250-1500us");
        assert!("off".parse::<LatencyProfile>().unwrap().is_off());
        assert!("".parse::<LatencyProfile>().unwrap().is_off());
        assert!("get=0".parse::<LatencyProfile>().unwrap().is_off());
    }

    #[test]
    fn bad_text_names_the_value_and_the_form() {
        for (text, says) in [
            ("get=15-60xs", "'xs' in '60xs' is not a unit"),
            ("fetch=10ms", "'fetch' is not a request kind"),
            ("get", "'get' is not KIND=DELAY"),
            ("get=fast", "'fast' is not a duration"),
            ("get=10", "'10' has no unit"),
            ("seed=x", "seed 'x'"),
            ("get=2h", "'h' in '2h'"),
        ] {
            let message = text.parse::<LatencyProfile>().unwrap_err().to_string();
            assert!(message.contains(says), "{text}: {message}");
            assert!(message.contains(&format!("'{text}'")), "{message}");
            assert!(message.contains("get=15-60ms"), "{message}");
        }
    }

    #[test]
    fn draws_stay_in_range_and_repeat_with_the_seed() {
        let profile = LatencyProfile::new()
            .with(RequestKind::Get, Delay::between(ms(15), ms(60)))
            .with_seed(3);
        let draws = |profile: &LatencyProfile| {
            let active = ActiveLatency::new(profile.clone());
            (0..2000)
                .map(|_| active.draw(RequestKind::Get).unwrap())
                .collect::<Vec<_>>()
        };
        let first = draws(&profile);
        assert_eq!(first, draws(&profile));
        assert_ne!(first, draws(&profile.clone().with_seed(4)));
        assert!(first.iter().all(|d| (ms(15)..=ms(60)).contains(d)));
        // Spread over the range: both ends' tenths are reached.
        assert!(first.iter().any(|d| *d < ms(20)) && first.iter().any(|d| *d > ms(55)));
        let mean_ms = first.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e3 / 2000.0;
        assert!((35.0..40.0).contains(&mean_ms), "{mean_ms}");
        let active = ActiveLatency::new(profile);
        assert_eq!(active.draw(RequestKind::Put), None);
    }
}
