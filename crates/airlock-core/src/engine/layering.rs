//! Test of the rule that the engine is a one-way chain: no module of the engine imports one
//! that imports it back. It reads the engine's sources (every module `mod.rs` declares outside
//! tests, with its sub-folder), finds each `super::...` / `crate::engine::...` path outside
//! comments, strings and test modules, and fails on a cycle, naming it. The engine's root
//! (`mod.rs`) declares every module, so a module that reaches for an item of the root (not of
//! a sibling) closes a cycle too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The name of the engine's root (`mod.rs`) in the graph.
const ROOT: &str = "engine";

/// One source file of a module: how deep it sits below the engine's folder (1 for
/// `engine/x.rs`, 2 for `engine/x/y.rs`), and its text.
struct SourceFile {
    depth: usize,
    text: String,
}

/// Module -> the engine modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The engine's modules, read from disk.
fn engine_sources() -> (String, BTreeMap<String, Vec<SourceFile>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let root = std::fs::read_to_string(dir.join("mod.rs")).expect("engine/mod.rs is readable");
    let mut modules = BTreeMap::new();
    for name in declared_modules(&root) {
        let mut files = vec![SourceFile {
            depth: 1,
            text: std::fs::read_to_string(dir.join(format!("{name}.rs")))
                .unwrap_or_else(|e| panic!("engine/{name}.rs: {e}")),
        }];
        collect(&dir.join(&name), 2, &mut files);
        modules.insert(name, files);
    }
    (root, modules)
}

/// Every `.rs` file under `dir` (which may not exist), `depth` levels below the engine.
fn collect(dir: &Path, depth: usize, files: &mut Vec<SourceFile>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("readable directory entry").path();
        if path.is_dir() {
            collect(&path, depth + 1, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("readable source");
            files.push(SourceFile { depth, text });
        }
    }
}

/// Names of the modules a file declares (`mod x;`, `pub mod x;`), leaving out test modules.
fn declared_modules(source: &str) -> Vec<String> {
    let code = without_tests(&strip(source));
    let mut names = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = find_word(rest, "mod") {
        let after = rest[at + 3..].trim_start();
        let name = ident(after);
        if after[name.len()..].trim_start().starts_with(';') && !name.is_empty() {
            names.push(name.to_string());
        }
        rest = &rest[at + 3..];
    }
    names
}

/// The import graph: the root imports every module it declares; each module imports what its
/// files name through `super::` or `crate::engine::`.
fn graph(root: &str, modules: &BTreeMap<String, Vec<SourceFile>>) -> Graph {
    let mut graph = Graph::new();
    let declared: BTreeSet<String> = declared_modules(root).into_iter().collect();
    graph.insert(ROOT.to_string(), declared.clone());
    for (name, files) in modules {
        let mut imports = BTreeSet::new();
        for file in files {
            for target in references(&file.text, file.depth) {
                let target = match target {
                    Some(module) if declared.contains(&module) => module,
                    // `self`, `*`, or an item defined or re-exported by the root.
                    _ => ROOT.to_string(),
                };
                if target != *name {
                    imports.insert(target);
                }
            }
        }
        graph.insert(name.clone(), imports);
    }
    graph
}

/// What each engine path in a file at `depth` names right below the engine: Some(first
/// segment), or None for `self`/`*`. Paths that stay inside the file's own module are left out.
fn references(source: &str, depth: usize) -> Vec<Option<String>> {
    let code = without_tests(&strip(source));
    let mut out = Vec::new();
    let mut take = |after: &str| match after.strip_prefix('{') {
        Some(group) => out.extend(group_heads(group)),
        None => out.push(head(after)),
    };
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        if !code[..i].ends_with(is_ident_char) {
            if let Some(after) = path_after(rest, &["crate", "engine"]) {
                take(after);
                i = code.len() - after.len();
                continue;
            }
            let (mut supers, mut after) = (0, rest);
            while let Some(next) = path_after(after, &["super"]) {
                supers += 1;
                after = next;
            }
            if supers > 0 {
                // `super` repeated `depth` times is the engine; fewer stay in the file's own
                // module, more leave the engine.
                if supers == depth {
                    take(after);
                }
                i = code.len() - after.len();
                continue;
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// `rest` after the segments `names`, each followed by `::`, if it starts with them.
fn path_after<'a>(rest: &'a str, names: &[&str]) -> Option<&'a str> {
    let mut rest = rest;
    for name in names {
        rest = rest.strip_prefix(name)?;
        if rest.starts_with(is_ident_char) {
            return None;
        }
        rest = rest.trim_start().strip_prefix("::")?.trim_start();
    }
    Some(rest)
}

/// The first segment of each entry of a `{a::b, c, self}` group (the text after the `{`).
fn group_heads(group: &str) -> Vec<Option<String>> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut entry_start = true;
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => entry_start = true,
            c if entry_start && !c.is_whitespace() => {
                heads.push(head(&group[at..]));
                entry_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// The first segment of a path: None for `self` and `*`.
fn head(path: &str) -> Option<String> {
    let name = ident(path);
    (!name.is_empty() && name != "self").then(|| name.to_string())
}

fn ident(text: &str) -> &str {
    let end = text.find(|c| !is_ident_char(c)).unwrap_or(text.len());
    &text[..end]
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Where `word` starts in `text` as a whole word.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let at = from + found;
        let before = text[..at].chars().next_back().is_some_and(is_ident_char);
        let after = text[at + word.len()..].starts_with(is_ident_char);
        if !before && !after {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// The code without comments, string and character literals (each becomes a space).
fn strip(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && matches!(next, Some('"' | '#')) && !prev_is_ident(&chars, i) {
            // A raw string: r"..." or r#"..."#.
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"' && chars[i + 1..].iter().take(hashes).all(|&h| h == '#') {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push(' ');
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\u{..}'); a lifetime has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(' ');
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && is_ident_char(chars[i - 1])
}

/// The code without `#[cfg(test)]` items (test modules and helpers): they may import anything.
fn without_tests(code: &str) -> String {
    let mut out = code.to_string();
    while let Some(at) = out.find("#[cfg(test)]") {
        let item = &out[at..];
        // The item ends at its `;` or at the brace closing its first block.
        let mut depth = 0;
        let mut end = item.len();
        for (i, c) in item.char_indices() {
            match c {
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(at..at + end, " ");
    }
    out
}

/// A cycle in `graph`, as the modules along it (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        graph: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(graph, node, &mut Vec::new(), &mut done))
}

#[test]
fn the_engine_has_no_import_cycle() {
    let (root, modules) = engine_sources();
    let graph = graph(&root, &modules);
    assert!(
        graph.len() > 10,
        "the engine's modules were not found: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "engine modules import each other in a cycle: {}. Move what they share into a module \
             below both (see each module's '//!' for what it may depend on).",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_three_paths_stay_apart_and_verify_needs_no_run() {
    let (root, modules) = engine_sources();
    let graph = graph(&root, &modules);
    let paths = ["single", "multipart", "split"];
    for path in paths {
        for other in paths.iter().filter(|&&o| o != path) {
            assert!(
                !graph[path].contains(*other),
                "'{path}' imports '{other}': the single, multipart and split paths share only \
                 modules below them; the scheduler chooses among them"
            );
        }
    }
    for run in ["context", "retry", "scheduler"] {
        assert!(
            !graph["verify"].contains(run),
            "'verify' imports '{run}': it takes a target client and a verify mode, not a run"
        );
    }
}

fn sources(list: &[(&str, &[(usize, &str)])]) -> BTreeMap<String, Vec<SourceFile>> {
    list.iter()
        .map(|(name, files)| {
            let files = files
                .iter()
                .map(|&(depth, text)| SourceFile {
                    depth,
                    text: text.to_string(),
                })
                .collect();
            (name.to_string(), files)
        })
        .collect()
}

const ROOT_AB: &str = "mod a;\npub mod b;\nmod c;\n#[cfg(test)]\nmod t;\nuse c::X;";

#[test]
fn a_cycle_through_a_group_import_is_found() {
    let modules = sources(&[
        ("a", &[(1, "use super::b::Thing;")]),
        (
            "b",
            &[(1, "use super::{\n    c::{X, Y},\n    a::Other,\n};")],
        ),
        ("c", &[(1, "use crate::error::Error;")]),
    ]);
    let graph = graph(ROOT_AB, &modules);
    assert_eq!(
        graph["engine"],
        ["a", "b", "c"].map(String::from).into(),
        "the test module is no node"
    );
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "a"]);
}

#[test]
fn an_item_of_the_root_closes_a_cycle_but_a_sibling_does_not() {
    let sibling = sources(&[
        ("a", &[(1, "fn f(o: &super::c::Options) {}")]),
        ("b", &[(1, "")]),
        ("c", &[(1, "")]),
    ]);
    assert_eq!(find_cycle(&graph(ROOT_AB, &sibling)), None);
    let root_item = sources(&[
        ("a", &[(1, "fn f(o: &super::EngineOptions) {}")]),
        ("b", &[(1, "use crate::engine::Event;")]),
        ("c", &[(1, "")]),
    ]);
    let cycle = find_cycle(&graph(ROOT_AB, &root_item)).unwrap();
    assert_eq!(cycle, ["a", "engine", "a"]);
}

#[test]
fn comments_strings_tests_and_own_submodules_are_no_imports() {
    let modules = sources(&[
        (
            "a",
            &[
                (
                    1,
                    "//! uses [`super::b`]\n/* super::b::X */\nconst S: &str = \"super::b\";\n\
                     const R: &str = r#\"crate::engine::b\"#;\nconst Q: char = '\"';\n\
                     fn f<'a>(x: &'a u8) {}\nmod inner;\nfn h() { super::super::b::x(); }\n\
                     #[cfg(test)]\nmod tests {\n    use super::super::b;\n}\n",
                ),
                (2, "use super::inner::Y;\nuse super::State;"),
            ],
        ),
        ("b", &[(1, "use super::a::X;")]),
        (
            "c",
            &[(
                2,
                "use super::super::a::Z;\nfn g() { crate::engine::b::h(); }",
            )],
        ),
    ]);
    let graph = graph(ROOT_AB, &modules);
    assert!(graph["a"].is_empty(), "{:?}", graph["a"]);
    assert_eq!(graph["c"], ["a", "b"].map(String::from).into());
    assert_eq!(find_cycle(&graph), None);
}
