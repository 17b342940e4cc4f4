//! The target written with the source's composite algorithm (issue #19): a composite CRC32 or
//! CRC32C source copied in its own parts is uploaded COMPOSITE in that algorithm, each part
//! with its trailer and Complete listing them, so the target reports the source's own
//! `value-N`. A later plan then compares the two composites: the same bytes in the same parts
//! are skipped whatever the target records as its source ETag, and other bytes are copied
//! whatever it records.

use crate::common::engine::Rig;
use crate::common::multipart_upload::{Upload, put_in_parts};
use crate::common::{Account, MIB};
use airlock_core::plan::{Plan, PlanItem, Route};
use aws_sdk_s3::types::{ChecksumAlgorithm as SdkAlgorithm, ChecksumMode};

const TRANSFER: [&str; 2] = ["multipart_threshold = \"8MiB\"", "part_size = \"8MiB\""];

fn item<'a>(plan: &'a Plan, key: &str) -> &'a PlanItem {
    let found = plan.items.iter().find(|i| i.source_key == key);
    found.unwrap_or_else(|| panic!("'{key}' is not in the plan"))
}

/// The composite checksum a HEAD reports (`value-N`, COMPOSITE), and the recorded source ETag.
async fn composite(account: &Account, key: &str) -> (Option<String>, Option<String>) {
    let head = account
        .client
        .head_object()
        .bucket(&account.bucket)
        .key(key);
    let head = head.checksum_mode(ChecksumMode::Enabled).send().await;
    let head = head.unwrap_or_else(|e| panic!("HEAD '{key}': {e:?}"));
    let value = [
        head.checksum_crc32(),
        head.checksum_crc32_c(),
        head.checksum_sha1(),
        head.checksum_sha256(),
    ];
    let value = value.into_iter().flatten().next();
    let value = value.map(|v| format!("{v} {:?}", head.checksum_type()));
    let recorded = head.metadata().and_then(|m| m.get("airlock-source-etag"));
    (value, recorded.cloned())
}

/// Change (or with None remove) the source ETag the target object records, in place, as if
/// another tool had rewritten its metadata: the bytes and their checksums stay.
fn record_source_etag(account: &Account, key: &str, etag: Option<&str>) {
    use base64::Engine as _;
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let name = format!(
        ".bucket-{}.object-{}.metadata.json",
        encode(&account.bucket),
        encode(key)
    );
    let path = account.server.root.join(name);
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut json: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let user = match json.get_mut("user_metadata") {
        Some(user) => user,
        None => &mut json,
    };
    let user = user.as_object_mut().expect("user metadata");
    assert!(user.contains_key("airlock-source-etag"), "{user:?}");
    match etag {
        Some(etag) => user.insert("airlock-source-etag".into(), etag.into()),
        None => user.remove("airlock-source-etag"),
    };
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_target_gets_the_sources_composite_and_a_rerun_skips_by_comparing_them() {
    let rig = Rig::start().await;
    // The source lists ETags as S3 does: a recorded source ETag is then compared at once.
    rig.source().server.behaviours().set_listed_etags(true);
    let (crc32, crc32c) = (SdkAlgorithm::Crc32, SdkAlgorithm::Crc32C);
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    put_in_parts(
        rig.source(),
        "crc32.bin",
        1,
        &sizes,
        Upload::Composite(crc32),
    )
    .await;
    let sizes = [6 * MIB, 6 * MIB];
    put_in_parts(
        rig.source(),
        "crc32c.bin",
        2,
        &sizes,
        Upload::Composite(crc32c),
    )
    .await;
    let settings = rig.config().transfer(&TRANSFER).settings();

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (2, 2),
        "{}",
        events.describe()
    );
    for (key, algorithm) in [("crc32.bin", "crc32"), ("crc32c.bin", "crc32c")] {
        let verification = events.verification(key);
        assert_eq!(
            verification.target,
            format!(
                "composite {algorithm} of the parts sent matched the target's (HEAD after complete; each part checked by the target)"
            ),
            "{key}"
        );
        let (source, _) = composite(rig.source(), key).await;
        let (target, recorded) = composite(rig.target(), key).await;
        assert!(
            source
                .as_deref()
                .is_some_and(|s| s.contains("-") && s.contains("Composite")),
            "{key}: {source:?}"
        );
        assert_eq!(target, source, "{key}");
        assert!(recorded.is_some(), "{key}");
    }

    // The recorded source ETag removed from one, changed on the other: the composites decide.
    record_source_etag(rig.target(), "crc32.bin", None);
    record_source_etag(rig.target(), "crc32c.bin", Some("0123456789abcdef-2"));
    assert_eq!(composite(rig.target(), "crc32.bin").await.1, None);
    let (plan, _) = rig.plan(&settings).await;
    for (key, reason) in [
        ("crc32.bin", "same size and crc32 checksum"),
        ("crc32c.bin", "same size and crc32c checksum"),
    ] {
        let item = item(&plan, key);
        assert_eq!((item.route, item.reason.as_str()), (Route::Skip, reason));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_with_another_composite_is_copied_whatever_source_etag_it_records() {
    let rig = Rig::start().await;
    rig.source().server.behaviours().set_listed_etags(true);
    let crc32 = Upload::Composite(SdkAlgorithm::Crc32);
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    put_in_parts(rig.source(), "crc32.bin", 1, &sizes, crc32.clone()).await;
    let settings = rig.config().transfer(&TRANSFER).settings();
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (1, 1),
        "{}",
        events.describe()
    );

    // New bytes in the same layout at the source; the target claims to be a copy of them.
    put_in_parts(rig.source(), "crc32.bin", 9, &sizes, crc32).await;
    let head = rig
        .source()
        .client
        .head_object()
        .bucket(&rig.source().bucket);
    let head = head
        .key("crc32.bin")
        .send()
        .await
        .expect("HEAD the new source");
    let new_etag = head.e_tag().expect("an ETag").trim_matches('"').to_string();
    record_source_etag(rig.target(), "crc32.bin", Some(&new_etag));
    let (plan, _) = rig.plan(&settings).await;
    let item = item(&plan, "crc32.bin");
    assert_eq!(
        (item.route, item.reason.as_str()),
        (Route::Multipart, "differs: crc32 checksum")
    );
    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified),
        (1, 1),
        "{}",
        events.describe()
    );
    let (source, _) = composite(rig.source(), "crc32.bin").await;
    assert_eq!(composite(rig.target(), "crc32.bin").await.0, source);
}

/// SHA-256 and SHA-1 composites: each part's digest computed while streaming, the composite (the
/// digest of the concatenated binary part digests, `-N`) checked before Complete, the target
/// written with the same composite, a flipped byte failing the object before Complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sha_composite_sources_are_checked_and_written_with_their_composite() {
    use crate::common::proxy::{Fault, Op, Rule};
    use airlock_core::plan::{ChecksumAlgorithm, SourceHop};

    let rig = Rig::start().await;
    let sizes = [5 * MIB, 5 * MIB, 2 * MIB];
    let sha256 = Upload::Composite(SdkAlgorithm::Sha256);
    put_in_parts(rig.source(), "sha256.bin", 1, &sizes, sha256.clone()).await;
    put_in_parts(
        rig.source(),
        "sha1.bin",
        2,
        &sizes,
        Upload::Composite(SdkAlgorithm::Sha1),
    )
    .await;
    put_in_parts(rig.source(), "bad.bin", 3, &sizes, sha256).await;
    let corrupt = Rule::new(Fault::CorruptResponse { at_byte: 77 }).on(Op::GetObjectRange);
    rig.source_proxy
        .add_rule(corrupt.key("bad.bin").skip(2).times(1));
    let settings = rig.config().transfer(&TRANSFER).settings();

    let (plan, _) = rig.plan(&settings).await;
    let check = |key: &str| item(&plan, key).source_layout.clone().map(|l| l.check);
    let sha256 = ChecksumAlgorithm::Sha256;
    let hop = |algorithm| Some(SourceHop::Composite { algorithm });
    assert_eq!(check("sha256.bin"), hop(sha256));
    assert_eq!(check("sha1.bin"), hop(ChecksumAlgorithm::Sha1));

    let (summary, events) = rig.run(&settings).await;
    assert_eq!(
        (summary.copied, summary.verified, summary.failed),
        (2, 2, 1),
        "{}",
        events.describe()
    );
    for (key, algorithm) in [("sha256.bin", "sha256"), ("sha1.bin", "sha1")] {
        let verification = events.verification(key);
        assert_eq!(
            verification.source,
            format!(
                "composite {algorithm} of the 3 parts read (in the source's layout) matched the source's"
            ),
            "{key}"
        );
        let (source, _) = composite(rig.source(), key).await;
        assert!(
            source.as_deref().is_some_and(|s| s.contains("-3")),
            "{source:?}"
        );
        assert_eq!(composite(rig.target(), key).await.0, source, "{key}");
    }
    let failure = summary.failures.iter().find(|(k, _)| k == "bad.bin");
    let (_, message) = failure.expect("bad.bin failed");
    assert!(
        message.contains("the parts read do not match the source's sha256"),
        "{message}"
    );
    let mut at_target = rig.target().keys("").await;
    at_target.sort();
    assert_eq!(at_target, ["sha1.bin", "sha256.bin"]);

    // A rerun skips the two by their composites.
    let (plan, _) = rig.plan(&settings).await;
    assert_eq!(item(&plan, "sha256.bin").route, Route::Skip);
    assert_eq!(item(&plan, "sha1.bin").route, Route::Skip);
    assert_eq!(item(&plan, "bad.bin").route, Route::Multipart);
}
