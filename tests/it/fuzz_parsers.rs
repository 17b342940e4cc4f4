//! Property tests (proptest, a bounded number of cases so CI stays fast) for the two parsers
//! that read what users write and edit: the config parser (TOML text -> validated settings)
//! and the plan-file loader. Neither may panic on any input; every refusal is the right error
//! kind, names the file, quotes in the house style and never echoes a secret; and whatever the
//! plan loader accepts obeys S3's limits, so no hand edit reaches the engine unchecked.

use std::path::Path;

use airlock_core::ErrorKind;
use airlock_core::config::{Settings, parse_settings};
use airlock_core::job::plan_store::load_plan;
use airlock_core::plan::{Plan, PlanItem, PlanSettings, PlanSide, Route, Summary};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::Config;

/// Marker written into every secret field; no error message may contain it.
const SECRET: &str = "FUZZ-secret-3b1d";

const CASES: u32 = 256;

// ---------------------------------------------------------------------------------------------
// Config

/// Keys per table, each with a generator of plausible and implausible values.
const SIDE_KEYS: &[&str] = &[
    "bucket",
    "prefix",
    "region",
    "endpoint_url",
    "force_path_style",
    "allow_http",
    "storage_class",
    "sse",
    "sse_kms_key_id",
    "acl",
    "bucketz",
];
const CREDENTIAL_KEYS: &[&str] = &[
    "kind",
    "profile",
    "access_key_id_var",
    "secret_access_key_var",
    "access_key_id",
    "secret_access_key",
    "session_token",
    "role_arn",
    "external_id",
    "session_name",
    "access_key_id_parameter",
    "secret_access_key_parameter",
    "via",
    "region",
    "endpoint_url",
    "kinde",
];
const TRANSFER_KEYS: &[&str] = &[
    "multipart_threshold",
    "part_size",
    "concurrency",
    "memory_limit",
    "max_retries",
    "verify",
    "compare",
    "on_source_change",
    "keep_failed_uploads",
    "copy_metadata",
    "copy_tags",
    "estimate_rate",
    "connect_timeout",
    "read_timeout",
    "concurency",
];

/// A TOML value: strings that are sizes, URLs, kinds and junk; numbers at the edges; booleans;
/// arrays and inline tables.
fn toml_value() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "auto",
        "5MiB",
        "4MiB",
        "5GiB",
        "6GiB",
        "0",
        "-1",
        "1.5GiB",
        "100MiB/s",
        "30s",
        "0s",
        "2h",
        "static",
        "ssm",
        "profile",
        "assume_role",
        "env",
        "default",
        "target",
        "source",
        "profile:",
        "profile:ops",
        "https://s3.example.com",
        "http://127.0.0.1:9000",
        "http://example.com",
        "http://[::1]:1",
        "ftp://x",
        "http://",
        "https://h:99999",
        "arn:aws:iam::1:role/x",
        "AES256",
        "aws:kms",
        "STANDARD",
        "checksum",
        "size-and-mtime",
        "restart",
        "",
        " ",
        "us-east-1",
        "source-bucket",
        "UPPER",
        "a/b",
        "日本",
        SECRET,
    ]);
    prop_oneof![
        4 => words.prop_map(|w| toml::Value::String(w.to_string()).to_string()),
        2 => "[ -~]{0,24}".prop_map(|s| toml::Value::String(s).to_string()),
        2 => prop::sample::select(vec![
            0i64, 1, -1, 5, 1024, 1025, 5_242_879, 5_242_880, 5_368_709_120, 5_368_709_121,
            i64::MAX, i64::MIN,
        ])
        .prop_map(|n| n.to_string()),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec!["1.5", "-0.0", "nan", "inf", "1e400"]).prop_map(str::to_string),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => Just("[1, \"two\"]".to_string()),
        1 => Just("{ kind = \"static\" }".to_string()),
    ]
}

fn lines_for(keys: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        (prop::sample::select(keys), toml_value()).prop_map(|(k, v)| format!("{k} = {v}")),
        0..6,
    )
}

/// A config built from tables of random key/value lines, sometimes with a line of junk.
fn config_text() -> impl Strategy<Value = String> {
    (
        lines_for(SIDE_KEYS),
        lines_for(CREDENTIAL_KEYS),
        lines_for(SIDE_KEYS),
        lines_for(CREDENTIAL_KEYS),
        lines_for(TRANSFER_KEYS),
        prop::option::of("[ -~\n]{0,40}"),
        any::<bool>(),
    )
        .prop_map(
            |(source, source_cred, target, target_cred, transfer, junk, buckets)| {
                // Half the time start from valid buckets so validation gets past the first check.
                let base = if buckets {
                    Config::minimal()
                } else {
                    Config::default()
                };
                let mut text = base
                    .lines("source", &source)
                    .keys("source", "AKIAFUZZ", SECRET)
                    .lines("source.credentials", &source_cred)
                    .lines("target", &target)
                    .lines("target.credentials", &target_cred)
                    .transfer(&transfer)
                    .text();
                if let Some(junk) = junk {
                    text.push_str(&junk);
                }
                text
            },
        )
}

/// What every config refusal must look like.
fn check_config_error(text: &str, err: &airlock_core::Error) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(
        matches!(err.kind(), ErrorKind::Config(_)),
        "not a config error: {err:?}\n{text}"
    );
    prop_assert!(
        message.starts_with("config: 'fuzz.toml'"),
        "does not name the file: {message}"
    );
    prop_assert!(
        !message.contains(SECRET),
        "echoes the secret: {message}\n{text}"
    );
    if !text.contains('`') {
        prop_assert!(!message.contains('`'), "backticks, not 'quotes': {message}");
    }
    prop_assert!(message.len() < 2000, "runaway message: {message}");
    Ok(())
}

/// What every accepted config must satisfy.
fn check_settings(settings: &Settings) -> Result<(), TestCaseError> {
    let t = &settings.transfer;
    let mib = 1024 * 1024;
    prop_assert!((5 * mib..=5 * 1024 * mib).contains(&t.multipart_threshold.0));
    if let airlock_core::config::PartSize::Fixed(size) = t.part_size {
        prop_assert!((5 * mib..=5 * 1024 * mib).contains(&size.0));
    }
    prop_assert!((1..=1024).contains(&t.concurrency));
    prop_assert!(!settings.source.bucket.is_empty() && !settings.target.bucket.is_empty());
    for side in [&settings.source, &settings.target] {
        if let Some(url) = &side.endpoint_url {
            prop_assert!(
                url.starts_with("https://") || url.starts_with("http://"),
                "{url}"
            );
        }
    }
    prop_assert!(
        !format!("{settings:?}").contains(SECRET),
        "Debug shows the secret"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn config_parser_never_panics_and_refuses_clearly(text in config_text()) {
        match parse_settings(&text, "fuzz.toml") {
            Ok(settings) => check_settings(&settings)?,
            Err(err) => check_config_error(&text, &err)?,
        }
    }

    #[test]
    fn config_parser_survives_arbitrary_text(text in "\\PC{0,200}") {
        if let Err(err) = parse_settings(&text, "fuzz.toml") {
            check_config_error(&text, &err)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Plan files

fn settings() -> Settings {
    Config::minimal().prefixes("in/", "out/").settings()
}

/// A valid plan for [`settings`]: a skip, a single and a multipart item.
fn good_plan() -> Value {
    let settings = settings();
    let mib = 1024 * 1024u64;
    let item = |key: &str, size: u64, route: Route, part_size: u64, parts: u32| PlanItem {
        source_key: format!("in/{key}"),
        target_key: format!("out/{key}"),
        size,
        source_etag: Some(format!("etag-{key}")),
        source_modified_ms: Some(1),
        route,
        part_size,
        parts,
        reason: "new".into(),
        split: None,
        source_version_id: None,
        held_back: None,
        source_layout: None,
        inventory_of_ms: None,
    };
    let items = vec![
        item("a", 3, Route::Skip, 0, 0),
        item("b", 10, Route::Single, 10, 1),
        item("c", 12 * mib, Route::Multipart, 5 * mib, 3),
    ];
    let plan_settings = PlanSettings::of(&settings.transfer);
    let plan = Plan {
        format: airlock_core::plan::PLAN_FORMAT_VERSION,
        source: PlanSide::of(&settings.source),
        target: PlanSide::of(&settings.target),
        summary: Summary::of(&items, &plan_settings),
        settings: plan_settings,
        items,
        warnings: vec![],
        selection: Default::default(),
        version_at: None,
        deletions: vec![],
    };
    serde_json::to_value(&plan).unwrap()
}

/// A JSON value of any shape, edge numbers included.
fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(vec![
            0i64,
            1,
            -1,
            2,
            3,
            10_000,
            10_001,
            5_242_879,
            5_242_880,
            5_368_709_121,
            i64::MAX,
            i64::MIN,
        ])
        .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop::sample::select(vec![
            "skip",
            "single",
            "multipart",
            "teleport",
            "in/",
            "out/",
            "in/c",
            "out/c",
            "",
            "in/../x"
        ])
        .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
    ]
}

/// One edit to the good plan: a field of an item, a top-level field, or a side's field.
#[derive(Debug, Clone)]
enum Edit {
    Item(usize, &'static str, Value),
    Top(&'static str, Value),
    Side(&'static str, &'static str, Value),
    RemoveItemField(usize, &'static str),
}

const ITEM_FIELDS: &[&str] = &[
    "source_key",
    "target_key",
    "size",
    "source_etag",
    "source_modified_ms",
    "route",
    "part_size",
    "parts",
    "reason",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        6 => (0..3usize, prop::sample::select(ITEM_FIELDS), json_value())
            .prop_map(|(i, f, v)| Edit::Item(i, f, v)),
        1 => (prop::sample::select(vec!["format", "items", "summary", "warnings", "settings", "source"]), json_value())
            .prop_map(|(f, v)| Edit::Top(f, v)),
        1 => (prop::sample::select(vec!["source", "target"]), prop::sample::select(vec!["bucket", "prefix", "endpoint_url"]), json_value())
            .prop_map(|(s, f, v)| Edit::Side(s, f, v)),
        1 => (0..3usize, prop::sample::select(ITEM_FIELDS)).prop_map(|(i, f)| Edit::RemoveItemField(i, f)),
    ]
}

fn apply(plan: &mut Value, edit: &Edit) {
    // An earlier edit may have replaced the container: then this edit does nothing.
    match edit {
        Edit::Item(i, field, value) => {
            if let Some(item) = plan
                .pointer_mut(&format!("/items/{i}"))
                .and_then(Value::as_object_mut)
            {
                item.insert(field.to_string(), value.clone());
            }
        }
        Edit::Top(field, value) => {
            if let Some(top) = plan.as_object_mut() {
                top.insert(field.to_string(), value.clone());
            }
        }
        Edit::Side(side, field, value) => {
            if let Some(side) = plan.get_mut(*side).and_then(Value::as_object_mut) {
                side.insert(field.to_string(), value.clone());
            }
        }
        Edit::RemoveItemField(i, field) => {
            if let Some(item) = plan
                .pointer_mut(&format!("/items/{i}"))
                .and_then(Value::as_object_mut)
            {
                item.remove(*field);
            }
        }
    }
}

/// How the bytes on disk are produced from the edited plan.
#[derive(Debug, Clone)]
enum Damage {
    None,
    /// Keep only the first fraction (per mille) of the bytes.
    Truncate(u16),
    /// Overwrite one byte.
    Flip(u16, u8),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        6 => Just(Damage::None),
        1 => (0..1000u16).prop_map(Damage::Truncate),
        1 => (0..1000u16, any::<u8>()).prop_map(|(at, b)| Damage::Flip(at, b)),
    ]
}

fn damaged(mut bytes: Vec<u8>, damage: &Damage) -> Vec<u8> {
    match damage {
        Damage::None => {}
        Damage::Truncate(per_mille) => bytes.truncate(bytes.len() * *per_mille as usize / 1000),
        Damage::Flip(at, byte) => {
            let at = bytes.len() * *at as usize / 1000;
            bytes[at] = *byte;
        }
    }
    bytes
}

/// S3's limits on what the engine may be asked to do.
fn check_accepted(plan: &Plan) -> Result<(), TestCaseError> {
    let mib = 1024 * 1024u64;
    prop_assert_eq!(
        &plan.summary,
        &Summary::of(&plan.items, &plan.settings),
        "the loaded summary is recomputed"
    );
    let mut targets = std::collections::HashSet::new();
    for PlanItem {
        source_key,
        target_key,
        size,
        route,
        part_size,
        parts,
        ..
    } in &plan.items
    {
        prop_assert!(source_key.starts_with("in/") && target_key.starts_with("out/"));
        prop_assert!(targets.insert(target_key.clone()), "target key twice");
        prop_assert!(*size <= 5 * 1024 * 1024 * mib, "size {size}");
        match route {
            Route::Skip => {}
            Route::Single => prop_assert!(*size <= 5 * 1024 * mib),
            Route::Multipart => {
                prop_assert!((1..=10_000).contains(parts), "{parts} parts");
                prop_assert!(*part_size as u128 * *parts as u128 >= *size as u128);
                prop_assert!(
                    *part_size >= 5 * mib || *parts <= 1,
                    "{part_size} x {parts}"
                );
                prop_assert!(*part_size <= 5 * 1024 * mib, "part size {part_size}");
            }
        }
    }
    Ok(())
}

fn check_plan_error(path: &Path, err: &airlock_core::Error) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(
        matches!(err.kind(), ErrorKind::Plan(_)),
        "not a plan error: {err:?}"
    );
    prop_assert!(
        message.contains(&format!("'{}'", path.display())),
        "does not name the file: {message}"
    );
    prop_assert!(
        message.contains("make a new plan"),
        "says nothing to do: {message}"
    );
    // Values are quoted 'like this'; a backtick can only come from a value in the file.
    let text = std::fs::read_to_string(path).unwrap_or_default();
    if !text.contains('`') {
        prop_assert!(!message.contains('`'), "backticks, not 'quotes': {message}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plan_loader_never_panics_and_accepts_only_what_s3_can_do(
        edits in prop::collection::vec(edit(), 0..4),
        damage in damage(),
    ) {
        let settings = settings();
        let mut plan = good_plan();
        for e in &edits {
            apply(&mut plan, e);
        }
        let bytes = damaged(serde_json::to_vec_pretty(&plan).unwrap(), &damage);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, &bytes).unwrap();
        match load_plan(&path, &settings) {
            Ok(plan) => check_accepted(&plan)?,
            Err(err) => check_plan_error(&path, &err)?,
        }
    }
}

#[test]
fn the_unedited_plan_loads() {
    // The base of the plan fuzzing must itself be accepted, or the property proves nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plan.json");
    std::fs::write(&path, serde_json::to_vec(&good_plan()).unwrap()).unwrap();
    let plan = load_plan(&path, &settings()).expect("the good plan loads");
    assert_eq!(plan.items.len(), 3);
}
