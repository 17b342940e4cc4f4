//! S3-shaped timing for the embedded servers: a first-byte delay per request kind
//! ([`LatencyProfile`], applied by the gate), a per-connection bandwidth cap
//! ([`ConnectionRate`], applied to every accepted connection by [`Throttled`]) and a request
//! rate per kind above which the gate answers 503 SlowDown ([`RequestLimit`]). Each is
//! switched on a running server through [`Behaviours`](crate::Behaviours), or at start from the
//! environment ([`Shaping::from_env`]; see the crate documentation).
//!
//! Depends on tokio (timer, I/O traits) and the switches; knows nothing of s3s.

mod latency;
mod rate;
mod request_limit;
mod throttle;

use std::fmt;

pub(crate) use latency::ActiveLatency;
pub use latency::{Delay, LatencyProfile, RequestKind};
pub use rate::ConnectionRate;
pub(crate) use request_limit::ActiveLimit;
pub use request_limit::RequestLimit;
pub(crate) use throttle::Throttled;

/// The environment variable a server reads at start for its [`LatencyProfile`] (text form).
pub const LATENCY_ENV: &str = "AIRLOCK_TEST_S3_LATENCY";
/// The environment variable a server reads at start for its [`ConnectionRate`] (text form).
pub const CONN_RATE_ENV: &str = "AIRLOCK_TEST_S3_CONN_RATE";
/// The environment variable a server reads at start for its [`RequestLimit`] (text form).
pub const SLOWDOWN_ENV: &str = "AIRLOCK_TEST_S3_SLOWDOWN";

/// How a server is shaped: latency, a per-connection cap and a request-rate limit, each off
/// when `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shaping {
    pub latency: Option<LatencyProfile>,
    pub connection_rate: Option<ConnectionRate>,
    pub request_limit: Option<RequestLimit>,
}

impl Shaping {
    /// From [`LATENCY_ENV`], [`CONN_RATE_ENV`] and [`SLOWDOWN_ENV`]; unset or empty variables
    /// are off.
    pub fn from_env() -> Result<Shaping, ParseError> {
        let read = |name: &str| std::env::var(name).ok();
        let mut shaping =
            Self::from_texts(read(LATENCY_ENV).as_deref(), read(CONN_RATE_ENV).as_deref())?;
        shaping.request_limit = Self::request_limit_from(read(SLOWDOWN_ENV).as_deref())?;
        Ok(shaping)
    }

    /// The request limit of [`SLOWDOWN_ENV`]'s text; `None` when unset, blank or off.
    fn request_limit_from(text: Option<&str>) -> Result<Option<RequestLimit>, ParseError> {
        Ok(given(text)
            .map(str::parse::<RequestLimit>)
            .transpose()
            .map_err(|e| e.in_variable(SLOWDOWN_ENV))?
            .filter(|limit| !limit.is_off()))
    }

    /// From the variables' texts, as [`Shaping::from_env`] reads them.
    fn from_texts(latency: Option<&str>, rate: Option<&str>) -> Result<Shaping, ParseError> {
        let latency = given(latency)
            .map(str::parse::<LatencyProfile>)
            .transpose()
            .map_err(|e| e.in_variable(LATENCY_ENV))?
            .filter(|profile| !profile.is_off());
        let connection_rate = given(rate)
            .map(ConnectionRate::parse_optional)
            .transpose()
            .map_err(|e| e.in_variable(CONN_RATE_ENV))?
            .flatten();
        Ok(Shaping {
            latency,
            connection_rate,
            request_limit: None,
        })
    }

    /// Whether none is on.
    pub fn is_off(&self) -> bool {
        self.latency.is_none() && self.connection_rate.is_none() && self.request_limit.is_none()
    }
}

/// A latency profile or connection rate whose text could not be read. The message quotes the
/// text and shows the form to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    message: String,
}

impl ParseError {
    fn latency(text: &str, why: String) -> Self {
        ParseError {
            message: format!(
                "latency '{text}': {why}; write KIND=DELAY entries such as \
                 'get=15-60ms,put=20-80ms,list=30ms' (kinds: get, put, uploadpart, head, list, \
                 complete, create, other, all; units: us, ms, s; optional seed=N)"
            ),
        }
    }

    fn rate(text: &str, why: String) -> Self {
        ParseError {
            message: format!(
                "connection rate '{text}': {why}; write a rate such as '80MB/s' or '64MiB/s', \
                 or 'off'"
            ),
        }
    }

    fn request_limit(text: &str, why: String) -> Self {
        ParseError {
            message: format!(
                "request limit '{text}': {why}; write KIND=N/s entries such as \
                 'put=50/s,uploadpart=50/s' (kinds: get, put, uploadpart, head, list, complete, \
                 create, other, all), or 'off'"
            ),
        }
    }

    fn in_variable(self, name: &str) -> Self {
        ParseError {
            message: format!("{name}: {}; or unset {name}", self.message),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for std::io::Error {
    fn from(error: ParseError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, error)
    }
}

/// The text of a variable that is set and not blank.
fn given(text: Option<&str>) -> Option<&str> {
    text.filter(|v| !v.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_read_as_their_text_forms() {
        let shaping = Shaping::from_texts(Some("get=15-60ms"), Some("80MB/s")).unwrap();
        assert_eq!(shaping.latency.unwrap().to_string(), "get=15-60ms");
        assert_eq!(shaping.connection_rate.unwrap().get(), 80_000_000);
        for (latency, rate) in [
            (None, None),
            (Some(" "), Some("")),
            (Some("off"), Some("0")),
        ] {
            assert!(Shaping::from_texts(latency, rate).unwrap().is_off());
        }
        let bad = Shaping::from_texts(None, Some("fast"))
            .unwrap_err()
            .to_string();
        assert!(
            bad.starts_with("AIRLOCK_TEST_S3_CONN_RATE: connection rate 'fast'"),
            "{bad}"
        );
        assert!(bad.ends_with("or unset AIRLOCK_TEST_S3_CONN_RATE"), "{bad}");
        assert_eq!(
            Shaping::request_limit_from(Some("put=50/s")).unwrap(),
            Some(RequestLimit::new().with(RequestKind::Put, 50))
        );
        assert_eq!(Shaping::request_limit_from(Some("off")).unwrap(), None);
        let bad = Shaping::request_limit_from(Some("put=lots"))
            .unwrap_err()
            .to_string();
        assert!(
            bad.starts_with("AIRLOCK_TEST_S3_SLOWDOWN: request limit 'put=lots'"),
            "{bad}"
        );
        let bad = Shaping::from_texts(Some("get=1"), None)
            .unwrap_err()
            .to_string();
        assert!(
            bad.starts_with("AIRLOCK_TEST_S3_LATENCY: latency 'get=1'"),
            "{bad}"
        );
    }
}
