//! The accept loop every server here runs: each accepted connection gets `TCP_NODELAY` (small
//! answers are not held back by delayed ACKs), goes through the per-connection bandwidth cap
//! (`shaping::Throttled`; a pass-through while the cap is off) and is served by hyper (HTTP/1.1)
//! with the gate in front of s3s. A cancellation token stops accepting and closes every open
//! connection.
//!
//! Depends on hyper, tokio, the gate and the shaping types.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::behaviours::{Behaviours, Switches};
use crate::gate::Gate;
use crate::shaping::{Shaping, Throttled};

/// Bind `addr`, apply the shaping the environment asks for, and serve `service` until `stop`
/// is cancelled. Returns the bound address.
pub(crate) async fn serve(
    service: Gate,
    addr: SocketAddr,
    switches: Arc<Switches>,
    stop: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let shaping = Shaping::from_env()?;
    Behaviours::new(switches.clone()).set_shaping(&shaping);
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let http = ConnBuilder::new(TokioExecutor::new());
        loop {
            let socket = tokio::select! {
                () = stop.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(_) => continue,
                },
            };
            let _ = socket.set_nodelay(true);
            let socket = Throttled::new(socket, switches.clone());
            let connection = http
                .serve_connection(TokioIo::new(socket), service.clone())
                .into_owned();
            let stopped = stop.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = connection => {}
                    () = stopped.cancelled() => {}
                }
            });
        }
    });
    Ok(addr)
}
