//! A moto server (PyPI `moto[server]`) as a real SSM endpoint for the tests.
//!
//! `AIRLOCK_MOTO` names the `moto_server` executable (`.ci/run` installs it into `.venv`). The
//! tests that start moto are ignored when it was unset at build time (`build.rs` sets the
//! `airlock_moto` cfg from it, and always under `CI=true`); one that runs without it fails.
//!
//! moto does not check SigV4 signatures, so any keys work; never use it to test wrong keys.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_ssm::types::ParameterType;

/// Environment variable naming the `moto_server` executable.
pub(crate) const MOTO_ENV: &str = "AIRLOCK_MOTO";

/// How long moto may take to answer its first request (it imports a lot of Python).
const STARTUP: Duration = Duration::from_secs(60);

/// A running moto server on 127.0.0.1. Dropping it kills the process.
pub(crate) struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    child: Child,
    /// Holds moto's output, shown when it fails to start.
    _log_dir: tempfile::TempDir,
}

impl Moto {
    /// Start moto. Panics when `AIRLOCK_MOTO` is unset (a test that needs moto never passes
    /// without it) or when moto does not come up.
    pub(crate) fn start() -> Moto {
        let Some(program) = std::env::var_os(MOTO_ENV).filter(|v| !v.is_empty()) else {
            panic!(
                "{MOTO_ENV} is not set, so this test cannot run: set it to a moto_server \
                 executable (.ci/run installs one into .venv; or `pip install 'moto[server]'`)"
            );
        };
        let program = PathBuf::from(program);
        // A free port can be taken by someone else between our probe and moto's bind: try a
        // few ports before giving up.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Moto::start_once(&program) {
                Ok(moto) => return moto,
                Err(e) => last_error = e,
            }
        }
        panic!(
            "moto server '{}' did not start: {last_error}",
            program.display()
        );
    }

    fn start_once(program: &PathBuf) -> Result<Moto, String> {
        let port = free_port();
        let log_dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log_path = log_dir.path().join("moto.log");
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run '{}': {e}", program.display()))?;
        let deadline = Instant::now() + STARTUP;
        loop {
            if answers_http(port) {
                return Ok(Moto {
                    endpoint: format!("http://127.0.0.1:{port}"),
                    child,
                    _log_dir: log_dir,
                });
            }
            let log_text = || std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("exited with {status}:\n{}", log_text()));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no answer within {STARTUP:?}:\n{}", log_text()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// An SSM client for this server (moto accepts any keys).
    pub(crate) fn ssm_client(&self) -> aws_sdk_ssm::Client {
        let config = aws_sdk_ssm::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                "moto-test-key",
                "moto-test-secret-0000",
                None,
                None,
                "airlock-tests",
            ))
            .build();
        aws_sdk_ssm::Client::from_conf(config)
    }

    /// An S3 client for this server (moto accepts any keys).
    pub(crate) fn s3_client(&self) -> aws_sdk_s3::Client {
        super::s3_client(&self.endpoint, "moto-test-key", "moto-test-secret-0000")
    }

    /// A config copying from `source` to `target`, two buckets of this server. moto checks
    /// no keys: each side still gets its own, as two accounts would.
    pub(crate) fn config(&self, source: &str, target: &str) -> super::Config {
        super::Config::endpoints(&self.endpoint, &self.endpoint)
            .set_str("source", "bucket", source)
            .set_str("target", "bucket", target)
            .keys("source", "moto-source-key", "moto-source-secret-0000")
            .keys("target", "moto-target-key", "moto-target-secret-0000")
    }

    /// An S3 client for this server, with `buckets` created.
    pub(crate) async fn s3_with_buckets(&self, buckets: &[&str]) -> aws_sdk_s3::Client {
        let client = self.s3_client();
        for bucket in buckets {
            client
                .create_bucket()
                .bucket(*bucket)
                .send()
                .await
                .unwrap_or_else(|e| panic!("create '{bucket}' on moto: {}", super::describe(&e)));
        }
        client
    }

    /// Write a SecureString parameter (overwriting any earlier value).
    pub(crate) async fn put_secure_string(&self, name: &str, value: &str) {
        self.ssm_client()
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::SecureString)
            .overwrite(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutParameter '{name}': {}", super::describe(&e)));
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// Whether an HTTP server answers on the port (any status will do).
fn answers_http(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = "GET /moto-api/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
