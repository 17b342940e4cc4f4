//! Credentials read from SSM that can be read again. Keys with a session token expire (S3 then
//! answers `ExpiredToken` to every request); when they came from SSM parameters, whoever
//! rotates them writes the new ones there, so airlock reads the parameters again and goes on.
//!
//! [`SsmCredentials`] is the provider of such a side: it hands out the current keys (the S3
//! clients of that side keep no identity cache of their own, so a renewal takes effect on the
//! next request) and [`Renewal::renew`] reads the parameters again, once for every request that
//! saw the same keys expire. Keys from the config or the environment cannot be renewed and
//! have no [`Renewal`].
//!
//! Depends on the SSM client and `crate::error`; never logs a key.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, future};

use crate::error::Result;

/// How often, and how far apart, a renewal reads the parameters while they still hold the
/// expired keys (the rotation may be writing them right now).
const UNCHANGED_READS: u32 = 4;
const UNCHANGED_WAIT: Duration = Duration::from_secs(2);

/// The SSM parameters of one side and the client that reads them.
#[derive(Debug)]
pub(super) struct SsmParameters {
    pub client: aws_sdk_ssm::Client,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl SsmParameters {
    /// Read the three parameters into credentials.
    pub(super) async fn read(&self) -> Result<Credentials> {
        let key_id = super::get_parameter(&self.client, &self.access_key_id).await?;
        let secret = super::get_parameter(&self.client, &self.secret_access_key).await?;
        let token = match &self.session_token {
            Some(name) => Some(super::get_parameter(&self.client, name).await?),
            None => None,
        };
        Ok(Credentials::new(key_id, secret, token, None, "airlock-ssm"))
    }
}

/// The keys of a side that reads them from SSM, renewable.
#[derive(Debug)]
pub struct SsmCredentials {
    parameters: SsmParameters,
    current: RwLock<Credentials>,
    /// Bumped by every renewal that changed the keys.
    generation: AtomicU64,
    /// One renewal at a time; the others wait and find the generation moved on.
    renewing: tokio::sync::Mutex<()>,
}

/// A side's handle on its renewable credentials.
pub type Renewal = Arc<SsmCredentials>;

impl SsmCredentials {
    pub(super) fn new(parameters: SsmParameters, first: Credentials) -> Renewal {
        Arc::new(SsmCredentials {
            parameters,
            current: RwLock::new(first),
            generation: AtomicU64::new(0),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    /// Which keys are in use now; pass it to [`Self::renew`] when they are refused.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The keys of `generation` expired: read the parameters again. True when newer keys are
    /// in place (read now, or by another request's renewal); false when the parameters still
    /// hold the expired keys after a few reads, or cannot be read.
    pub async fn renew(&self, generation: u64) -> bool {
        let _one_at_a_time = self.renewing.lock().await;
        if self.generation() != generation {
            return true;
        }
        for read in 0..UNCHANGED_READS {
            if read > 0 {
                tokio::time::sleep(UNCHANGED_WAIT).await;
            }
            let fresh = match self.parameters.read().await {
                Ok(fresh) => fresh,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the SSM parameters again");
                    return false;
                }
            };
            let changed = {
                let current = self.current.read().unwrap_or_else(|e| e.into_inner());
                fresh.access_key_id() != current.access_key_id()
                    || fresh.session_token() != current.session_token()
                    || fresh.secret_access_key() != current.secret_access_key()
            };
            if changed {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
                self.generation.fetch_add(1, Ordering::AcqRel);
                tracing::info!("the expired keys were renewed from SSM");
                return true;
            }
        }
        false
    }
}

/// The SDK's view of a [`Renewal`]: the keys in place now.
#[derive(Debug)]
pub(super) struct CurrentKeys(pub Renewal);

impl ProvideCredentials for CurrentKeys {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let current = self.0.current.read().unwrap_or_else(|e| e.into_inner());
        future::ProvideCredentials::ready(Ok(current.clone()))
    }
}
