//! [`Config`]: the one builder for every config file the tests write or parse. A test starts
//! from a base ([`Config::minimal`], or [`TwoServers::config`](super::TwoServers::config) and
//! [`Rig::config`](super::engine::Rig::config) for configs that reach real servers), changes
//! what it is about (a key, a line, a whole table), and writes, parses or prints the text.
//!
//! The text is tables in order, each a `[header]` and its lines, one blank line apart. Lines are
//! kept as written, so a test can also write what no valid config holds (a key twice, junk).

use std::path::PathBuf;

use airlock_core::config::{Settings, parse_settings};

use super::Sandbox;

/// A config file's text, table by table. `Config::default()` is empty: no tables at all.
#[derive(Debug, Clone, Default)]
pub(crate) struct Config {
    /// Lines before the first table.
    top: Vec<String>,
    /// `(header, lines)` in the order they are written.
    tables: Vec<(String, Vec<String>)>,
}

impl Config {
    /// The smallest valid config: `[source]` and `[target]` with only their buckets
    /// (`source-bucket`, `target-bucket`).
    pub(crate) fn minimal() -> Config {
        Config::default()
            .set_str("source", "bucket", super::SOURCE_BUCKET)
            .set_str("target", "bucket", super::TARGET_BUCKET)
    }

    /// Both sides at S3 endpoints: the test buckets with empty prefixes, path style,
    /// `us-east-1`, and each side's static test keys in its `credentials` table. The target's
    /// write mode is pinned to `checksum = "trailer"`: tests that inject faults into, or count,
    /// the target's requests must not have the `auto` probe's PUT among them. Tests of `auto`
    /// set it (`set_str("target", "checksum", "auto")` or `unset("target", "checksum")`).
    pub(crate) fn endpoints(source_endpoint: &str, target_endpoint: &str) -> Config {
        let mut config = Config::default();
        for (side, bucket, endpoint, access_key, secret_key) in [
            (
                "source",
                super::SOURCE_BUCKET,
                source_endpoint,
                super::SOURCE_ACCESS_KEY,
                super::SOURCE_SECRET_KEY,
            ),
            (
                "target",
                super::TARGET_BUCKET,
                target_endpoint,
                super::TARGET_ACCESS_KEY,
                super::TARGET_SECRET_KEY,
            ),
        ] {
            config = config
                .set_str(side, "bucket", bucket)
                .set_str(side, "prefix", "")
                .set_str(side, "region", "us-east-1")
                .set_str(side, "endpoint_url", endpoint)
                .set(side, "force_path_style", "true")
                .keys(side, access_key, secret_key);
        }
        config.set_str("target", "checksum", "trailer")
    }

    /// `[side.credentials]` becomes `kind = "static"` with these keys.
    pub(crate) fn keys(self, side: &str, access_key: &str, secret_key: &str) -> Config {
        self.table(
            &format!("{side}.credentials"),
            &[
                "kind = \"static\"".to_string(),
                format!("access_key_id = {}", toml_str(access_key)),
                format!("secret_access_key = {}", toml_str(secret_key)),
            ],
        )
    }

    /// `[side.credentials]` becomes `kind = "ssm"`: the keys are the two parameters, read with
    /// the target's credentials from the SSM endpoint at `endpoint` (moto) in `us-east-1`.
    pub(crate) fn ssm_keys(
        self,
        side: &str,
        endpoint: &str,
        access_key_parameter: &str,
        secret_parameter: &str,
    ) -> Config {
        let table = format!("{side}.credentials");
        self.table(&table, &["kind = \"ssm\"", "via = \"target\""])
            .set_str(&table, "access_key_id_parameter", access_key_parameter)
            .set_str(&table, "secret_access_key_parameter", secret_parameter)
            .set_str(&table, "region", "us-east-1")
            .set_str(&table, "endpoint_url", endpoint)
    }

    /// `source.prefix` and `target.prefix`.
    pub(crate) fn prefixes(self, source: &str, target: &str) -> Config {
        self.set_str("source", "prefix", source)
            .set_str("target", "prefix", target)
    }

    /// Lines added to `[transfer]`.
    pub(crate) fn transfer(self, lines: &[impl AsRef<str>]) -> Config {
        self.lines("transfer", lines)
    }

    /// `key = value` in `[table]`, `value` written as TOML (`"5MiB"`, `8`, `true`): replaces
    /// the key's line, or adds one (and the table, as [`Self::line`] does).
    pub(crate) fn set(self, table: &str, key: &str, value: &str) -> Config {
        self.unset(table, key)
            .line(table, &format!("{key} = {value}"))
    }

    /// [`Self::set`] with a TOML string holding `value` (quoted and escaped).
    pub(crate) fn set_str(self, table: &str, key: &str, value: &str) -> Config {
        self.set(table, key, &toml_str(value))
    }

    /// Removes `key`'s lines from `[table]`.
    pub(crate) fn unset(mut self, table: &str, key: &str) -> Config {
        if let Some(lines) = self.find(table) {
            lines.retain(|line| line.split('=').next().map(str::trim) != Some(key));
        }
        self
    }

    /// A line as written (split at newlines) at the end of `[table]`. A table that is not there
    /// yet is added: a sub-table after its parent's family, others at the end. A key already in
    /// the table stays: that writes it twice.
    pub(crate) fn line(self, table: &str, line: &str) -> Config {
        self.lines(table, &[line])
    }

    /// [`Self::line`] for each of `lines`.
    pub(crate) fn lines(mut self, table: &str, lines: &[impl AsRef<str>]) -> Config {
        let split = lines
            .iter()
            .flat_map(|l| l.as_ref().split('\n'))
            .map(str::to_string);
        match self.find(table) {
            Some(body) => body.extend(split),
            None => {
                let at = self.new_table_at(table);
                self.tables.insert(at, (table.to_string(), split.collect()));
            }
        }
        self
    }

    /// `[table]` holds exactly `lines` (added as [`Self::line`] adds it).
    pub(crate) fn table(self, table: &str, lines: &[impl AsRef<str>]) -> Config {
        self.clear(table).lines(table, lines)
    }

    /// `[table]` stays, with no lines. (An empty `[target.credentials]` still makes `[target]`
    /// exist, as TOML says.)
    pub(crate) fn clear(mut self, table: &str) -> Config {
        if let Some(body) = self.find(table) {
            body.clear();
        }
        self
    }

    /// `[table]` is gone, header and lines.
    pub(crate) fn without(mut self, table: &str) -> Config {
        self.tables.retain(|(name, _)| name != table);
        self
    }

    /// A line before the first table (split at newlines).
    pub(crate) fn top(mut self, line: &str) -> Config {
        self.top.extend(line.split('\n').map(str::to_string));
        self
    }

    /// Where a new `[table]` goes: after its parent's family (`source.credentials` after
    /// `[source]` and its other sub-tables), else at the end.
    fn new_table_at(&self, table: &str) -> usize {
        let Some((parent, _)) = table.split_once('.') else {
            return self.tables.len();
        };
        let family = |name: &str| {
            name == parent
                || name
                    .strip_prefix(parent)
                    .is_some_and(|r| r.starts_with('.'))
        };
        self.tables
            .iter()
            .rposition(|(name, _)| family(name))
            .map_or(self.tables.len(), |last| last + 1)
    }

    fn find(&mut self, table: &str) -> Option<&mut Vec<String>> {
        self.tables
            .iter_mut()
            .find(|(name, _)| name == table)
            .map(|(_, lines)| lines)
    }

    /// The file's text.
    pub(crate) fn text(&self) -> String {
        let mut text = String::new();
        for line in &self.top {
            text.push_str(line);
            text.push('\n');
        }
        for (i, (name, lines)) in self.tables.iter().enumerate() {
            if i > 0 || !self.top.is_empty() {
                text.push('\n');
            }
            text.push_str(&format!("[{name}]\n"));
            for line in lines {
                text.push_str(line);
                text.push('\n');
            }
        }
        text
    }

    /// Writes the text as a new config file in `sandbox` (mode 0600) and returns its path.
    pub(crate) fn write(&self, sandbox: &Sandbox) -> PathBuf {
        sandbox.write_config(&self.text())
    }

    /// The validated settings; panics with the message and the text when refused.
    #[track_caller]
    pub(crate) fn settings(&self) -> Settings {
        let text = self.text();
        parse_settings(&text, "test.toml")
            .unwrap_or_else(|e| panic!("the test config is refused: {e}\n{text}"))
    }
}

/// A TOML basic string (quoted and escaped).
fn toml_str(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}
