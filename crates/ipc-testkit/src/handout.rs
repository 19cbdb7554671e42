//! Checks of an experiment's handout, its `README.md`.
//!
//! Every handout has the same shape: a title line `# <crate> — …`, a
//! `Seed: …` line, then exactly the [`SECTIONS`] in order, with at least
//! three numbered questions; its "Expected output" shows a real run in a
//! ```` ```text ```` block, which a test compares with a run of today's
//! binary.
//!
//! ```no_run
//! use ipc_testkit::handout;
//!
//! // In tests/output.rs of exp7-shm:
//! let readme = handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7-shm");
//! # const BIN: &str = "exp7-shm"; // env!("CARGO_BIN_EXE_exp7-shm")
//! handout::assert_shows(&readme, &ipc_testkit::run(BIN, &["--fast"]));
//! ```

use std::fmt;
use std::path::Path;

use crate::Run;

/// The section headings every handout has, in this order and no others.
///
/// "Your part" says what a student writes in a starter (the regions of
/// `src/` between `// STUDENT: <hint>` and `// END STUDENT`, which
/// `scripts/starter.sh` replaces with `todo!()`) and how to check it.
pub const SECTIONS: [&str; 9] = [
    "## Aim",
    "## Theory in brief",
    "## How to run",
    "## Your part",
    "## Expected output",
    "## What to observe",
    "## Questions",
    "## Clean-up",
    "## Fixed from the seed",
];

/// The fewest numbered questions a handout may have.
pub const MIN_QUESTIONS: usize = 3;

/// The text of `README.md` in `manifest_dir` (pass
/// `env!("CARGO_MANIFEST_DIR")`); panics naming the file if it cannot be
/// read.
#[track_caller]
pub fn read(manifest_dir: &str) -> String {
    let path = Path::new(manifest_dir).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// [`read`], then [`assert_title`], [`assert_sections`] and
/// [`assert_quiet_cargo_when_redirecting`]: the handout of `crate_name`,
/// checked for its shape.
#[track_caller]
pub fn checked(manifest_dir: &str, crate_name: &str) -> String {
    let readme = read(manifest_dir);
    assert_title(&readme, crate_name);
    assert_sections(&readme);
    assert_quiet_cargo_when_redirecting(&readme);
    readme
}

/// Panics, naming the line, unless every `cargo run` of the handout that
/// sends standard error somewhere (`2> log.txt`, `2>&1`, `&>`, `|&`) is a
/// `cargo run -q`: cargo prints its own lines (`Compiling …`, `Running …`)
/// on standard error, and they would end up in the student's log.
#[track_caller]
pub fn assert_quiet_cargo_when_redirecting(readme: &str) {
    for line in readme.lines() {
        let command = line.split(" #").next().unwrap_or(line);
        let Some(at) = command.find("cargo run") else {
            continue;
        };
        let redirects = ["2>", "&>", "|&"].iter().any(|r| command.contains(r));
        let quiet = command[at..]
            .split_whitespace()
            .take_while(|word| *word != "--")
            .any(|word| word == "-q" || word == "--quiet");
        assert!(
            !redirects || quiet,
            "this command sends stderr elsewhere without `cargo run -q`, so cargo's own \
             lines go with it: {line:?}"
        );
    }
}

/// Panics unless the handout starts with the title line `# <crate_name> — `
/// and its third line is the `Seed: ` line.
#[track_caller]
pub fn assert_title(readme: &str, crate_name: &str) {
    let mut lines = readme.lines();
    let title = lines.next().unwrap_or_default();
    assert!(
        title.starts_with(&format!("# {crate_name} — ")),
        "the title line is not `# {crate_name} — …`: {title:?}"
    );
    let seed = lines.nth(1).unwrap_or_default();
    assert!(
        seed.starts_with("Seed: "),
        "the third line of the handout is not the `Seed: ` line: {seed:?}"
    );
}

/// The `## ` headings of `readme`, in order, leaving out lines inside
/// fenced code blocks (a shell comment `## …` there is no heading).
pub fn headings(readme: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut found = Vec::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with("## ") {
            found.push(line.trim_end());
        }
    }
    found
}

/// The text under `heading` (a line of [`SECTIONS`]) up to the next `## `
/// heading; panics if the handout has no such section.
#[track_caller]
pub fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let mut fenced = false;
    let mut start = None;
    let mut at = 0;
    for line in readme.split_inclusive('\n') {
        let text = line.trim_end();
        if text.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && text.starts_with("## ") {
            if let Some(start) = start {
                return &readme[start..at];
            }
            if text == heading {
                start = Some(at + line.len());
            }
        }
        at += line.len();
    }
    match start {
        Some(start) => &readme[start..],
        None => panic!("the handout has no section {heading:?}"),
    }
}

/// The numbers of the items of the numbered list under "## Questions", in
/// order: every line that starts, unindented, with `N. ` (a line indented
/// under an item continues it; a number inside an item is no item).
pub fn question_numbers(readme: &str) -> Vec<usize> {
    section(readme, "## Questions")
        .lines()
        .filter(|line| !line.starts_with(char::is_whitespace))
        .filter_map(|line| line.split_once(". "))
        .filter_map(|(number, _)| number.parse().ok())
        .collect()
}

/// Panics unless the handout's `## ` headings are exactly [`SECTIONS`], in
/// order, and "## Questions" is a numbered list of at least
/// [`MIN_QUESTIONS`] questions `1. `, `2. `, … without a gap, so that an
/// answer sheet can name each one by its number.
#[track_caller]
pub fn assert_sections(readme: &str) {
    assert_eq!(
        headings(readme),
        SECTIONS,
        "the handout's sections are not the required ones, in order"
    );
    let numbers = question_numbers(readme);
    assert!(
        numbers.len() >= MIN_QUESTIONS,
        "## Questions has {} numbered questions, fewer than {MIN_QUESTIONS}",
        numbers.len()
    );
    let in_order: Vec<usize> = (1..=numbers.len()).collect();
    assert_eq!(
        numbers, in_order,
        "the questions are not numbered 1, 2, 3, …"
    );
}

/// The body of the first fenced block of `language` (```` ```text ````) in
/// `text`, without its fences; `None` if there is none.
pub fn code_block<'a>(text: &'a str, language: &str) -> Option<&'a str> {
    let fence = format!("```{language}\n");
    let start = text.find(&fence)? + fence.len();
    let len = text[start..].find("```")?;
    Some(&text[start..start + len])
}

/// The first ```` ```text ```` block under "## Expected output": what the
/// handout says a run prints. Panics if the section has none.
#[track_caller]
pub fn expected_output(readme: &str) -> String {
    code_block(section(readme, "## Expected output"), "text")
        .expect("a ```text block under \"## Expected output\"")
        .to_owned()
}

/// The `ipc-lab-…` names in `text`, each with its varying parts masked:
/// a part of digits only (a pid, a counter) becomes `N` and a random
/// token (eight hex digits) `TOKEN`; sorted, without repeats. A real
/// run's `/tmp/ipc-lab-8076-a463be92-0-exp3-fifo` and the handout's must
/// give the same `/tmp/ipc-lab-N-TOKEN-N-exp3-fifo`.
///
/// ```
/// let names = ipc_testkit::handout::object_names(
///     "FIFO created: /tmp/ipc-lab-8076-a463be92-0-exp3-fifo (mode 0600)\n\
///      Server listening on /ipc-lab-exp3-clientserver\n",
/// );
/// assert_eq!(names, ["ipc-lab-N-TOKEN-N-exp3-fifo", "ipc-lab-exp3-clientserver"]);
/// ```
pub fn object_names(text: &str) -> Vec<String> {
    let part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    let mut names: Vec<String> = text
        .match_indices("ipc-lab-")
        .map(|(at, _)| {
            let name: String = text[at..].chars().take_while(|&c| part(c)).collect();
            name.trim_end_matches('.')
                .split('-')
                .map(|word| {
                    if word.len() == 8 && word.chars().all(|c| c.is_ascii_hexdigit()) {
                        "TOKEN"
                    } else if !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
                        "N"
                    } else {
                        word
                    }
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Panics unless the handout's [`expected_output`] shows the IPC objects'
/// names in the form a real run prints them ([`object_names`]: pids and
/// tokens masked); the message shows both lists.
#[track_caller]
pub fn assert_names_as_run(readme: &str, run: &Run) {
    let shown = object_names(&expected_output(readme));
    let real = object_names(&run.stdout);
    assert_eq!(
        shown, real,
        "the handout's expected output (left) does not name the IPC objects as a run does \
         (right; pids shown as N, random tokens as TOKEN)\n{run}"
    );
}

/// Panics unless `run` ended with exit code 0 and printed on standard
/// output the lines of the handout's [`expected_output`]; the message
/// names the first line that differs.
#[track_caller]
pub fn assert_shows(readme: &str, run: &Run) {
    run.assert_code(0);
    assert_names_as_run(readme, run);
    let expected = expected_output(readme);
    let expected: Vec<&str> = expected.lines().collect();
    if let Some(difference) = crate::first_difference(&run.stdout_lines(), &expected) {
        let diff = crate::unified_diff(&expected, &run.stdout_lines());
        panic!("the handout's expected output is not what a run prints: {difference}\n{diff}{run}");
    }
}

/// As [`assert_shows`], comparing the handout's expected output and the
/// run's standard output after `normalise` (which replaces what differs
/// from run to run: pids, names, the interleaving of processes). The
/// names of IPC objects are compared first, in their masked form
/// ([`assert_names_as_run`]), since `normalise` may hide them.
#[track_caller]
pub fn assert_shows_normalised<T: PartialEq + fmt::Debug>(
    readme: &str,
    run: &Run,
    normalise: impl Fn(&str) -> T,
) {
    run.assert_code(0);
    assert_names_as_run(readme, run);
    assert_eq!(
        normalise(&expected_output(readme)),
        normalise(&run.stdout),
        "the handout's expected output (left) is not what a run prints (right)\n{run}"
    );
}

/// A run as a handout shows it in its expected output: the command that
/// ran it, `$ cargo run -q -p <crate_name> -- <args>`, then the lines it
/// printed.
///
/// ```
/// let shown = ipc_testkit::handout::transcript("exp7", &["--fast"], "1\n");
/// assert_eq!(shown, "$ cargo run -q -p exp7 -- --fast\n1\n");
/// ```
pub fn transcript(crate_name: &str, args: &[&str], stdout: &str) -> String {
    let command = format!("$ cargo run -q -p {crate_name} -- {}", args.join(" "));
    format!("{}\n{stdout}", command.trim_end())
}

/// Panics unless `run`, a run of `crate_name args`, ended with exit code 0
/// and the handout's [`expected_output`] shows it as a [`transcript`],
/// both compared after `normalise` (which masks what differs from run to
/// run: a pid, a total without a lock); the message names the first line
/// of the run the handout lacks.
#[track_caller]
pub fn assert_shows_transcript(
    readme: &str,
    crate_name: &str,
    args: &[&str],
    run: &Run,
    normalise: impl Fn(&str) -> String,
) {
    run.assert_code(0);
    let shown = normalise(&expected_output(readme));
    let seen = transcript(crate_name, args, &normalise(&run.stdout));
    if !shown.contains(&seen) {
        let missing = seen.lines().find(|l| !shown.contains(l));
        panic!(
            "the handout does not show this run{}:\n{seen}\n{run}",
            missing.map_or(String::new(), |l| format!(" (nor its line {l:?})"))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transcript_is_shown_only_as_the_handout_has_it() {
        let readme =
            "## Expected output\n\n```text\n$ cargo run -q -p x -- --n 2\npid 41\ntwo\n```\n";
        let run = crate::run("printf", &["pid 7\\ntwo\\n"]);
        let masked = |text: &str| crate::normalise_numbers(text, "pid ");
        assert_shows_transcript(readme, "x", &["--n", "2"], &run, masked);
        let unmasked = std::panic::catch_unwind(|| {
            assert_shows_transcript(readme, "x", &["--n", "2"], &run, str::to_owned);
        });
        assert!(unmasked.is_err());
        let other_args = std::panic::catch_unwind(|| {
            assert_shows_transcript(readme, "x", &["--n", "3"], &run, masked);
        });
        assert!(other_args.is_err());
    }

    #[test]
    fn a_redirected_stderr_needs_a_quiet_cargo() {
        assert_quiet_cargo_when_redirecting(
            "cargo run -q -p x 2> log.txt\ncargo run -p x > out.txt\n",
        );
        assert_quiet_cargo_when_redirecting("cargo run --quiet -p x -- --fast 2>&1 | less\n");
        let outcome = std::panic::catch_unwind(|| {
            assert_quiet_cargo_when_redirecting("cargo run -p x -- -q 2> log.txt # the log\n")
        });
        let message = *outcome.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.contains("cargo run -p x -- -q 2> log.txt"),
            "{message}"
        );
    }

    const GOOD: &str = "# exp0-demo — a demonstration

Seed: none.

## Aim

Show the shape.

## Theory in brief

```sh
## a shell comment, not a heading
```

## How to run

```sh
cargo run -p exp0-demo
```

## Your part

Write the demonstration.

## Expected output

Some words first.

```text
one
two
```

```text
another block
```

## What to observe

Nothing.

## Questions

1. Why?
2. How?
   More about how.
3. When?

## Clean-up

Nothing.

## Fixed from the seed

Nothing.
";

    #[test]
    fn a_good_handout_passes_and_shows_its_first_text_block() {
        assert_title(GOOD, "exp0-demo");
        assert_sections(GOOD);
        assert_eq!(expected_output(GOOD), "one\ntwo\n");
        assert_eq!(section(GOOD, "## Aim"), "\nShow the shape.\n\n");
        assert!(section(GOOD, "## Fixed from the seed").ends_with("Nothing.\n"));
    }

    #[test]
    fn headings_inside_code_blocks_do_not_count() {
        assert_eq!(headings(GOOD), SECTIONS);
    }

    #[test]
    fn every_fault_in_the_sections_fails_naming_it() {
        let swapped = GOOD
            .replace("## Aim", "## TMP")
            .replace("## Theory in brief", "## Aim")
            .replace("## TMP", "## Theory in brief");
        let outcome = std::panic::catch_unwind(|| assert_sections(&swapped));
        assert!(crate::panic_message(outcome).contains("not the required ones"));
        // (what the handout has, what it has instead, what the message says)
        for (good, bad, named) in [
            ("## Clean-up\n", "", "not the required ones"),
            (
                "## Clean-up",
                "## Notes\n\n## Clean-up",
                "not the required ones",
            ),
            ("3. When?\n", "", "fewer than 3"),
            ("2. How?", "4. How?", "numbered 1, 2, 3"),
            ("2. How?", "- How?", "fewer than 3"),
        ] {
            let text = GOOD.replace(good, bad);
            let message = crate::panic_message(std::panic::catch_unwind(|| assert_sections(&text)));
            assert!(
                message.contains(named),
                "{good:?} as {bad:?}: {named:?} missing:\n{message}"
            );
        }
    }

    #[test]
    fn a_number_indented_under_a_question_is_not_one() {
        let nested = GOOD.replace("   More about how.", "   1. a step of how");
        assert_eq!(question_numbers(&nested), [1, 2, 3]);
        assert_sections(&nested);
    }

    #[test]
    #[should_panic(expected = "not `# exp7-shm")]
    fn another_crates_title_fails() {
        assert_title(GOOD, "exp7-shm");
    }

    #[test]
    #[should_panic(expected = "`Seed: ` line")]
    fn a_missing_seed_line_fails() {
        assert_title(&GOOD.replace("Seed: none.", "No seed."), "exp0-demo");
    }

    #[test]
    #[should_panic(expected = "a ```text block")]
    fn expected_output_without_a_text_block_fails() {
        // The text block of another section does not count.
        let moved = GOOD
            .replace("```text\none\ntwo\n```", "")
            .replace("```text\nanother block\n```", "")
            .replace(
                "Nothing.\n\n## Questions",
                "```text\nelsewhere\n```\n\n## Questions",
            );
        expected_output(&moved);
    }

    fn echo(text: &str) -> Run {
        crate::run("printf", &["%s", text])
    }

    #[test]
    fn a_run_that_prints_the_expected_lines_is_shown() {
        assert_shows(GOOD, &echo("one\ntwo\n"));
        assert_shows_normalised(GOOD, &echo("two\none\n"), |text| {
            let mut lines: Vec<&str> = text.lines().collect();
            lines.sort();
            lines.join("\n")
        });
    }

    #[test]
    #[should_panic(expected = "is not what a run prints")]
    fn a_run_that_prints_other_lines_is_not_shown() {
        assert_shows(GOOD, &echo("one\ntwo\nthree\n"));
    }

    #[test]
    #[should_panic(expected = "unexpected exit status")]
    fn a_failed_run_is_not_shown() {
        assert_shows(
            GOOD,
            &crate::run("sh", &["-c", "echo one; echo two; exit 1"]),
        );
    }

    #[test]
    #[should_panic(expected = "does not name the IPC objects as a run does")]
    fn a_name_without_its_token_is_not_a_real_runs() {
        let readme = GOOD.replace("one\ntwo\n", "FIFO /tmp/ipc-lab-8076-0-exp3-fifo\ntwo\n");
        assert_shows_normalised(
            &readme,
            &echo("FIFO /tmp/ipc-lab-8099-5e0c1a2b-0-exp3-fifo\ntwo\n"),
            |_| (),
        );
    }

    #[test]
    fn names_with_other_pids_and_tokens_are_the_same() {
        let readme = GOOD.replace(
            "one\ntwo\n",
            "Q /ipc-lab-8254-f113432e-0-exp7-mqueue.\ntwo\n",
        );
        assert_shows_normalised(
            &readme,
            &echo("Q /ipc-lab-20934-9d41f07c-0-exp7-mqueue.\ntwo\n"),
            |_| (),
        );
    }

    #[test]
    fn code_blocks_are_found_by_language() {
        assert_eq!(
            code_block(GOOD, "sh"),
            Some("## a shell comment, not a heading\n")
        );
        assert_eq!(code_block(GOOD, "python"), None);
    }

    #[test]
    #[should_panic(expected = "no section \"## Questions\"")]
    fn a_missing_section_cannot_be_read() {
        section(&GOOD.replace("## Questions", "## Queries"), "## Questions");
    }
}
