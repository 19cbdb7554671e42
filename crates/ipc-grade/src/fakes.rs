//! Faked solutions: programs that print the right lines without doing the
//! inter-process work, kept for instructors in `instructor/fakes/` (never
//! copied into a starter) so that every release can show that they lose.
//!
//! A fake is a file `instructor/fakes/<crate>/<kind>.fake` that says how it
//! differs from the reference: new lines for some of the crate's regions
//! (numbered from 1 in the order of their files' paths, then of their
//! lines, as `ipc-grade starter` lists them), and, where a region is not
//! enough, whole files of `src/`:
//!
//! ```text
//! # Prints the handout's lines; the child never writes the shared memory.
//! @@ region 1
//!     // nothing: the child does no work
//! @@ region 2
//!     say!("Result(in process p1): [1, 4, 9, 16]")?;
//! @@ file src/main.rs
//! fn main() {}
//! ```
//!
//! The first comment line says what the fake does; regions it does not
//! mention keep the reference's code.
//!
//! ```
//! let fake = ipc_grade::fakes::Fake::parse(
//!     "# Skips the child.\n@@ region 2\n    let x = 1;\n@@ file src/extra.rs\n// x\n",
//!     "skips-the-child",
//! )
//! .unwrap();
//! assert_eq!(fake.what, "Skips the child.");
//! assert_eq!(fake.regions[&2], "    let x = 1;\n");
//! assert_eq!(fake.files[std::path::Path::new("src/extra.rs")], "// x\n");
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::markers;
use crate::workspace::{self, EXERCISES, STARTER_FILE, Workspace};
use crate::{Error, Result};

/// Where the fakes are, relative to the workspace's root.
pub const DIR: &str = "instructor/fakes";

/// One faked solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fake {
    /// Its name: the file's stem (`prints-the-handout`).
    pub name: String,
    /// What it does, from its first comment line.
    pub what: String,
    /// New lines for regions, by number (from 1).
    pub regions: BTreeMap<usize, String>,
    /// Whole files, by path relative to the crate (`src/main.rs`).
    pub files: BTreeMap<PathBuf, String>,
}

impl Fake {
    /// Parses a fake's text; `name` names it.
    ///
    /// # Errors
    /// A message with the line at fault.
    pub fn parse(text: &str, name: &str) -> std::result::Result<Fake, String> {
        let mut fake = Fake {
            name: name.to_owned(),
            what: String::new(),
            regions: BTreeMap::new(),
            files: BTreeMap::new(),
        };
        enum Into {
            Nothing,
            Region(usize),
            File(PathBuf),
        }
        let mut into = Into::Nothing;
        for (i, line) in text.lines().enumerate() {
            let at = |what: &str| format!("{name}.fake line {}: {what}", i + 1);
            if let Some(header) = line.strip_prefix("@@ ") {
                into = if let Some(n) = header.strip_prefix("region ") {
                    let n: usize = n
                        .trim()
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| at("expected `@@ region N`, N from 1"))?;
                    if fake.regions.insert(n, String::new()).is_some() {
                        return Err(at("region given twice"));
                    }
                    Into::Region(n)
                } else if let Some(path) = header.strip_prefix("file ") {
                    let path = PathBuf::from(path.trim());
                    let inside = path.starts_with("src")
                        && path.components().all(|c| matches!(c, Component::Normal(_)));
                    if !inside || path.extension().is_none_or(|e| e != "rs") {
                        return Err(at("a file must be a .rs file under src/"));
                    }
                    fake.files.insert(path.clone(), String::new());
                    Into::File(path)
                } else {
                    return Err(at("expected `@@ region N` or `@@ file src/…`"));
                };
                continue;
            }
            let body = match &into {
                Into::Nothing => {
                    let comment = line.trim_start_matches('#').trim();
                    if fake.what.is_empty() && line.starts_with('#') {
                        fake.what = comment.to_owned();
                    } else if !line.trim().is_empty() && !line.starts_with('#') {
                        return Err(at("text before the first `@@` line"));
                    }
                    continue;
                }
                Into::Region(n) => fake.regions.get_mut(n),
                Into::File(path) => fake.files.get_mut(path),
            };
            if let Some(body) = body {
                body.push_str(line);
                body.push('\n');
            }
        }
        if fake.what.is_empty() {
            return Err(format!(
                "{name}.fake: the first line must say what it fakes (`# …`)"
            ));
        }
        if fake.regions.is_empty() && fake.files.is_empty() {
            return Err(format!("{name}.fake: changes nothing"));
        }
        Ok(fake)
    }

    /// Reads a `.fake` file.
    ///
    /// # Errors
    /// The file cannot be read, or [`Fake::parse`] refuses it.
    pub fn read(path: &Path) -> Result<Fake> {
        let text = fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Fake::parse(&text, &name).map_err(Error::Failed)
    }

    /// Writes the crate's `src/` with this fake applied to `out` (its
    /// `src/` directory is created): every file of `crate_dir/src`, with
    /// the regions and files the fake replaces.
    ///
    /// # Errors
    /// A region number the crate does not have; a file that cannot be
    /// read or written.
    pub fn apply(&self, crate_dir: &Path, out: &Path) -> Result<()> {
        let mut number = 0;
        let mut used = 0;
        for file in rs_files(&crate_dir.join("src"))? {
            let rel = file.strip_prefix(crate_dir).unwrap_or(&file).to_owned();
            let text = fs::read_to_string(&file)
                .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
            let found = markers::regions(&text)
                .map_err(|e| Error::Failed(format!("{}: {e}", file.display())))?;
            let bodies: BTreeMap<usize, String> = (0..found.len())
                .filter_map(|i| self.regions.get(&(number + i + 1)).map(|b| (i, b.clone())))
                .collect();
            number += found.len();
            used += bodies.len();
            let text = match self.files.get(&rel) {
                Some(whole) => whole.clone(),
                None => {
                    markers::fill(&text, &bodies)
                        .map_err(|e| Error::Failed(format!("{}: {e}", file.display())))?
                        .0
                }
            };
            workspace::write_file(&out.join(&rel), text.as_bytes())?;
        }
        if used < self.regions.len() {
            return Err(Error::Failed(format!(
                "{}.fake names region {} but {} has {number} regions",
                self.name,
                self.regions.keys().next_back().unwrap_or(&0),
                crate_dir.display()
            )));
        }
        for (rel, text) in &self.files {
            if !out.join(rel).exists() {
                workspace::write_file(&out.join(rel), text.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// The fakes of `krate` in the workspace, sorted by name.
///
/// # Errors
/// A fake that cannot be read or parsed.
pub fn of_crate(ws: &Workspace, krate: &str) -> Result<Vec<Fake>> {
    let dir = ws.root().join(DIR).join(krate);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "fake"))
        .collect();
    paths.sort();
    paths.iter().map(|p| Fake::read(p)).collect()
}

/// Writes a class of faked submissions into `out` (which must not exist or
/// be empty): a directory `<crate>--<fake>` per fake of each of `crates`,
/// holding `exercises/<crate>/src` and a `STARTER.md` naming the crate.
/// Returns the directories' names.
///
/// # Errors
/// [`Error::Usage`] when `out` holds something; a fake that does not
/// apply.
pub fn write_class(ws: &Workspace, crates: &[String], out: &Path) -> Result<Vec<String>> {
    if !workspace::is_absent_or_empty(out)
        .map_err(|e| Error::io(format!("reading {}", out.display()), e))?
    {
        return Err(Error::Usage(format!(
            "{} is not empty: choose a new directory for the fakes",
            out.display()
        )));
    }
    let mut made = Vec::new();
    for krate in crates {
        for fake in of_crate(ws, krate)? {
            let name = format!("{krate}--{}", fake.name);
            let dir = out.join(&name);
            fake.apply(&ws.crate_dir(krate), &dir.join(EXERCISES).join(krate))?;
            workspace::write_file(
                &dir.join(STARTER_FILE),
                format!(
                    "A faked solution: {}\n\n{} {krate}\n",
                    fake.what,
                    workspace::CRATES_LINE
                )
                .as_bytes(),
            )?;
            made.push(name);
        }
    }
    Ok(made)
}

/// The `.rs` files under `dir`, sorted by path.
fn rs_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(kind) if kind.is_file() && path.extension().is_some_and(|e| e == "rs") => {
                    found.push(path)
                }
                _ => {}
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistakes_are_refused_with_their_line() {
        for (text, needle) in [
            ("@@ region 1\nx\n", "first line must say"),
            ("# a\n", "changes nothing"),
            ("# a\nstray\n@@ region 1\n", "line 2: text before"),
            ("# a\n@@ region 0\n", "line 2: expected `@@ region N`"),
            (
                "# a\n@@ region 1\n@@ region 1\n",
                "line 3: region given twice",
            ),
            ("# a\n@@ file ../x.rs\n", "under src/"),
            ("# a\n@@ file src/x.txt\n", "a .rs file"),
            ("# a\n@@ nothing\n", "expected `@@ region N` or"),
        ] {
            let error = Fake::parse(text, "f").unwrap_err();
            assert!(error.contains(needle), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_fake_replaces_the_regions_it_names_across_files() {
        let dir = ipc_testkit::TempDir::new("fake");
        let krate = dir.join("krate");
        let a = "fn a() {\n    // STUDENT: one\n    1;\n    // END STUDENT\n    // STUDENT: two\n    2;\n    // END STUDENT\n}\n";
        let b = "fn b() {\n    // STUDENT: three\n    3;\n    // END STUDENT\n}\n";
        workspace::write_file(&krate.join("src/a.rs"), a.as_bytes()).unwrap();
        workspace::write_file(&krate.join("src/b.rs"), b.as_bytes()).unwrap();
        workspace::write_file(&krate.join("src/main.rs"), b"fn main() {}\n").unwrap();
        let fake = Fake::parse(
            "# Changes two and three.\n@@ region 2\n    20;\n@@ region 3\n    30;\n    31;\n@@ file src/main.rs\nfn main() { b::b() }\n",
            "f",
        )
        .unwrap();
        let out = dir.join("out");
        fake.apply(&krate, &out).unwrap();
        let read = |f: &str| fs::read_to_string(out.join(f)).unwrap();
        assert_eq!(read("src/a.rs"), a.replace("    2;\n", "    20;\n"));
        assert_eq!(
            read("src/b.rs"),
            b.replace("    3;\n", "    30;\n    31;\n")
        );
        assert_eq!(read("src/main.rs"), "fn main() { b::b() }\n");

        let too_far = Fake::parse("# x\n@@ region 4\n    x;\n", "far").unwrap();
        let error = too_far.apply(&krate, &dir.join("out2")).unwrap_err();
        assert!(error.to_string().contains("has 3 regions"), "{error}");
    }
}
