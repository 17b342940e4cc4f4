//! The crate's one error type: `Error { kind, source }`.
//!
//! Every fallible library function returns [`Result`]. SDK errors are turned into
//! [`ErrorKind::S3`] / [`ErrorKind::Ssm`] inside `aws/`, with the side, operation, bucket and
//! key attached, and a [`Class`] that tells the engine whether a retry can help.
//! User-facing messages quote values `'like this'` and say what to do next.
//! Depends on nothing but `config::Side`.

use std::fmt;

use crate::config::Side;

/// Boxed cause kept for `source()` chains (logs print the chain; the screen prints `kind`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, with the context a user needs to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    /// Boxed so `Result<T, Error>` stays small on the hot path.
    kind: Box<ErrorKind>,
    #[source]
    source: Option<BoxError>,
}

/// How the engine should treat a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// 5xx, timeouts, resets, truncated bodies: retry with backoff.
    Retryable,
    /// 503 SlowDown: retry, and lower concurrency.
    SlowDown,
    /// 412 on a source read: the source object changed under us.
    SourceChanged,
    /// 403 and other 4xx: retrying the same request cannot help.
    Fatal,
    /// 404: the bucket, key or upload is gone.
    NotFound,
    /// 400 ExpiredToken: the keys' session token expired. Tried again only once the keys were
    /// renewed (read again from SSM); otherwise nothing on that side can succeed until the
    /// user renews them.
    ExpiredToken,
}

impl Class {
    /// Whether another attempt of the same request may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, Class::Retryable | Class::SlowDown)
    }
}

/// The kinds of failure, each carrying what its message needs.
#[derive(Debug, Clone)]
pub enum ErrorKind {
    /// The config file is missing, unreadable or invalid. The message names the key.
    Config(String),
    /// Command-line usage the program cannot act on.
    Usage(String),
    /// Credentials for one side could not be resolved.
    Credentials { side: Side, message: String },
    /// An S3 request failed.
    S3(S3Failure),
    /// A check of an object airlock had just written failed, and the object was removed from
    /// the target (or could not be): the failure, and what became of the object.
    WrongAtTarget {
        failure: S3Failure,
        removal: Removal,
    },
    /// The bucket is in another region than the side's `region` (S3 answered 301 with
    /// `x-amz-bucket-region`): a config problem, named with the value to set.
    WrongRegion {
        side: Side,
        bucket: String,
        /// Where S3 says the bucket is.
        bucket_region: String,
        /// The side's configured region, when the client knows it.
        configured_region: Option<String>,
    },
    /// An SSM request failed (reading SecureString parameters).
    Ssm { parameter: String, message: String },
    /// A plan file is unreadable, malformed, or made for another config.
    Plan(String),
    /// A local file (journal, plan, state, log) could not be read or written.
    Io { path: String, message: String },
    /// The run was interrupted (Ctrl-C, cancel).
    Interrupted,
    /// An invariant broke: a bug in airlock, reported instead of a panic.
    Internal(String),
}

/// What became of an object airlock wrote and then found wrong (see
/// [`ErrorKind::WrongAtTarget`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// DeleteObject removed it: a rerun copies it again.
    Removed,
    /// DeleteObject failed: the wrong object is still there, with the reason.
    Left(String),
}

/// A failed S3 request with its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Failure {
    pub side: Side,
    /// The S3 operation, e.g. `GetObject`.
    pub operation: &'static str,
    pub bucket: String,
    pub key: Option<String>,
    /// HTTP status when a response arrived.
    pub status: Option<u16>,
    /// S3 error code such as `SlowDown` or `AccessDenied`.
    pub code: Option<String>,
    pub message: String,
    pub class: Class,
}

impl fmt::Display for S3Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} on 's3://{}",
            self.side, self.operation, self.bucket
        )?;
        if let Some(key) = &self.key {
            write!(f, "/{key}")?;
        }
        write!(f, "' failed: ")?;
        match (&self.code, self.status) {
            (Some(code), Some(status)) => write!(f, "{code} (HTTP {status})")?,
            (Some(code), None) => write!(f, "{code}")?,
            (None, Some(status)) => write!(f, "HTTP {status}")?,
            (None, None) => {}
        }
        if !self.message.is_empty() {
            if self.code.is_some() || self.status.is_some() {
                write!(f, ": ")?;
            }
            write!(f, "{}", self.message)?;
        }
        if let Some(hint) = self.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl S3Failure {
    /// What the user can do about it, when we know.
    fn hint(&self) -> Option<String> {
        // A HEAD has no body, so a missing bucket answers HeadBucket with a bare 404.
        let no_such_bucket = self.code.as_deref() == Some("NoSuchBucket")
            || (self.operation == "HeadBucket" && self.class == Class::NotFound);
        match (self.class, self.code.as_deref(), self.status) {
            _ if no_such_bucket => Some(format!(
                "check {}.bucket and {}.region in the config",
                self.side, self.side
            )),
            (_, Some("InvalidObjectState"), _) => Some(
                "the object is archived (Glacier or an Intelligent-Tiering archive tier): \
                 restore it first (S3 RestoreObject), then run again"
                    .into(),
            ),
            (_, Some("AccessControlListNotSupported"), _) => Some(format!(
                "the bucket has ACLs disabled (Object Ownership 'bucket owner enforced'): remove \
                 {}.acl from the config",
                self.side
            )),
            (Class::Fatal, Some("InvalidAccessKeyId" | "SignatureDoesNotMatch"), _)
            | (Class::Fatal, _, Some(403)) => Some(format!(
                "check {}.credentials: they are refused for this bucket",
                self.side
            )),
            (Class::ExpiredToken, _, _) => Some(format!(
                "the {}'s session token expired: renew {}.credentials and run again to resume",
                self.side, self.side
            )),
            (Class::SourceChanged, _, _) => Some(
                "the source object changed during the copy; run again to copy the new version"
                    .into(),
            ),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Config(msg) => write!(f, "config: {msg}"),
            ErrorKind::Usage(msg) => write!(f, "{msg}"),
            ErrorKind::Credentials { side, message } => write!(f, "{side} credentials: {message}"),
            ErrorKind::S3(failure) => failure.fmt(f),
            ErrorKind::WrongAtTarget { failure, removal } => {
                failure.fmt(f)?;
                let object = format!(
                    "s3://{}/{}",
                    failure.bucket,
                    failure.key.as_deref().unwrap_or("")
                );
                match removal {
                    Removal::Removed => write!(
                        f,
                        "; the object airlock wrote was removed from the target ('{object}'), so a rerun copies it again"
                    ),
                    Removal::Left(why) => write!(
                        f,
                        "; the wrong object airlock wrote is still at the target: delete '{object}' by hand (DeleteObject failed: {why})"
                    ),
                }
            }
            ErrorKind::WrongRegion {
                side,
                bucket,
                bucket_region,
                configured_region,
            } => {
                write!(f, "bucket '{bucket}' is in '{bucket_region}'")?;
                if let Some(configured) = configured_region {
                    write!(f, ", not '{configured}'")?;
                }
                write!(f, ": set {side}.region = \"{bucket_region}\"")
            }
            ErrorKind::Ssm { parameter, message } => {
                write!(f, "SSM parameter '{parameter}': {message}")
            }
            ErrorKind::Plan(msg) => write!(f, "plan: {msg}"),
            ErrorKind::Io { path, message } => write!(f, "'{path}': {message}"),
            ErrorKind::Interrupted => write!(f, "interrupted"),
            ErrorKind::Internal(msg) => write!(f, "internal error (please report): {msg}"),
        }
    }
}

impl Error {
    pub fn new(kind: ErrorKind) -> Self {
        Error {
            kind: Box::new(kind),
            source: None,
        }
    }

    /// Attach the underlying cause (kept for logs, not shown on screen).
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    pub fn config(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config(msg.into()))
    }

    pub fn usage(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage(msg.into()))
    }

    pub fn plan(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Plan(msg.into()))
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Internal(msg.into()))
    }

    pub fn credentials(side: Side, msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Credentials {
            side,
            message: msg.into(),
        })
    }

    pub fn io(path: impl AsRef<std::path::Path>, err: std::io::Error) -> Self {
        Error::new(ErrorKind::Io {
            path: path.as_ref().display().to_string(),
            message: err.to_string(),
        })
        .with_source(err)
    }

    /// The S3 failure behind this error, if it is one.
    pub fn s3(&self) -> Option<&S3Failure> {
        match &*self.kind {
            ErrorKind::S3(f) | ErrorKind::WrongAtTarget { failure: f, .. } => Some(f),
            _ => None,
        }
    }

    /// How a retry loop should treat this error. Non-S3 errors are fatal.
    pub fn class(&self) -> Class {
        self.s3().map_or(Class::Fatal, |f| f.class)
    }

    /// For a failed check of an object airlock had just written: what became of the object.
    pub fn removal(&self) -> Option<&Removal> {
        match &*self.kind {
            ErrorKind::WrongAtTarget { removal, .. } => Some(removal),
            _ => None,
        }
    }

    /// This S3 failure, marked as a failed check of an object airlock wrote, with what became
    /// of that object. Other errors are returned unchanged.
    pub fn with_removal(self, removal: Removal) -> Self {
        match *self.kind {
            ErrorKind::S3(failure) => Error {
                kind: Box::new(ErrorKind::WrongAtTarget { failure, removal }),
                source: self.source,
            },
            kind => Error {
                kind: Box::new(kind),
                source: self.source,
            },
        }
    }

    /// Process exit code for a command that ends with this error:
    /// 2 for config, credential and usage problems; 130 for interruption; 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match &*self.kind {
            ErrorKind::Config(_)
            | ErrorKind::Usage(_)
            | ErrorKind::Credentials { .. }
            | ErrorKind::WrongRegion { .. }
            | ErrorKind::Ssm { .. }
            | ErrorKind::Plan(_) => 2,
            ErrorKind::Interrupted => 130,
            ErrorKind::S3(_)
            | ErrorKind::WrongAtTarget { .. }
            | ErrorKind::Io { .. }
            | ErrorKind::Internal(_) => 1,
        }
    }
}

impl From<S3Failure> for Error {
    fn from(f: S3Failure) -> Self {
        Error::new(ErrorKind::S3(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(class: Class, code: &str, status: u16) -> S3Failure {
        S3Failure {
            side: Side::Target,
            operation: "PutObject",
            bucket: "deliveries".into(),
            key: Some("a b/c.csv".into()),
            status: Some(status),
            code: Some(code.into()),
            message: "denied".into(),
            class,
        }
    }

    #[test]
    fn s3_message_names_side_operation_and_object() {
        let msg = Error::from(failure(Class::Fatal, "AccessDenied", 403)).to_string();
        assert_eq!(
            msg,
            "target: PutObject on 's3://deliveries/a b/c.csv' failed: AccessDenied (HTTP 403): denied \
             (check target.credentials: they are refused for this bucket)"
        );
    }

    #[test]
    fn a_bare_404_on_head_bucket_says_to_check_the_bucket() {
        let msg = Error::from(S3Failure {
            side: Side::Source,
            operation: "HeadBucket",
            bucket: "missing".into(),
            key: None,
            status: Some(404),
            code: Some("NotFound".into()),
            message: String::new(),
            class: Class::NotFound,
        })
        .to_string();
        assert_eq!(
            msg,
            "source: HeadBucket on 's3://missing' failed: NotFound (HTTP 404) \
             (check source.bucket and source.region in the config)"
        );
    }

    #[test]
    fn exit_codes_follow_the_documented_table() {
        assert_eq!(Error::config("x").exit_code(), 2);
        assert_eq!(Error::credentials(Side::Source, "x").exit_code(), 2);
        assert_eq!(Error::new(ErrorKind::Interrupted).exit_code(), 130);
        assert_eq!(
            Error::from(failure(Class::Retryable, "InternalError", 500)).exit_code(),
            1
        );
    }

    #[test]
    fn only_transient_classes_are_retryable() {
        assert!(Class::Retryable.is_retryable());
        assert!(Class::SlowDown.is_retryable());
        assert!(!Class::Fatal.is_retryable());
        assert!(!Class::SourceChanged.is_retryable());
        assert!(!Class::NotFound.is_retryable());
    }
}
