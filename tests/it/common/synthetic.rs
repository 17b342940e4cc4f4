//! Synthetic servers at scale (`airlock_s3server::SyntheticS3`: keys computed, nothing stored):
//! a source of a dataset and a sink target that holds every 3rd of its keys, and the config of
//! both.

use airlock_s3server::{Dataset, SyntheticOptions, SyntheticS3};

/// A synthetic source and sink target (kept running while this lives) and their config text.
pub(crate) struct SyntheticPair {
    _source: SyntheticS3,
    _target: SyntheticS3,
    /// `[source]` and `[target]` tables for both, with `prefix`.
    pub config: String,
}

impl SyntheticPair {
    /// `dataset` in a source bucket `buckets.0`; the target, bucket `buckets.1` with its own
    /// keys, holds every 3rd key (a quarter of those one byte longer, see `Dataset`).
    pub(crate) async fn start(dataset: Dataset, buckets: (&str, &str), prefix: &str) -> Self {
        let source = SyntheticOptions::source(dataset, buckets.0, "synth-src", "synth-src-s");
        let target = SyntheticOptions {
            bucket: buckets.1.into(),
            access_key: "synth-dst".into(),
            secret_key: "synth-dst-s".into(),
            ..source.clone()
        }
        .sink(Some(3));
        let source = SyntheticS3::start(source).await.expect("source server");
        let target = SyntheticS3::start(target).await.expect("target server");
        let config = format!(
            "{}{}",
            source.config_table("source", prefix),
            target.config_table("target", prefix)
        );
        SyntheticPair {
            _source: source,
            _target: target,
            config,
        }
    }
}
