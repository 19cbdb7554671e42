//! What a student's code may not add: the means to fake a run's evidence.
//!
//! The graded checks believe the timeline that ipc-core records while the
//! student's program runs. A program that wrote that file itself, called
//! the recorder directly, ran another program, or read a file at build
//! time could make one up. None of that is needed by any lab, so the
//! grader looks for it in the student's sources (comments and string
//! literals left out) and compares with the reference's own sources of the
//! crate: what the reference already uses is allowed. A source that adds
//! any of it passes no check with points; the report says where and why.
//!
//! ```
//! use ipc_grade::policy::added;
//! let reference = "fn main() { println!(\"std::fs in a string\"); }";
//! let student = "// std::fs in a comment\nfn main() { std::fs::write(\"x\", \"y\").unwrap(); }";
//! let found = added(&[("src/main.rs".into(), student.into())], &[reference.into()]);
//! // `std::fs::write` is both `std::fs` and `fs::` (see `occurrences`).
//! assert_eq!(
//!     found,
//!     ["src/main.rs:2: std::fs (the file system)", "src/main.rs:2: fs:: (the file system)"]
//! );
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

/// What may not be added, and why it matters, in words.
pub const FORBIDDEN: [(&str, &str); 21] = [
    ("unsafe", "unsafe code"),
    ("trace::", "the timeline's recorder"),
    ("std::fs", "the file system"),
    ("fs::", "the file system"),
    ("File", "the file system"),
    ("OpenOptions", "the file system"),
    ("include_str!", "reading a file at build time"),
    ("include_bytes!", "reading a file at build time"),
    ("include!", "reading a file at build time"),
    ("#[path", "reading a file at build time"),
    ("env!", "the build's environment"),
    ("option_env!", "the build's environment"),
    ("extern", "foreign functions"),
    ("asm!", "assembly"),
    ("global_asm!", "assembly"),
    ("Command", "running other programs"),
    ("libc::", "raw system calls"),
    ("nix::", "raw system calls"),
    ("std::os::", "raw system calls"),
    ("set_var", "changing the environment"),
    ("#![", "crate attributes"),
];

/// The line the starter adds to a file with regions (its `#![allow(…)]`
/// is not the student's).
const STARTER_ALLOW: &str = "#![allow(unused_imports";

/// What `student` (its files, as path and text) uses more often than the
/// `reference` texts of the same crate do, as `path:line: what (why)`, at
/// most one entry per kind.
pub fn added(student: &[(PathBuf, String)], reference: &[String]) -> Vec<String> {
    let allowed: BTreeMap<&str, usize> = FORBIDDEN
        .iter()
        .map(|(word, _)| {
            let n = reference
                .iter()
                .map(|t| occurrences(&code(t), word).len())
                .sum();
            (*word, n)
        })
        .collect();
    let mut found = Vec::new();
    for (word, why) in FORBIDDEN {
        let mut places = Vec::new();
        for (path, text) in student {
            let text: String = text
                .lines()
                .map(|l| if l.starts_with(STARTER_ALLOW) { "" } else { l })
                .collect::<Vec<_>>()
                .join("\n");
            for line in occurrences(&code(&text), word) {
                places.push(format!("{}:{line}", path.display()));
            }
        }
        if places.len() > allowed[word] {
            found.push(format!("{}: {word} ({why})", places[allowed[word]]));
        }
    }
    found
}

/// The lines (from 1) where `word` occurs in `code` as a whole word at its
/// start (`fs::` in `std::fs::x` counts, `File` in `Profile` does not).
fn occurrences(code: &str, word: &str) -> Vec<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut from = 0;
        while let Some(at) = line[from..].find(word) {
            let start = from + at;
            let end = start + word.len();
            let before_ok = !line[..start].chars().next_back().is_some_and(ident);
            let word_ends_in_ident = word.chars().next_back().is_some_and(ident);
            let after_ok = !word_ends_in_ident || !line[end..].chars().next().is_some_and(ident);
            if before_ok && after_ok {
                found.push(n + 1);
            }
            from = end;
        }
    }
    found
}

pub use ipc_testkit::sources::code;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_literals_are_not_code() {
        let text = "let a = \"unsafe // x\"; // unsafe\n/* unsafe /* nested */ unsafe */ let b = '\"';\nlet c = r#\"unsafe\"#; fn f<'a>(x: &'a u8) {}\n";
        let code = code(text);
        assert!(!code.contains("unsafe"), "{code}");
        assert_eq!(code.lines().count(), 3, "{code}");
        assert!(code.contains("fn f<'a>(x: &'a u8)"), "{code}");
    }

    #[test]
    fn what_the_reference_uses_is_allowed_and_more_is_named() {
        let reference = vec!["use std::fs;\nfn f() { fs::read(\"x\"); }\n".to_owned()];
        let same = vec![(PathBuf::from("src/lib.rs"), reference[0].clone())];
        assert!(added(&same, &reference).is_empty());
        let more = vec![(
            PathBuf::from("src/lib.rs"),
            "use std::fs;\nfn f() { fs::read(\"x\"); fs::write(\"y\", \"\"); }\n".to_owned(),
        )];
        assert_eq!(
            added(&more, &reference),
            ["src/lib.rs:2: fs:: (the file system)"]
        );
    }

    #[test]
    fn every_way_to_fake_the_evidence_is_seen() {
        for (text, word) in [
            ("unsafe { x() }", "unsafe"),
            ("ipc_core::trace::send(1, 2, \"\")", "trace::"),
            ("let t = include_str!(\"/etc/passwd\");", "include_str!"),
            ("std::process::Command::new(\"sh\")", "Command"),
            ("#![allow(unsafe_code)]", "#!["),
            ("#[path = \"/x.rs\"] mod x;", "#[path"),
            ("extern \"C\" { fn f(); }", "extern"),
            ("let f = File::create(p);", "File"),
        ] {
            let found = added(&[(PathBuf::from("src/lib.rs"), text.to_owned())], &[]);
            assert!(
                found.iter().any(|f| f.contains(&format!(": {word} ("))),
                "{text}: {found:?}"
            );
        }
        // Look-alikes are not.
        let fine = "fn profile() -> Profile { Subcommand::x(); unsafely(); }";
        assert!(added(&[(PathBuf::from("a.rs"), fine.into())], &[]).is_empty());
        // The starter's own allow line is not the student's.
        let starter = format!("{}\nfn f() {{}}\n", crate::markers::ALLOW.trim());
        assert!(added(&[(PathBuf::from("a.rs"), starter)], &[]).is_empty());
    }
}
