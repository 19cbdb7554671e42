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

use ipc_testkit::sources::{code, crate_paths, cycle, rust_files, without_tests};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The code of a file, without its comments, literals and tests.
fn architecture(text: &str) -> String {
    without_tests(&code(text)).to_owned()
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

/// The source files of `module`: `src/module.rs` and every `.rs` below
/// `src/module/` (its submodules, as `message/structs.rs` is
/// `message`'s), or either alone.
fn files(module: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let file = src().join(format!("{module}.rs"));
    if file.is_file() {
        found.push(file);
    }
    let dir = src().join(module);
    if dir.is_dir() {
        found.extend(rust_files(&dir));
    }
    assert!(!found.is_empty(), "no source for the module `{module}`");
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
fn the_table_is_read_by_its_rows() {
    let layers = table(
        "//! # Layers\n//! | layer | modules | what |\n//! | --- | --- | --- |\n\
         //! | 2. up | [`a`](mod@a), `b` | x |\n//! | 1. down | [`c`] | y |\n//! # Next\n//! | 3. no | `d` | |",
    );
    assert_eq!(layers.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(layers["a"], (2, "up".to_owned()));
}
