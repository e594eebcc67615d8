//! The source tree keeps its shape: the engine (the library) never writes to
//! standard error and has no import cycle between its modules, and no file
//! grows past the size a reader takes in (tests aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file, in lines before its test module.
const MAX_LINES: usize = 550;

/// Every `.rs` file under `dir`, sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The code of a file before its `#[cfg(test)]` module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("\n#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The engine's files: all of src/ but the binary (main.rs and app/).
fn engine() -> Vec<(String, String)> {
    let src = src();
    sources(&src)
        .into_iter()
        .filter(|path| !path.starts_with(src.join("app")) && !path.ends_with("main.rs"))
        .map(|path| {
            let name = path.strip_prefix(&src).unwrap().display().to_string();
            (name, code(&path))
        })
        .collect()
}

#[test]
fn no_source_file_is_longer_than_a_reader_takes_in() {
    for path in sources(&src()) {
        if path.to_string_lossy().ends_with("_tests.rs") {
            continue;
        }
        let lines = code(&path).lines().count();
        assert!(
            lines <= MAX_LINES,
            "{} has {lines} lines of code (at most {MAX_LINES})",
            path.display()
        );
    }
}

#[test]
fn the_engine_never_writes_to_stderr() {
    for (name, code) in engine() {
        for needle in ["eprintln!", "eprint!", "stderr()", "from_raw_fd(2)"] {
            assert!(!code.contains(needle), "{name} writes to stderr ({needle})");
        }
    }
}

#[test]
fn the_engine_modules_import_each_other_without_a_cycle() {
    // Top-level module → the top-level modules it names through `crate::`.
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in engine() {
        let from = name
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        for (at, _) in code.match_indices("crate::") {
            let to: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !to.is_empty() && to != from {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    assert!(
        edges
            .get("pipeline")
            .is_some_and(|to| to.contains("decode")),
        "the scan sees the imports: {edges:?}"
    );
    // Depth-first search; a module met again while still open closes a cycle.
    fn visit(
        module: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        open: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(at) = open.iter().position(|m| m == module) {
            panic!("import cycle: {} -> {module}", open[at..].join(" -> "));
        }
        open.push(module.to_string());
        for next in edges.get(module).into_iter().flatten() {
            visit(next, edges, open, done);
        }
        open.pop();
        done.insert(module.to_string());
    }
    let mut done = BTreeSet::new();
    for module in edges.keys() {
        visit(module, &edges, &mut Vec::new(), &mut done);
    }
}
