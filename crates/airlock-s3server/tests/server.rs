//! The embedded S3 server against the AWS SDK over TCP: the faithful wrapper's additions
//! (multipart checksums, conditional GET/HEAD, ListMultipartUploads, tags, persistence), the
//! s3s-fs basics through it, the plain flavor's stock behaviour, the AWS behaviours a test
//! switches on, S3-shaped latency and bandwidth, and the synthetic listing server and sink.

#[path = "server/archive.rs"]
mod archive;
#[path = "server/checksums.rs"]
mod checksums;
#[path = "server/encryption.rs"]
mod encryption;
#[path = "server/gate.rs"]
mod gate;
#[path = "server/large_io.rs"]
mod large_io;
#[path = "server/legacy.rs"]
mod legacy;
#[path = "server/listing.rs"]
mod listing;
#[path = "server/objects.rs"]
mod objects;
#[path = "server/parts.rs"]
mod parts;
#[path = "server/raw.rs"]
mod raw;
#[path = "server/shaping.rs"]
mod shaping;
#[path = "server/sink.rs"]
mod sink;
#[path = "server/support.rs"]
mod support;
#[path = "server/synthetic.rs"]
mod synthetic;
#[path = "server/uploads.rs"]
mod uploads;
