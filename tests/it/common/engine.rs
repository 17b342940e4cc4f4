//! Running the engine in-process against two real servers, each behind a [`FaultProxy`]:
//! [`Rig`] (servers, proxies, a [`Config`] for them, plan, start), [`Events`] (the engine's event
//! stream, recorded, with waits), and byte-for-byte comparison of source and target objects.

use std::time::Duration;

use airlock_core::aws::{Sides, connect};
use airlock_core::config::Settings;
use airlock_core::engine::{Engine, EngineHandle, EngineOptions, Event, RunSummary, Verification};
use airlock_core::job::inventory;
use airlock_core::plan::Plan;
use airlock_s3server::EmbeddedS3;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedReceiver;

use super::proxy::FaultProxy;
use super::{
    Account, Config, SOURCE_ACCESS_KEY, SOURCE_BUCKET, SOURCE_SECRET_KEY, Sandbox,
    TARGET_ACCESS_KEY, TARGET_BUCKET, TARGET_SECRET_KEY, TwoServers, describe, s3_client,
};

/// How long any wait on the engine may take before the test fails.
pub(crate) const WAIT: Duration = Duration::from_secs(60);

/// Two servers, a fault proxy in front of each, and settings that point at the proxies.
pub(crate) struct Rig {
    pub source_proxy: FaultProxy,
    pub target_proxy: FaultProxy,
    pub servers: TwoServers,
}

impl Rig {
    /// Faithful servers.
    pub(crate) async fn start() -> Self {
        Self::with(TwoServers::start().await).await
    }

    /// Stock s3s-fs servers (`EmbeddedS3::start_plain`).
    pub(crate) async fn start_plain() -> Self {
        let sandbox = Sandbox::new();
        let account = |server: EmbeddedS3, access: &str, secret: &str, bucket: &str| {
            server.create_bucket(bucket).expect("create bucket");
            Account {
                client: s3_client(&server.endpoint, access, secret),
                server,
                bucket: bucket.to_string(),
            }
        };
        let plain = |dir: &str, access: &'static str, secret: &'static str| {
            let root = sandbox.path().join(dir);
            async move {
                EmbeddedS3::start_plain(&root, access, secret)
                    .await
                    .expect("start plain server")
            }
        };
        let source = plain("source-s3", SOURCE_ACCESS_KEY, SOURCE_SECRET_KEY).await;
        let target = plain("target-s3", TARGET_ACCESS_KEY, TARGET_SECRET_KEY).await;
        let servers = TwoServers {
            source: account(source, SOURCE_ACCESS_KEY, SOURCE_SECRET_KEY, SOURCE_BUCKET),
            target: account(target, TARGET_ACCESS_KEY, TARGET_SECRET_KEY, TARGET_BUCKET),
            sandbox,
        };
        Self::with(servers).await
    }

    async fn with(servers: TwoServers) -> Self {
        Rig {
            source_proxy: FaultProxy::start(servers.source.server.addr).await,
            target_proxy: FaultProxy::start(servers.target.server.addr).await,
            servers,
        }
    }

    pub(crate) fn source(&self) -> &Account {
        &self.servers.source
    }

    pub(crate) fn target(&self) -> &Account {
        &self.servers.target
    }

    /// A config for the two servers through their proxies (see [`TwoServers::config`]).
    pub(crate) fn config(&self) -> Config {
        Config::endpoints(&self.source_proxy.endpoint, &self.target_proxy.endpoint)
    }

    /// Plan `settings` (lists both sides through the proxies) and start the engine, with the
    /// journal in the sandbox's data dir. The proxies' stats are reset after planning.
    pub(crate) async fn start_engine(&self, settings: &Settings) -> (EngineHandle, Events) {
        let (plan, sides) = self.plan(settings).await;
        self.start_plan(plan, sides, settings)
    }

    pub(crate) async fn plan(&self, settings: &Settings) -> (Plan, Sides) {
        let (plan, sides) = plan_of(settings).await;
        self.source_proxy.reset_stats();
        self.target_proxy.reset_stats();
        (plan, sides)
    }

    pub(crate) fn start_plan(
        &self,
        plan: Plan,
        sides: Sides,
        settings: &Settings,
    ) -> (EngineHandle, Events) {
        start_plan(plan, sides, settings, &self.servers.sandbox)
    }

    /// Plan, run to the end, and return the summary with every event.
    pub(crate) async fn run(&self, settings: &Settings) -> (RunSummary, Events) {
        let (handle, events) = self.start_engine(settings).await;
        run_to_end(handle, events).await
    }

    /// In-progress multipart uploads at the target, straight from the server (no proxy).
    pub(crate) async fn target_uploads(&self) -> Vec<(String, String)> {
        let target = self.target();
        let out = target
            .client
            .list_multipart_uploads()
            .bucket(&target.bucket)
            .send()
            .await
            .unwrap_or_else(|e| panic!("ListMultipartUploads: {}", describe(&e)));
        out.uploads()
            .iter()
            .map(|u| {
                (
                    u.key().unwrap_or_default().to_string(),
                    u.upload_id().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Files left in the resume journal.
    pub(crate) fn journal_files(&self) -> Vec<std::path::PathBuf> {
        let root = self.servers.sandbox.data_dir().join("journal");
        let mut files = Vec::new();
        for dir in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            for file in std::fs::read_dir(dir.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                files.push(file.path());
            }
        }
        files
    }

    /// Assert the target holds exactly the source's bytes at `key` (streamed, any size).
    pub(crate) async fn assert_copied(&self, key: &str) {
        assert_same_bytes(self.source(), key, self.target(), key).await;
    }

    /// Assert every source key is at the target with the same bytes, and nothing else is.
    pub(crate) async fn assert_all_copied(&self) {
        let source_keys = self.source().keys("").await;
        let target_keys = self.target().keys("").await;
        assert_eq!(source_keys, target_keys, "keys at the target");
        futures::stream::iter(source_keys)
            .for_each_concurrent(8, |key| async move { self.assert_copied(&key).await })
            .await;
    }
}

/// Connect to `settings`' endpoints (our servers, moto) and plan them as `airlock run` does.
pub(crate) async fn plan_of(settings: &Settings) -> (Plan, Sides) {
    let sides = connect(settings).await.expect("connect both sides");
    let (plan, _) = inventory::plan(&sides, settings)
        .await
        .unwrap_or_else(|e| panic!("plan: {e}"));
    (plan, sides)
}

/// Plan `settings` streaming, as `airlock plan -o X.jsonl` does: the items in order and the
/// header with the totals. Copy mode only (a deletion is a test error).
pub(crate) async fn streamed_plan(
    sides: &Sides,
    settings: &Settings,
) -> (
    Vec<airlock_core::plan::PlanItem>,
    airlock_core::plan::lines::PlanHeader,
) {
    use airlock_core::job::stream_plan::{Outcome, stream_plan};
    use airlock_core::plan::lines::Entry;

    let mut items = Vec::new();
    let outcome = stream_plan(sides, settings, &settings.transfer, |entry| {
        let Entry::Item(item) = entry else {
            panic!("copy mode deletes nothing")
        };
        items.push(item);
        Ok(())
    })
    .await
    .expect("stream the plan");
    let Outcome::Planned { header, .. } = outcome else {
        panic!("the listings are in order")
    };
    (items, *header)
}

/// Start the engine on `plan`, with the journal in `sandbox`'s data dir.
pub(crate) fn start_plan(
    plan: Plan,
    sides: Sides,
    settings: &Settings,
    sandbox: &Sandbox,
) -> (EngineHandle, Events) {
    let mut options = EngineOptions::from_settings(settings);
    options.journal_dir = Some(sandbox.data_dir());
    let mut handle = Engine::start(plan, sides, options).expect("start engine");
    let events = Events::new(handle.take_events().expect("events"));
    (handle, events)
}

/// Wait for a started run to end; its summary with every event.
pub(crate) async fn run_to_end(handle: EngineHandle, mut events: Events) -> (RunSummary, Events) {
    let summary = tokio::time::timeout(WAIT, handle.join())
        .await
        .expect("run finished in time")
        .expect("engine task");
    events.drain().await;
    (summary, events)
}

/// Plan `settings` and run it to the end (moto, where no [`Rig`] stands between).
pub(crate) async fn plan_and_run(settings: &Settings, sandbox: &Sandbox) -> (RunSummary, Events) {
    let (plan, sides) = plan_of(settings).await;
    let (handle, events) = start_plan(plan, sides, settings, sandbox);
    run_to_end(handle, events).await
}

/// The engine's events, recorded as they are received.
pub(crate) struct Events {
    receiver: UnboundedReceiver<Event>,
    pub seen: Vec<Event>,
}

impl Events {
    pub(crate) fn new(receiver: UnboundedReceiver<Event>) -> Self {
        Events {
            receiver,
            seen: Vec::new(),
        }
    }

    /// Receive until an event matches (panics after [`WAIT`] or when the stream ends).
    pub(crate) async fn wait_for(&mut self, what: &str, matches: impl Fn(&Event) -> bool) -> Event {
        let found = tokio::time::timeout(WAIT, async {
            while let Some(event) = self.receiver.recv().await {
                self.seen.push(event.clone());
                if matches(&event) {
                    return Some(event);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(event)) => event,
            Ok(None) => panic!("event stream ended before {what}:\n{}", self.describe()),
            Err(_) => panic!("timed out waiting for {what}:\n{}", self.describe()),
        }
    }

    /// Receive until `n` events match in total (counting those already seen).
    pub(crate) async fn wait_count(
        &mut self,
        what: &str,
        n: usize,
        matches: impl Fn(&Event) -> bool,
    ) {
        while self.seen.iter().filter(|e| matches(e)).count() < n {
            self.wait_for(what, &matches).await;
        }
    }

    /// Receive everything left (the engine has finished or been dropped).
    pub(crate) async fn drain(&mut self) {
        while let Ok(Some(event)) = tokio::time::timeout(WAIT, self.receiver.recv()).await {
            self.seen.push(event);
        }
    }

    /// The events without progress ticks, one per line, for failure messages.
    pub(crate) fn describe(&self) -> String {
        self.seen
            .iter()
            .filter(|e| !matches!(e, Event::Progress { .. }))
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The verification of the object copied from `key`.
    #[track_caller]
    pub(crate) fn verification(&self, key: &str) -> Verification {
        self.seen
            .iter()
            .find_map(|e| match e {
                Event::ObjectDone {
                    key: k,
                    verification,
                    ..
                } if k == key => Some(verification.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("'{key}' was not copied:\n{}", self.describe()))
    }

    /// Part retries announced (all objects).
    pub(crate) fn retries(&self) -> Vec<&Event> {
        self.seen
            .iter()
            .filter(|e| matches!(e, Event::PartRetry { .. }))
            .collect()
    }

    /// `resumed_parts` of the `ObjectStarted` events of `key`, in order.
    pub(crate) fn resumed_parts(&self, key: &str) -> Vec<u32> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::ObjectStarted {
                    key: k,
                    resumed_parts,
                    ..
                } if k == key => Some(*resumed_parts),
                _ => None,
            })
            .collect()
    }

    /// Parts reported done for object `id` (resumed ones included).
    pub(crate) fn parts_done(&self, id: usize) -> Vec<u32> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                Event::PartDone { id: i, part, .. } if *i == id => Some(*part),
                _ => None,
            })
            .collect()
    }
}

/// Assert two objects hold the same bytes, comparing as both bodies stream.
pub(crate) async fn assert_same_bytes(
    source: &Account,
    source_key: &str,
    target: &Account,
    target_key: &str,
) {
    let open = |account: &Account, key: &str| {
        let request = account.client.get_object().bucket(&account.bucket).key(key);
        let key = key.to_string();
        async move {
            request
                .send()
                .await
                .unwrap_or_else(|e| panic!("GET '{key}': {}", describe(&e)))
                .body
        }
    };
    let mut left = open(source, source_key).await;
    let mut right = open(target, target_key).await;
    let (mut pending_left, mut pending_right) = (Bytes::new(), Bytes::new());
    let mut offset = 0u64;
    let (mut left_done, mut right_done) = (false, false);
    loop {
        if pending_left.is_empty() && !left_done {
            match left.next().await {
                Some(chunk) => pending_left = chunk.expect("source body"),
                None => left_done = true,
            }
        }
        if pending_right.is_empty() && !right_done {
            match right.next().await {
                Some(chunk) => pending_right = chunk.expect("target body"),
                None => right_done = true,
            }
        }
        let n = pending_left.len().min(pending_right.len());
        if n == 0 {
            if left_done && right_done {
                return;
            }
            if (left_done && pending_left.is_empty()) || (right_done && pending_right.is_empty()) {
                panic!(
                    "'{source_key}' and '{target_key}' differ in length: one ends at byte {offset}"
                );
            }
            continue;
        }
        if let Some(i) = (0..n).find(|&i| pending_left[i] != pending_right[i]) {
            panic!(
                "'{source_key}' and '{target_key}' differ at byte {}",
                offset + i as u64
            );
        }
        pending_left = pending_left.slice(n..);
        pending_right = pending_right.slice(n..);
        offset += n as u64;
    }
}

/// Assert `account` holds at `key` exactly `size` bytes of `seeded_bytes(seed, ..)`, streamed
/// and compared with bytes generated here (for big objects: one GET instead of two).
pub(crate) async fn assert_seeded(account: &Account, key: &str, size: u64, seed: u64) {
    let mut body = account
        .client
        .get_object()
        .bucket(&account.bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET '{key}': {}", describe(&e)))
        .body;
    let mut offset = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("body");
        assert!(
            offset + chunk.len() as u64 <= size,
            "'{key}' is longer than {size} bytes"
        );
        let expected = super::seeded_bytes(seed, offset, chunk.len());
        if let Some(i) = (0..chunk.len()).find(|&i| chunk[i] != expected[i]) {
            panic!(
                "'{key}' differs from its source at byte {}",
                offset + i as u64
            );
        }
        offset += chunk.len() as u64;
    }
    assert_eq!(offset, size, "'{key}' length");
}

/// PUT `size` seeded bytes at `key` as a multipart upload with a full-object CRC64NVME (S3's
/// default for new multipart objects), `part_size` bytes a part, so the engine can check every
/// byte it reads against the source.
pub(crate) async fn put_seeded_crc(
    account: &Account,
    key: &str,
    size: u64,
    seed: u64,
    part_size: u64,
) {
    use aws_sdk_s3::types::{
        ChecksumAlgorithm, ChecksumType, CompletedMultipartUpload, CompletedPart,
    };
    let client = &account.client;
    let upload = client
        .create_multipart_upload()
        .bucket(&account.bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateMultipartUpload '{key}': {}", describe(&e)));
    let upload_id = upload.upload_id().expect("upload id").to_string();
    let mut parts = Vec::new();
    let mut offset = 0u64;
    let mut number = 1;
    while offset < size || number == 1 {
        let len = (size - offset).min(part_size) as usize;
        let part = client
            .upload_part()
            .bucket(&account.bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(number)
            .body(super::seeded_bytes(seed, offset, len).into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UploadPart {number} of '{key}': {}", describe(&e)));
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .set_e_tag(part.e_tag().map(str::to_string))
                .build(),
        );
        offset += len as u64;
        number += 1;
    }
    client
        .complete_multipart_upload()
        .bucket(&account.bucket)
        .key(key)
        .upload_id(&upload_id)
        .checksum_type(ChecksumType::FullObject)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CompleteMultipartUpload '{key}': {}", describe(&e)));
}

/// Base64 of the big-endian CRC64NVME of `bytes`, as S3 writes checksums.
pub(crate) fn crc64nvme_base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let crc = crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, bytes);
    base64::engine::general_purpose::STANDARD.encode(crc.to_be_bytes())
}
