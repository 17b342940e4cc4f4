//! `airlock config check`: resolve both sides' credentials (saying where each came from, never
//! printing a secret), HeadBucket on both buckets, and report pass/fail per side.

use std::io::Write;

use airlock_core::aws::credentials::resolve_both;
use airlock_core::aws::errors::{Context, s3_error};
use airlock_core::aws::{ResolvedCredentials, build_side_client};
use airlock_core::config::{Settings, Side};
use airlock_core::error::Result;

/// Run the check and print the report. Returns the exit code: 0 when both sides pass, 2 when
/// either fails.
pub(crate) async fn config_check(settings: &Settings, out: &mut dyn Write) -> Result<i32> {
    let path = settings
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "(built in)".into());
    let _ = writeln!(out, "config: {path}");
    for warning in &settings.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let (source, target) = resolve_both(settings).await;
    let source_ok = check_side(settings, Side::Source, source, out).await;
    let target_ok = check_side(settings, Side::Target, target, out).await;
    let verdict = |ok: bool| if ok { "ok" } else { "FAILED" };
    let _ = writeln!(
        out,
        "result: source {}, target {}",
        verdict(source_ok),
        verdict(target_ok)
    );
    Ok(if source_ok && target_ok { 0 } else { 2 })
}

async fn check_side(
    settings: &Settings,
    side: Side,
    creds: Result<ResolvedCredentials>,
    out: &mut dyn Write,
) -> bool {
    let s = settings.side(side);
    let endpoint = s.endpoint_url.as_deref().unwrap_or("AWS");
    let _ = writeln!(
        out,
        "{side}: s3://{}/{} ({}, {endpoint})",
        s.bucket, s.prefix, s.region
    );
    let creds = match creds {
        Ok(creds) => {
            let _ = writeln!(out, "  credentials: {}", creds.description);
            creds
        }
        Err(e) => {
            tracing::warn!(%side, error = %e, "credentials failed");
            let _ = writeln!(out, "  credentials: FAILED: {e}");
            let _ = writeln!(out, "  bucket: not checked");
            return false;
        }
    };
    let client = build_side_client(s, &settings.transfer, &creds);
    match head_bucket(&client).await {
        Ok(()) => {
            let _ = writeln!(out, "  bucket: ok (HeadBucket)");
            true
        }
        Err(e) => {
            tracing::warn!(%side, error = %e, "HeadBucket failed");
            let _ = writeln!(out, "  bucket: FAILED: {e}");
            false
        }
    }
}

async fn head_bucket(side: &airlock_core::aws::SideClient) -> Result<()> {
    side.client
        .head_bucket()
        .bucket(&side.bucket)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            let ctx = Context {
                side: side.side,
                operation: "HeadBucket",
                bucket: &side.bucket,
                key: None,
            };
            s3_error(&e, ctx, side.region())
        })
}
