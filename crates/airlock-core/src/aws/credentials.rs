//! Credential resolution per side: default chain, profile, env, static, assume_role and SSM
//! (SecureString parameters read with another side's credentials). Each resolved provider
//! carries a description of where its keys came from that never contains a secret.

mod profile;
mod renewal;

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_ssm::error::{ProvideErrorMetadata, SdkError};
use aws_types::region::Region;

use crate::config::{CredentialSpec, Settings, Side, SsmSpec, Via};
use crate::error::{Error, ErrorKind, Result};
use profile::profile_provider;
pub use renewal::Renewal;
use renewal::{CurrentKeys, SsmCredentials, SsmParameters};

/// A side's credentials, ready for an SDK client.
#[derive(Clone, Debug)]
pub struct ResolvedCredentials {
    pub provider: SharedCredentialsProvider,
    /// Where the keys came from, e.g. `profile 'ops'` or `SSM parameters '/a', '/b' read with
    /// target credentials (static keys in the config)`. Never holds a secret.
    pub description: String,
    /// Set when the keys can be read again after they expire (SSM).
    pub renewal: Option<Renewal>,
}

/// Resolve both sides, honouring `via` dependencies (an SSM side is resolved after the side
/// whose credentials read its parameters). Each side gets its own result so a caller can
/// report pass/fail per side.
pub async fn resolve_both(
    settings: &Settings,
) -> (Result<ResolvedCredentials>, Result<ResolvedCredentials>) {
    let needs = |side: Side| settings.side(side).credentials.via_side();
    match (needs(Side::Source), needs(Side::Target)) {
        (Some(Side::Target), Some(Side::Source)) => {
            let err = || {
                Error::config(
                    "source.credentials.via = 'target' and target.credentials.via = 'source' depend on each \
                     other: one side must get its keys another way (profile, env, default chain...)",
                )
            };
            (Err(err()), Err(err()))
        }
        (Some(Side::Target), _) => {
            let target = resolve_side(settings, Side::Target, None).await;
            let source = resolve_side(settings, Side::Source, Some(&target)).await;
            (source, target)
        }
        (_, Some(Side::Source)) => {
            let source = resolve_side(settings, Side::Source, None).await;
            let target = resolve_side(settings, Side::Target, Some(&source)).await;
            (source, target)
        }
        _ => {
            let (source, target) = tokio::join!(
                resolve_side(settings, Side::Source, None),
                resolve_side(settings, Side::Target, None)
            );
            (source, target)
        }
    }
}

/// Resolve one side. `other` is the other side's result when this side reads SSM with it.
pub async fn resolve_side(
    settings: &Settings,
    side: Side,
    other: Option<&Result<ResolvedCredentials>>,
) -> Result<ResolvedCredentials> {
    let side_settings = settings.side(side);
    let resolved = resolve_spec(
        &side_settings.credentials,
        side,
        &side_settings.region,
        settings,
        other,
    )
    .await?;
    // Fail now, with the side named, rather than on the first request.
    resolved.provider.provide_credentials().await.map_err(|e| {
        Error::credentials(side, format!("{}: {}", resolved.description, describe(&e)))
            .with_source(e)
    })?;
    Ok(resolved)
}

fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut current = err.source();
    while let Some(next) = current {
        text = format!("{text}: {next}");
        current = next.source();
    }
    text
}

async fn resolve_spec(
    spec: &CredentialSpec,
    side: Side,
    region: &str,
    settings: &Settings,
    other: Option<&Result<ResolvedCredentials>>,
) -> Result<ResolvedCredentials> {
    match spec {
        CredentialSpec::Default => default_chain(side, region).await,
        CredentialSpec::Profile { profile } => {
            Ok(profile_provider(profile, region, &settings.transfer).await)
        }
        CredentialSpec::Env {
            access_key_id_var,
            secret_access_key_var,
            session_token_var,
        } => {
            let read = |name: &str| {
                std::env::var(name).map_err(|_| {
                    Error::credentials(
                        side,
                        format!(
                            "environment variable '{name}' is not set (named in {side}.credentials)"
                        ),
                    )
                })
            };
            let key_id = read(access_key_id_var)?;
            let secret = read(secret_access_key_var)?;
            let token = session_token_var.as_deref().map(read).transpose()?;
            Ok(ResolvedCredentials {
                renewal: None,
                provider: SharedCredentialsProvider::new(Credentials::new(
                    key_id,
                    secret,
                    token,
                    None,
                    "airlock-env",
                )),
                description: format!(
                    "environment variables '{access_key_id_var}' and '{secret_access_key_var}'"
                ),
            })
        }
        CredentialSpec::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } => Ok(ResolvedCredentials {
            renewal: None,
            provider: SharedCredentialsProvider::new(Credentials::new(
                access_key_id.expose(),
                secret_access_key.expose(),
                session_token.as_ref().map(|t| t.expose().to_string()),
                None,
                "airlock-static",
            )),
            description: format!(
                "static keys in the config (access key {})",
                access_key_id.hint()
            ),
        }),
        CredentialSpec::AssumeRole {
            role_arn,
            external_id,
            session_name,
            base,
        } => {
            let base = Box::pin(resolve_spec(base, side, region, settings, other)).await?;
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(session_name)
                .region(Region::new(region.to_string()));
            if let Some(id) = external_id {
                builder = builder.external_id(id.expose());
            }
            let provider = builder.build_from_provider(base.provider.clone()).await;
            Ok(ResolvedCredentials {
                renewal: None,
                provider: SharedCredentialsProvider::new(provider),
                description: format!("role '{role_arn}' assumed with {}", base.description),
            })
        }
        CredentialSpec::Ssm(ssm) => from_ssm(ssm, side, region, settings, other).await,
    }
}

async fn default_chain(side: Side, region: &str) -> Result<ResolvedCredentials> {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .load()
        .await;
    let provider = config.credentials_provider().ok_or_else(|| {
        Error::credentials(
            side,
            "the default credential chain is not available in this build",
        )
    })?;
    // Name the link of the chain that answered (env, profile, SSO, container, IMDS...).
    let found = match provider.provide_credentials().await {
        Ok(creds) => provider_name(&creds),
        Err(e) => {
            return Err(Error::credentials(
                side,
                format!(
                    "no credentials in the default chain (environment, profiles, SSO, web identity, \
                     container, IMDS): {}; set {side}.credentials.kind to name a source",
                    describe(&e)
                ),
            ));
        }
    };
    Ok(ResolvedCredentials {
        renewal: None,
        provider,
        description: format!("default chain ({found})"),
    })
}

/// The `provider_name` of resolved credentials. The SDK exposes it only through `Debug`,
/// which redacts the secret; we keep just the name.
fn provider_name(creds: &Credentials) -> String {
    let debug = format!("{creds:?}");
    debug
        .split("provider_name: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("unknown")
        .to_string()
}

async fn from_ssm(
    ssm: &SsmSpec,
    side: Side,
    region: &str,
    settings: &Settings,
    other: Option<&Result<ResolvedCredentials>>,
) -> Result<ResolvedCredentials> {
    let (reader, ssm_region) = match &ssm.via {
        Via::Side(via) => {
            let resolved = match other {
                Some(Ok(resolved)) => resolved.clone(),
                Some(Err(e)) => {
                    return Err(Error::credentials(
                        side,
                        format!(
                            "the SSM parameters are read with {via} credentials, which failed: {e}"
                        ),
                    ));
                }
                None => {
                    return Err(Error::internal(format!(
                        "{side}: {via} credentials were not resolved first"
                    )));
                }
            };
            (resolved, settings.side(*via).region.clone())
        }
        Via::Default => (default_chain(side, region).await?, region.to_string()),
        Via::Profile(profile) => (
            profile_provider(profile, region, &settings.transfer).await,
            region.to_string(),
        ),
    };
    let ssm_region = ssm.region.clone().unwrap_or(ssm_region);
    let mut config = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(ssm_region.clone()))
        .credentials_provider(reader.provider.clone());
    if let Some(url) = &ssm.endpoint_url {
        config = config.endpoint_url(url);
    }
    let parameters = SsmParameters {
        client: aws_sdk_ssm::Client::from_conf(config.build()),
        access_key_id: ssm.access_key_id_parameter.clone(),
        secret_access_key: ssm.secret_access_key_parameter.clone(),
        session_token: ssm.session_token_parameter.clone(),
    };
    let first = parameters.read().await?;
    let renewal = SsmCredentials::new(parameters, first);
    let mut names = vec![
        format!("'{}'", ssm.access_key_id_parameter),
        format!("'{}'", ssm.secret_access_key_parameter),
    ];
    if let Some(name) = &ssm.session_token_parameter {
        names.push(format!("'{name}'"));
    }
    let reader_name = match &ssm.via {
        Via::Side(via) => format!("{via} credentials ({})", reader.description),
        _ => reader.description.clone(),
    };
    Ok(ResolvedCredentials {
        provider: SharedCredentialsProvider::new(CurrentKeys(renewal.clone())),
        description: format!(
            "SSM parameters {} in {ssm_region} read with {reader_name}",
            names.join(", ")
        ),
        renewal: Some(renewal),
    })
}

/// One SecureString (or String) parameter, decrypted. The value is returned, never logged.
async fn get_parameter(client: &aws_sdk_ssm::Client, name: &str) -> Result<String> {
    let output = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            let message = match &e {
                SdkError::ServiceError(service) => {
                    let code = service.err().code().unwrap_or("error");
                    match code {
                        "ParameterNotFound" => "not found: check the name and the region".to_string(),
                        "AccessDeniedException" => format!(
                            "access denied: the reading credentials need ssm:GetParameter on it (and kms:Decrypt on its key): {}",
                            service.err().message().unwrap_or_default()
                        ),
                        _ => format!("{code}: {}", service.err().message().unwrap_or_default()),
                    }
                }
                other => format!("request failed: {}", describe(other)),
            };
            Error::new(ErrorKind::Ssm {
                parameter: name.to_string(),
                message,
            })
        })?;
    let value = output
        .parameter
        .and_then(|p| p.value)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::new(ErrorKind::Ssm {
                parameter: name.to_string(),
                message: "has no value".to_string(),
            })
        })?;
    Ok(value.trim().to_string())
}
