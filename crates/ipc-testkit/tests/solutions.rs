//! No document a starter ships shows the code a student writes (issue 19,
//! part 3). A starter (`scripts/starter.sh`) cuts the regions between
//! `// STUDENT: <hint>` and `// END STUDENT` in `exercises/*/src`; the
//! README, the book (`docs/`), the handouts and the API documentation of
//! `ipc-core` and `ipc-net` (their doc comments and doc tests) go with it
//! unchanged, so none of them may contain a region's lines. They say what
//! to write and which items to reach for, by name.
//!
//! The code outside the regions (other experiments, the grader, the
//! library's own code) is not checked here: the files of that code have
//! other owners, and the grader's starter test looks at every file.

mod common;

use std::path::Path;

/// A region: where it is, and its lines of code (trimmed, comments out).
struct Region {
    at: String,
    lines: Vec<String>,
    /// Its code without any white space, to find a fragment shown inline.
    squeezed: String,
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The regions of every experiment's `src/`.
fn regions() -> Vec<Region> {
    let mut found = Vec::new();
    for crate_name in common::experiments() {
        let src = common::root()
            .join("exercises")
            .join(&crate_name)
            .join("src");
        let mut files: Vec<_> = std::fs::read_dir(&src)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let mut open: Option<(usize, Vec<String>)> = None;
            for (n, line) in text.lines().enumerate() {
                let trimmed = line.trim();
                if trimmed.starts_with("// STUDENT:") {
                    open = Some((n + 1, Vec::new()));
                } else if trimmed.starts_with("// END STUDENT") {
                    let (start, lines) = open.take().expect("an END without a STUDENT");
                    let code: Vec<String> = lines
                        .iter()
                        .map(|l| l.split(" //").next().unwrap().trim().to_owned())
                        .filter(|l| !l.is_empty() && !l.starts_with("//"))
                        .collect();
                    found.push(Region {
                        at: format!("exercises/{crate_name}/src/{}:{start}", file_name(&file)),
                        squeezed: squeeze(&code.join("")),
                        lines: code,
                    });
                } else if let Some((_, lines)) = open.as_mut() {
                    lines.push(line.to_owned());
                }
            }
        }
    }
    assert!(found.len() >= 16, "only {} regions found", found.len());
    found
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// A region's line worth looking for: long enough to be the solution's,
/// not only punctuation (`}`, `Ok(())`, `break;` are everywhere), and a
/// statement or a call rather than a lone argument (`config.timeout`).
fn significant(line: &str) -> bool {
    line.chars().filter(|c| !c.is_whitespace()).count() >= 12
        && line.chars().filter(|c| c.is_alphanumeric()).count() >= 6
        && line.contains(['(', '=', ';', '{'])
}

/// True if `needle` occurs in `hay` not glued to a longer name
/// (`conn.close();` is not in `parent_conn.close();`).
fn contains_code(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// The documents a starter ships that this test holds: (file, its lines
/// as a reader sees them: a doc comment without its `///`).
fn documents() -> Vec<(String, Vec<String>)> {
    let root = common::root();
    let mut docs = vec!["README.md".to_owned()];
    let mut walk = vec![root.join("docs")];
    while let Some(dir) = walk.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.ends_with("book") {
                walk.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                docs.push(path.strip_prefix(&root).unwrap().display().to_string());
            }
        }
    }
    for crate_name in common::experiments() {
        docs.push(format!("exercises/{crate_name}/README.md"));
    }
    let mut found: Vec<(String, Vec<String>)> = docs
        .into_iter()
        .map(|doc| {
            let lines = common::read(&doc).lines().map(str::to_owned).collect();
            (doc, lines)
        })
        .collect();
    for library in ["crates/ipc-core/src", "crates/ipc-net/src"] {
        let mut walk = vec![root.join(library)];
        while let Some(dir) = walk.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let lines = text
                        .lines()
                        .map(|l| {
                            let t = l.trim_start();
                            match t.strip_prefix("///").or_else(|| t.strip_prefix("//!")) {
                                Some(doc) => doc.to_owned(),
                                None => String::new(),
                            }
                        })
                        .collect();
                    let name = path.strip_prefix(&root).unwrap().display().to_string();
                    found.push((name, lines));
                }
            }
        }
    }
    found
}

/// Where `documents` show a line of `regions`, or a fragment of one in
/// backquotes (a call with its arguments), one message each.
fn shown(regions: &[Region], documents: &[(String, Vec<String>)]) -> Vec<String> {
    let mut found = Vec::new();
    for (doc, lines) in documents {
        for (n, line) in lines.iter().enumerate() {
            for region in regions {
                let whole = region
                    .lines
                    .iter()
                    .find(|code| significant(code) && contains_code(line, code));
                let inline = line.split('`').skip(1).step_by(2).find(|span| {
                    let span = squeeze(span);
                    span.chars().count() >= 16
                        && span.contains('(')
                        && region.squeezed.contains(&span)
                });
                if let Some(code) = whole.map(String::as_str).or(inline) {
                    found.push(format!(
                        "{doc}:{}: {code:?}, from the region at {}",
                        n + 1,
                        region.at
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn no_document_a_starter_ships_shows_a_regions_code() {
    let found = shown(&regions(), &documents());
    assert!(
        found.is_empty(),
        "these documents show code a student writes in a starter (say what to \
         write and which items to use, by name, instead):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_line_or_a_call_of_a_region_is_found() {
    // Built from the regions themselves: a test that spelled a region's
    // code out would ship it in every starter.
    let regions = regions();
    let line = regions
        .iter()
        .flat_map(|r| &r.lines)
        .find(|l| significant(l))
        .unwrap();
    let call = regions
        .iter()
        .flat_map(|r| &r.lines)
        .find(|l| l.ends_with(")?;") && l.len() > 20)
        .expect("a region with a call that ends in `)?;`");
    let documents = vec![
        ("a.md".to_owned(), vec![format!("    {line}")]),
        // A fragment in backquotes, without its `?;`: not the whole line.
        (
            "b.md".to_owned(),
            vec![format!("Write `{}` here.", &call[..call.len() - 2])],
        ),
        // A longer name that ends like a region's line is another name.
        (
            "c.md".to_owned(),
            vec!["`parent_conn.close();` ends it".to_owned()],
        ),
    ];
    let found = shown(&regions, &documents);
    assert!(
        found.iter().any(|f| f.starts_with("a.md:1: ")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("b.md:1: ")),
        "{found:#?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("c.md")), "{found:#?}");
}
