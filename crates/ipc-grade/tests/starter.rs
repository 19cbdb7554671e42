//! Starters for real: what a student gets holds the named experiments and
//! what they need, an ANSWERS.md per crate, and no line of any part the
//! starter cut, anywhere (handouts, book, guide, doc comments, other
//! crates, tests): issue 19's "no solution in a starter".

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ipc_grade::workspace::Workspace;
use ipc_testkit::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_ipc-grade");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The shortest line (without blanks) a search looks for: shorter ones
/// (`}`, `Ok(())`, `start.wait()?;`) are everywhere and show nothing.
const SIGNIFICANT: usize = 16;

/// The shortest cut line looked for inside a longer line (in a sentence,
/// in backquotes): shorter ones must be a line of their own to count.
const DISTINCT: usize = 16;

fn workspace() -> Workspace {
    Workspace::at(Path::new(ROOT)).unwrap()
}

/// The trimmed lines of code of the workspace's libraries and tools
/// (`crates/`): the language's commonplaces (`.collect()`, `return
/// Ok(());`), which a region may use without giving anything away.
fn commonplaces(ws: &Workspace) -> std::collections::BTreeSet<String> {
    text_files(&ws.root().join("crates"))
        .into_iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "rs"))
        .flat_map(|(_, text)| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.starts_with("//"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The lines of every region of `krate` in the reference, trimmed, with
/// where each comes from: those of at least [`SIGNIFICANT`] characters
/// that are not `common`.
fn cut_lines(
    ws: &Workspace,
    krate: &str,
    common: &std::collections::BTreeSet<String>,
) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for (file, regions) in ipc_grade::starter::crate_regions(ws, krate).unwrap() {
        let text = std::fs::read_to_string(ws.root().join(&file)).unwrap();
        let all: Vec<&str> = text.lines().collect();
        for region in regions {
            for (i, line) in all[region.begin..region.end - 1].iter().enumerate() {
                let line = line.trim();
                let long = line.chars().filter(|c| !c.is_whitespace()).count() >= SIGNIFICANT;
                if long && !common.contains(line) {
                    let at = format!("{}:{}", file.display(), region.begin + 1 + i);
                    lines.push((at, line.to_owned()));
                }
            }
        }
    }
    lines
}

/// Every file of `dir`, as (path relative to `dir`, text); files that are
/// not text are skipped.
fn text_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                found.push((path.strip_prefix(dir).unwrap().to_owned(), text));
            }
        }
    }
    found
}

fn starter(out: &Path, crates: &[&str]) -> ipc_testkit::Run {
    let mut args = vec!["starter", "--out", out.to_str().unwrap()];
    args.extend(crates);
    let mut command = std::process::Command::new(BIN);
    command.args(&args).env("IPC_LAB_ROOT", ROOT);
    ipc_testkit::run_command(command, None, ipc_testkit::DEFAULT_TIMEOUT)
}

#[test]
fn no_file_of_any_starter_holds_a_line_the_starter_cut() {
    let ws = workspace();
    let dir = TempDir::new("starters");
    let common = commonplaces(&ws);
    let mut leaks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let experiments = ws.experiments().unwrap();
    let mut starters: Vec<Vec<String>> = experiments.iter().map(|e| vec![e.clone()]).collect();
    starters.push(vec!["all".into()]);
    for crates in starters {
        let out = dir.join(&crates.join("+"));
        let names: Vec<&str> = crates.iter().map(String::as_str).collect();
        starter(&out, &names).assert_code(0);
        let cut_crates = ipc_grade::starter::with_dependencies(
            &ws,
            &ipc_grade::starter::resolve_crates(&ws, &crates).unwrap(),
        )
        .unwrap();
        let lines: Vec<(String, String)> = cut_crates
            .iter()
            .flat_map(|c| cut_lines(&ws, c, &common))
            .collect();
        for (file, text) in text_files(&out) {
            for (n, line) in text.lines().enumerate() {
                let bare = line
                    .trim()
                    .trim_start_matches(['/', '!', '>', '*', '-'])
                    .trim();
                for (from, cut) in &lines {
                    let shown = bare == cut
                        || cut.chars().count() >= DISTINCT && line.contains(cut.as_str());
                    if shown {
                        leaks
                            .entry(format!("starter of {}", crates.join(" ")))
                            .or_default()
                            .push(format!(
                                "{}:{}: {cut:?} (cut from {from})",
                                file.display(),
                                n + 1
                            ));
                    }
                }
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "starters that still show a part the student writes:\n{:#?}",
        leaks
    );
}
