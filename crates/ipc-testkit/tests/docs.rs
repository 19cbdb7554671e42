//! The documents of the repository, checked where a reader would trip:
//! links of the mdBook, and what the README promises about the toolchain
//! and the book.

use std::path::Path;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn read(path: &str) -> String {
    let path = Path::new(ROOT).join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_internal_link_of_the_book_leads_somewhere() {
    let broken = ipc_testkit::book::broken_links(&Path::new(ROOT).join("docs"));
    assert!(
        broken.is_empty(),
        "broken links in the book:\n{}",
        broken.join("\n")
    );
}

/// The `rust-version` of the workspace's Cargo.toml.
fn rust_version() -> String {
    let manifest = read("Cargo.toml");
    let line = manifest
        .lines()
        .find(|l| l.starts_with("rust-version"))
        .expect("a rust-version in Cargo.toml");
    line.split('"').nth(1).expect("a quoted version").to_owned()
}

#[test]
fn the_readme_states_the_minimum_rust_version_of_cargo_toml() {
    // let-chains (`if let … && let …`), used across the workspace, need
    // 1.88; clippy's incompatible_msrv checks the library calls against
    // rust-version. The README must say the same number.
    let version = rust_version();
    let major_minor: Vec<u32> = version
        .split('.')
        .take(2)
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        major_minor >= vec![1, 88],
        "let-chains need 1.88, not {version}"
    );
    let readme = read("README.md");
    assert!(
        readme.contains(&format!("Rust {version} or newer")),
        "README.md does not say \"Rust {version} or newer\""
    );
}

/// The lines of the fenced `sh` block of the README's "Quick start".
fn quick_start_commands(readme: &str) -> Vec<String> {
    let start = readme
        .find("## Quick start")
        .expect("README.md has a \"## Quick start\" section");
    let section = &readme[start..];
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the Quick start has a ```sh block");
    block.lines().map(|line| line.trim().to_owned()).collect()
}

#[test]
fn the_readme_gives_the_command_that_runs_an_experiment_and_the_one_ci_tests_with() {
    let readme = read("README.md");
    let commands = quick_start_commands(&readme);
    for needed in ["cargo run -p exp7-shm", "scripts/test.sh"] {
        assert!(
            commands.iter().any(|line| line.starts_with(needed)),
            "the README's Quick start lacks {needed:?}: {commands:#?}"
        );
    }
    // CI runs exactly that command, and no test of its own beside it.
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|line| line.trim() == "bash scripts/test.sh"),
        ".ci/run does not run scripts/test.sh"
    );
    assert!(
        !ci.contains("cargo test"),
        ".ci/run runs tests of its own beside scripts/test.sh"
    );
    // And the command installs what the tests need before it runs them.
    let script = read("scripts/test.sh");
    // The number of the first command line (not a comment) with `needle`.
    let at = |needle: &str| {
        script
            .lines()
            .position(|line| !line.trim_start().starts_with('#') && line.contains(needle))
            .unwrap_or_else(|| panic!("scripts/test.sh runs no {needle:?}"))
    };
    let tests = at("cargo test --workspace");
    for setup in [
        "scripts/install-nats.sh",
        "apt-get install -y -qq strace",
        "cargo install --quiet --locked \"mdbook@",
        "mdbook build docs",
    ] {
        assert!(
            at(setup) < tests,
            "scripts/test.sh runs {setup:?} after the tests"
        );
    }
}

/// The names of the crates.io dependencies in one manifest: every key of a
/// `[*dependencies]` table that is not one of the workspace's own crates.
fn external_dependencies(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_dependencies = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line.trim_end_matches(']').ends_with("dependencies");
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some(key) = line.split(['=', '.']).next().map(str::trim) else {
            continue;
        };
        let ours = key.starts_with("ipc-") || key.starts_with("exp");
        if !ours && !names.iter().any(|n| n == key) {
            names.push(key.to_owned());
        }
    }
    names
}

#[test]
fn docs_dependencies_names_every_crate_the_workspace_depends_on() {
    // A reviewer reads docs/dependencies.md to learn why each crate is
    // there; one added without a word there is one nobody justified.
    let mut manifests = vec!["Cargo.toml".to_owned()];
    for dir in ["crates", "exercises"] {
        let entries = std::fs::read_dir(Path::new(ROOT).join(dir)).expect("read_dir");
        for entry in entries {
            let manifest = entry.expect("dir entry").path().join("Cargo.toml");
            if manifest.exists() {
                let relative = manifest.strip_prefix(ROOT).expect("under the root");
                manifests.push(relative.display().to_string());
            }
        }
    }
    let doc = read("docs/dependencies.md");
    let mut missing = Vec::new();
    for manifest in &manifests {
        for name in external_dependencies(&read(manifest)) {
            if !doc.contains(&format!("`{name}`")) {
                missing.push(format!("{name} (in {manifest})"));
            }
        }
    }
    assert!(
        external_dependencies(&read("Cargo.toml")).contains(&"nix".to_owned()),
        "the manifest reader no longer finds nix in Cargo.toml"
    );
    assert!(
        missing.is_empty(),
        "docs/dependencies.md does not name (in backquotes):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_handout_has_its_sections_and_numbered_questions() {
    // Each crate's own test checks its handout too; this one sees them
    // all at once, so that a grader can rely on numbered questions in
    // every handout (an ANSWERS.md lists them by number).
    let mut crates: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("exercises"))
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    assert!(crates.len() >= 16, "{crates:?}");
    for crate_name in crates {
        let dir = Path::new(ROOT).join("exercises").join(&crate_name);
        let readme = ipc_testkit::handout::read(&dir.display().to_string());
        let outcome = std::panic::catch_unwind(|| {
            ipc_testkit::handout::assert_title(&readme, &crate_name);
            ipc_testkit::handout::assert_sections(&readme);
        });
        if let Err(why) = outcome {
            let why = why
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(no message)".into());
            panic!("exercises/{crate_name}/README.md: {why}");
        }
        let questions = ipc_testkit::handout::question_numbers(&readme);
        assert!(
            questions.len() >= ipc_testkit::handout::MIN_QUESTIONS,
            "exercises/{crate_name}/README.md: {questions:?}"
        );
    }
}
