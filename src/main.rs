//! The `airlock` binary: parse arguments, set up logging and the panic hook, dispatch to the
//! library, and turn errors into exit codes (0 ok, 1 some objects failed, 2 config /
//! credential / usage error, 130 interrupted).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use airlock::cli::{self, Args, Command, ConfigAction, UploadsAction};
#[cfg(feature = "demo")]
use airlock::demo::{self, Demo, DemoOptions};
use airlock_core::config::{Side, load_settings};
use airlock_core::{Error, aws};

fn main() -> ExitCode {
    let args = Args::parse();
    let headless = !matches!(args.command, None | Some(Command::Demo(_)));
    let _log = airlock::logging::init(args.verbose, headless);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("airlock: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(dispatch(args));
    // Everything that matters has finished inside `dispatch`; what is left are blocking
    // helper threads (file I/O of the embedded demo servers, an idle terminal reader) that
    // must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn dispatch(args: Args) -> i32 {
    match run_command(args).await {
        Ok(code) => code,
        Err(e) => {
            tracing::error!(error = %e, "command failed");
            let _ = writeln!(std::io::stderr(), "airlock: {e}{}", hint(&e));
            e.exit_code()
        }
    }
}

/// What this binary adds to an error from the core: with the demo built in, a missing config
/// suggests it (a build without the demo must not).
fn hint(e: &Error) -> &'static str {
    #[cfg(feature = "demo")]
    if airlock_core::config::is_missing_config(e) {
        return " (try 'airlock demo' to see airlock without AWS)";
    }
    #[cfg(not(feature = "demo"))]
    let _ = e;
    ""
}

async fn run_command(args: Args) -> Result<i32, Error> {
    let stdout = &mut std::io::stdout();
    match args.command {
        Some(Command::Completions { shell }) => {
            cli::completions(shell, stdout);
            Ok(0)
        }
        Some(Command::Config {
            action: ConfigAction::Check,
        }) => {
            let settings = load_settings(args.config.as_deref())?;
            cli::config_check(&settings, stdout).await
        }
        Some(Command::Ls(ls)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            let side = sides.get(Side::from(ls.side));
            match &ls.versions {
                Some(key) => cli::ls_versions(side, key, ls.json, stdout).await?,
                None => cli::ls(side, ls.prefix.as_deref(), ls.recursive, stdout).await?,
            }
            Ok(0)
        }
        Some(Command::Plan(plan)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let settings = cli::with_filters(settings, &plan.filter, false)?;
            let settings = cli::with_bandwidth_limit(settings, plan.bandwidth_limit.as_deref())?;
            let settings = cli::mirror::with_mode(settings, plan.mode.as_deref(), false)?;
            let sides = aws::connect(&settings).await?;
            cli::plan(
                &sides,
                &settings,
                plan.output.as_deref(),
                plan.summary,
                stdout,
            )
            .await?;
            Ok(0)
        }
        None => {
            // Everything that can fail before the UI starts fails here, on the normal screen.
            let settings = load_settings(args.config.as_deref())?;
            let sides = aws::connect(&settings).await?;
            airlock::tui::run(settings, sides).await
        }
        Some(Command::Run(run)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let settings = cli::with_filters(settings, &run.filter, run.plan.is_some())?;
            let settings = cli::with_bandwidth_limit(settings, run.bandwidth_limit.as_deref())?;
            let settings =
                cli::mirror::with_mode(settings, run.mode.as_deref(), run.plan.is_some())?;
            let sides = aws::connect(&settings).await?;
            cli::run(&settings, sides, &run, stdout).await
        }
        Some(Command::Prepare(prepare)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            cli::prepare(&settings, sides, &prepare, stdout).await
        }
        Some(Command::Finalize(finalize)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            cli::finalize(&settings, sides, &finalize, stdout).await
        }
        Some(Command::Report(report)) => {
            let reports = match aws::documents::S3Location::parse(&report.location)? {
                // Reports in S3 are read with the target side's credentials.
                Some(location) => {
                    let settings = warn(load_settings(args.config.as_deref())?);
                    let sides = aws::connect(&settings).await?;
                    cli::merge::read_s3(&sides.target, &location).await?
                }
                None => cli::merge::read_dir(std::path::Path::new(&report.location))?,
            };
            cli::merge_reports(reports, &report.location, report.json, stdout)
        }
        Some(Command::Verify(verify)) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            cli::verify(&sides.target, &settings, &verify.manifest, stdout).await
        }
        Some(Command::Uploads { action }) => {
            let settings = warn(load_settings(args.config.as_deref())?);
            let sides = aws::connect(&settings).await?;
            match action {
                UploadsAction::List => cli::uploads::list(&sides.target, &settings, stdout).await?,
                UploadsAction::Abort { older_than, all } => {
                    cli::uploads::abort(
                        &sides.target,
                        &settings,
                        older_than.as_deref(),
                        all,
                        stdout,
                    )
                    .await?;
                }
            }
            Ok(0)
        }
        #[cfg(not(feature = "demo"))]
        Some(Command::Demo(_)) => Err(Error::usage(
            "this airlock was built without the demo (build with the default features to get \
             `airlock demo`)",
        )),
        #[cfg(feature = "demo")]
        Some(Command::Demo(demo)) if demo.serve => serve_demo(demo, stdout).await,
        #[cfg(feature = "demo")]
        Some(Command::Demo(args)) => {
            let demo = Demo::start(DemoOptions {
                dir: args.dir,
                ports: args.ports,
                empty: args.empty,
            })
            .await?;
            // The demo's journal lives with its data, so demo runs leave nothing behind.
            let options = airlock::tui::SessionOptions {
                journal_dir: Some(demo.dir.join("journal")),
            };
            let code = airlock::tui::run_with(demo.settings.clone(), demo.sides(), options).await;
            drop(demo);
            code
        }
    }
}

/// `airlock demo --serve`: run the two servers until Ctrl-C.
#[cfg(feature = "demo")]
async fn serve_demo(args: cli::DemoArgs, out: &mut dyn Write) -> Result<i32, Error> {
    let demo = Demo::start(DemoOptions {
        dir: args.dir,
        ports: args.ports,
        empty: args.empty,
    })
    .await?;
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

/// Print config warnings to stderr for headless commands.
fn warn(settings: airlock_core::config::Settings) -> airlock_core::config::Settings {
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
        tracing::warn!("{warning}");
    }
    settings
}
