//! The HTTP gate: a thin layer in front of the s3s service for the behaviours that AWS decides
//! from the raw request, before any object is touched (a wrong region, an expired token, ACL
//! headers, too much metadata, a trailer a legacy store cannot read, ...). Each lives in its own
//! module under `gate/` and is switched by [`Behaviours`](crate::Behaviours).
//!
//! With every gate switch off, a request costs one atomic load and goes to s3s untouched. With
//! some on, the gate looks at the method, path-style bucket/key, query and headers (never the
//! body), and either answers an S3 error itself, or passes the request on (possibly with
//! rewritten headers) and adjusts the answer. The order follows AWS's: authentication
//! (expired token) first, then the bucket's region and who pays, then the request's contents.
//!
//! The first-byte delay of the latency behaviour (module `latency` tells the request kinds
//! apart) is applied here too, to every answer, the gate's own refusals included, and so is
//! the request-rate limit (503 SlowDown above a kind's rate, before any other check).
//!
//! Depends on s3s's service, hyper and the shaping types; knows nothing of s3s-fs or the
//! faithful wrapper.

mod acl;
mod answer;
mod char_refs;
mod latency;
mod metadata_limit;
mod region;
mod requester_pays;
mod s3rver;
mod tokens;
mod trailers;

use std::sync::Arc;

use futures::future::BoxFuture;
use hyper::body::Incoming;
use hyper::http::request::Parts;
use hyper::http::{HeaderMap, HeaderValue, Method, Request};
use s3s::service::S3Service;
use s3s::{HttpError, HttpResponse};

use crate::behaviours::{Switches, gate_bit};
use answer::Refusal;
use region::RegionVerdict;

/// The server's own key, for the one behaviour that must re-sign a request it rewrites.
#[derive(Clone, Debug)]
pub(crate) struct ServerKey {
    pub access_key: String,
    pub secret_key: String,
}

/// The s3s service behind the gate, and the switches.
#[derive(Clone)]
pub(crate) struct Gate {
    s3: S3Service,
    switches: Arc<Switches>,
    key: Arc<ServerKey>,
}

impl Gate {
    pub(crate) fn new(s3: S3Service, switches: Arc<Switches>, key: ServerKey) -> Self {
        Gate {
            s3,
            switches,
            key: Arc::new(key),
        }
    }
}

/// A check that needs nothing but the request.
type Check = fn(&RequestView<'_>) -> Option<Refusal>;

/// What the gate decided before the request goes on.
#[derive(Default)]
struct Passage {
    /// Add `x-amz-bucket-region` to the answer (HeadBucket in the right region).
    bucket_region: Option<String>,
    /// Store an aws-chunked body as it came (s3rver).
    store_framing: bool,
    /// Rewrite control characters in a listing into character references.
    char_refs: bool,
}

impl hyper::service::Service<Request<Incoming>> for Gate {
    type Response = HttpResponse;
    type Error = HttpError;
    type Future = BoxFuture<'static, Result<HttpResponse, HttpError>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let mask = self.switches.gate_mask();
        if mask == 0 {
            return hyper::service::Service::call(&self.s3, req);
        }
        let gate = self.clone();
        Box::pin(async move { gate.screen(mask, req).await })
    }
}

impl Gate {
    async fn screen(self, mask: u32, req: Request<Incoming>) -> Result<HttpResponse, HttpError> {
        let (parts, body) = req.into_parts();
        let shaped = gate_bit::LATENCY | gate_bit::SLOWDOWN;
        let kind = (mask & shaped != 0).then(|| latency::kind_of(&RequestView::new(&parts)));
        let delay = match (mask & gate_bit::LATENCY != 0, kind) {
            (true, Some(kind)) => self.switches.latency().and_then(|l| l.draw(kind)),
            _ => None,
        };
        let admitted = match (mask & gate_bit::SLOWDOWN != 0, kind) {
            (true, Some(kind)) => self.switches.request_limit().is_none_or(|l| l.admit(kind)),
            _ => true,
        };
        let answer = match admitted {
            true => self.pass(mask, parts, body).await,
            false => Ok(slow_down(&parts.method)),
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        answer
    }

    /// The request through the switched-on checks to s3s, and its answer.
    async fn pass(
        &self,
        mask: u32,
        mut parts: Parts,
        body: Incoming,
    ) -> Result<HttpResponse, HttpError> {
        let passage = {
            let view = RequestView::new(&parts);
            match self.decide(mask, &view) {
                Ok(passage) => passage,
                Err(answer) => return Ok(*answer),
            }
        };
        if passage.store_framing
            && let Err(refusal) = s3rver::unframe(&mut parts, &self.key)
        {
            return Ok(refusal.into_response(&parts.method));
        }
        let req = Request::from_parts(parts, body);
        let mut resp = hyper::service::Service::call(&self.s3, req).await?;
        if let Some(region) = passage.bucket_region
            && let Ok(value) = HeaderValue::from_str(&region)
        {
            resp.headers_mut().insert("x-amz-bucket-region", value);
        }
        if passage.char_refs {
            resp = char_refs::rewrite(resp).await;
        }
        Ok(resp)
    }

    /// Every switched-on check, in AWS's order; `Err` is the answer to give instead.
    fn decide(&self, mask: u32, view: &RequestView<'_>) -> Result<Passage, Box<HttpResponse>> {
        let on = |bit: u32| mask & bit != 0;
        let refuse = |refusal: Refusal| Box::new(refusal.into_response(view.method));
        let mut passage = Passage::default();
        if on(gate_bit::TOKENS)
            && let Some(refusal) = tokens::check(view, &self.switches)
        {
            return Err(refuse(refusal));
        }
        if on(gate_bit::REGION) {
            match region::check(view, &self.switches) {
                RegionVerdict::Pass => {}
                RegionVerdict::Tag(region) => passage.bucket_region = Some(region),
                RegionVerdict::Answer(resp) => return Err(Box::new(resp)),
                RegionVerdict::Refuse(refusal) => return Err(refuse(refusal)),
            }
        }
        let checks: [(u32, Check); 5] = [
            (gate_bit::REQUESTER_PAYS, requester_pays::check),
            (gate_bit::ACLS_DISABLED, acl::check),
            (gate_bit::METADATA_LIMIT, metadata_limit::check),
            (gate_bit::TRAILERS_REFUSED, trailers::check),
            (gate_bit::CHUNKED_STORED_RAW, s3rver::check),
        ];
        for (bit, check) in checks {
            if on(bit)
                && let Some(refusal) = check(view)
            {
                return Err(refuse(refusal));
            }
        }
        passage.store_framing = on(gate_bit::CHUNKED_STORED_RAW) && s3rver::is_chunked(view);
        passage.char_refs = on(gate_bit::XML_CHAR_REFS) && view.is_bucket_get();
        Ok(passage)
    }
}

/// S3's answer above its request rate: 503 SlowDown. The request body is not read.
fn slow_down(method: &Method) -> HttpResponse {
    Refusal::new(
        hyper::http::StatusCode::SERVICE_UNAVAILABLE,
        "SlowDown",
        "Please reduce your request rate.",
    )
    .into_response(method)
}

/// What the checks read from a request: method, path-style bucket and key, query, headers.
pub(crate) struct RequestView<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    /// The first path segment (`/bucket/...`); `None` for `/` (ListBuckets).
    pub bucket: Option<&'a str>,
    /// Whether the path names an object in the bucket.
    pub has_key: bool,
    /// Query parameters as sent (not percent-decoded).
    query: Vec<(&'a str, &'a str)>,
}

impl<'a> RequestView<'a> {
    fn new(parts: &'a Parts) -> Self {
        let path = parts.uri.path().trim_start_matches('/');
        let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
        let query = parts.uri.query().unwrap_or_default().split('&');
        let query = query
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")));
        RequestView {
            method: &parts.method,
            headers: &parts.headers,
            bucket: (!bucket.is_empty()).then_some(bucket),
            has_key: !key.is_empty(),
            query: query.collect(),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| *n == name)
    }

    pub(crate) fn query(&self, name: &str) -> Option<&'a str> {
        self.query.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The names of the query parameters, as sent.
    pub(crate) fn query_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.query.iter().map(|(n, _)| *n)
    }

    /// A GET on a bucket itself (listings, and bucket sub-resources).
    pub(crate) fn is_bucket_get(&self) -> bool {
        *self.method == Method::GET && self.bucket.is_some() && !self.has_key
    }
}

/// The region of a SigV4 `Authorization` header (`AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/
/// s3/aws4_request, SignedHeaders=..., Signature=...`).
pub(crate) fn authorization_region(authorization: &str) -> Option<String> {
    let credential = authorization
        .split([' ', ','])
        .find_map(|field| field.trim().strip_prefix("Credential="))?;
    scope_region(credential)
}

/// `AK/DATE/REGION/SERVICE/aws4_request` -> `REGION`, read from the end (an access key may
/// hold a slash).
pub(crate) fn scope_region(credential: &str) -> Option<String> {
    let fields: Vec<&str> = credential.split('/').collect();
    let at = fields.len().checked_sub(3)?;
    (fields.len() >= 5).then(|| fields[at].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_the_credential_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/s3/aws4_request, \
                    SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(authorization_region(auth).as_deref(), Some("eu-west-1"));
        let scope = "AK/ID/20250101/us-west-2/s3/aws4_request";
        assert_eq!(scope_region(scope).as_deref(), Some("us-west-2"));
        assert_eq!(scope_region("AK/20250101/s3"), None);
        assert_eq!(authorization_region("AWS AK:signature"), None);
    }
}
