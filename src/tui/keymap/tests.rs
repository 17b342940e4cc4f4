//! Keymap tests: the shipped defaults, overrides, mistakes in the user file, key text.

use crossterm::event::{KeyCode, KeyModifiers};

use super::*;

fn key(text: &str) -> Key {
    Key::parse(text).unwrap()
}

#[test]
fn defaults_parse_cleanly_and_bind_every_action() {
    let (keymap, warnings) = Keymap::from_toml(None);
    assert!(warnings.is_empty(), "{warnings:?}");
    for (context, name, ..) in ACTIONS {
        assert!(
            keymap
                .keys
                .get(&(*context, *name))
                .is_some_and(|k| !k.is_empty()),
            "{}.{name} has no default key",
            context.section()
        );
    }
}

#[test]
fn context_bindings_win_over_global_ones() {
    let keymap = Keymap::default();
    assert_eq!(
        keymap.action(Context::Browser, key("tab")),
        Some(Action::SwitchPane)
    );
    assert_eq!(keymap.action(Context::Plan, key("q")), Some(Action::Quit));
    assert_eq!(
        keymap.action(
            Context::Transfers,
            Key::new(KeyCode::Char('R'), KeyModifiers::SHIFT)
        ),
        Some(Action::RetryFailed)
    );
    assert_eq!(
        keymap.action(
            Context::Global,
            Key::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
        ),
        Some(Action::Interrupt)
    );
}

#[test]
fn user_file_overrides_per_action_and_warns_about_mistakes() {
    let user = r#"
        [browser]
        select = ["x"]
        teleport = ["t"]
        sort = ["ctrl-nope"]
        [nowhere]
        up = ["u"]
    "#;
    let (keymap, warnings) = Keymap::from_toml(Some(user));
    assert_eq!(
        keymap.action(Context::Browser, key("x")),
        Some(Action::Select)
    );
    assert_eq!(keymap.action(Context::Browser, key("space")), None);
    assert_eq!(
        keymap.action(Context::Browser, key("s")),
        Some(Action::Sort)
    );
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("'browser.teleport'")));
    assert!(warnings.iter().any(|w| w.contains("'ctrl-nope'")));
    assert!(warnings.iter().any(|w| w.contains("'[nowhere]'")));
}

#[test]
fn broken_user_file_falls_back_to_defaults() {
    let (keymap, warnings) = Keymap::from_toml(Some("[browser\n"));
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        keymap.action(Context::Browser, key("space")),
        Some(Action::Select)
    );
}

#[test]
fn keys_round_trip_through_text() {
    for text in ["q", "G", "ctrl-r", "enter", "space", "f5", "-", "+"] {
        let k = key(text);
        assert_eq!(Key::parse(&k.to_string()).unwrap_or(k), k, "{text}");
    }
    assert_eq!(key("shift-tab"), Key::plain(KeyCode::BackTab));
    assert!(Key::parse("hyper-q").is_err());
}

#[test]
fn help_lists_every_context_with_keys() {
    let help = Keymap::default().help();
    assert_eq!(help.len(), 4);
    assert!(
        help[1]
            .entries
            .iter()
            .any(|(k, t)| k == "↑ k" && *t == "move up")
    );
}
