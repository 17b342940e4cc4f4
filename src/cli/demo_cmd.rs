//! `airlock demo` (feature `demo`): the TUI on two embedded S3 servers, or with `--serve` only
//! the servers, their endpoints and fake keys printed for other tools. The servers and their
//! data are [`crate::demo`]'s; this module only starts them and renders.

use std::io::Write;

use airlock_core::error::Result;

use super::args::DemoArgs;
use crate::demo::{self, Demo, DemoOptions};

/// The TUI on freshly started demo servers; they stop when it exits.
pub(crate) async fn run_tui(args: DemoArgs) -> Result<i32> {
    let demo = start(args).await?;
    // The demo's journal lives with its data, so demo runs leave nothing behind.
    let options = crate::tui::SessionOptions {
        journal_dir: Some(demo.dir.join("journal")),
    };
    let code = crate::tui::run_with(demo.settings.clone(), demo.sides(), options).await;
    drop(demo);
    code
}

/// `airlock demo --serve`: run the two servers until Ctrl-C.
pub(crate) async fn serve(args: DemoArgs, out: &mut dyn Write) -> Result<i32> {
    let demo = start(args).await?;
    let config = demo.write_config()?;
    let _ = writeln!(
        out,
        "source  {}  bucket '{}'  access key '{}'  secret '{}'",
        demo.source.endpoint,
        demo::SOURCE_BUCKET,
        demo.source.access_key,
        demo.source.secret_key
    );
    let _ = writeln!(
        out,
        "target  {}  bucket '{}'  access key '{}'  secret '{}'",
        demo.target.endpoint,
        demo::TARGET_BUCKET,
        demo.target.access_key,
        demo.target.secret_key
    );
    let _ = writeln!(out, "config  {}", config.display());
    let _ = writeln!(out, "try:    airlock --config {} plan", config.display());
    let _ = writeln!(
        out,
        "(these keys are fake and only open these loopback servers; Ctrl-C stops them)"
    );
    let _ = out.flush();
    let _ = tokio::signal::ctrl_c().await;
    drop(demo);
    Ok(0)
}

async fn start(args: DemoArgs) -> Result<Demo> {
    Demo::start(DemoOptions {
        dir: args.dir,
        ports: args.ports,
        empty: args.empty,
    })
    .await
}
