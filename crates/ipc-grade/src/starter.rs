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

/// Writes the starter of `crates` to `out`, which must not exist or be
/// empty: every file of the workspace, the `.rs` files of the crates'
/// `src/` with their regions cut ([`markers::cut`]), and [`STARTER_FILE`].
///
/// # Errors
/// [`Error::Usage`] when `out` holds something or lies inside the
/// workspace's tracked tree, or a crate has no marked region; a file that
/// cannot be read or written; a broken marker.
pub fn write(ws: &Workspace, out: &Path, crates: &[String]) -> Result<Starter> {
    if !workspace::is_absent_or_empty(out)
        .map_err(|e| Error::io(format!("reading {}", out.display()), e))?
    {
        return Err(Error::Usage(format!(
            "{} is not empty: choose a new directory for the starter",
            out.display()
        )));
    }
    let mut starter = Starter {
        crates: crates.to_vec(),
        ..Starter::default()
    };
    let sources: Vec<PathBuf> = crates
        .iter()
        .map(|c| Path::new(EXERCISES).join(c).join("src"))
        .collect();
    for file in ws.files()? {
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
        } else {
            workspace::copy_file(&from, &to)?;
        }
        starter.files += 1;
    }
    for name in crates {
        let prefix = Path::new(EXERCISES).join(name);
        if !starter.regions.iter().any(|(f, _)| f.starts_with(&prefix)) {
            let _ = fs::remove_dir_all(out);
            return Err(Error::Usage(format!(
                "{name} has no marked region (// STUDENT: … // END STUDENT) to cut"
            )));
        }
    }
    workspace::write_file(&out.join(STARTER_FILE), describe(&starter).as_bytes())?;
    Ok(starter)
}

/// The text of [`STARTER_FILE`].
fn describe(starter: &Starter) -> String {
    let mut text = String::from(
        "# An ipc-lab starter\n\n\
         The parts of the experiments below that you write are `todo!()`, between\n\
         `// STUDENT: <hint>` and `// END STUDENT`; each handout's \"Your part\" says\n\
         more. Check your work with `cargo test -p <crate>` and\n\
         `scripts/grade.sh . <crate>` (one line per check, then your score).\n\n",
    );
    let _ = writeln!(text, "{CRATES_LINE} {}\n", starter.crates.join(" "));
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
