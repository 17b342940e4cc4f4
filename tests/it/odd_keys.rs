//! Object keys that break naive encoders: unicode, spaces, `+`, `%`, `..` inside names, URL and
//! XML metacharacters, a long key (1,024 bytes on real S3, 140 on s3s-fs), and keys that differ
//! only in case. `airlock plan` must list each exactly and `airlock run` must copy each byte
//! for byte (single and multipart) between the two in-process servers, and a second run must
//! skip them all (so HEAD and compare work on the same keys).
//!
//! s3s-fs stores a key as a file path, which some keys cannot survive; those are pinned here as
//! server quirks (so a change in s3s-fs shows up), and where the *target* cannot store a key,
//! airlock must fail that object with a clear error rather than skip it silently:
//! - a `.` or `..` path segment or a `//` is normalised away (`in/a/../b` is stored as `in/b`);
//! - a key cannot be both an object and a "folder" (`x` and `x/y`): the second PUT fails;
//! - a key ending in `/` (a console "folder") is stored as a directory and never listed;
//! - a key much longer than 140 bytes cannot be stored (its metadata file is named after the
//!   base64 of the key, over the 255-byte file-name limit), so the 1,024-byte case is pinned
//!   as a quirk and the corpus uses a 140-byte key.

use serde_json::Value;

use crate::common::*;

/// Source and target prefixes of the same length, so a 1,024-byte source key maps to a
/// 1,024-byte target key.
const SOURCE_PREFIX: &str = "in/";
const TARGET_PREFIX: &str = "to/";

/// A 1,024-byte key under `prefix`, in segments short enough for a file system (255 bytes).
fn longest_key(prefix: &str) -> String {
    let mut key = prefix.to_string();
    let mut segment = 0;
    while key.len() < 1024 {
        let room = 1024 - key.len();
        let take = room.min(200);
        if take < 200 || room == 200 {
            key.push_str(&"z".repeat(take));
        } else {
            key.push_str(&format!("{segment}").repeat(199));
            key.push('/');
            segment += 1;
        }
    }
    assert_eq!(key.len(), 1024);
    key
}

/// Relative keys (under the prefixes) with their sizes. Sizes differ so a mix-up shows.
fn odd_keys() -> Vec<(String, usize)> {
    let mut keys: Vec<(String, usize)> = [
        "ünïcödé/日本語のファイル.txt",
        "emoji 🚀 rocket.bin",
        "with space.txt",
        "  leading and trailing  ",
        "a+b+c.txt",
        "100%.txt",
        "%41%2F%20already-encoded.txt",
        "a..b/..hidden/trailing..",
        "query?x=1&y=2#fragment",
        "semi;colon,comma=equals@at$dollar!bang'quote(paren)*star",
        "tilde~caret^backtick`pipe|brace{}bracket[]",
        "back\\slash.txt",
        "double\"quote.txt",
        "<tag>&amp;.xml",
        "Case.txt",
        "case.txt",
        "CASE.TXT",
    ]
    .iter()
    .enumerate()
    .map(|(i, k)| (k.to_string(), 100 + i * 37))
    .collect();
    // s3s-fs names a metadata file after the base64 of the key, so it cannot store keys much
    // longer than 140 bytes (see the quirks test); real S3 takes 1,024.
    let long = format!("{}/{}", "L".repeat(70), "M".repeat(66));
    assert_eq!(SOURCE_PREFIX.len() + long.len(), 140);
    keys.push((long, 321));
    keys
}

/// The multipart object's key (relative) and size: 3 parts of 5 MiB.
const MULTIPART_KEY: &str = "multi part ü+%/größe 100%.bin";
const MULTIPART_SIZE: u64 = 11 * MIB + 5;

fn config(servers: &TwoServers) -> std::path::PathBuf {
    servers
        .config()
        .prefixes(SOURCE_PREFIX, TARGET_PREFIX)
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox)
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_keys_are_planned_and_copied_byte_for_byte() {
    let servers = TwoServers::start().await;
    let keys = odd_keys();
    for (i, (key, size)) in keys.iter().enumerate() {
        let bytes = seeded_bytes(i as u64, 0, *size);
        servers
            .source
            .put(&format!("{SOURCE_PREFIX}{key}"), bytes)
            .await;
    }
    servers
        .source
        .put_seeded(
            &format!("{SOURCE_PREFIX}{MULTIPART_KEY}"),
            MULTIPART_SIZE,
            99,
        )
        .await;
    let mut relative: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
    relative.push(MULTIPART_KEY.to_string());
    let expected_source = sorted(
        relative
            .iter()
            .map(|k| format!("{SOURCE_PREFIX}{k}"))
            .collect(),
    );
    let expected_target = sorted(
        relative
            .iter()
            .map(|k| format!("{TARGET_PREFIX}{k}"))
            .collect(),
    );
    // The server itself keeps every one of these keys as written.
    assert_eq!(
        sorted(servers.source.keys(SOURCE_PREFIX).await),
        expected_source
    );

    let config = config(&servers);
    let plan_path = servers.sandbox.path().join("plan.json");
    servers
        .airlock_with(&config, &["plan", "-o", plan_path.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    let plan: Value = serde_json::from_slice(&std::fs::read(&plan_path).unwrap()).unwrap();
    let items = plan["items"].as_array().unwrap();
    let planned: Vec<String> = items
        .iter()
        .map(|i| i["source_key"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(sorted(planned), expected_source);
    for item in items {
        let source_key = item["source_key"].as_str().unwrap();
        let relative = &source_key[SOURCE_PREFIX.len()..];
        assert_eq!(
            item["target_key"].as_str().unwrap(),
            format!("{TARGET_PREFIX}{relative}")
        );
        let route = if relative == MULTIPART_KEY {
            "multipart"
        } else {
            "single"
        };
        assert_eq!(item["route"], route, "{source_key}");
    }

    let out = servers
        .airlock_with(
            &config,
            &["run", "--plan", plan_path.to_str().unwrap(), "--json"],
        )
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        sorted(servers.target.keys(TARGET_PREFIX).await),
        expected_target
    );
    for (i, (key, size)) in keys.iter().enumerate() {
        let got = servers.target.get(&format!("{TARGET_PREFIX}{key}")).await;
        assert!(
            got == seeded_bytes(i as u64, 0, *size),
            "'{key}' differs at the target ({} bytes, wanted {size})",
            got.len()
        );
    }
    let got = servers
        .target
        .get(&format!("{TARGET_PREFIX}{MULTIPART_KEY}"))
        .await;
    assert!(
        got == seeded_bytes(99, 0, MULTIPART_SIZE as usize),
        "multipart differs"
    );

    // A second run plans now: every key is found at the target and skipped, none copied again.
    let out = servers
        .airlock_with(&config, &["run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    let lines = json_lines(&out.stdout);
    let summary = run_summary(&lines);
    assert_eq!(
        (&summary["skipped"], &summary["copied"], &summary["failed"]),
        (
            &Value::from(relative.len()),
            &Value::from(0),
            &Value::from(0)
        ),
        "the second run skips every key: {summary}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_quirks_for_keys_it_cannot_store_are_pinned() {
    // These are s3s-fs's limits, not airlock's: pinned so that a change shows up, and so that
    // nobody reads a missing object in the tests above as an airlock bug.
    let servers = TwoServers::start().await;
    servers
        .source
        .put("in/dot/../escaped.txt", b"x".to_vec())
        .await;
    servers.source.put("in/./here.txt", b"y".to_vec()).await;
    servers.source.put("in//double.txt", b"z".to_vec()).await;
    assert_eq!(
        sorted(servers.source.keys("").await),
        ["in/double.txt", "in/escaped.txt", "in/here.txt"],
        "s3s-fs normalises '.', '..' and '//' path segments"
    );
    // A 1,024-byte key (S3's maximum) is refused with a 500: s3s-fs stores each object's
    // metadata in a file named after the base64 of the key, which exceeds 255 bytes.
    let refused = servers
        .source
        .client
        .put_object()
        .bucket(&servers.source.bucket)
        .key(longest_key("in/"))
        .body(b"long".to_vec().into())
        .send()
        .await;
    assert!(refused.is_err(), "s3s-fs stored a 1,024-byte key");
    // A "folder" made in the S3 console (a zero-byte key ending in '/') becomes a directory:
    // the PUT succeeds but listings never show it, so airlock cannot see it to copy it here.
    servers.source.put("in/folder-marker/", Vec::new()).await;
    assert!(
        !servers
            .source
            .keys("in/")
            .await
            .contains(&"in/folder-marker/".to_string()),
        "s3s-fs now lists folder markers: add them to the odd-keys corpus"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_the_target_cannot_store_fail_clearly_and_the_rest_is_copied() {
    let servers = TwoServers::start().await;
    // 'to/clash' is a "folder" at the target (it holds 'to/clash/inside.txt'), so s3s-fs cannot
    // write an object at 'to/clash'. Real S3 could; the point is what airlock does when a PUT
    // is refused for one key.
    servers.source.put("in/clash", b"file".to_vec()).await;
    servers.source.put("in/fine.txt", b"fine".to_vec()).await;
    servers
        .target
        .put("to/clash/inside.txt", b"keep".to_vec())
        .await;
    let config = config(&servers);

    let out = servers.airlock_with(&config, &["run"]).run().await;

    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    out.expect_code(1);
    assert!(
        out.all()
            .contains("in/clash: target: PutObject on 's3://target-bucket/to/clash' failed"),
        "the failed key is named:\n{}",
        out.all()
    );
    assert_eq!(servers.target.get("to/fine.txt").await, b"fine");
    assert_eq!(servers.target.get("to/clash/inside.txt").await, b"keep");
}

/// Keys that XML 1.0 cannot carry (U+0001, U+001B) beside `+`, `%` and a space. AWS lists them
/// only with `encoding-type=url` (raw, the answer is unparseable for the whole page): airlock
/// asks for it and decodes what the answer says is encoded. Plan, run, rerun (all skips) and
/// `ls` against servers that honour the encoding (`set_url_encoding`) and would otherwise
/// send the control characters raw, as s3s does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_xml_cannot_carry_are_listed_url_encoded() {
    let servers = TwoServers::start().await;
    for account in [&servers.source, &servers.target] {
        account.server.behaviours().set_url_encoding(true);
    }
    let keys = [
        "in/\u{1}start.txt",
        "in/esc\u{1b}[0m.txt",
        "in/a+b c.txt",
        "in/100%25 %.txt",
        "in/sub/x\u{1}y+z.txt",
    ];
    for (i, key) in keys.iter().enumerate() {
        servers
            .source
            .put(key, seeded_bytes(i as u64, 0, 10 + i))
            .await;
    }
    let config = servers
        .config()
        .prefixes(SOURCE_PREFIX, TARGET_PREFIX)
        .write(&servers.sandbox);

    let plan = crate::plan_real_s3::saved_plan(&servers, &config).await;
    let mut planned: Vec<String> = crate::plan_real_s3::routes(&plan)
        .into_iter()
        .map(|(key, route, _)| {
            assert_eq!(route, "single", "'{key:?}'");
            key
        })
        .collect();
    planned.sort();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(planned, expected);

    let summary = crate::plan_real_s3::run_json(&servers, &config, &[]).await;
    assert_eq!(summary["copied"], keys.len(), "{summary}");
    for (i, key) in keys.iter().enumerate() {
        let target_key = key.replacen(SOURCE_PREFIX, TARGET_PREFIX, 1);
        assert_eq!(
            servers.target.get(&target_key).await,
            seeded_bytes(i as u64, 0, 10 + i),
            "'{target_key:?}'"
        );
    }
    let rerun = crate::plan_real_s3::run_json(&servers, &config, &[]).await;
    assert_eq!(rerun["copied"], 0, "{rerun}");

    let out = servers
        .airlock_with(&config, &["ls", "source", "--recursive"])
        .run()
        .await;
    out.expect_code(0);
    for key in keys {
        assert_eq!(
            lines_with(&out.stdout, key).len(),
            1,
            "'{key:?}' in:\n{}",
            out.stdout
        );
    }
    let out = servers.airlock_with(&config, &["ls", "source"]).run().await;
    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, "in/sub/").len(),
        1,
        "{}",
        out.stdout
    );
}
