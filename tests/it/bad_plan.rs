//! Bad plan files, run through the real binary against the two in-process servers: garbage,
//! truncated, not a plan, another format version, hand-edited items (unknown route, negative
//! or absurd sizes, part counts that disagree with sizes, keys outside the prefixes, a target
//! key twice) and plans made for another config. Each must be refused by `airlock run --plan`
//! with exit code 2, a message that names the file (and the object or value) and says to make
//! a new plan, no panic, and nothing written at the target.

use serde_json::{Value, json};

use crate::common::*;

/// Servers with one small and one multipart object, a config (5 MiB threshold and parts) and
/// a good plan made with it.
struct Fixture {
    servers: TwoServers,
    config: std::path::PathBuf,
    /// The good plan as written by `airlock plan -o`.
    plan: Value,
}

fn config(servers: &TwoServers) -> Config {
    servers
        .config()
        .prefixes("in/", "out/")
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
}

impl Fixture {
    async fn start() -> Self {
        let servers = TwoServers::start().await;
        servers.source.put("in/small.txt", b"small".to_vec()).await;
        servers
            .source
            .put_seeded("in/big.bin", 11 * MIB + 3, 7)
            .await;
        let config = config(&servers).write(&servers.sandbox);
        let path = servers.sandbox.path().join("good-plan.json");
        servers
            .airlock_with(&config, &["plan", "-o", path.to_str().unwrap()])
            .run()
            .await
            .expect_code(0);
        let plan: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let routes: Vec<(&str, &str)> = plan["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["source_key"].as_str().unwrap(),
                    i["route"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            routes,
            [("in/big.bin", "multipart"), ("in/small.txt", "single")],
            "the fixture plan"
        );
        Fixture {
            servers,
            config,
            plan,
        }
    }

    /// The good plan with `edit` applied to a copy.
    fn edited(&self, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut plan = self.plan.clone();
        edit(&mut plan);
        serde_json::to_vec_pretty(&plan).unwrap()
    }

    /// `airlock run --plan FILE` on `bytes`; asserts the refusal and that the target is empty.
    async fn refused(&self, name: &str, bytes: &[u8], says: &[&str]) {
        self.refused_with(name, bytes, &self.config, says).await;
    }

    async fn refused_with(
        &self,
        name: &str,
        bytes: &[u8],
        config: &std::path::Path,
        says: &[&str],
    ) {
        let path = self
            .servers
            .sandbox
            .path()
            .join(format!("{}.json", name.replace(' ', "-")));
        std::fs::write(&path, bytes).unwrap();
        for extra in [&[][..], &["--dry-run"][..], &["--json"][..]] {
            let mut args = vec!["run", "--plan", path.to_str().unwrap()];
            args.extend(extra);
            let out = self.servers.airlock_with(config, &args).run().await;
            let what = format!("[{name}] {}", args.join(" "));
            assert!(
                !out.stderr.contains("panicked") && out.code != 101,
                "{what}: panicked\n{}",
                out.stderr
            );
            assert_eq!(out.code, 2, "{what}: exit code\n{}", out.all());
            assert_eq!(out.stdout, "", "{what}: stdout");
            let mut wanted = vec![
                format!("airlock: plan: '{}'", path.display()),
                "make a new plan".to_string(),
            ];
            wanted.extend(says.iter().map(|s| s.to_string()));
            for part in &wanted {
                assert!(
                    out.stderr.contains(part.as_str()),
                    "{what}: expected {part:?} in stderr:\n{}",
                    out.stderr
                );
            }
        }
        assert_eq!(
            self.servers.target.keys("").await,
            Vec::<String>::new(),
            "[{name}] wrote at the target"
        );
    }
}

fn item<'a>(plan: &'a mut Value, key: &str) -> &'a mut Value {
    plan["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["source_key"] == key)
        .unwrap_or_else(|| panic!("no item '{key}'"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_that_are_not_plans_are_refused() {
    let f = Fixture::start().await;
    let good = serde_json::to_vec_pretty(&f.plan).unwrap();
    let garbage: Vec<u8> = seeded_bytes(3, 0, 4096);
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        ("empty", vec![], &["is not a valid plan file"]),
        ("garbage", garbage, &["is not a valid plan file"]),
        (
            "truncated",
            good[..good.len() / 2].to_vec(),
            &["is not a valid plan file"],
        ),
        (
            "cut one byte short",
            good[..good.len() - 1].to_vec(),
            &["is not a valid plan file"],
        ),
        (
            "a JSON array",
            b"[]".to_vec(),
            &["is not a valid plan file"],
        ),
        (
            "an empty object",
            b"{}".to_vec(),
            &["is not a valid plan file", "missing field"],
        ),
        (
            "a config file",
            b"[source]\nbucket = \"x\"\n".to_vec(),
            &["is not a valid plan file"],
        ),
        (
            "another format",
            f.edited(|p| p["format"] = json!(99)),
            &["has format 99 but this airlock reads formats 1 to 4"],
        ),
        (
            "no items",
            f.edited(|p| {
                p.as_object_mut().unwrap().remove("items");
            }),
            &["is not a valid plan file", "missing field 'items'"],
        ),
    ];
    for (name, bytes, says) in cases {
        f.refused(name, &bytes, says).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edited_items_are_refused() {
    let f = Fixture::start().await;
    type Edit = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Edit, &[&str])> = vec![
        (
            "unknown route",
            Box::new(|p| item(p, "in/small.txt")["route"] = json!("teleport")),
            &[
                "unknown variant 'teleport'",
                "'skip', 'single', 'multipart'",
            ],
        ),
        (
            "negative size",
            Box::new(|p| item(p, "in/small.txt")["size"] = json!(-5)),
            &["invalid value: integer '-5'"],
        ),
        (
            "size as a string",
            Box::new(|p| item(p, "in/small.txt")["size"] = json!("5")),
            &["invalid type: string \"5\""],
        ),
        (
            "part count that overflows",
            Box::new(|p| item(p, "in/big.bin")["parts"] = json!(5_000_000_000u64)),
            &["invalid value: integer '5000000000'"],
        ),
        (
            "part count that disagrees with the size",
            Box::new(|p| item(p, "in/big.bin")["parts"] = json!(2)),
            &[
                "object 'in/big.bin' has part size 5 MiB and 2 parts for 11.0 MiB, which S3 cannot accept (expected e.g. 3 parts of",
            ],
        ),
        (
            "size that disagrees with the part count",
            Box::new(|p| item(p, "in/big.bin")["size"] = json!(40 * MIB)),
            &["object 'in/big.bin' has part size 5 MiB and 3 parts for 40 MiB"],
        ),
        (
            "part size below 5 MiB",
            Box::new(|p| {
                let big = item(p, "in/big.bin");
                big["part_size"] = json!(MIB);
                big["parts"] = json!(12);
            }),
            &[
                "object 'in/big.bin' has part size 1 MiB and 12 parts for 11.0 MiB, which S3 cannot accept",
            ],
        ),
        (
            "zero part size",
            Box::new(|p| item(p, "in/big.bin")["part_size"] = json!(0)),
            &["object 'in/big.bin' has part size 0 B"],
        ),
        (
            "more than 10,000 parts",
            Box::new(|p| {
                let big = item(p, "in/big.bin");
                big["size"] = json!(10_001 * 5 * MIB);
                big["parts"] = json!(10_001);
            }),
            &["object 'in/big.bin' has part size", "10001 parts"],
        ),
        (
            "single above 5 GiB",
            Box::new(|p| {
                let small = item(p, "in/small.txt");
                small["size"] = json!(6 * 1024 * MIB);
                small["part_size"] = json!(6 * 1024 * MIB);
            }),
            &["object 'in/small.txt' is larger than 5 GiB but routed 'single'"],
        ),
        (
            "source key outside the prefix",
            Box::new(|p| item(p, "in/small.txt")["source_key"] = json!("secret/payroll.csv")),
            &["object 'secret/payroll.csv' is outside the source prefix 'in/'"],
        ),
        (
            "target key outside the prefix",
            Box::new(|p| item(p, "in/small.txt")["target_key"] = json!("elsewhere/small.txt")),
            &["maps to 'elsewhere/small.txt', outside the target prefix 'out/'"],
        ),
        (
            "target key twice",
            Box::new(|p| item(p, "in/small.txt")["target_key"] = json!("out/big.bin")),
            &["is listed twice for target key 'out/big.bin'"],
        ),
        (
            "route as a number",
            Box::new(|p| item(p, "in/small.txt")["route"] = json!(1)),
            &["is not a valid plan file"],
        ),
    ];
    for (name, edit, says) in cases {
        let bytes = f.edited(edit);
        f.refused(name, &bytes, says).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_edited_deletions_are_refused() {
    let f = Fixture::start().await;
    let deletion = |key: &str| json!({"route": "delete", "target_key": key, "size": 3, "reason": "no source counterpart"});
    let with = |format: u64, deletions: Value| {
        f.edited(move |p| {
            p["format"] = json!(format);
            p["deletions"] = deletions;
        })
    };
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (
            "deletions in format 2",
            with(2, json!([deletion("out/gone")])),
            &["lists deletions but has format 2"],
        ),
        (
            "deletion outside the target prefix",
            with(3, json!([deletion("elsewhere/x")])),
            &["deletion of 'elsewhere/x' is outside the target prefix 'out/'"],
        ),
        (
            "deletion of a copied key",
            with(3, json!([deletion("out/small.txt")])),
            &["deletion of 'out/small.txt' is also a copy's target key"],
        ),
        (
            "deletion twice",
            with(3, json!([deletion("out/gone"), deletion("out/gone")])),
            &["deletion of 'out/gone' is listed twice"],
        ),
        (
            "deletion with another route",
            with(
                3,
                json!([{"route": "single", "target_key": "out/gone", "size": 3, "reason": "x"}]),
            ),
            &["is not a valid plan file"],
        ),
    ];
    for (name, bytes, says) in cases {
        f.refused(name, &bytes, says).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plans_made_for_another_config_are_refused() {
    let f = Fixture::start().await;
    let good = serde_json::to_vec_pretty(&f.plan).unwrap();
    let another_target_prefix = config(&f.servers)
        .set_str("target", "prefix", "elsewhere/")
        .write(&f.servers.sandbox);
    f.refused_with(
        "another target prefix",
        &good,
        &another_target_prefix,
        &["was made for target 's3://target-bucket/out/' but the config names 's3://target-bucket/elsewhere/'"],
    )
    .await;
    let another_source_bucket = config(&f.servers)
        .set_str("source", "bucket", "other-bucket")
        .write(&f.servers.sandbox);
    f.refused_with(
        "another source bucket",
        &good,
        &another_source_bucket,
        &["was made for source 's3://source-bucket/in/' but the config names 's3://other-bucket/in/'"],
    )
    .await;
    // Same buckets and prefixes, another endpoint: a different account.
    let moved = f.edited(|p| p["target"]["endpoint_url"] = json!("http://127.0.0.1:1"));
    f.refused(
        "another target endpoint",
        &moved,
        &["was made for target 's3://target-bucket/out/'"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_good_plan_runs() {
    // The counterpart: the unedited plan copies both objects byte for byte, so the refusals
    // above are about the edits, not about the fixture.
    let f = Fixture::start().await;
    let path = f.servers.sandbox.path().join("plan.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&f.plan).unwrap()).unwrap();
    f.servers
        .airlock_with(&f.config, &["run", "--plan", path.to_str().unwrap()])
        .run()
        .await
        .expect_code(0);
    assert_eq!(f.servers.target.get("out/small.txt").await, b"small");
    let big = f.servers.target.get("out/big.bin").await;
    assert!(big == seeded_bytes(7, 0, (11 * MIB + 3) as usize));
}
