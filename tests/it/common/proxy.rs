//! A fault-injecting HTTP/1.1 reverse proxy on 127.0.0.1 in front of one embedded S3 server.
//!
//! Requests and responses are forwarded unchanged and streamed both ways (the `Host` header is
//! kept exactly as the client sent it, so SigV4 signatures stay valid). [`Rule`]s, changeable
//! while a run goes on, inject faults: 500 InternalError, 503 SlowDown, any other error status,
//! 503 SlowDown above a request rate (a token bucket), a reset after N response- or
//! request-body bytes, a response body truncated below its
//! Content-Length, one flipped byte in either body, latency, a request-body bandwidth limit, a stall (the request is accepted and never answered), or a hold until the test
//! releases it. Rules filter by operation, key substring and part number, fire at a rate drawn
//! from a seeded generator (deterministic for a given order of requests), and can skip the
//! first matches or fire only N times. Nothing else is enforced.
//!
//! Every request is recorded ([`Exchange`]): its operation (see [`Op`]), key, part number,
//! request headers, status, and the body bytes that went each way, so tests can count requests
//! per operation and see which parts were sent again; accepted connections are counted too.

mod bodies;
mod classify;
mod rate;
mod rules;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use bodies::{BodyFault, BoxError, FaultBody, HoldGate, KillableIo, RequestBody};
pub(crate) use classify::{Op, Target, classify};
use rate::TokenBucket;
use rules::{ActiveRule, Rules};
pub(crate) use rules::{Fault, Rule, RuleId};

type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub op: Op,
    pub key: String,
    pub part: Option<u32>,
    pub headers: HeaderMap,
    /// None when no answer was sent (stall, reset before the headers).
    pub status: Option<u16>,
    pub request_bytes: u64,
    pub response_bytes: u64,
    /// The fault injected, if any.
    pub fault: Option<&'static str>,
}

/// The live record of an exchange, updated while its bodies stream.
struct Live {
    target: Target,
    headers: HeaderMap,
    status: AtomicU16,
    request_bytes: Arc<AtomicU64>,
    response_bytes: Arc<AtomicU64>,
    fault: OnceLock<&'static str>,
}

impl Live {
    fn snapshot(&self) -> Exchange {
        let status = self.status.load(Ordering::Relaxed);
        Exchange {
            op: self.target.op,
            key: self.target.key.clone(),
            part: self.target.part,
            headers: self.headers.clone(),
            status: (status != 0).then_some(status),
            request_bytes: self.request_bytes.load(Ordering::Relaxed),
            response_bytes: self.response_bytes.load(Ordering::Relaxed),
            fault: self.fault.get().copied(),
        }
    }
}

/// Counts a request in flight until dropped (it travels inside the response body).
struct InFlight {
    state: Arc<State>,
    op: Op,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(entry) = self.state.in_flight.lock().unwrap().get_mut(&self.op) {
            entry.0 -= 1;
        }
        self.state.in_flight_total.lock().unwrap().0 -= 1;
    }
}

struct State {
    upstream: SocketAddr,
    client: Client<HttpConnector, ProxyBody>,
    rules: Mutex<Rules>,
    log: Mutex<Vec<Arc<Live>>>,
    /// Per operation: (in flight now, most in flight at once since the last reset).
    in_flight: Mutex<HashMap<Op, (usize, usize)>>,
    /// The same for all operations together.
    in_flight_total: Mutex<(usize, usize)>,
    /// Bumped by `release_held`; held requests wait for it to change.
    release: watch::Sender<u64>,
    held: Arc<AtomicUsize>,
    /// TCP connections accepted from clients since the proxy started.
    connections: AtomicUsize,
    /// Cancelled when the proxy is dropped: ends stalls, holds and connections.
    stop: CancellationToken,
}

/// A running proxy. Dropping it closes every connection.
pub(crate) struct FaultProxy {
    /// `http://127.0.0.1:PORT`, for clients to use instead of the server's endpoint.
    pub endpoint: String,
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` with no rules, seed 1.
    pub(crate) async fn start(upstream: SocketAddr) -> Self {
        Self::start_seeded(upstream, 1).await
    }

    /// A proxy whose rate draws come from `seed`.
    pub(crate) async fn start_seeded(upstream: SocketAddr, seed: u64) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let state = Arc::new(State {
            upstream,
            client,
            rules: Mutex::new(Rules {
                active: Vec::new(),
                fired: HashMap::new(),
                next_id: 0,
                rng: seed,
            }),
            log: Mutex::new(Vec::new()),
            in_flight: Mutex::new(HashMap::new()),
            in_flight_total: Mutex::new((0, 0)),
            release: watch::channel(0).0,
            held: Arc::new(AtomicUsize::new(0)),
            connections: AtomicUsize::new(0),
            stop: CancellationToken::new(),
        });
        tokio::spawn(accept_loop(listener, state.clone()));
        FaultProxy {
            endpoint: format!("http://{addr}"),
            addr,
            state,
        }
    }

    /// Add a rule (after the existing ones); it applies to requests from now on.
    pub(crate) fn add_rule(&self, rule: Rule) -> RuleId {
        let mut rules = self.state.rules.lock().unwrap();
        let id = RuleId(rules.next_id);
        rules.next_id += 1;
        let bucket = match rule.fault {
            Fault::SlowDownAbove { per_second } => Some(TokenBucket::new(per_second)),
            _ => None,
        };
        rules.active.push(ActiveRule {
            id,
            rule,
            matched: 0,
            bucket,
        });
        id
    }

    /// Remove every rule (requests already held stay held until released).
    pub(crate) fn clear_rules(&self) {
        self.state.rules.lock().unwrap().active.clear();
    }

    /// How many times a rule fired (also after it was removed).
    pub(crate) fn fired(&self, id: RuleId) -> u64 {
        let rules = self.state.rules.lock().unwrap();
        rules.fired.get(&id).copied().unwrap_or(0)
    }

    /// TCP connections clients opened to this proxy since it started (never reset).
    pub(crate) fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }

    /// Requests held by [`Fault::Hold`] now.
    pub(crate) fn held(&self) -> usize {
        self.state.held.load(Ordering::Acquire)
    }

    /// Forward every request held now.
    pub(crate) fn release_held(&self) {
        self.state
            .release
            .send_modify(|generation| *generation += 1);
    }

    /// Wait (at most 30 s, then panic) until `condition` holds for this proxy.
    pub(crate) async fn wait_for(&self, what: &str, condition: impl Fn(&FaultProxy) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while !condition(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Every request since the last reset, in arrival order.
    pub(crate) fn exchanges(&self) -> Vec<Exchange> {
        let log = self.state.log.lock().unwrap();
        log.iter().map(|live| live.snapshot()).collect()
    }

    /// Requests of one operation since the last reset.
    pub(crate) fn count(&self, op: Op) -> usize {
        let log = self.state.log.lock().unwrap();
        log.iter().filter(|live| live.target.op == op).count()
    }

    /// Request-body bytes of one operation that went through, all attempts together.
    pub(crate) fn request_bytes(&self, op: Op) -> u64 {
        self.exchanges()
            .iter()
            .filter(|e| e.op == op)
            .map(|e| e.request_bytes)
            .sum()
    }

    /// Response-body bytes of one operation that went through.
    pub(crate) fn response_bytes(&self, op: Op) -> u64 {
        self.exchanges()
            .iter()
            .filter(|e| e.op == op)
            .map(|e| e.response_bytes)
            .sum()
    }

    /// UploadPart request-body bytes per part number (all keys, all attempts).
    pub(crate) fn upload_part_bytes(&self) -> BTreeMap<u32, u64> {
        let mut parts = BTreeMap::new();
        for e in self.exchanges() {
            if let (Op::UploadPart, Some(part)) = (e.op, e.part) {
                *parts.entry(part).or_default() += e.request_bytes;
            }
        }
        parts
    }

    /// Most requests of one operation in flight at once since the last reset.
    pub(crate) fn peak_in_flight(&self, op: Op) -> usize {
        let in_flight = self.state.in_flight.lock().unwrap();
        in_flight.get(&op).map_or(0, |entry| entry.1)
    }

    /// Most requests of any operations in flight at once since the last reset.
    pub(crate) fn peak_in_flight_total(&self) -> usize {
        self.state.in_flight_total.lock().unwrap().1
    }

    /// Forget the recorded exchanges; peaks restart from what is in flight now.
    pub(crate) fn reset_stats(&self) {
        self.state.log.lock().unwrap().clear();
        for entry in self.state.in_flight.lock().unwrap().values_mut() {
            entry.1 = entry.0;
        }
        let mut total = self.state.in_flight_total.lock().unwrap();
        total.1 = total.0;
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.cancel();
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    loop {
        let stream = tokio::select! {
            () = state.stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::Relaxed);
        let kill = Arc::new(AtomicBool::new(false));
        let io = KillableIo {
            stream,
            kill: kill.clone(),
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service_state = state.clone();
            let service = hyper::service::service_fn(move |req| {
                handle(service_state.clone(), kill.clone(), req)
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(io), service);
            tokio::select! {
                _ = connection => {}
                () = state.stop.cancelled() => {}
            }
        });
    }
}

async fn handle(
    state: Arc<State>,
    kill: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<ProxyBody>, BoxError> {
    let target = classify(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query().unwrap_or(""),
        req.headers().contains_key(hyper::header::RANGE),
    );
    let live = Arc::new(Live {
        target: target.clone(),
        headers: req.headers().clone(),
        status: AtomicU16::new(0),
        request_bytes: Arc::new(AtomicU64::new(0)),
        response_bytes: Arc::new(AtomicU64::new(0)),
        fault: OnceLock::new(),
    });
    state.log.lock().unwrap().push(live.clone());
    {
        let mut in_flight = state.in_flight.lock().unwrap();
        let entry = in_flight.entry(target.op).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(entry.0);
        let mut total = state.in_flight_total.lock().unwrap();
        total.0 += 1;
        total.1 = total.1.max(total.0);
    }
    let guard = InFlight {
        state: state.clone(),
        op: target.op,
    };
    let (latency, bandwidth, fault) = state.rules.lock().unwrap().decide(&target);
    if let Some(fault) = &fault {
        let _ = live.fault.set(fault.name());
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut reset_request = None;
    let mut body_fault = None;
    let (mut corrupt_request, mut corrupt_response) = (None, None);
    let mut drop_headers = None;
    match fault {
        Some(Fault::Stall) => {
            state.stop.cancelled().await;
            return Err("fault proxy stopped".into());
        }
        Some(Fault::Hold) => hold(&state).await?,
        Some(Fault::InternalError) => {
            return Ok(error_response(&live, req, 500, "InternalError").await);
        }
        Some(Fault::SlowDown | Fault::SlowDownAbove { .. }) => {
            return Ok(error_response(&live, req, 503, "SlowDown").await);
        }
        Some(Fault::Status(status, code)) => {
            return Ok(error_response(&live, req, status, code).await);
        }
        Some(Fault::CorruptRequest { at_byte }) => corrupt_request = Some(at_byte),
        Some(Fault::CorruptResponse { at_byte }) => corrupt_response = Some(at_byte),
        Some(Fault::DropResponseHeaders(prefix)) => drop_headers = Some(prefix),
        Some(Fault::ResetRequest { after_bytes }) => reset_request = Some(after_bytes),
        Some(Fault::ResetResponse { after_bytes }) => {
            body_fault = Some((BodyFault::Reset, after_bytes))
        }
        Some(Fault::Truncate { after_bytes }) => {
            body_fault = Some((BodyFault::Truncate, after_bytes))
        }
        Some(Fault::StallBody { after_bytes }) => {
            body_fault = Some((BodyFault::Stall, after_bytes))
        }
        Some(Fault::HoldBody { after_bytes }) => body_fault = Some((BodyFault::Hold, after_bytes)),
        Some(Fault::Latency(_) | Fault::Bandwidth(_)) | None => {}
    }
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = format!("http://{}{path}", state.upstream).parse()?;
    let body = RequestBody::new(
        body,
        live.request_bytes.clone(),
        reset_request,
        kill.clone(),
    )
    .corrupt_at(corrupt_request)
    .bandwidth(bandwidth);
    let response = state
        .client
        .request(Request::from_parts(parts, body.boxed_unsync()))
        .await?;
    live.status
        .store(response.status().as_u16(), Ordering::Relaxed);
    let (mut parts, body) = response.into_parts();
    if let Some(prefix) = drop_headers {
        let names: Vec<_> = parts
            .headers
            .keys()
            .filter(|name| name.as_str().starts_with(prefix))
            .cloned()
            .collect();
        for name in names {
            parts.headers.remove(name);
        }
    }
    let body = FaultBody::new(
        body,
        live.response_bytes.clone(),
        body_fault,
        kill,
        state.stop.clone(),
        Some(Box::new(guard)),
    )
    .corrupt_at(corrupt_response)
    .hold_gate(Some(HoldGate {
        release: state.release.subscribe(),
        held: state.held.clone(),
    }));
    Ok(Response::from_parts(parts, body.boxed_unsync()))
}

async fn hold(state: &State) -> Result<(), BoxError> {
    let mut release = state.release.subscribe();
    let generation = *release.borrow_and_update();
    state.held.fetch_add(1, Ordering::AcqRel);
    let released = tokio::select! {
        r = release.wait_for(|g| *g != generation) => r.is_ok(),
        () = state.stop.cancelled() => false,
    };
    state.held.fetch_sub(1, Ordering::AcqRel);
    if released {
        Ok(())
    } else {
        Err("fault proxy stopped".into())
    }
}

/// Read the request body (counted, discarded), then answer an S3 error.
async fn error_response(
    live: &Live,
    req: Request<Incoming>,
    status: u16,
    code: &str,
) -> Response<ProxyBody> {
    let head = req.method() == hyper::Method::HEAD;
    let resource = req.uri().path().to_string();
    let mut body = req.into_body();
    while let Some(Ok(frame)) = body.frame().await {
        if let Some(data) = frame.data_ref() {
            live.request_bytes
                .fetch_add(data.len() as u64, Ordering::Relaxed);
        }
    }
    live.status.store(status, Ordering::Relaxed);
    let message = match code {
        "SlowDown" => "Please reduce your request rate.",
        "AccessDenied" => "Access Denied",
        "NoSuchBucket" => "The specified bucket does not exist",
        _ => "We encountered an internal error. Please try again.",
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
         <Message>{message}</Message><Resource>{resource}</Resource>\
         <RequestId>fault-proxy</RequestId></Error>"
    );
    let bytes = if head { Bytes::new() } else { Bytes::from(xml) };
    live.response_bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    Response::builder()
        .status(StatusCode::from_u16(status).expect("valid status"))
        .header("content-type", "application/xml")
        .header("x-amz-request-id", "fault-proxy")
        .body(
            Full::new(bytes)
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("valid response")
}
