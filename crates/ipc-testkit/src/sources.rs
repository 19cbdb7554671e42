//! Reading the workspace's own Rust sources, for tests that hold the code
//! to its architecture (ipc-core's layers, the workspace's import graph,
//! the one blocking layer): code without its comments and literals, the
//! `crate::`/`super::`/`self::` paths a file uses, the file each path
//! leads to, and cycles in the graph that makes.
//!
//! ```
//! use ipc_testkit::sources::{code, crate_paths};
//!
//! let text = "use crate::{a::X, b}; // crate::c\nlet s = \"crate::d\";";
//! let paths = crate_paths(&code(text));
//! assert_eq!(paths.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// `text` with its comments, string literals and character literals
/// blanked (their lines and columns kept), so that only code is looked at:
/// a `crate::` in a doc comment or a message is no use of that module, and
/// `std::fs` in a string no use of the file system (the grader's policy).
pub fn code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && raw_start(&chars, i) {
            // r"…", r#"…"#
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            out.push('"');
            i += 2 + hashes;
            while i < chars.len() && !chars[i..].starts_with(&close.chars().collect::<Vec<_>>()) {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.push('"');
            i += close.len();
        } else if c == '"' {
            out.push('"');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c == '\'' && char_literal_end(&chars, i).is_some() {
            let end = char_literal_end(&chars, i).unwrap_or(i);
            out.push_str(&" ".repeat(end - i + 1));
            i = end + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// True if the `r` at `i` starts a raw string (not the end of a name).
fn raw_start(chars: &[char], i: usize) -> bool {
    let before = i.checked_sub(1).map(|j| chars[j]);
    let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
        && chars.get(i + 1 + hashes) == Some(&'"')
}

/// The index of the closing `'` of a character literal starting at `i`
/// (`'a'`, `'\n'`, `'\u{1F600}'`), or `None` for a lifetime (`'a`).
fn char_literal_end(chars: &[char], i: usize) -> Option<usize> {
    match chars.get(i + 1)? {
        '\\' => (i + 3..chars.len().min(i + 12)).find(|&j| chars[j] == '\''),
        _ => (chars.get(i + 2) == Some(&'\'')).then_some(i + 2),
    }
}

/// `code` up to its `#[cfg(test)]` part: what a module is made of, as
/// opposed to its tests (which may use what is above it, as its users
/// do).
pub fn without_tests(code: &str) -> &str {
    code.find("#[cfg(test)]").map_or(code, |at| &code[..at])
}

/// The first segments of every `crate::` path in `code`: `crate::a::b`
/// gives `a`, `crate::{a, b::c}` gives `a` and `b`. (`$crate::` in a
/// macro is the crate of the macro's user: not counted.)
pub fn crate_paths(code: &str) -> BTreeSet<String> {
    paths_after(code, "crate::")
        .into_iter()
        .filter_map(|path| path.first().cloned())
        .collect()
}

/// Every path that follows `prefix` (`crate::`, `super::`, `self::`) in
/// `code`, as its segments: `crate::a::b::C` gives `[a, b, C]`,
/// `crate::{a::X, b}` gives `[a, X]` and `[b]`. A `prefix` that ends a
/// longer name (`$crate::`, `my_crate::`) is not counted.
pub fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(prefix) {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let segments = segments(item.trim());
                if !segments.is_empty() {
                    found.push(segments);
                }
            }
        } else {
            let segments = segments(rest);
            if !segments.is_empty() {
                found.push(segments);
            }
        }
    }
    found
}

/// The leading `a::b::C` of `text`, as segments.
fn segments(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = text;
    loop {
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            break;
        }
        rest = &rest[name.len()..];
        segments.push(name);
        match rest.strip_prefix("::") {
            Some(after) => rest = after,
            None => break,
        }
    }
    segments
}

/// Every `.rs` file below `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The file-level import graph of one crate: for each file of `src`, the
/// other files of the crate whose modules it names through `crate::`,
/// `super::` or `self::` paths, the paths that cross or climb the module
/// tree. A module's use of the children it declares (`mod extras;` then
/// `extras::…`) is not counted: the child is a part of it. A name that a
/// module only re-exports (`pub use child::Name;`) leads to the file that
/// defines it, and an exported macro (`crate::say!`) to the file of its
/// `macro_rules!`. Tests (`#[cfg(test)]`) are left out.
pub fn file_graph(src: &Path) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let files = rust_files(src);
    let texts: BTreeMap<&PathBuf, String> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            (file, without_tests(&code(&text)).to_owned())
        })
        .collect();
    let module_of = |file: &Path| -> Vec<String> {
        let relative = file.strip_prefix(src).unwrap_or(file);
        let mut parts: Vec<String> = relative
            .with_extension("")
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        parts
    };
    let file_of_module = |module: &[String], root: &Path| -> Option<PathBuf> {
        if module.is_empty() {
            return Some(root.to_owned());
        }
        let joined = module.join("/");
        [
            src.join(format!("{joined}.rs")),
            src.join(&joined).join("mod.rs"),
        ]
        .into_iter()
        .find(|candidate| files.contains(candidate))
    };
    // The module that `pub use child::…Name…;` in `file` takes `name`
    // from, if it does.
    let reexported_from = |file: &Path, name: &str| -> Option<String> {
        let code = texts.get(&file.to_path_buf())?;
        code.split(';').find_map(|statement| {
            let rest = statement.trim().strip_prefix("pub use ")?;
            let (child, items) = rest.split_once("::")?;
            let listed = items
                .trim()
                .trim_start_matches('{')
                .trim_end_matches('}')
                .split(',')
                .any(|item| item.trim().rsplit("::").next() == Some(name));
            listed.then(|| child.trim().to_owned())
        })
    };
    let macro_file = |name: &str| -> Option<PathBuf> {
        texts
            .iter()
            .find(|(_, code)| code.contains(&format!("macro_rules! {name}")))
            .map(|(file, _)| (*file).clone())
    };
    // The file a path of segments from the crate's root leads to.
    let resolve = |path: &[String], root: &Path| -> Option<PathBuf> {
        let mut module: Vec<String> = Vec::new();
        let mut file = root.to_owned();
        for (at, segment) in path.iter().enumerate() {
            let mut longer = module.clone();
            longer.push(segment.clone());
            if let Some(deeper) = file_of_module(&longer, root) {
                module = longer;
                file = deeper;
                continue;
            }
            // Not a module: an item of `file`, or one it re-exports.
            if let Some(child) = reexported_from(&file, segment) {
                let mut from = module.clone();
                from.push(child);
                if let Some(deeper) = file_of_module(&from, root) {
                    file = deeper;
                }
            } else if at + 1 == path.len()
                && let Some(defined) = macro_file(segment)
            {
                file = defined;
            }
            break;
        }
        Some(file)
    };
    let lib_root = src.join("lib.rs");
    let main_root = src.join("main.rs");
    let mut graph = BTreeMap::new();
    for file in &files {
        let code = &texts[file];
        let module = module_of(file);
        let in_bin = file.strip_prefix(src).is_ok_and(|r| r.starts_with("bin"));
        if in_bin {
            // A binary of src/bin is a crate of its own, of one file.
            graph.insert(file.clone(), BTreeSet::new());
            continue;
        }
        let root = if lib_root.exists() {
            &lib_root
        } else {
            &main_root
        };
        let mut used = BTreeSet::new();
        let mut add = |path: Vec<String>| {
            if let Some(target) = resolve(&path, root)
                && &target != file
            {
                used.insert(target);
            }
        };
        for path in paths_after(code, "crate::") {
            add(path);
        }
        // `super::` from a.rs or a/mod.rs is the parent of `a`.
        let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
        for path in paths_after(code, "super::") {
            let mut full = parent.clone();
            full.extend(path);
            add(full);
        }
        for path in paths_after(code, "self::") {
            let mut full = module.clone();
            full.extend(path);
            add(full);
        }
        graph.insert(file.clone(), used);
    }
    graph
}

/// A cycle of `graph`, if it has one, as the nodes along it (the first
/// again at the end).
pub fn cycle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        node: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        state: &mut BTreeMap<N, u8>,
        path: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        state.insert(node.clone(), 1);
        path.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next).copied().unwrap_or(0) {
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
        state.insert(node.clone(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node).copied().unwrap_or(0) == 0
            && let Some(found) = visit(node, graph, &mut state, &mut Vec::new())
        {
            return Some(found);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_literals_and_tests_are_no_code() {
        let text = "use crate::{error::Error, os};\n// crate::trace in a comment\nlet s = \"crate::shm\"; let c = '\"'; crate::bus::watch(); $crate::output::line();\nlet r = r#\"crate::x\"#;\n#[cfg(test)]\nmod tests { use crate::value; }";
        let found = crate_paths(without_tests(&code(text)));
        let found: Vec<&str> = found.iter().map(String::as_str).collect();
        assert_eq!(found, ["bus", "error", "os"]);
    }

    #[test]
    fn paths_keep_their_segments() {
        assert_eq!(
            paths_after("use super::{a::B, c}; super::d::e();", "super::"),
            [vec!["a", "B"], vec!["c"], vec!["d", "e"]]
        );
    }

    #[test]
    fn a_cycle_is_named_along_its_way() {
        let mut graph = BTreeMap::new();
        graph.insert("a", BTreeSet::from(["b"]));
        graph.insert("b", BTreeSet::from(["c"]));
        graph.insert("c", BTreeSet::from(["a"]));
        assert_eq!(cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
        graph.insert("c", BTreeSet::new());
        assert_eq!(cycle(&graph), None);
    }

    #[test]
    fn files_that_import_each_other_are_seen() {
        let dir = crate::TempDir::new("sources");
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("net")).unwrap();
        std::fs::write(src.join("lib.rs"), "mod error;\nmod net;\n").unwrap();
        std::fs::write(src.join("error.rs"), "use crate::net::server::hint;\n").unwrap();
        std::fs::write(src.join("net/mod.rs"), "pub mod server;\n").unwrap();
        std::fs::write(src.join("net/server.rs"), "use crate::error::Error;\n").unwrap();
        let graph = file_graph(&src);
        let found = cycle(&graph).expect("error.rs and net/server.rs import each other");
        assert!(found.contains(&src.join("error.rs")), "{found:?}");
        assert!(found.contains(&src.join("net/server.rs")), "{found:?}");
        std::fs::write(src.join("error.rs"), "pub struct Error;\n").unwrap();
        assert_eq!(cycle(&file_graph(&src)), None);
        // Through a re-export of the root: still the file that defines it.
        std::fs::write(
            src.join("lib.rs"),
            "mod error;\nmod net;\npub use error::Error;\n",
        )
        .unwrap();
        std::fs::write(
            src.join("error.rs"),
            "use crate::net::server::hint;\npub struct Error;\n",
        )
        .unwrap();
        std::fs::write(
            src.join("net/server.rs"),
            "use crate::Error;\npub fn hint() {}\n",
        )
        .unwrap();
        assert!(cycle(&file_graph(&src)).is_some());
    }
}
