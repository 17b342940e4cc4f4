//! `kind = "profile"` and `via = "profile:NAME"`: a named profile of the shared config files,
//! role profiles included (`role_arn` with `source_profile`, `credential_source` or
//! `web_identity_token_file`). The SDK's profile provider assumes those roles with an STS
//! client it builds from the provider config it is given; without one that client has no
//! region and every role profile fails. Here it gets the side's region, airlock's HTTP client
//! and timeouts, and keeps honouring the profile's (or `AWS_ENDPOINT_URL_STS`'s) endpoint.
//!
//! Depends on aws-config and `config` only.

use std::borrow::Cow;

use aws_config::profile::ProfileFileCredentialsProvider;
// The alias is aws-config's own name for the type (its home, aws-runtime, is not one of our
// dependencies); deprecated only in favour of that path.
#[allow(deprecated)]
use aws_config::profile::profile_file::ProfileFiles;
use aws_config::provider_config::ProviderConfig;
use aws_config::timeout::TimeoutConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_types::os_shim_internal::{Env, Fs};
use aws_types::region::Region;

use super::ResolvedCredentials;
use crate::aws::client::http_client;
use crate::config::TransferSettings;

/// The provider for `profile`, assuming any role the profile names in `region`.
pub(super) async fn profile_provider(
    profile: &str,
    region: &str,
    transfer: &TransferSettings,
) -> ResolvedCredentials {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(transfer.connect_timeout)
        .read_timeout(transfer.read_timeout)
        .build();
    let provider_config = ProviderConfig::default()
        .with_region(Some(Region::new(region.to_string())))
        .with_http_client(http_client())
        .with_timeout_config(timeouts);
    let provider = ProfileFileCredentialsProvider::builder()
        .configure(&provider_config)
        .profile_name(profile)
        .build();
    ResolvedCredentials {
        renewal: None,
        provider: SharedCredentialsProvider::new(provider),
        description: describe(profile).await,
    }
}

/// `profile 'ops'`, or `profile 'ops' assuming role 'arn:...'` (with web identity when the
/// profile says so). Only names from the profile file, never a key. A file that cannot be read
/// here is reported by the provider itself when the keys are first asked for.
async fn describe(profile: &str) -> String {
    let name = format!("profile '{profile}'");
    #[allow(deprecated)]
    let files = ProfileFiles::default();
    let loaded = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &files,
        Some(Cow::Owned(profile.to_string())),
    )
    .await;
    let Ok(profiles) = loaded else {
        return name;
    };
    let Some(section) = profiles.get_profile(profile) else {
        return name;
    };
    match section.get("role_arn") {
        Some(role) if section.get("web_identity_token_file").is_some() => {
            format!("{name} assuming role '{role}' with a web identity token")
        }
        Some(role) => format!("{name} assuming role '{role}'"),
        None => name,
    }
}
