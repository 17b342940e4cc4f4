//! An S3 endpoint resolver that runs the SDK's rules once per bucket, not once per request.
//!
//! The SDK resolves the endpoint of every request by running S3's endpoint rules (a decision
//! graph of ~550 nodes: URL parsing, host-label checks, string templates, an auth-scheme map).
//! Its own one-entry cache compares all parameters, the object key among them, so a run that
//! touches a new key with every request misses it every time and also pays for storing each
//! miss. The rules never read `Key`, `Prefix` or `CopySource` (S3's own rule tests say so:
//! "Prefix and Key parameters should not be used in endpoint evaluation"), so this resolver
//! keys its cache on every other parameter and hands out the endpoint the SDK's rules gave for
//! the first request of that bucket.
//!
//! Depends on the SDK only.

use std::sync::RwLock;

use aws_sdk_s3::config::endpoint::{
    DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint,
};

/// [`DefaultResolver`] behind a cache of the last few endpoints, keyed on every parameter but
/// the key, prefix and copy source.
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    rules: DefaultResolver,
    /// Most recently resolved first; at most [`KEPT`] entries.
    cache: RwLock<Vec<(CacheKey, Endpoint)>>,
}

/// Endpoints kept: a client talks to one bucket, or a few (plan files kept in another).
const KEPT: usize = 4;

/// The parameters the endpoint depends on.
#[derive(Debug, Clone, PartialEq)]
struct CacheKey {
    bucket: Option<String>,
    region: Option<String>,
    endpoint: Option<String>,
    flags: [Option<bool>; 11],
}

impl CacheKey {
    fn of(params: &Params) -> Self {
        CacheKey {
            bucket: params.bucket().map(str::to_string),
            region: params.region().map(str::to_string),
            endpoint: params.endpoint().map(str::to_string),
            flags: flags(params),
        }
    }

    /// Whether `params` resolve to this key's endpoint (compared without allocating).
    fn matches(&self, params: &Params) -> bool {
        self.bucket.as_deref() == params.bucket()
            && self.region.as_deref() == params.region()
            && self.endpoint.as_deref() == params.endpoint()
            && self.flags == flags(params)
    }
}

/// Every boolean parameter of S3's endpoint rules.
fn flags(params: &Params) -> [Option<bool>; 11] {
    [
        params.use_fips(),
        params.use_dual_stack(),
        params.force_path_style(),
        params.accelerate(),
        params.use_global_endpoint(),
        params.use_object_lambda_endpoint(),
        params.disable_access_points(),
        params.disable_multi_region_access_points(),
        params.use_arn_region(),
        params.use_s3_express_control_endpoint(),
        params.disable_s3_express_session_auth(),
    ]
}

impl CachingResolver {
    fn cached(&self, params: &Params) -> Option<Endpoint> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache
            .iter()
            .find(|(key, _)| key.matches(params))
            .map(|(_, endpoint)| endpoint.clone())
    }

    fn keep(&self, params: &Params, endpoint: &Endpoint) {
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if cache.iter().any(|(key, _)| key.matches(params)) {
            return;
        }
        cache.insert(0, (CacheKey::of(params), endpoint.clone()));
        cache.truncate(KEPT);
    }
}

impl ResolveEndpoint for CachingResolver {
    fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
        if let Some(endpoint) = self.cached(params) {
            return EndpointFuture::ready(Ok(endpoint));
        }
        EndpointFuture::new(async move {
            let endpoint = self.rules.resolve_endpoint(params).await?;
            self.keep(params, &endpoint);
            Ok(endpoint)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(bucket: &str, key: &str, region: &str, endpoint: Option<&str>) -> Params {
        let builder = Params::builder()
            .bucket(bucket)
            .key(key)
            .region(region)
            .use_fips(false)
            .use_dual_stack(false)
            .accelerate(false)
            .force_path_style(endpoint.is_some());
        let builder = match endpoint {
            Some(url) => builder.endpoint(url),
            None => builder,
        };
        builder.build().expect("valid params")
    }

    async fn resolve(resolver: &impl ResolveEndpoint, params: &Params) -> Endpoint {
        resolver.resolve_endpoint(params).await.expect("resolves")
    }

    /// Every answer equals the SDK's own, across keys (cache hits), buckets, regions and
    /// custom endpoints (each a miss that must not return another bucket's endpoint).
    #[tokio::test]
    async fn answers_what_the_sdk_rules_answer() {
        let cached = CachingResolver::default();
        let rules = DefaultResolver::new();
        let cases = [
            params("source-bucket", "a/1.bin", "eu-west-1", None),
            params("source-bucket", "b/2.bin", "eu-west-1", None),
            params("other-bucket", "a/1.bin", "eu-west-1", None),
            params("source-bucket", "a/1.bin", "us-east-2", None),
            params("bench", "k1", "us-east-1", Some("http://127.0.0.1:9000")),
            params("bench", "k2", "us-east-1", Some("http://127.0.0.1:9000")),
            params("bench", "k2", "us-east-1", Some("http://127.0.0.1:9001")),
            params("source-bucket", "c/3.bin", "eu-west-1", None),
        ];
        for case in &cases {
            let want = resolve(&rules, case).await;
            assert_eq!(resolve(&cached, case).await, want, "{case:?}");
        }
        // Virtual-hosted addressing puts the bucket in the host: a cache that ignored the
        // bucket would have answered the second bucket with the first one's host.
        let first = resolve(&cached, &cases[0]).await;
        let other = resolve(&cached, &cases[2]).await;
        assert_ne!(first.url(), other.url());
    }

    /// A key the rules refuse is still refused (errors are never cached as endpoints).
    #[tokio::test]
    async fn an_invalid_configuration_still_fails() {
        let cached = CachingResolver::default();
        let bad = Params::builder()
            .bucket("bucket")
            .region("us-east-1")
            .use_fips(true)
            .use_dual_stack(false)
            .accelerate(true)
            .build()
            .expect("params");
        assert!(cached.resolve_endpoint(&bad).await.is_err());
        assert!(cached.resolve_endpoint(&bad).await.is_err());
    }
}
