//! Early smoke test of the engine against two embedded servers (replaced by the full suite).

use airlock_core::aws::{ResolvedCredentials, Sides, build_side_client, inventory};
use airlock_core::config::{
    self, ByteSize, CredentialSpec, Secret, Settings, Side, SideSettings, TransferSettings,
    WriteOptions,
};
use airlock_core::engine::{Engine, EngineOptions, Event};
use airlock_s3server::EmbeddedS3;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;

fn side(side: Side, server: &EmbeddedS3, bucket: &str, prefix: &str) -> SideSettings {
    SideSettings {
        side,
        bucket: bucket.into(),
        prefix: prefix.into(),
        region: "us-east-1".into(),
        endpoint_url: Some(server.endpoint.clone()),
        force_path_style: true,
        credentials: CredentialSpec::Static {
            access_key_id: Secret::new(server.access_key.clone()),
            secret_access_key: Secret::new(server.secret_key.clone()),
            session_token: None,
        },
        write: WriteOptions::default(),
    }
}

fn creds(server: &EmbeddedS3) -> ResolvedCredentials {
    ResolvedCredentials {
        provider: SharedCredentialsProvider::new(Credentials::new(
            &server.access_key,
            &server.secret_key,
            None,
            None,
            "test",
        )),
        description: "test".into(),
    }
}

fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_single_and_multipart_objects() {
    let dir = tempfile::tempdir().unwrap();
    let src = EmbeddedS3::start(&dir.path().join("s"), "source-key", "source-secret-0000")
        .await
        .unwrap();
    let dst = EmbeddedS3::start(&dir.path().join("t"), "target-key", "target-secret-0000")
        .await
        .unwrap();
    src.create_bucket("src-bucket").unwrap();
    dst.create_bucket("dst-bucket").unwrap();
    let transfer = TransferSettings {
        multipart_threshold: ByteSize::mib(5),
        part_size: config::PartSize::Fixed(ByteSize::mib(5)),
        ..Default::default()
    };
    let settings = Settings {
        source: side(Side::Source, &src, "src-bucket", "in/"),
        target: side(Side::Target, &dst, "dst-bucket", "out/"),
        transfer,
        filter: Default::default(),
        path: None,
        warnings: vec![],
    };
    let sides = Sides {
        source: build_side_client(&settings.source, &settings.transfer, &creds(&src)),
        target: build_side_client(&settings.target, &settings.transfer, &creds(&dst)),
    };
    let objects = [
        ("in/small a+b.txt", data(1, 1000)),
        ("in/zero", vec![]),
        ("in/big.bin", data(2, 12 * 1024 * 1024 + 17)),
    ];
    for (key, bytes) in &objects {
        sides
            .source
            .client
            .put_object()
            .bucket("src-bucket")
            .key(*key)
            .body(bytes.clone().into())
            .send()
            .await
            .unwrap();
    }
    let (plan, _) = inventory::plan(&sides, &settings).await.unwrap();
    assert_eq!(plan.items.len(), 3);
    let journal = tempfile::tempdir().unwrap();
    let mut options = EngineOptions::from_settings(&settings);
    options.journal_dir = Some(journal.path().to_path_buf());
    let mut handle = Engine::start(plan, sides.clone(), options).unwrap();
    let mut events = handle.take_events().unwrap();
    let collector = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(e) = events.recv().await {
            all.push(e);
        }
        all
    });
    let summary = handle.join().await.unwrap();
    let events = collector.await.unwrap();
    for e in &events {
        if !matches!(e, Event::Progress { .. }) {
            println!("{e:?}");
        }
    }
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(summary.copied, 3);
    for (key, bytes) in &objects {
        let target_key = key.replace("in/", "out/");
        let got = sides
            .target
            .client
            .get_object()
            .bucket("dst-bucket")
            .key(&target_key)
            .send()
            .await
            .unwrap();
        let got = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(got.len(), bytes.len(), "{key}");
        assert!(got[..] == bytes[..], "{key}");
    }
}

/// Sources written by the SDK's default upload (an aws-chunked body with a CRC32 trailer) and
/// objects with their own Content-Encoding copy cleanly: the target request carries one
/// Content-Encoding header that names aws-chunked once, and the target keeps the object's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_sources_written_with_aws_chunked_and_content_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let src = EmbeddedS3::start(&dir.path().join("s"), "source-key", "source-secret-0000")
        .await
        .unwrap();
    let dst = EmbeddedS3::start(&dir.path().join("t"), "target-key", "target-secret-0000")
        .await
        .unwrap();
    src.create_bucket("src-bucket").unwrap();
    dst.create_bucket("dst-bucket").unwrap();
    let settings = Settings {
        source: side(Side::Source, &src, "src-bucket", "in/"),
        target: side(Side::Target, &dst, "dst-bucket", "out/"),
        transfer: TransferSettings::default(),
        filter: Default::default(),
        path: None,
        warnings: vec![],
    };
    let sides = Sides {
        source: build_side_client(&settings.source, &settings.transfer, &creds(&src)),
        target: build_side_client(&settings.target, &settings.transfer, &creds(&dst)),
    };
    // What the AWS CLI or a default SDK client sends: checksum trailer, aws-chunked framing.
    let sdk_default = aws_sdk_s3::Client::from_conf(
        sides
            .source
            .client
            .config()
            .to_builder()
            .request_checksum_calculation(
                aws_sdk_s3::config::RequestChecksumCalculation::WhenSupported,
            )
            .build(),
    );
    let objects = [
        ("in/chunked.bin", data(3, 70_000), None),
        ("in/page.html.gz", data(4, 5_000), Some("gzip")),
        ("in/chunked.gz", data(5, 9_000), Some("gzip")),
    ];
    for (i, (key, bytes, encoding)) in objects.iter().enumerate() {
        let client = if i == 1 {
            &sides.source.client
        } else {
            &sdk_default
        };
        client
            .put_object()
            .bucket("src-bucket")
            .key(*key)
            .set_content_encoding(encoding.map(str::to_string))
            .body(bytes.clone().into())
            .send()
            .await
            .unwrap();
    }
    let (plan, _) = inventory::plan(&sides, &settings).await.unwrap();
    let summary = Engine::start(plan, sides.clone(), EngineOptions::from_settings(&settings))
        .unwrap()
        .join()
        .await
        .unwrap();
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(summary.copied, 3);
    for (key, bytes, encoding) in &objects {
        let got = sides
            .target
            .client
            .get_object()
            .bucket("dst-bucket")
            .key(key.replace("in/", "out/"))
            .send()
            .await
            .unwrap();
        let stored = got.content_encoding().map(str::to_string);
        let got = got.body.collect().await.unwrap().into_bytes();
        assert!(got[..] == bytes[..], "{key}");
        let stored = stored.as_deref().and_then(|v| {
            let own: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|t| *t != "aws-chunked")
                .collect();
            (!own.is_empty()).then(|| own.join(","))
        });
        assert_eq!(stored.as_deref(), *encoding, "{key}");
    }
}
