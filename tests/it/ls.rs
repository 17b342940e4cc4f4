//! `airlock ls` against the embedded servers: folders as PRE lines, `--recursive`, an explicit
//! prefix, the target side with its own keys, and pagination past 1,000 keys.

use crate::common::*;

/// `ls` output with each line's leading `YYYY-MM-DD HH:MM:SS` replaced by `DATE` (after
/// checking it looks like one), so the rest can be compared exactly.
fn without_dates(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| {
            let (head, rest) = line.split_at(line.len().min(19));
            let is_date = head.len() == 19
                && head.char_indices().all(|(i, c)| match i {
                    4 | 7 => c == '-',
                    10 => c == ' ',
                    13 | 16 => c == ':',
                    _ => c.is_ascii_digit(),
                });
            if is_date {
                format!("DATE{rest}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// A source tree under `in/` with nested folders and awkward key names.
async fn source_tree(servers: &TwoServers) {
    for (key, body) in [
        ("in/a.txt", "alpha"),
        ("in/sub/b.txt", "bravo!"),
        ("in/sub/deeper/c.txt", "charlie"),
        ("in/other/d.txt", "delta"),
        ("in/with space.txt", "space"),
        ("in/ünï cødé.txt", "unicode"),
        ("in/plus+sign.txt", "plus"),
        ("in/per%cent.txt", "percent"),
        ("in/empty.bin", ""),
        ("outside.txt", "not under the prefix"),
    ] {
        servers.source.put(key, body.as_bytes().to_vec()).await;
    }
}

fn in_prefix(servers: &TwoServers) -> std::path::PathBuf {
    servers
        .config()
        .prefixes("in/", "out/")
        .write(&servers.sandbox)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_shows_folders_then_objects() {
    let servers = TwoServers::start().await;
    source_tree(&servers).await;
    let config = in_prefix(&servers);

    let out = servers.airlock_with(&config, &["ls", "source"]).run().await;

    out.expect_code(0);
    assert_eq!(
        without_dates(&out.stdout),
        "                           PRE  in/other/\n\
         \x20                          PRE  in/sub/\n\
         DATE        5 B  in/a.txt\n\
         DATE        0 B  in/empty.bin\n\
         DATE        7 B  in/per%cent.txt\n\
         DATE        4 B  in/plus+sign.txt\n\
         DATE        5 B  in/with space.txt\n\
         DATE        7 B  in/ünï cødé.txt\n\
         6 objects, 28 B in s3://source-bucket/in/ (2 folders)\n"
    );
    assert_eq!(out.stderr, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_recursive_and_explicit_prefix() {
    let servers = TwoServers::start().await;
    source_tree(&servers).await;
    let config = in_prefix(&servers);

    let out = servers
        .airlock_with(&config, &["ls", "source", "--recursive"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        without_dates(&out.stdout),
        "DATE        5 B  in/a.txt\n\
         DATE        0 B  in/empty.bin\n\
         DATE        5 B  in/other/d.txt\n\
         DATE        7 B  in/per%cent.txt\n\
         DATE        4 B  in/plus+sign.txt\n\
         DATE        6 B  in/sub/b.txt\n\
         DATE        7 B  in/sub/deeper/c.txt\n\
         DATE        5 B  in/with space.txt\n\
         DATE        7 B  in/ünï cødé.txt\n\
         9 objects, 46 B in s3://source-bucket/in/\n"
    );

    let out = servers
        .airlock_with(&config, &["ls", "source", "in/sub/"])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        without_dates(&out.stdout),
        "                           PRE  in/sub/deeper/\n\
         DATE        6 B  in/sub/b.txt\n\
         1 objects, 6 B in s3://source-bucket/in/sub/ (1 folders)\n"
    );

    // An empty prefix lists the bucket root, where the prefix itself is a folder.
    let out = servers
        .airlock_with(&config, &["ls", "source", ""])
        .run()
        .await;
    out.expect_code(0);
    assert_eq!(
        without_dates(&out.stdout),
        "                           PRE  in/\n\
         DATE       20 B  outside.txt\n\
         1 objects, 20 B in s3://source-bucket/ (1 folders)\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_target_uses_the_target_keys() {
    let servers = TwoServers::start().await;
    servers
        .target
        .put("out/already.txt", b"there".to_vec())
        .await;
    let config = in_prefix(&servers);

    let out = servers.airlock_with(&config, &["ls", "target"]).run().await;

    out.expect_code(0);
    assert_eq!(
        without_dates(&out.stdout),
        "DATE        5 B  out/already.txt\n\
         1 objects, 5 B in s3://target-bucket/out/\n"
    );
    out.assert_never_prints(TARGET_SECRET_KEY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ls_and_plan_page_past_1000_keys() {
    const KEYS: usize = 1_234;
    let servers = TwoServers::start().await;
    let objects = (0..KEYS)
        .map(|i| (format!("many/key-{i:05}.txt"), format!("{i}").into_bytes()))
        .collect();
    servers.source.put_many(objects, 16).await;
    let config = servers
        .config()
        .prefixes("many/", "copy/")
        .write(&servers.sandbox);

    let out = servers
        .airlock_with(&config, &["ls", "source", "--recursive"])
        .run()
        .await;
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), KEYS + 1, "one line per key and a summary");
    let listed: Vec<&str> = lines[..KEYS]
        .iter()
        .map(|l| l.rsplit("  ").next().unwrap())
        .collect();
    let expected: Vec<String> = (0..KEYS).map(|i| format!("many/key-{i:05}.txt")).collect();
    assert_eq!(listed, expected, "every key once, in order");
    // Sizes: 10 keys of 1 byte, 90 of 2, 900 of 3, 234 of 4: 3,826 bytes.
    assert_eq!(
        lines[KEYS],
        "1234 objects, 3.7 KiB in s3://source-bucket/many/"
    );

    let out = servers
        .airlock_with(&config, &["plan", "--summary"])
        .run()
        .await;
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("\n  single         1234 objects     3.7 KiB     1234 parts\n"),
        "{}",
        out.stdout
    );
}
