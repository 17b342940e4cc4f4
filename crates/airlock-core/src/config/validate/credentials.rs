//! `[source.credentials]` / `[target.credentials]` -> [`CredentialSpec`]: the kind, the keys
//! that belong to it (any other key is an error that names it), and `via` for SSM.

use super::{check_endpoint, check_region};
use crate::config::raw::RawCredentials;
use crate::config::{CredentialSpec, Side, SsmSpec, Via};
use crate::error::{Error, Result};

const KINDS: &str = "'default', 'profile', 'env', 'static', 'assume_role' or 'ssm'";

/// Keys each credential kind accepts (besides `kind`).
fn allowed_keys(kind: &str) -> &'static [&'static str] {
    match kind {
        "default" => &[],
        "profile" => &["profile"],
        "env" => &[
            "access_key_id_var",
            "secret_access_key_var",
            "session_token_var",
        ],
        "static" => &["access_key_id", "secret_access_key", "session_token"],
        "assume_role" => &["role_arn", "external_id", "session_name", "base"],
        "ssm" => &[
            "access_key_id_parameter",
            "secret_access_key_parameter",
            "session_token_parameter",
            "via",
            "region",
            "endpoint_url",
        ],
        _ => &[],
    }
}

/// Keys set in a credentials table, besides `kind`. The pattern lists every field without
/// `..`, so a field added to [`RawCredentials`] does not compile until it is listed here too.
fn present_keys(raw: &RawCredentials) -> Vec<&'static str> {
    let RawCredentials {
        kind: _,
        profile,
        access_key_id_var,
        secret_access_key_var,
        session_token_var,
        access_key_id,
        secret_access_key,
        session_token,
        role_arn,
        external_id,
        session_name,
        base,
        access_key_id_parameter,
        secret_access_key_parameter,
        session_token_parameter,
        via,
        region,
        endpoint_url,
    } = raw;
    let keys = [
        ("profile", profile.is_some()),
        ("access_key_id_var", access_key_id_var.is_some()),
        ("secret_access_key_var", secret_access_key_var.is_some()),
        ("session_token_var", session_token_var.is_some()),
        ("access_key_id", access_key_id.is_some()),
        ("secret_access_key", secret_access_key.is_some()),
        ("session_token", session_token.is_some()),
        ("role_arn", role_arn.is_some()),
        ("external_id", external_id.is_some()),
        ("session_name", session_name.is_some()),
        ("base", base.is_some()),
        ("access_key_id_parameter", access_key_id_parameter.is_some()),
        (
            "secret_access_key_parameter",
            secret_access_key_parameter.is_some(),
        ),
        ("session_token_parameter", session_token_parameter.is_some()),
        ("via", via.is_some()),
        ("region", region.is_some()),
        ("endpoint_url", endpoint_url.is_some()),
    ];
    keys.into_iter()
        .filter(|(_, set)| *set)
        .map(|(key, _)| key)
        .collect()
}

/// One credentials table of `side`; `key` is its path (`source.credentials.base`), `depth` the
/// number of `assume_role` tables around it. `allow_http` is the side's: it also lets an SSM
/// endpoint use plain http to another host. Checks the kind and the keys, then hands the table
/// to the function for its kind.
pub(super) fn credentials(
    side: Side,
    key: &str,
    raw: RawCredentials,
    depth: usize,
    allow_http: bool,
) -> Result<CredentialSpec> {
    let kind = raw.kind.clone().unwrap_or_else(|| "default".to_string());
    if !matches!(
        kind.as_str(),
        "default" | "profile" | "env" | "static" | "assume_role" | "ssm"
    ) {
        return Err(Error::config(format!(
            "{key}.kind '{kind}' is not a credential kind: use {KINDS}"
        )));
    }
    let allowed = allowed_keys(&kind);
    if let Some(extra) = present_keys(&raw)
        .into_iter()
        .find(|k| !allowed.contains(k))
    {
        return Err(Error::config(format!(
            "'{key}.{extra}' does not apply to kind = '{kind}': remove it or change the kind"
        )));
    }
    let table = Table { key, kind: &kind };
    match kind.as_str() {
        "default" => Ok(CredentialSpec::Default),
        "profile" => profile(&table, raw),
        "env" => env(&table, raw),
        "static" => static_keys(&table, raw),
        "assume_role" => assume_role(side, &table, raw, depth, allow_http),
        "ssm" => ssm(side, &table, raw, allow_http),
        _ => unreachable!("kind checked above"),
    }
}

/// The table being validated: its path and its kind, for messages.
struct Table<'a> {
    key: &'a str,
    kind: &'a str,
}

impl Table<'_> {
    /// A key the kind needs: its value, or an error that says to add it.
    fn required<T: Clone>(&self, field: &str, value: &Option<T>) -> Result<T> {
        let Table { key, kind } = self;
        value.clone().ok_or_else(|| {
            Error::config(format!(
                "'{key}.{field}' is required when kind = '{kind}': add it to [{key}] \
                 (see config.example.toml)"
            ))
        })
    }

    /// A required key that must not be blank.
    fn non_empty(&self, field: &str, value: &Option<String>) -> Result<String> {
        let value = self.required(field, value)?;
        if value.trim().is_empty() {
            return Err(Error::config(format!(
                "'{}.{field}' is empty: write a value or remove the key",
                self.key
            )));
        }
        Ok(value)
    }
}

fn profile(table: &Table, raw: RawCredentials) -> Result<CredentialSpec> {
    Ok(CredentialSpec::Profile {
        profile: table.non_empty("profile", &raw.profile)?,
    })
}

fn env(table: &Table, raw: RawCredentials) -> Result<CredentialSpec> {
    Ok(CredentialSpec::Env {
        access_key_id_var: table.non_empty("access_key_id_var", &raw.access_key_id_var)?,
        secret_access_key_var: table
            .non_empty("secret_access_key_var", &raw.secret_access_key_var)?,
        session_token_var: raw.session_token_var,
    })
}

fn static_keys(table: &Table, raw: RawCredentials) -> Result<CredentialSpec> {
    let access_key_id = table.required("access_key_id", &raw.access_key_id)?;
    let secret_access_key = table.required("secret_access_key", &raw.secret_access_key)?;
    if access_key_id.is_empty() || secret_access_key.is_empty() {
        return Err(Error::config(format!(
            "'{}': access_key_id and secret_access_key must not be empty",
            table.key
        )));
    }
    Ok(CredentialSpec::Static {
        access_key_id,
        secret_access_key,
        session_token: raw.session_token,
    })
}

fn assume_role(
    side: Side,
    table: &Table,
    raw: RawCredentials,
    depth: usize,
    allow_http: bool,
) -> Result<CredentialSpec> {
    let key = table.key;
    if depth >= 3 {
        return Err(Error::config(format!(
            "'{key}' nests assume_role more than 3 deep: chain fewer roles"
        )));
    }
    let role_arn = table.required("role_arn", &raw.role_arn)?;
    if !role_arn.starts_with("arn:") || !role_arn.contains(":role/") {
        return Err(Error::config(format!(
            "{key}.role_arn '{role_arn}' is not a role ARN: write 'arn:aws:iam::123456789012:role/name'"
        )));
    }
    let base = match raw.base {
        Some(base) => credentials(side, &format!("{key}.base"), *base, depth + 1, allow_http)?,
        None => CredentialSpec::Default,
    };
    Ok(CredentialSpec::AssumeRole {
        role_arn,
        external_id: raw.external_id,
        session_name: raw.session_name.unwrap_or_else(|| "airlock".to_string()),
        base: Box::new(base),
    })
}

fn ssm(side: Side, table: &Table, raw: RawCredentials, allow_http: bool) -> Result<CredentialSpec> {
    let key = table.key;
    let via = ssm_via(side, key, raw.via.as_deref())?;
    if let Some(region) = &raw.region {
        check_region(&format!("{key}.region"), region)?;
    }
    if let Some(url) = &raw.endpoint_url {
        check_endpoint(&format!("{key}.endpoint_url"), url, allow_http)?;
    }
    let parameter = |field: &str, value: &Option<String>| -> Result<String> {
        let value = table.non_empty(field, value)?;
        if value.contains(char::is_whitespace) {
            return Err(Error::config(format!(
                "{key}.{field} '{value}' contains whitespace: SSM parameter names cannot"
            )));
        }
        Ok(value)
    };
    let access_key_id_parameter =
        parameter("access_key_id_parameter", &raw.access_key_id_parameter)?;
    let secret_access_key_parameter = parameter(
        "secret_access_key_parameter",
        &raw.secret_access_key_parameter,
    )?;
    let session_token_parameter = match raw.session_token_parameter {
        Some(name) => Some(parameter("session_token_parameter", &Some(name))?),
        None => None,
    };
    Ok(CredentialSpec::Ssm(SsmSpec {
        access_key_id_parameter,
        secret_access_key_parameter,
        session_token_parameter,
        via,
        region: raw.region,
        endpoint_url: raw
            .endpoint_url
            .map(|u| u.trim_end_matches('/').to_string()),
    }))
}

/// `via`: whose credentials read the SSM parameters; never the side's own.
fn ssm_via(side: Side, key: &str, via: Option<&str>) -> Result<Via> {
    let via = match via {
        None => {
            return Err(Error::config(format!(
                "'{key}.via' is required when kind = 'ssm': say whose credentials read the parameters \
                 ('target', 'source', 'default' or 'profile:NAME')"
            )));
        }
        Some("target") => Via::Side(Side::Target),
        Some("source") => Via::Side(Side::Source),
        Some("default") => Via::Default,
        Some(other) => match other.strip_prefix("profile:") {
            Some(name) if !name.is_empty() => Via::Profile(name.to_string()),
            _ => {
                return Err(Error::config(format!(
                    "{key}.via '{other}' is not understood: use 'target', 'source', 'default' or 'profile:NAME'"
                )));
            }
        },
    };
    if via == Via::Side(side) {
        return Err(Error::config(format!(
            "{key}.via '{side}' points at its own side: read the parameters with the other \
             side's credentials, 'default' or 'profile:NAME'"
        )));
    }
    Ok(via)
}
