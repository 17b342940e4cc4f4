//! The README's key table cannot drift from `assets/keybindings.toml`: the table between the
//! `<!-- keys -->` markers must be exactly the one generated here from the file (keys as the
//! file spells them) and the help texts the TUI shows. `AIRLOCK_BLESS=1 cargo test --test it
//! readme_keys` rewrites it after a binding changed.

use std::collections::BTreeMap;

const BEGIN: &str =
    "<!-- keys: generated from assets/keybindings.toml by tests/it/readme_keys.rs -->";
const END: &str = "<!-- /keys -->";

type KeyFile = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn root(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn keybindings() -> KeyFile {
    let text = std::fs::read_to_string(root("assets/keybindings.toml")).expect("keybindings");
    toml::from_str(&text).expect("assets/keybindings.toml parses")
}

fn title(section: &str) -> &'static str {
    match section {
        "global" => "Everywhere",
        "browser" => "Browser (1)",
        "plan" => "Plan (2)",
        "transfers" => "Transfers (3)",
        other => panic!("unknown section '[{other}]'"),
    }
}

/// One table per section, rows in the help overlay's order.
fn table(file: &KeyFile) -> String {
    let mut out = String::new();
    let mut section = "";
    for (context, name, text) in airlock::tui::keymap::actions() {
        if context != section {
            section = context;
            out.push_str(&format!(
                "\n**{}** (`[{context}]`)\n\n| keys | action | what it does |\n| --- | --- | --- |\n",
                title(context)
            ));
        }
        let keys = file
            .get(context)
            .and_then(|actions| actions.get(name))
            .map(|keys| {
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "(unbound)".into());
        out.push_str(&format!("| {keys} | `{name}` | {text} |\n"));
    }
    out.push('\n');
    out
}

#[test]
fn every_binding_is_known_to_the_tui() {
    let known: Vec<(&str, &str)> = airlock::tui::keymap::actions()
        .map(|(section, name, _)| (section, name))
        .collect();
    for (section, actions) in keybindings() {
        for name in actions.keys() {
            assert!(
                known.contains(&(section.as_str(), name.as_str())),
                "assets/keybindings.toml binds '{section}.{name}', which the TUI does not know"
            );
        }
    }
}

#[test]
fn readme_key_table_matches_keybindings() {
    let readme_path = root("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let file = keybindings();
    let expected = table(&file);
    let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no key table between '{BEGIN}' and '{END}'");
    };
    let start = begin + BEGIN.len();
    let actual = &readme[start..end];
    if actual == expected {
        return;
    }
    if std::env::var("AIRLOCK_BLESS").is_ok_and(|v| v == "1") {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(&readme_path, updated).expect("write README.md");
        return;
    }
    // Name what is missing first: the most likely drift is a new or renamed action.
    for (section, actions) in &file {
        for name in actions.keys() {
            let row = format!("| `{name}` |");
            let section_table = actual
                .split("\n**")
                .find(|t| t.contains(&format!("(`[{section}]`)")))
                .unwrap_or("");
            assert!(
                section_table.contains(&row),
                "README.md's key table lacks '{section}.{name}'; rerun with AIRLOCK_BLESS=1"
            );
        }
    }
    panic!(
        "README.md's key table differs from assets/keybindings.toml; rerun with \
         AIRLOCK_BLESS=1 or paste:\n{expected}"
    );
}
