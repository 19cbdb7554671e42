//! A starter: a copy of the workspace in which the marked regions of the
//! chosen experiments are `todo!()`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::markers::{self, Region};
use crate::workspace::{self, CRATES_LINE, EXERCISES, STARTER_FILE, Workspace};
use crate::{Error, Result};

/// What a starter holds: for each crate, its files with regions and their
/// regions.
#[derive(Debug, Clone, Default)]
pub struct Starter {
    /// The crates cut, in the order given.
    pub crates: Vec<String>,
    /// The regions cut, by file (relative to the root).
    pub regions: Vec<(PathBuf, Vec<Region>)>,
    /// How many files were written.
    pub files: usize,
    /// The kit's commit the starter was made from (`unknown` outside a
    /// git checkout).
    pub commit: String,
}

/// The crates `names` stands for: `all` is every experiment; each other
/// name must be an experiment. Duplicates are dropped.
///
/// # Errors
/// [`Error::Usage`] for an unknown name or none at all.
pub fn resolve_crates(ws: &Workspace, names: &[String]) -> Result<Vec<String>> {
    let known = ws.experiments()?;
    if names.is_empty() {
        return Err(Error::Usage(format!(
            "name the crates (or all): {}",
            known.join(" ")
        )));
    }
    let mut crates = Vec::new();
    for name in names {
        if name == "all" {
            crates.extend(known.iter().cloned());
        } else if known.contains(name) {
            crates.push(name.clone());
        } else {
            return Err(Error::Usage(format!(
                "no experiment named {name} (known: {}, or all)",
                known.join(" ")
            )));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    crates.retain(|c| seen.insert(c.clone()));
    Ok(crates)
}

/// The regions of every `.rs` file under `exercises/<name>/src`, by file
/// (relative to the workspace's root); files without a region are left
/// out.
///
/// # Errors
/// A file that cannot be read, or a marker that breaks the rules (named
/// with its file and line).
pub fn crate_regions(ws: &Workspace, name: &str) -> Result<Vec<(PathBuf, Vec<Region>)>> {
    let src = Path::new(EXERCISES).join(name).join("src");
    let mut found = Vec::new();
    for file in ws.files()? {
        if !file.starts_with(&src) || file.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = read(&ws.root().join(&file))?;
        let regions = markers::regions(&text).map_err(|e| marker_error(&file, &e))?;
        if !regions.is_empty() {
            found.push((file, regions));
        }
    }
    Ok(found)
}

/// The directory of material for instructors only (faked solutions,
/// model answers): never copied into a starter.
pub const INSTRUCTOR: &str = "instructor";

/// `crates` and every experiment they depend on (exp7's menu uses
/// exp7-shm, exp7-queue and exp7-pipe), in the order given then found.
///
/// # Errors
/// A manifest that cannot be read.
pub fn with_dependencies(ws: &Workspace, crates: &[String]) -> Result<Vec<String>> {
    let known = ws.experiments()?;
    let mut all: Vec<String> = crates.to_vec();
    let mut i = 0;
    while i < all.len() {
        let manifest = ws.crate_dir(&all[i]).join("Cargo.toml");
        let text = read(&manifest)?;
        for other in &known {
            let path = format!("path = \"../{other}\"");
            if text.contains(&path) && !all.contains(other) {
                all.push(other.clone());
            }
        }
        i += 1;
    }
    Ok(all)
}

/// Writes the starter of `crates` to `out`, which must not exist or be
/// empty: the workspace's files but the other experiments (their code
/// would answer these: exp1-queue's sender is exp7-queue's producer), the
/// book's chapters of those, and [`INSTRUCTOR`]; the `.rs` files of the
/// crates' `src/` (and of the experiments they use) with their regions
/// cut ([`markers::cut`]); an `ANSWERS.md` per crate listing its
/// handout's questions; and [`STARTER_FILE`].
///
/// # Errors
/// [`Error::Usage`] when `out` holds something, or a crate has no marked
/// region; a file that cannot be read or written; a broken marker.
pub fn write(ws: &Workspace, out: &Path, crates: &[String]) -> Result<Starter> {
    if !workspace::is_absent_or_empty(out)
        .map_err(|e| Error::io(format!("reading {}", out.display()), e))?
    {
        return Err(Error::Usage(format!(
            "{} is not empty: choose a new directory for the starter",
            out.display()
        )));
    }
    let crates = with_dependencies(ws, crates)?;
    let mut starter = Starter {
        crates: crates.clone(),
        ..Starter::default()
    };
    let left_out: Vec<String> = ws
        .experiments()?
        .into_iter()
        .filter(|e| !crates.contains(e))
        .collect();
    let kept = |file: &Path| {
        if file.starts_with(INSTRUCTOR) {
            return false;
        }
        !left_out.iter().any(|e| {
            file.starts_with(Path::new(EXERCISES).join(e))
                || file.parent() == Some(Path::new("docs/experiments"))
                    && file
                        .file_stem()
                        .is_some_and(|s| s.to_string_lossy() == e.as_str())
        })
    };
    let sources: Vec<PathBuf> = crates
        .iter()
        .map(|c| Path::new(EXERCISES).join(c).join("src"))
        .collect();
    for file in ws.files()? {
        if !kept(&file) {
            continue;
        }
        let from = ws.root().join(&file);
        let to = out.join(&file);
        let cut_here = sources.iter().any(|s| file.starts_with(s))
            && file.extension().is_some_and(|e| e == "rs");
        if cut_here {
            let text = read(&from)?;
            let (text, _) = markers::cut(&text).map_err(|e| marker_error(&file, &e))?;
            workspace::write_file(&to, text.as_bytes())?;
            // Where the regions are in the starter's file.
            let regions = markers::regions(&text).map_err(|e| marker_error(&file, &e))?;
            if !regions.is_empty() {
                starter.regions.push((file.clone(), regions));
            }
        } else if file == Path::new("docs/SUMMARY.md") {
            let text = read(&from)?;
            let chapters: String = text
                .lines()
                .filter(|line| {
                    !left_out
                        .iter()
                        .any(|e| line.contains(&format!("(experiments/{e}.md)")))
                })
                .map(|line| format!("{line}\n"))
                .collect();
            workspace::write_file(&to, chapters.as_bytes())?;
        } else {
            workspace::copy_file(&from, &to)?;
        }
        starter.files += 1;
    }
    for name in &crates {
        let prefix = Path::new(EXERCISES).join(name);
        if !starter.regions.iter().any(|(f, _)| f.starts_with(&prefix)) {
            let _ = fs::remove_dir_all(out);
            return Err(Error::Usage(format!(
                "{name} has no marked region (// STUDENT: … // END STUDENT) to cut"
            )));
        }
        let questions = crate::answers::read_questions(&ws.crate_dir(name))?;
        let answers = crate::answers::template(name, &questions);
        workspace::write_file(
            &out.join(&prefix).join(crate::answers::FILE),
            answers.as_bytes(),
        )?;
        starter.files += 1;
    }
    starter.commit = crate::handin::kit_commit(ws.root());
    workspace::write_file(&out.join(STARTER_FILE), describe(&starter).as_bytes())?;
    Ok(starter)
}

/// The text of [`STARTER_FILE`].
fn describe(starter: &Starter) -> String {
    let mut text = String::from(
        "# An ipc-lab starter\n\n\
         The parts of the experiments below that you write are `todo!()`, between\n\
         `// STUDENT: <hint>` and `// END STUDENT`; each handout's \"Your part\" says\n\
         more. Check your work with `cargo test -p <crate>`, `scripts/watch.sh <crate>`\n\
         (the checks again each time you save) and `scripts/grade.sh . <crate>` (one\n\
         line per check, then your score). Answer the handout's questions in each\n\
         crate's `ANSWERS.md`; hand in with `scripts/handin.sh <crate>…`.\n\n",
    );
    let _ = writeln!(text, "{CRATES_LINE} {}", starter.crates.join(" "));
    let _ = writeln!(text, "{} {}\n", crate::handin::COMMIT_LINE, starter.commit);
    for (file, regions) in &starter.regions {
        for region in regions {
            let function = region
                .function
                .as_deref()
                .map_or(String::new(), |f| format!(", in `{f}`"));
            let _ = writeln!(
                text,
                "- `{}` line {}{function}: {}",
                file.display(),
                region.begin,
                region.hint
            );
        }
    }
    text
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))
}

fn marker_error(file: &Path, error: &markers::MarkerError) -> Error {
    Error::Failed(format!("{}: {error}", file.display()))
}
