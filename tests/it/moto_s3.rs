//! `ls` and `plan` against moto's S3, a second, independent S3 implementation. It covers what
//! s3s-fs cannot store: a key ending in '/' (a "folder marker"; s3s-fs turns it into a
//! directory, which it neither lists nor HEADs). moto also lists ETags, so the plan decides
//! skips from equal listed ETags alone; two different listed ETags prove nothing until a HEAD
//! shows both are MD5s (no SSE-KMS, DSSE-KMS or SSE-C), so those pairs are HEADed.
//!
//! moto does not check signatures: both sides share one moto server, in two buckets.
//! Ignored without `AIRLOCK_MOTO` at build time (run, and failing, under `CI=true`): see
//! `common::moto`.

use crate::common::moto::Moto;
use crate::common::*;

const MOTO_SOURCE_BUCKET: &str = "moto-source";
const MOTO_TARGET_BUCKET: &str = "moto-target";

/// Two buckets on moto's S3 with a folder marker and awkward keys, and a config for them.
async fn moto_fixture(moto: &Moto, sandbox: &Sandbox) -> std::path::PathBuf {
    let client = moto
        .s3_with_buckets(&[MOTO_SOURCE_BUCKET, MOTO_TARGET_BUCKET])
        .await;
    let put = |bucket: &'static str, key: &'static str, body: &'static [u8]| {
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body.to_vec().into())
            .send()
    };
    for (key, body) in [
        ("in/folder/", &b""[..]),
        ("in/folder/x.txt", b"inside"),
        ("in/a b+c%d ü.txt", b"awkward"),
        ("in/same.txt", b"identical"),
        ("in/samesize.txt", b"aaaaaaaaa"),
    ] {
        put(MOTO_SOURCE_BUCKET, key, body)
            .await
            .unwrap_or_else(|e| panic!("put '{key}': {}", describe(&e)));
    }
    for (key, body) in [
        ("out/same.txt", &b"identical"[..]),
        ("out/samesize.txt", b"bbbbbbbbb"),
    ] {
        put(MOTO_TARGET_BUCKET, key, body)
            .await
            .unwrap_or_else(|e| panic!("put '{key}': {}", describe(&e)));
    }
    moto_config(moto).write(sandbox)
}

/// A config for the two moto buckets, `in/` to `out/`.
fn moto_config(moto: &Moto) -> Config {
    moto.config(MOTO_SOURCE_BUCKET, MOTO_TARGET_BUCKET)
        .prefixes("in/", "out/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_folder_marker_key_is_listed_and_planned() {
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    let config = moto_fixture(&moto, &sandbox).await;
    let config_arg = config.to_str().unwrap();

    let out = sandbox
        .airlock(["--config", config_arg, "ls", "source"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        lines_with(&out.stdout, "PRE  in/folder/").len(),
        1,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .ends_with("3 objects, 25 B in s3://moto-source/in/ (1 folders)\n"),
        "{}",
        out.stdout
    );

    let out = sandbox
        .airlock(["--config", config_arg, "ls", "source", "--recursive"])
        .run()
        .await;
    out.expect_code(0);
    // Each object line is a 19-character date, a space, a 10-wide size, two spaces, the key.
    let lines: Vec<&str> = out.stdout.lines().collect();
    let keys: Vec<&str> = lines[..lines.len() - 1].iter().map(|l| &l[32..]).collect();
    assert_eq!(
        keys,
        [
            "in/a b+c%d ü.txt",
            "in/folder/",
            "in/folder/x.txt",
            "in/same.txt",
            "in/samesize.txt"
        ],
        "{}",
        out.stdout
    );

    let plan_path = sandbox.path().join("plan.json");
    let out = sandbox
        .airlock([
            "--config",
            config_arg,
            "plan",
            "-o",
            plan_path.to_str().unwrap(),
        ])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        out.stdout,
        format!(
            "\
ROUTE           SIZE            PARTS  KEY
single           7 B                1  in/a b+c%d ü.txt  (new)
single           0 B                1  in/folder/  (new)
single           6 B                1  in/folder/x.txt  (new)
skip             9 B                -  in/same.txt  (same size and ETag)
single           9 B                1  in/samesize.txt  (differs: ETag)
plan: s3://moto-source/in/ -> s3://moto-target/out/
  skip              1 objects         9 B        0 parts
  single            4 objects        22 B        4 parts
  multipart         0 objects         0 B        0 parts
  to copy           4 objects        22 B; peak memory 256 MiB (256 streams); ETA 1s at 100 MiB/s (assumed; transfer.estimate_rate)
(2 HEAD requests to compare objects that listings could not)
plan saved to '{}'
",
            plan_path.display()
        )
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    let targets: Vec<&str> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["target_key"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "out/a b+c%d ü.txt",
            "out/folder/",
            "out/folder/x.txt",
            "out/same.txt",
            "out/samesize.txt"
        ]
    );
}

/// A multipart object uploaded to moto with CRC32: moto answers HEAD with the composite value,
/// without the `-N` suffix and without `x-amz-checksum-type`. airlock must take it as
/// composite (the ETag says multipart), copy the object and not fail it as "bytes read do not
/// match the source's crc32"; the rerun skips it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(airlock_moto),
    ignore = "needs moto: run .ci/run or set AIRLOCK_MOTO"
)]
async fn a_composite_crc32_without_its_type_is_not_taken_for_a_full_object_one() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
    let moto = Moto::start();
    let sandbox = Sandbox::new();
    moto_fixture(&moto, &sandbox).await;
    // Multipart at 5 MiB: the copy HEADs the source (where moto leaves out the type) and
    // reads it in ranges. A whole-object GET would see `value-2` and COMPOSITE.
    let config = moto_config(&moto)
        .transfer(&["multipart_threshold = \"5MiB\"", "part_size = \"5MiB\""])
        .write(&sandbox);
    let client = moto.s3_client();
    let key = "in/composite.bin";
    let upload = client
        .create_multipart_upload()
        .bucket(MOTO_SOURCE_BUCKET)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateMultipartUpload: {}", describe(&e)));
    let upload_id = upload.upload_id().unwrap();
    let mut parts = Vec::new();
    for (number, len) in [(1, UPLOAD_PART_SIZE), (2, 1000)] {
        let offset = (number as u64 - 1) * UPLOAD_PART_SIZE as u64;
        let part = client
            .upload_part()
            .bucket(MOTO_SOURCE_BUCKET)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(seeded_bytes(7, offset, len).into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {number}: {}", describe(&e)));
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_string))
                .set_checksum_crc32(part.checksum_crc32().map(str::to_string))
                .build(),
        );
    }
    client
        .complete_multipart_upload()
        .bucket(MOTO_SOURCE_BUCKET)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CompleteMultipartUpload: {}", describe(&e)));

    let config_arg = config.to_str().unwrap();
    let out = sandbox
        .airlock(["--config", config_arg, "run", "--json"])
        .run()
        .await;
    let lines = json_lines(&out.stdout);
    let failed = events_named(&lines, "object_failed");
    assert!(failed.is_empty(), "{failed:#?}\n{}", out.stderr);
    out.expect_code(0);
    let copied = client
        .get_object()
        .bucket(MOTO_TARGET_BUCKET)
        .key("out/composite.bin")
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET the copy: {}", describe(&e)));
    let bytes = copied.body.collect().await.unwrap().into_bytes();
    let mut expected = seeded_bytes(7, 0, UPLOAD_PART_SIZE);
    expected.extend(seeded_bytes(7, UPLOAD_PART_SIZE as u64, 1000));
    assert!(
        bytes[..] == expected[..],
        "the copy differs from the source"
    );

    let out = sandbox
        .airlock(["--config", config_arg, "run", "--json"])
        .run()
        .await;
    out.expect_code(0);
    let summary = run_summary(&json_lines(&out.stdout)).clone();
    assert_eq!(summary["copied"], 0, "{summary}");
}
