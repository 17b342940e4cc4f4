//! Bad-config cases about where and as whom: endpoints, credential kinds and names, and files
//! that are not TOML at all.

use super::{Case, SECRET, case, raw_case};
pub(super) fn endpoints() -> Vec<Case> {
    let endpoint = |name: &'static str, url: &str, says: &[&str]| {
        let url = url.to_string();
        case(
            name,
            move |p| p.set_str("source", "endpoint_url", &url),
            says,
        )
    };
    vec![
        endpoint(
            "endpoint that is not a URL",
            "s3 dot example dot com",
            &[
                "source.endpoint_url 's3 dot example dot com' is not a URL: write it like 'https://s3.example.com'",
            ],
        ),
        endpoint(
            "endpoint with another scheme",
            "ftp://s3.example.com",
            &["source.endpoint_url 'ftp://s3.example.com' has scheme 'ftp': use 'https://'"],
        ),
        endpoint(
            "endpoint without a host",
            "https://",
            &["source.endpoint_url 'https://' has no valid host and port"],
        ),
        endpoint(
            "endpoint with a port out of range",
            "https://s3.example.com:99999",
            &["source.endpoint_url 'https://s3.example.com:99999' has no valid host and port"],
        ),
        endpoint(
            "endpoint with a space in the host",
            "https://s3 .example.com",
            &["source.endpoint_url 'https://s3 .example.com' has no valid host and port"],
        ),
        endpoint(
            "empty endpoint",
            "",
            &["source.endpoint_url '' is not a URL"],
        ),
        endpoint(
            "plain http to another host",
            "http://s3.example.com",
            &[
                "source.endpoint_url 'http://s3.example.com' uses plain http to a host that is not this machine: use https, or set allow_http = true",
            ],
        ),
        endpoint(
            "plain http to a host that only starts like loopback",
            "http://127.0.0.1.example.com:9000",
            &[
                "'http://127.0.0.1.example.com:9000' uses plain http to a host that is not this machine",
            ],
        ),
        endpoint(
            "plain http with loopback as user info",
            "http://127.0.0.1@s3.example.com",
            &[
                "'http://127.0.0.1@s3.example.com' uses plain http to a host that is not this machine",
            ],
        ),
        case(
            "plain http to a remote SSM endpoint",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"target\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                        "endpoint_url = \"http://ssm.example.com\"",
                    ],
                )
            },
            &[
                "source.credentials.endpoint_url 'http://ssm.example.com' uses plain http",
                "allow_http = true",
            ],
        ),
        case(
            "allow_http that is not a boolean",
            |p| p.line("source", "allow_http = \"yes\""),
            &["key 'source.allow_http': invalid type: a string, expected a boolean"],
        ),
    ]
}

pub(super) fn credentials_and_names() -> Vec<Case> {
    vec![
        case(
            "unknown credential kind",
            |p| p.set("target.credentials", "kind", "\"iam-magic\""),
            &[
                "target.credentials.kind 'iam-magic' is not a credential kind: use 'default', 'profile', 'env', 'static', 'assume_role' or 'ssm'",
            ],
        ),
        case(
            "credential kind in the wrong case",
            |p| p.set("source.credentials", "kind", "\"Static\""),
            &["source.credentials.kind 'Static' is not a credential kind"],
        ),
        case(
            "empty secret",
            |p| p.set("source.credentials", "secret_access_key", "\"\""),
            &["access_key_id and secret_access_key must not be empty"],
        ),
        case(
            "via pointing at its own side",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"source\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &["source.credentials.via 'source' points at its own side"],
        ),
        case(
            "via that is not understood",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"the ops role\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &[
                "source.credentials.via 'the ops role' is not understood: use 'target', 'source', 'default' or 'profile:NAME'",
            ],
        ),
        case(
            "role ARN that is not one",
            |p| {
                p.table(
                    "target.credentials",
                    &["kind = \"assume_role\"", "role_arn = \"ops-role\""],
                )
            },
            &[
                "target.credentials.role_arn 'ops-role' is not a role ARN: write 'arn:aws:iam::123456789012:role/name'",
            ],
        ),
        case(
            "bucket with a slash",
            |p| p.set("source", "bucket", "\"source-bucket/in\""),
            &[
                "source.bucket 'source-bucket/in' contains '/'",
                "put the rest in 'source.prefix'",
            ],
        ),
        case(
            "bucket in upper case",
            |p| p.set("target", "bucket", "\"Target_Bucket\""),
            &["target.bucket 'Target_Bucket' is not a bucket name: 3 to 63 lowercase letters"],
        ),
        case(
            "empty bucket",
            |p| p.set("target", "bucket", "\"\""),
            &["target.bucket '' is not a bucket name"],
        ),
        case(
            "region that is not one",
            |p| p.set("source", "region", "\"US East\""),
            &["source.region 'US East' is not a region: write one like 'us-east-1'"],
        ),
        case(
            "unknown sse",
            |p| p.line("target", "sse = \"aes\""),
            &["target.sse 'aes' is not supported: use 'AES256' or 'aws:kms'"],
        ),
        case(
            "unknown storage class",
            |p| p.line("target", "storage_class = \"COLD\""),
            &["target.storage_class 'COLD' is not an S3 storage class: use one of STANDARD"],
        ),
        case(
            "unknown verify mode",
            |p| p.line("transfer", "verify = \"sha1\""),
            &[
                "transfer.verify 'sha1' is not a verify mode: use 'checksum' (default), 'md5' or 'size'",
            ],
        ),
    ]
}

pub(super) fn not_toml() -> Vec<Case> {
    vec![
        raw_case(
            "prose",
            "copy everything from the old bucket please\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "json",
            "{\"source\": {\"bucket\": \"source-bucket\"}}\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "unterminated string holding a secret",
            &format!(
                "[source]\nbucket = \"source-bucket\"\n[source.credentials]\nsecret_access_key = \"{SECRET}\n"
            ),
            &["is not a valid config: line 4"],
        ),
        raw_case(
            "table header never closed",
            "[source\nbucket = \"source-bucket\"\n",
            &["is not a valid config: line 1"],
        ),
        raw_case(
            "NUL bytes",
            "[source]\nbucket = \"a\0b\"\n",
            &["is not a valid config: line 2"],
        ),
    ]
}
