//! Checks of the mdBook in `docs/`: every internal link of every chapter
//! leads somewhere in the built book.
//!
//! The handouts are chapters through `{{#include ../../exercises/…}}`:
//! mdBook pastes their text into the chapter and resolves their links
//! from the *chapter's* place, not the handout's. A link such as
//! `../exp7-shm`, right on GitHub next to `exercises/exp7/README.md`, is
//! broken in the book (and a directory is never a page there). So the
//! check reads each chapter as mdBook builds it, includes pasted in, and
//! resolves each link from the chapter:
//!
//! - a `.md` target must be a chapter listed in `SUMMARY.md` (only those
//!   become pages);
//! - any other target must be a file under the book's source (mdBook
//!   copies those), not a directory;
//! - an anchor (`#how-we-know`) must be the id of a heading of the target
//!   page, as mdBook makes ids (lower case, spaces to `-`, punctuation
//!   dropped).
//!
//! Links with a scheme (`https:`, `mailto:`) are not followed.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

/// Every broken internal link of the book whose source is `src` (the
/// directory of `SUMMARY.md`), as `chapter: link (why)`; empty when all
/// lead somewhere.
pub fn broken_links(src: &Path) -> Vec<String> {
    let summary = read(&src.join("SUMMARY.md"));
    let chapters: BTreeSet<PathBuf> = links(&summary)
        .into_iter()
        .filter(|target| !target.contains(':') && target.ends_with(".md"))
        .map(|target| normalise(Path::new(&target)))
        .collect();
    let mut broken = Vec::new();
    for chapter in &chapters {
        let text = expanded(&src.join(chapter));
        let here = chapter.parent().unwrap_or(Path::new(""));
        for link in links(&text) {
            if link.contains(':') {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                chapter.clone()
            } else {
                normalise(&here.join(path))
            };
            let why = if path.ends_with(".md") || path.is_empty() {
                if !chapters.contains(&target) {
                    Some("not a chapter of SUMMARY.md".to_owned())
                } else if !anchor.is_empty()
                    && !heading_ids(&expanded(&src.join(&target))).contains(anchor)
                {
                    Some(format!("no heading #{anchor} in {}", target.display()))
                } else {
                    None
                }
            } else if !src.join(&target).is_file() {
                Some(format!("no file {} in the book", target.display()))
            } else {
                None
            };
            if let Some(why) = why {
                broken.push(format!("{}: {link} ({why})", chapter.display()));
            }
        }
    }
    broken
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `chapter` with every `{{#include FILE}}` replaced by the
/// file's text, as mdBook does.
fn expanded(chapter: &Path) -> String {
    let text = read(chapter);
    let mut out = String::new();
    for line in text.lines() {
        match line
            .trim()
            .strip_prefix("{{#include ")
            .and_then(|rest| rest.strip_suffix("}}"))
        {
            Some(file) => out.push_str(&read(&chapter.parent().unwrap().join(file.trim()))),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The targets of the Markdown links `[text](target)` and images of
/// `text`, outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Leave out code spans: `[a](b)` in backticks is no link.
        let plain: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, part)| part)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            if !target.is_empty() {
                found.push(target.to_owned());
            }
            rest = &after[end..];
        }
    }
    found
}

/// The ids mdBook gives the headings of `text`.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut ids = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            let title = line.trim_start_matches('#').trim();
            ids.insert(heading_id(title));
        }
    }
    ids
}

/// mdBook's id of a heading: lower case, white space to `-`, everything
/// but letters, digits, `-` and `_` dropped.
fn heading_id(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some('-')
            } else if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c.to_ascii_lowercase())
            } else {
                None
            }
        })
        .collect()
}

/// `path` with `.` and `a/..` taken out.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TempDir;

    #[test]
    fn ids_are_made_as_mdbook_makes_them() {
        assert_eq!(
            heading_id("How we know the tests can fail"),
            "how-we-know-the-tests-can-fail"
        );
        assert_eq!(
            heading_id("`exp7-shm`: shared memory!"),
            "exp7-shm-shared-memory"
        );
    }

    #[test]
    fn a_broken_link_of_an_included_handout_is_found() {
        let book = TempDir::new("book");
        let write = |path: &str, text: &str| {
            let path = book.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "docs/SUMMARY.md",
            "[Intro](intro.md)\n- [one](experiments/one.md)\n",
        );
        write(
            "docs/intro.md",
            "# Intro\n## A part\nSee [one](experiments/one.md#aim), [here](#a-part), \
             `[not](a-link.md)` and [a picture](pic.svg).\n",
        );
        write("docs/pic.svg", "<svg/>");
        write(
            "docs/experiments/one.md",
            "{{#include ../../exercises/one/README.md}}\n",
        );
        write(
            "exercises/one/README.md",
            "# one\n## Aim\nSee [two](../two), [intro](../intro.md#nowhere) \
             and [the web](https://example.org).\n```sh\necho [x](y)\n```\n",
        );
        let broken = broken_links(&book.join("docs"));
        assert_eq!(
            broken,
            [
                "experiments/one.md: ../two (no file two in the book)",
                "experiments/one.md: ../intro.md#nowhere (no heading #nowhere in intro.md)",
            ]
        );
    }
}
