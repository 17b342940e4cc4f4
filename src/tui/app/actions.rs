//! What each action does, per tab, once the modal layers (overlays, text inputs) have passed
//! the key on: switching tabs (and rebuilding a stale plan), the Plan and Transfers commands,
//! confirmations, starting a run once its source layouts are learnt, quitting and interrupting
//! a run.

use super::{App, Confirm, DEFAULT_PLAN_FILE, Out, Overlay, Tab, transfers};
use crate::tui::input::TextInput;
use crate::tui::keymap::Action;
use crate::tui::msg::Effect;
use airlock_core::engine::Command;
use airlock_core::job::Scope;

pub(super) fn action(app: &mut App, action: Action, out: &mut Out) {
    match action {
        Action::Quit => {
            if app.transfers.phase == transfers::Phase::Stopping {
                out.effects.push(Effect::Quit);
            } else if app.transfers.is_active() {
                app.overlay = Some(Overlay::Confirm(Confirm::Quit));
            } else {
                out.effects.push(Effect::Quit);
            }
        }
        Action::Help => app.overlay = Some(Overlay::Help),
        Action::Log => app.overlay = Some(Overlay::Log),
        Action::TabBrowser => switch_tab(app, Tab::Browser, out),
        Action::TabPlan => switch_tab(app, Tab::Plan, out),
        Action::TabTransfers => switch_tab(app, Tab::Transfers, out),
        Action::NextTab | Action::PreviousTab => {
            let i = Tab::ALL.iter().position(|t| *t == app.tab).unwrap_or(0);
            let step = if action == Action::NextTab { 1 } else { 2 };
            switch_tab(app, Tab::ALL[(i + step) % 3], out);
        }
        _ => match app.tab {
            Tab::Browser => browser_action(app, action, out),
            Tab::Plan => plan_action(app, action, out),
            Tab::Transfers => transfers_action(app, action, out),
        },
    }
}

fn switch_tab(app: &mut App, tab: Tab, out: &mut Out) {
    app.tab = tab;
    // The plan follows the selection: rebuild when it changed since the plan was made.
    if tab == Tab::Plan
        && !app.plan.gathering()
        && app.plan.built_for != Some(app.browser.selection_version)
    {
        gather_plan(app, out);
    }
}

/// A run changed the target, so the plan shown is stale (objects just copied still show as
/// to copy): rebuild it the way ctrl-r does. Silently: the status line keeps the run's
/// result, and the Plan tab shows the listing's progress.
pub(super) fn replan_after_run(app: &mut App, out: &mut Out) {
    if app.plan.plan.is_some() && !app.plan.gathering() {
        gather_plan(app, out);
    }
}

fn gather_plan(app: &mut App, out: &mut Out) {
    let scope = app.browser.scope();
    let label = match &scope {
        Scope::Configured => format!(
            "all of s3://{}/{}",
            app.settings.source.bucket, app.settings.source.prefix
        ),
        Scope::Selection { folders, objects } => {
            let plural =
                |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
            let mut parts = Vec::new();
            if !objects.is_empty() {
                parts.push(plural(objects.len(), "object"));
            }
            if !folders.is_empty() {
                parts.push(plural(folders.len(), "folder"));
            }
            format!("selection: {}", parts.join(", "))
        }
    };
    app.plan
        .gather(scope, label, app.browser.selection_version, out);
}

fn browser_action(app: &mut App, action: Action, out: &mut Out) {
    if action == Action::PlanSelection {
        app.tab = Tab::Plan;
        return gather_plan(app, out);
    }
    app.browser.action(action, out);
}

fn plan_action(app: &mut App, action: Action, out: &mut Out) {
    match action {
        Action::Refresh => gather_plan(app, out),
        Action::StartRun => {
            if app.transfers.is_active() {
                out.warn("a run is active: wait for it to finish (3 shows it)".into());
            } else if app.plan.gathering() && app.plan.plan.is_some() {
                out.warn("the plan is being rebuilt: wait for it, then press g".into());
            } else if app.plan.rerouting.is_some() {
                out.warn("the plan is being re-routed for the new settings: wait for it".into());
            } else if app.plan.plan.as_ref().is_some_and(|p| {
                p.header.summary.copy_objects() > 0 || p.header.deletions.objects > 0
            }) {
                app.overlay = Some(Overlay::Confirm(Confirm::StartRun));
            } else if app.plan.plan.is_some() {
                out.info("nothing to copy: every object is already at the target".into());
            } else {
                out.warn("no plan yet: wait for it to be built".into());
            }
        }
        Action::SavePlan => {
            if app.plan.plan.is_some() {
                app.overlay = Some(Overlay::SavePlan(TextInput::new(DEFAULT_PLAN_FILE)));
            } else {
                out.warn("no plan to save yet".into());
            }
        }
        _ => app.plan.action(action),
    }
}

fn transfers_action(app: &mut App, action: Action, out: &mut Out) {
    let transfers = &mut app.transfers;
    let idle = transfers.phase == transfers::Phase::Idle;
    let send = |out: &mut Out, command| out.effects.push(Effect::Send(command));
    match action {
        Action::Pause
        | Action::RetryFailed
        | Action::Retry
        | Action::Cancel
        | Action::CancelAll
        | Action::MoreConcurrency
        | Action::LessConcurrency
        | Action::LessBandwidth
        | Action::MoreBandwidth
        | Action::NoBandwidthLimit
            if idle =>
        {
            out.info("no run yet: build a plan (2) and start it with g".into())
        }
        Action::Pause
            if !matches!(
                transfers.phase,
                transfers::Phase::Starting | transfers::Phase::Running
            ) =>
        {
            let why = match transfers.phase {
                transfers::Phase::Stopping => "the run is stopping",
                _ => "the run has ended",
            };
            out.info(format!("nothing to pause: {why}"))
        }
        Action::Pause => {
            let (command, note) = if transfers.paused {
                (Command::Resume, "resuming")
            } else {
                (
                    Command::Pause,
                    "pausing: in-flight requests finish, nothing new starts",
                )
            };
            out.info(note.into());
            send(out, command);
        }
        Action::RetryFailed => match transfers.failed_count {
            0 => out.info("nothing failed".into()),
            n => {
                out.info(format!(
                    "retrying {n} failed or cancelled object{}",
                    if n == 1 { "" } else { "s" }
                ));
                send(out, Command::RetryFailed);
            }
        },
        Action::Retry => match transfers.selected() {
            Some(id) if transfers.list == transfers::ListKind::Failed => {
                out.info(format!("retrying '{}'", key_of(transfers, id)));
                send(out, Command::Retry(id))
            }
            _ => out.info("select a failed or cancelled object to retry (tab: lists)".into()),
        },
        Action::Cancel => match transfers.selected() {
            Some(id) if transfers.list == transfers::ListKind::Active => {
                out.info(format!("cancelling '{}'", key_of(transfers, id)));
                send(out, Command::Cancel(id))
            }
            _ => out.info("select an active object to cancel".into()),
        },
        Action::CancelAll => app.overlay = Some(Overlay::Confirm(Confirm::CancelAll)),
        Action::MoreConcurrency | Action::LessConcurrency => {
            let n = transfers.step_concurrency(action == Action::MoreConcurrency);
            transfers.concurrency_max = n;
            transfers.concurrency_auto = false;
            send(out, Command::SetConcurrency(n));
        }
        Action::LessBandwidth | Action::MoreBandwidth | Action::NoBandwidthLimit => {
            let cap = match action {
                Action::NoBandwidthLimit => None,
                _ => transfers::step_bandwidth(
                    transfers.bandwidth_limit,
                    action == Action::LessBandwidth,
                ),
            };
            if cap.is_none() && transfers.bandwidth_limit.is_none() {
                out.info("no bandwidth cap to raise or remove (b sets one)".into());
            } else {
                // Shown at once; the engine's BandwidthChanged confirms it.
                transfers.bandwidth_limit = cap;
                send(out, Command::SetBandwidthLimit(cap));
            }
        }
        _ => transfers.move_cursor(action),
    }
}

pub(super) fn confirmed(app: &mut App, confirm: Confirm, out: &mut Out) {
    match confirm {
        // A plan that deletes asks a second, explicit question (no Enter for it).
        Confirm::StartRun
            if app
                .plan
                .plan
                .as_ref()
                .is_some_and(|p| p.header.deletions.objects > 0) =>
        {
            app.overlay = Some(Overlay::Confirm(Confirm::Delete));
        }
        Confirm::StartRun => start_run(app, false, out),
        Confirm::Delete => start_run(app, true, out),
        Confirm::CancelAll => out.effects.push(Effect::Send(Command::CancelAll)),
        Confirm::Quit => stop_and_quit(app, out),
    }
}

/// Start the plan; `confirm_delete` lets a mirror plan's deletions run once every copy
/// succeeded (declined: the engine copies and reports them skipped). The run reads the plan
/// file as it goes; multipart sources learn their part layouts as they are fed.
pub(super) fn start_run(app: &mut App, confirm_delete: bool, out: &mut Out) {
    let Some(shown) = &app.plan.plan else { return };
    let deletions = shown.header.deletions.objects;
    if deletions > 0 && !confirm_delete {
        out.info(format!(
            "copies only: the plan's {deletions} deletions will not be made"
        ));
    }
    let transfer = &app.plan.transfer;
    match transfer.adaptive_concurrency {
        true => app.transfers.starting(transfer.concurrency_ceiling(), true),
        false => app.transfers.starting(transfer.concurrency, false),
    }
    app.transfers.bandwidth_limit = app.plan.transfer.bandwidth_limit.map(|rate| rate.0);
    out.effects.push(Effect::StartRun {
        file: shown.file.clone(),
        header: Box::new(shown.header.clone()),
        transfer: Box::new(app.plan.transfer.clone()),
        confirm_delete,
    });
    app.tab = Tab::Transfers;
}

/// Stop the run gracefully (the journal is kept) and quit once it has stopped.
fn stop_and_quit(app: &mut App, out: &mut Out) {
    out.effects.push(Effect::Send(Command::Stop));
    out.warn(
        "stopping: in-flight requests finish, the journal is kept for a resume (q again quits now)"
            .into(),
    );
    app.transfers.phase = transfers::Phase::Stopping;
    app.quit_when_stopped = true;
}

/// Ctrl-C or a signal: stop a running run, or quit; a second one quits at once.
pub(super) fn interrupt(app: &mut App, out: &mut Out) {
    match app.transfers.phase {
        transfers::Phase::Running | transfers::Phase::Starting => stop_and_quit(app, out),
        _ => out.effects.push(Effect::Quit),
    }
}

fn key_of(transfers: &transfers::Transfers, id: airlock_core::engine::ObjectId) -> &str {
    transfers.objects.get(&id).map_or("?", |o| o.key.as_str())
}
