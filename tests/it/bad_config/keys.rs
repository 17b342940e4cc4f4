//! Bad-config cases about keys and their values' types and sizes: missing and unknown keys,
//! wrong types, absurd sizes and durations, S3 limits.

use super::{Case, SECRET, case, raw_case};
pub(super) fn missing_keys() -> Vec<Case> {
    vec![
        raw_case(
            "empty file",
            "",
            &["the [source] table is missing: add it with at least 'source.bucket'"],
        ),
        case(
            "no target table",
            |p| p.clear("target").clear("target.credentials"),
            // The credentials sub-table alone still creates [target]: its bucket is missing.
            &["'target.bucket' is missing: name the target bucket"],
        ),
        case(
            "no source bucket",
            |p| p.unset("source", "bucket"),
            &["'source.bucket' is missing: name the source bucket"],
        ),
        case(
            "static without its secret",
            |p| p.unset("source.credentials", "secret_access_key"),
            &["'source.credentials.secret_access_key' is required when kind = 'static'"],
        ),
        case(
            "profile without a name",
            |p| p.unset("target.credentials", "profile"),
            &["'target.credentials.profile' is required when kind = 'profile'"],
        ),
        case(
            "ssm without via",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "access_key_id_parameter = \"/a/id\"",
                        "secret_access_key_parameter = \"/a/secret\"",
                    ],
                )
            },
            &[
                "'source.credentials.via' is required when kind = 'ssm'",
                "'target', 'source', 'default' or 'profile:NAME'",
            ],
        ),
        case(
            "ssm without the secret parameter",
            |p| {
                p.table(
                    "source.credentials",
                    &[
                        "kind = \"ssm\"",
                        "via = \"target\"",
                        "access_key_id_parameter = \"/a/id\"",
                    ],
                )
            },
            &["'source.credentials.secret_access_key_parameter' is required when kind = 'ssm'"],
        ),
        case(
            "assume_role without role_arn",
            |p| p.table("target.credentials", &["kind = \"assume_role\""]),
            &["'target.credentials.role_arn' is required when kind = 'assume_role'"],
        ),
        case(
            "env without variable names",
            |p| p.table("target.credentials", &["kind = \"env\""]),
            &["'target.credentials.access_key_id_var' is required when kind = 'env'"],
        ),
    ]
}

pub(super) fn unknown_keys() -> Vec<Case> {
    vec![
        case(
            "unknown top-level key",
            |p| p.top("sorce = 1"),
            &["line 1, key 'sorce': unknown key 'sorce'", "'source'"],
        ),
        case(
            "unknown key in [source]",
            |p| p.line("source", "buckt = \"x\""),
            &["key 'source.buckt': unknown key 'buckt'", "'bucket'"],
        ),
        case(
            "unknown key in [transfer]",
            |p| p.line("transfer", "concurency = 4"),
            &[
                "key 'transfer.concurency': unknown key 'concurency'",
                "'concurrency'",
            ],
        ),
        case(
            "misspelt secret key next to its value",
            |p| {
                p.unset("source.credentials", "secret_access_key").line(
                    "source.credentials",
                    &format!("secret_acess_key = \"{SECRET}\""),
                )
            },
            &["key 'source.credentials.secret_acess_key': unknown key 'secret_acess_key'"],
        ),
        case(
            "unknown sub-table",
            |p| p.top("[sourc]\nbucket = \"x\""),
            &["key 'sourc': unknown key 'sourc'"],
        ),
        case(
            "key of another credential kind",
            |p| p.line("source.credentials", "profile = \"ops\""),
            &[
                "'source.credentials.profile' does not apply to kind = 'static': remove it or change the kind",
            ],
        ),
        case(
            "key written twice",
            |p| p.line("transfer", "concurrency = 9"),
            &["the key is written twice: keep one"],
        ),
    ]
}

pub(super) fn wrong_types() -> Vec<Case> {
    vec![
        case(
            "number for a bucket",
            |p| p.set("source", "bucket", "12"),
            &["key 'source.bucket': invalid type: integer '12', expected a string"],
        ),
        case(
            "string for concurrency",
            |p| p.set("transfer", "concurrency", "\"many\""),
            &[
                "key 'transfer.concurrency': 'many' is not a concurrency: use \"auto\" or a number from 1 to 1024",
            ],
        ),
        case(
            "string for a boolean",
            |p| p.set("source", "force_path_style", "\"yes\""),
            &["key 'source.force_path_style': invalid type: a string, expected a boolean"],
        ),
        case(
            "boolean for a size",
            |p| p.set("transfer", "multipart_threshold", "true"),
            &[
                "key 'transfer.multipart_threshold': invalid type: boolean 'true', expected a size such as \"64MiB\"",
            ],
        ),
        case(
            "float for part_size",
            |p| p.set("transfer", "part_size", "1.5"),
            &["key 'transfer.part_size': '1.5' is not a size: use \"auto\" or a quoted size"],
        ),
        raw_case(
            "string for a table",
            "source = \"fast\"\n",
            &["line 1, key 'source': invalid type: a string, expected a table"],
        ),
        case(
            "integer for a boolean",
            |p| p.line("transfer", "keep_failed_uploads = 1"),
            &["key 'transfer.keep_failed_uploads': invalid type: integer '1', expected a boolean"],
        ),
        case(
            "number for a duration",
            |p| p.line("transfer", "read_timeout = 30"),
            &["key 'transfer.read_timeout': invalid type: integer '30', expected a string"],
        ),
        case(
            "array for a region",
            |p| p.set("target", "region", "[\"eu-west-1\"]"),
            &["key 'target.region': invalid type: sequence, expected a string"],
        ),
    ]
}

pub(super) fn sizes() -> Vec<Case> {
    vec![
        case(
            "zero concurrency",
            |p| p.set("transfer", "concurrency", "0"),
            &["transfer.concurrency '0' is out of range: use 1 to 1024"],
        ),
        case(
            "negative concurrency",
            |p| p.set("transfer", "concurrency", "-4"),
            &["transfer.concurrency '-4' is out of range: use 1 to 1024"],
        ),
        case(
            "absurd concurrency",
            |p| p.set("transfer", "concurrency", "9223372036854775807"),
            &["transfer.concurrency '9223372036854775807' is out of range: use 1 to 1024"],
        ),
        case(
            "zero memory",
            |p| p.line("transfer", "memory_limit = \"0B\""),
            &["transfer.memory_limit '0 B' is out of range: use 1 MiB to 64 GiB"],
        ),
        case(
            "absurd memory",
            |p| p.line("transfer", "memory_limit = \"1024TiB\""),
            &["transfer.memory_limit '1024 TiB' is out of range: use 1 MiB to 64 GiB"],
        ),
        case(
            "negative memory",
            |p| p.line("transfer", "memory_limit = -1"),
            &["key 'transfer.memory_limit': '-1' is negative"],
        ),
        case(
            "size that overflows",
            |p| p.line("transfer", "memory_limit = \"99999999999999999999TiB\""),
            &["key 'transfer.memory_limit': '99999999999999999999TiB' is too large"],
        ),
        case(
            "negative retries",
            |p| p.line("transfer", "max_retries = -1"),
            &["transfer.max_retries '-1' is out of range: use 0 to 100"],
        ),
        case(
            "absurd retries",
            |p| p.line("transfer", "max_retries = 1000000"),
            &["transfer.max_retries '1000000' is out of range: use 0 to 100"],
        ),
        case(
            "part size below 5 MiB",
            |p| p.set("transfer", "part_size", "\"4MiB\""),
            &[
                "transfer.part_size '4 MiB' is out of range: S3 parts are 5 MiB to 5 GiB; use \"auto\" or a size in that range",
            ],
        ),
        case(
            "part size just below 5 MiB",
            |p| p.set("transfer", "part_size", "5242879"),
            &[
                "transfer.part_size '5.0 MiB' (5242879 bytes) is out of range",
                "5 MiB to 5 GiB",
            ],
        ),
        case(
            "zero part size",
            |p| p.set("transfer", "part_size", "0"),
            &["transfer.part_size '0 B' is out of range"],
        ),
        case(
            "negative part size",
            |p| p.set("transfer", "part_size", "-5"),
            &["key 'transfer.part_size': '-5' is negative: use \"auto\" or a size like \"64MiB\""],
        ),
        case(
            "part size above 5 GiB",
            |p| p.set("transfer", "part_size", "\"5.5GiB\""),
            &["transfer.part_size '5.5 GiB' is out of range"],
        ),
        case(
            "threshold above 5 GiB",
            |p| p.line("transfer", "multipart_threshold = \"6GiB\""),
            &[
                "transfer.multipart_threshold '6 GiB' is out of range: use a size from 5 MiB to 5 GiB",
            ],
        ),
        case(
            "threshold one byte above 5 GiB",
            |p| p.line("transfer", "multipart_threshold = 5368709121"),
            &[
                "transfer.multipart_threshold '5.0 GiB' (5368709121 bytes) is out of range: use a size from 5 MiB to 5 GiB",
            ],
        ),
        case(
            "zero threshold",
            |p| p.line("transfer", "multipart_threshold = 0"),
            &["transfer.multipart_threshold '0 B' is out of range"],
        ),
        case(
            "size with an unknown unit",
            |p| p.line("transfer", "multipart_threshold = \"64 megs\""),
            &["'64 megs' has an unknown unit 'megs': use B, KiB, MiB, GiB, TiB"],
        ),
        case(
            "zero timeout",
            |p| p.line("transfer", "read_timeout = \"0s\""),
            &["transfer.read_timeout '0s' is out of range: use more than 0s and at most 1h"],
        ),
        case(
            "absurd timeout",
            |p| p.line("transfer", "connect_timeout = \"3 weeks\""),
            &["transfer.connect_timeout '3 weeks' is out of range"],
        ),
        case(
            "timeout that is not a duration",
            |p| p.line("transfer", "read_timeout = \"forever\""),
            &[
                "transfer.read_timeout 'forever' is not a duration",
                "write it like '30s' or '2m'",
            ],
        ),
        case(
            "tiny estimate rate",
            |p| p.line("transfer", "estimate_rate = \"10B/s\""),
            &["transfer.estimate_rate '10B/s' is too small: use at least '1KiB/s'"],
        ),
    ]
}
