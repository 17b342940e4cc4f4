//! `airlock plan` against the embedded servers: every object with its route, part counts at
//! a small threshold, skips for objects already identical at the target (the listings carry
//! no ETags on s3s-fs, so the plan HEADs both sides), awkward keys, and `-o plan.json`.

use crate::common::*;

/// Source objects under `in/` (and one outside it), and a target that already holds some.
pub(crate) async fn plan_fixture(servers: &TwoServers) {
    let (source, target) = (&servers.source, &servers.target);
    for (key, body) in [
        ("in/a.txt", "alpha"),
        ("in/sub/deeper/c.txt", "charlie"),
        ("in/with space.txt", "space"),
        ("in/ünï cødé.txt", "unicode"),
        ("in/plus+sign.txt", "plus"),
        ("in/per%cent.txt", "percent"),
        ("in/empty.bin", ""),
        ("outside.txt", "not under the prefix"),
    ] {
        source.put(key, body.as_bytes().to_vec()).await;
    }
    // 12 MiB at a 5 MiB threshold and part size: 3 parts (5 + 5 + 2 MiB).
    source.put_seeded("in/big.bin", 12 * MIB, 1).await;
    // The same bytes on both sides: skipped.
    source.put("in/same.txt", b"identical".to_vec()).await;
    target.put("out/same.txt", b"identical".to_vec()).await;
    source.put_seeded("in/same-big.bin", 6 * MIB, 2).await;
    target.put_seeded("out/same-big.bin", 6 * MIB, 2).await;
    // Same size, different bytes: copied.
    source.put("in/samesize.txt", b"aaaaaaaaa".to_vec()).await;
    target.put("out/samesize.txt", b"bbbbbbbbb".to_vec()).await;
    source.put_seeded("in/changed-big.bin", 6 * MIB, 3).await;
    target.put_seeded("out/changed-big.bin", 6 * MIB, 4).await;
    // Only at the target: not part of the plan.
    target
        .put("out/only-at-target.txt", b"stays".to_vec())
        .await;
}

fn small_parts(servers: &TwoServers) -> std::path::PathBuf {
    servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&servers.sandbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_routes_every_object_skips_identical_ones_and_saves_json() {
    let servers = TwoServers::start().await;
    plan_fixture(&servers).await;
    let config = small_parts(&servers);

    // Saved somewhere that does not exist yet: airlock creates the directory.
    let plan_path = servers.sandbox.path().join("plans").join("plan.json");

    let out = servers
        .airlock_with(&config, &["plan", "-o", plan_path.to_str().unwrap()])
        .run()
        .await;

    out.expect_code(0);
    let (items_and_summary, saved) = out
        .stdout
        .rsplit_once("plan saved to")
        .expect("says where the plan was saved");
    assert_eq!(saved, format!(" '{}'\n", plan_path.display()));
    assert_eq!(
        items_and_summary,
        "\
ROUTE           SIZE            PARTS  KEY
single           5 B                1  in/a.txt  (new)
multipart     12 MiB        3 x 5 MiB  in/big.bin  (new)
multipart      6 MiB        2 x 5 MiB  in/changed-big.bin  (differs: nothing comparable at the target (copied again to be sure))
single           0 B                1  in/empty.bin  (new)
single           7 B                1  in/per%cent.txt  (new)
single           4 B                1  in/plus+sign.txt  (new)
skip           6 MiB                -  in/same-big.bin  (same size and ETag)
skip             9 B                -  in/same.txt  (same size and ETag)
single           9 B                1  in/samesize.txt  (differs: ETag)
single           7 B                1  in/sub/deeper/c.txt  (new)
single           5 B                1  in/with space.txt  (new)
single           7 B                1  in/ünï cødé.txt  (new)
plan: s3://source-bucket/in/ -> s3://target-bucket/out/
  skip              2 objects     6.0 MiB        0 parts
  single            8 objects        44 B        8 parts
  multipart         2 objects      18 MiB        5 parts
  to copy          10 objects    18.0 MiB; peak memory 256 MiB (256 streams); ETA 1s at 100 MiB/s (assumed; transfer.estimate_rate)
(8 HEAD requests to compare objects that listings could not)
"
    );
    assert_eq!(out.stderr, "");
    out.assert_never_prints(SOURCE_SECRET_KEY);
    out.assert_never_prints(TARGET_SECRET_KEY);

    // The saved plan: the same items, target keys mapped from 'in/' to 'out/', no secrets.
    let text = std::fs::read_to_string(&plan_path).expect("plan file written");
    for secret in [SOURCE_SECRET_KEY, TARGET_SECRET_KEY] {
        assert!(!text.contains(secret), "plan.json holds a secret");
    }
    let plan: serde_json::Value = serde_json::from_str(&text).expect("plan.json is JSON");
    assert_eq!(plan["source"]["bucket"], SOURCE_BUCKET);
    assert_eq!(plan["source"]["prefix"], "in/");
    assert_eq!(plan["target"]["bucket"], TARGET_BUCKET);
    assert_eq!(plan["target"]["prefix"], "out/");
    assert_eq!(plan["settings"]["multipart_threshold"], 5 * MIB);

    let items = plan["items"].as_array().expect("items");
    let rows: Vec<(&str, &str, &str, u64, u64, u64)> = items
        .iter()
        .map(|item| {
            (
                item["source_key"].as_str().unwrap(),
                item["target_key"].as_str().unwrap(),
                item["route"].as_str().unwrap(),
                item["size"].as_u64().unwrap(),
                item["part_size"].as_u64().unwrap(),
                item["parts"].as_u64().unwrap(),
            )
        })
        .collect();
    let five = 5 * MIB;
    assert_eq!(
        rows,
        [
            ("in/a.txt", "out/a.txt", "single", 5, 5, 1),
            ("in/big.bin", "out/big.bin", "multipart", 12 * MIB, five, 3),
            (
                "in/changed-big.bin",
                "out/changed-big.bin",
                "multipart",
                6 * MIB,
                five,
                2
            ),
            ("in/empty.bin", "out/empty.bin", "single", 0, 0, 1),
            ("in/per%cent.txt", "out/per%cent.txt", "single", 7, 7, 1),
            ("in/plus+sign.txt", "out/plus+sign.txt", "single", 4, 4, 1),
            ("in/same-big.bin", "out/same-big.bin", "skip", 6 * MIB, 0, 0),
            ("in/same.txt", "out/same.txt", "skip", 9, 0, 0),
            ("in/samesize.txt", "out/samesize.txt", "single", 9, 9, 1),
            (
                "in/sub/deeper/c.txt",
                "out/sub/deeper/c.txt",
                "single",
                7,
                7,
                1
            ),
            ("in/with space.txt", "out/with space.txt", "single", 5, 5, 1),
            ("in/ünï cødé.txt", "out/ünï cødé.txt", "single", 7, 7, 1),
        ]
    );
    assert_eq!(plan["summary"]["multipart"]["parts"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_only_plan_of_an_empty_prefix() {
    let servers = TwoServers::start().await;
    servers.source.put("elsewhere/x.txt", b"x".to_vec()).await;
    let config = small_parts(&servers);

    let out = servers
        .airlock_with(&config, &["plan", "--summary"])
        .run()
        .await;

    out.expect_code(0);
    assert!(!out.stdout.contains("ROUTE"), "--summary prints no items");
    assert!(
        out.stdout.starts_with(
            "plan: s3://source-bucket/in/ -> s3://target-bucket/out/\n  \
             skip              0 objects         0 B        0 parts\n  \
             single            0 objects         0 B        0 parts\n  \
             multipart         0 objects         0 B        0 parts\n  \
             to copy           0 objects         0 B;"
        ),
        "{}",
        out.stdout
    );
}
