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

#[test]
fn the_readme_says_how_to_install_mdbook_and_build_the_book() {
    let readme = read("README.md");
    for needed in ["cargo install --locked mdbook", "mdbook build docs"] {
        assert!(readme.contains(needed), "README.md lacks {needed:?}");
    }
    // .ci/run builds it the same way.
    let ci = read(".ci/run");
    assert!(
        ci.contains("mdbook build docs"),
        ".ci/run does not build the book"
    );
}
