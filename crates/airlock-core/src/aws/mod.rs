//! Everything that talks to AWS: credential resolution (including SSM), one S3 client pair per
//! side, listings, and the object operations the engine uses. Every SDK error is converted into
//! [`crate::Error`] here, with side, operation, bucket and key.
//!
//! Depends on `config`, `plan` (for [`crate::plan::ObjectInfo`]) and `error`; never on the UI.

mod client;
pub mod credentials;
mod deadline;
pub(crate) mod delete;
pub mod documents;
mod endpoint_cache;
pub mod errors;
pub mod listing;
pub mod objects;
mod provenance;
mod requester_pays;
mod trailer;
mod url_keys;
pub mod versions;

pub use client::{SideClient, Sides, build_side_client, connect};
pub use credentials::{Renewal, ResolvedCredentials, resolve_both};
pub use listing::{Listing, list_all, list_page};
pub use trailer::{TRAILER_HEADER, checksum_header};
