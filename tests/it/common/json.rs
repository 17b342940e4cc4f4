//! JSON lines, as `airlock run --json` prints its events and a manifest holds its records:
//! [`json_lines`] parses every line (one that is not JSON fails the test and is named), and
//! [`events_named`] / [`run_summary`] pick events out of them; [`read_manifest`] reads a manifest.

use std::path::Path;

use serde_json::Value;

/// Every line of `text`, each parsed as JSON. Panics naming the first line that is not.
#[track_caller]
pub(crate) fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// The lines whose `event` is `name`, in order.
pub(crate) fn events_named<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines.iter().filter(|line| line["event"] == name).collect()
}

/// The `summary` of the one `run_finished` event. Panics unless there is exactly one.
#[track_caller]
pub(crate) fn run_summary(lines: &[Value]) -> &Value {
    let finished = events_named(lines, "run_finished");
    assert_eq!(
        finished.len(),
        1,
        "one run_finished event wanted, {} found in:\n{lines:#?}",
        finished.len()
    );
    &finished[0]["summary"]
}

/// A JSON-lines manifest (`run --manifest`): its header line and its records.
#[track_caller]
pub(crate) fn read_manifest(path: &Path) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read the manifest '{}': {e}", path.display()));
    let mut lines = json_lines(&text);
    assert!(
        !lines.is_empty(),
        "the manifest '{}' is empty",
        path.display()
    );
    let header = lines.remove(0);
    (header, lines)
}
