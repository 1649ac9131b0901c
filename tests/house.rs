//! The house rules of the project's STYLE.md, checked on the source itself:
//! layers import one way (no import circle between modules, nor between the
//! files of one module), no function runs past 100 lines, and nothing past
//! `cli` and `main` sees clap's `ArgMatches`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The code of a file without its `#[cfg(test)]` module and comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate's top-level modules `text` names: `crate::x` paths and the
/// names inside `crate::{...}` groups.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.insert(ident(item.trim()));
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m.chars().next().is_some_and(|c| c.is_lowercase()));
    out
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level module a file belongs to (`src/flow/close.rs` -> `flow`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// Which modules each module may import (besides itself).
const ALLOWED: &[(&str, &[&str])] = &[
    ("values", &[]),
    ("error", &[]),
    ("decode", &["values", "error"]),
    ("flow", &["decode", "values", "error"]),
    ("capture", &["values", "error"]),
    ("render", &["decode", "flow", "values", "error"]),
    ("lab", &["values", "error"]),
    ("impair", &["values", "error"]),
    ("sockdiag", &["values", "error"]),
    (
        "scenario",
        &[
            "capture", "decode", "flow", "impair", "lab", "render", "sockdiag", "values", "error",
        ],
    ),
    ("cli", &["lab", "render", "decode", "values", "error"]),
];

#[test]
fn layers_import_one_way() {
    let mut bad = Vec::new();
    for path in rust_files(&src()) {
        let module = module_of(&path);
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else {
            continue; // cmd, lib.rs, main.rs: the wiring may use anything
        };
        for r in crate_refs(&code(&path)) {
            if r != module && !allowed.contains(&r.as_str()) {
                bad.push(format!("{} imports crate::{r}", path.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "layers import the wrong way:\n{}",
        bad.join("\n")
    );
}

/// Files of one folder that name each other through `super::`.
fn sibling_edges(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut names = BTreeSet::new();
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = if p.is_dir() {
            p.file_name().unwrap().to_string_lossy().to_string()
        } else if p.extension().is_some_and(|x| x == "rs") {
            p.file_stem().unwrap().to_string_lossy().to_string()
        } else {
            continue;
        };
        if name != "mod" {
            names.insert(name.clone());
            files.push((name, p));
        }
    }
    let mut edges = BTreeMap::new();
    for (name, p) in files {
        let text = if p.is_dir() {
            rust_files(&p)
                .iter()
                .map(|f| code(f))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            code(&p)
        };
        let mut to = BTreeSet::new();
        for (i, _) in text.match_indices("super::") {
            let target = ident(&text[i + "super::".len()..]);
            if names.contains(&target) && target != name {
                to.insert(target);
            }
        }
        edges.insert(name, to);
    }
    edges
}

fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            return Some(path[i..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circle_among_the_files_of_a_module() {
    fn dirs(d: &Path, out: &mut Vec<PathBuf>) {
        out.push(d.to_path_buf());
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.path().is_dir() {
                dirs(&e.path(), out);
            }
        }
    }
    let mut all = Vec::new();
    dirs(&src(), &mut all);
    for d in all {
        if let Some(c) = find_cycle(&sibling_edges(&d)) {
            panic!("import circle in {}: {}", d.display(), c.join(" -> "));
        }
    }
}

/// Functions longer than `max` lines: (file, line, name, length). A
/// function starts at a line holding `fn name(` and ends at the first line
/// after it that closes at the same indentation.
fn long_functions(max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for path in rust_files(&src()) {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            let is_fn = t.starts_with("fn ")
                || t.contains(" fn ") && !t.starts_with("//") && !t.contains("=>");
            if !is_fn || t.ends_with(';') || !line.contains('(') {
                continue;
            }
            let close = " ".repeat(indent) + "}";
            let end = lines[i + 1..]
                .iter()
                .position(|l| l.starts_with(&close) && l.len() - l.trim_start().len() == indent);
            if let Some(len) = end.map(|e| e + 2).filter(|&len| len > max) {
                out.push(format!("{}:{} {} lines: {}", path.display(), i + 1, len, t));
            }
        }
    }
    out
}

#[test]
fn no_function_over_100_lines() {
    let long = long_functions(100);
    assert!(
        long.is_empty(),
        "split by what each part owns:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_function_length_check_sees_functions() {
    // A check that finds nothing because it cannot see would pass forever.
    assert!(!long_functions(40).is_empty());
}

#[test]
fn nothing_past_cli_sees_arg_matches() {
    let mut bad = Vec::new();
    for path in rust_files(&src()) {
        let rel = path.strip_prefix(src()).unwrap();
        if rel.starts_with("cli") || rel == Path::new("main.rs") {
            continue;
        }
        if code(&path).contains("ArgMatches") {
            bad.push(path.display().to_string());
        }
    }
    assert!(bad.is_empty(), "ArgMatches outside src/cli: {bad:?}");
}

#[test]
fn domain_types_are_free_of_clap() {
    let mut bad = Vec::new();
    for path in rust_files(&src()) {
        let rel = path.strip_prefix(src()).unwrap();
        if rel.starts_with("cli") || rel.starts_with("cmd") || rel == Path::new("main.rs") {
            continue;
        }
        if code(&path).contains("clap::") {
            bad.push(path.display().to_string());
        }
    }
    assert!(bad.is_empty(), "clap outside src/cli and src/cmd: {bad:?}");
}
