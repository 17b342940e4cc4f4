//! The embedded S3 server against the AWS SDK over TCP: the faithful wrapper's additions
//! (multipart checksums, conditional GET/HEAD, ListMultipartUploads, tags, persistence), the
//! s3s-fs basics through it, and the plain flavor's stock behaviour.

#[path = "s3server/checksums.rs"]
mod checksums;
#[path = "s3server/large_io.rs"]
mod large_io;
#[path = "s3server/objects.rs"]
mod objects;
#[path = "s3server/raw.rs"]
mod raw;
#[path = "s3server/support.rs"]
mod support;
#[path = "s3server/uploads.rs"]
mod uploads;
