//! Overlay snapshots: help (generated from the keymap) per tab, the message log, the quit
//! confirmation.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::*;
use crate::tui::app::{Level, Overlay};

#[test]
fn help_on_the_browser() {
    let mut app = browser_with_badges((80, 24));
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    assert_snapshot!("help_browser", screen(&app));
    key(&mut app, KeyCode::Char('j'));
    assert_eq!(app.overlay, Some(Overlay::Help), "other keys keep it open");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.overlay, None);
    key(&mut app, KeyCode::Char('?'));
    assert!(
        key(&mut app, KeyCode::Char('q')).is_empty(),
        "q closes help, not the app"
    );
    assert_eq!(app.overlay, None);
}

#[test]
fn help_on_transfers_follows_user_bindings() {
    let (keymap, _) = Keymap::from_toml(Some("[transfers]\npause = [\"space\"]\n"));
    let mut app = App::new(settings(), keymap, (100, 30));
    key(&mut app, KeyCode::Char('3'));
    key(&mut app, KeyCode::Char('?'));
    assert_snapshot!("help_transfers", screen(&app));
}

#[test]
fn help_on_the_plan() {
    let mut app = app((80, 24));
    app.tab = crate::tui::app::Tab::Plan;
    key(&mut app, KeyCode::Char('?'));
    assert_snapshot!("help_plan", screen(&app));
}

#[test]
fn message_log() {
    let mut app = browser_with_badges((80, 24));
    at(&mut app, 3.0);
    app.push_log(Level::Info, "plan saved to 'airlock-plan.json'".into());
    at(&mut app, 65.0);
    app.push_log(
        Level::Warn,
        "concurrency 16: 503 SlowDown: backing off".into(),
    );
    at(&mut app, 70.0);
    app.push_log(
        Level::Error,
        "source: ListObjectsV2 on 's3://acme-exports/daily/' failed: AccessDenied (HTTP 403)"
            .into(),
    );
    key(&mut app, KeyCode::Char('L'));
    assert_snapshot!("log_overlay", screen(&app));
}

#[test]
fn quit_during_a_run_asks() {
    let mut app = super::transfers::running((80, 24));
    key(&mut app, KeyCode::Char('q'));
    assert_snapshot!("quit_confirm", screen(&app));
}

#[test]
fn every_screen_survives_tiny_and_odd_sizes() {
    let mut apps = vec![
        app((80, 24)),
        browser_with_badges((80, 24)),
        super::plan::planned((80, 24)),
        super::transfers::running((80, 24)),
    ];
    let mut help = browser_with_badges((80, 24));
    key(&mut help, KeyCode::Char('?'));
    apps.push(help);
    let mut confirm = super::plan::planned((80, 24));
    key(&mut confirm, KeyCode::Char('g'));
    apps.push(confirm);
    for mut app in apps {
        for tab in ['1', '2', '3'] {
            if app.overlay.is_none() {
                key(&mut app, KeyCode::Char(tab));
            }
            for (w, h) in [(1, 1), (12, 4), (30, 8), (45, 12), (61, 17), (200, 60)] {
                update(&mut app, Msg::Resize(w, h));
                let _ = screen(&app);
            }
        }
    }
}

#[test]
fn news_fades_from_the_status_line_but_warnings_stay_longer() {
    let mut app = browser_with_badges((80, 24));
    at(&mut app, 1.0);
    app.push_log(Level::Info, "plan saved to 'x.json'".into());
    at(&mut app, 10.0);
    assert!(screen(&app).contains("plan saved"));
    at(&mut app, 20.0);
    assert!(!screen(&app).contains("plan saved"));
    app.push_log(Level::Error, "cannot save the plan".into());
    at(&mut app, 100.0);
    assert!(screen(&app).contains("cannot save the plan"));
}
