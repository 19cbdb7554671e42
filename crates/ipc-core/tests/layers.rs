//! The layers of ipc-core are true: an architecture test, in the manner
//! of ArchUnit.
//!
//! The crate's documentation (`src/lib.rs`, "# Layers") has a table of
//! layers, bottom up, each naming its modules. This test reads that table
//! and every module's source (its file, or its directory), collects each
//! `crate::…` path of the code (comments, string literals and the
//! `#[cfg(test)]` part left out: a module's tests may use what is above
//! it, as its users do) and fails
//!
//! * on a module that the table does not list, or lists twice, or a name
//!   in the table that is no module;
//! * on an arrow that runs up the table: a module that uses a module of a
//!   higher layer, naming both and their layers;
//! * on a cycle of modules that use each other, even within one layer.
//!
//! A path through a re-export of the crate's root (`crate::Error`) counts
//! as a use of the module it comes from (`error`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `text` without comments and the contents of string and character
/// literals (replaced by nothing), so that only code is left.
fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
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
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !ident(chars.get(i.wrapping_sub(1)))
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) == Some(&'"') {
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A character literal ('x', '\n', '\''), not a lifetime ('a).
            let end = if next == Some('\\') {
                chars[i + 2..]
                    .iter()
                    .position(|&c| c == '\'')
                    .map(|p| i + 2 + p)
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    out.push_str("' '");
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The code of a file up to its `#[cfg(test)]` part.
fn architecture(text: &str) -> String {
    let code = code(text);
    match code.find("#[cfg(test)]") {
        Some(at) => code[..at].to_owned(),
        None => code,
    }
}

/// The layers table of the crate's docs: module → (layer number, layer
/// name), and the order of the rows.
fn table(lib: &str) -> BTreeMap<String, (u32, String)> {
    let mut layers = BTreeMap::new();
    let mut in_section = false;
    for line in lib.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_section = doc == "# Layers";
            continue;
        }
        if !in_section || !doc.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = doc.trim_matches('|').split('|').map(str::trim).collect();
        let Some((number, name)) = cells[0].split_once(". ") else {
            continue;
        };
        let Ok(number) = number.parse::<u32>() else {
            continue;
        };
        for module in cells[1].split('`').skip(1).step_by(2) {
            let previous = layers.insert(module.to_owned(), (number, name.to_owned()));
            assert!(
                previous.is_none(),
                "the layers table of src/lib.rs lists `{module}` twice"
            );
        }
    }
    assert!(!layers.is_empty(), "src/lib.rs has no \"# Layers\" table");
    layers
}

/// The modules `lib.rs` declares (`mod x;`, `pub mod x;`).
fn declared(lib: &str) -> BTreeSet<String> {
    architecture(lib)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("mod "))?;
            Some(rest.trim_end_matches(';').trim().to_owned())
        })
        .collect()
}

/// What the root re-exports, by name: `pub use error::{Error, Result};`
/// gives `Error → error`, `Result → error`.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let code = architecture(lib);
    let mut names = BTreeMap::new();
    for statement in code.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        let items = items.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',') {
            let item = item.trim();
            let name = item.rsplit(" as ").next().unwrap_or(item).trim();
            if !name.is_empty() {
                names.insert(name.to_owned(), module.trim().to_owned());
            }
        }
    }
    names
}

/// The source files of `module`: `src/module.rs`, or every `.rs` below
/// `src/module/`.
fn files(module: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{module}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut found = Vec::new();
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    assert!(!found.is_empty(), "no source for the module `{module}`");
    found
}

/// The first segments of every `crate::` path in `code`: `crate::a::b`
/// gives `a`, `crate::{a, b::c}` gives `a` and `b`.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `$crate::` in a macro, or a longer name
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    found.insert(first.to_owned());
                }
            }
        } else {
            let first: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !first.is_empty() {
                found.insert(first);
            }
        }
    }
    found
}

/// Which modules each module uses, read from its code.
fn uses(
    modules: &BTreeSet<String>,
    root: &BTreeMap<String, String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for module in modules {
        let mut used = BTreeSet::new();
        for file in files(module) {
            for first in crate_paths(&architecture(&read(&file))) {
                let target = if modules.contains(&first) {
                    first
                } else if let Some(from) = root.get(&first) {
                    from.clone()
                } else {
                    panic!(
                        "{}: `crate::{first}` is neither a module nor a re-export of src/lib.rs",
                        file.display()
                    );
                };
                if &target != module {
                    used.insert(target);
                }
            }
        }
        graph.insert(module.clone(), used);
    }
    graph
}

/// A cycle of the graph, if it has one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut found = path[start..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                0 => {
                    if let Some(found) = visit(next, graph, state, path) {
                        return Some(found);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0
            && let Some(found) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(found);
        }
    }
    None
}

#[test]
fn the_table_lists_every_module_once() {
    let lib = read(&src().join("lib.rs"));
    let layers = table(&lib);
    let modules = declared(&lib);
    let unlisted: Vec<&String> = modules
        .iter()
        .filter(|m| !layers.contains_key(*m))
        .collect();
    assert!(
        unlisted.is_empty(),
        "src/lib.rs declares modules its layers table does not list: {unlisted:?}"
    );
    let unknown: Vec<&String> = layers.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        unknown.is_empty(),
        "the layers table of src/lib.rs names what is no module: {unknown:?}"
    );
}

#[test]
fn no_module_reaches_up_the_table() {
    let lib = read(&src().join("lib.rs"));
    let layers = table(&lib);
    let graph = uses(&declared(&lib), &reexports(&lib));
    let mut up = Vec::new();
    for (module, used) in &graph {
        let (mine, my_layer) = &layers[module];
        for other in used {
            let (theirs, their_layer) = &layers[other];
            if theirs > mine {
                up.push(format!(
                    "`{module}` (layer {mine}, {my_layer}) uses `{other}` (layer {theirs}, {their_layer})"
                ));
            }
        }
    }
    assert!(
        up.is_empty(),
        "arrows up the layers table:\n{}",
        up.join("\n")
    );
}

#[test]
fn no_modules_use_each_other_in_a_circle() {
    let lib = read(&src().join("lib.rs"));
    let graph = uses(&declared(&lib), &reexports(&lib));
    if let Some(found) = cycle(&graph) {
        panic!(
            "modules that use each other in a circle: {}",
            found.join(" → ")
        );
    }
}

#[test]
fn the_reader_sees_paths_and_skips_what_is_no_code() {
    let text = "use crate::{error::Error, os};\n// crate::trace in a comment\nlet s = \"crate::shm\"; let c = '\"'; crate::bus::watch(); $crate::output::line();\n#[cfg(test)]\nmod tests { use crate::value; }";
    let found = crate_paths(&architecture(text));
    let found: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(found, ["bus", "error", "os"]);
    let layers = table(
        "//! # Layers\n//! | layer | modules | what |\n//! | --- | --- | --- |\n//! | 2. up | [`a`](mod@a), `b` | x |\n//! | 1. down | [`c`] | y |\n//! # Next\n//! | 3. no | `d` | |",
    );
    assert_eq!(layers.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(layers["a"].0, 2);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    graph.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycle(&graph).unwrap(), ["a", "b", "a"]);
}
