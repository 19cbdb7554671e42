//! The instructor guide's batch run ("Running every experiment") is a run
//! of today's `scripts/run-all.sh`: its sample shows every experiment, in
//! the order and with the results a real run prints (the seconds masked),
//! and its table of arguments is the script's own list.

mod common;

use std::process::Command;
use std::time::Duration;

const GUIDE: &str = "docs/instructor-guide.md";
const SCRIPT: &str = "scripts/run-all.sh";

/// The ```text block that follows `marker` in the guide.
fn sample_after(guide: &str, marker: &str) -> String {
    let at = guide
        .find(marker)
        .unwrap_or_else(|| panic!("{GUIDE} no longer says {marker:?}"));
    ipc_testkit::handout::code_block(&guide[at..], "text")
        .expect("a ```text block after it")
        .to_owned()
}

/// A line of run-all.sh's output with its seconds (`0.01s`, its last
/// word) replaced by `…s`: they differ from run to run.
fn masked(line: &str) -> String {
    match line.rsplit_once(' ') {
        Some((head, last))
            if last.ends_with('s') && last[..last.len() - 1].parse::<f64>().is_ok() =>
        {
            format!("{} …s", head.trim_end())
        }
        _ => line.to_owned(),
    }
}

/// The script's `experiments` list: (name, arguments, standard input).
fn script_experiments() -> Vec<(String, String, String)> {
    let script = common::read(SCRIPT);
    let list = script
        .split("experiments=(")
        .nth(1)
        .and_then(|rest| rest.split("\n)").next())
        .expect("an experiments=( … ) list in run-all.sh");
    list.lines()
        .map(|line| line.trim().trim_matches('"'))
        .filter(|line| !line.is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            assert_eq!(fields.len(), 3, "{SCRIPT}: {line:?}");
            (fields[0].into(), fields[1].into(), fields[2].into())
        })
        .collect()
}

#[test]
fn the_guides_batch_sample_is_what_run_all_prints() {
    let guide = common::read(GUIDE);
    let sample = sample_after(
        &guide,
        "A real run (a test, `crates/ipc-testkit/tests/batch.rs`",
    );
    // Today's binaries, then the script on them.
    common::binaries();
    let mut command = Command::new("bash");
    command
        .current_dir(common::root())
        .args([SCRIPT, "--no-build"]);
    let run = ipc_testkit::run_command(command, None, Duration::from_secs(600));
    run.assert_code(0);
    let shown: Vec<String> = sample.lines().map(masked).collect();
    let real: Vec<String> = run.stdout.lines().map(masked).collect();
    assert_eq!(
        shown, real,
        "{GUIDE}'s sample of scripts/run-all.sh (left) is not what it prints (right), \
         seconds masked\n{run}"
    );
    // Every experiment is in it.
    for name in common::experiments() {
        assert!(
            shown
                .iter()
                .any(|line| line.split_whitespace().next() == Some(&name)),
            "{GUIDE}'s batch sample leaves out {name}"
        );
    }
}

#[test]
fn the_guides_table_of_arguments_is_the_scripts_list() {
    let guide = common::read(GUIDE);
    let at = guide
        .find("| experiment | run as | standard input |")
        .expect("the guide's table of run-all.sh's arguments");
    let rows: Vec<(String, String, String)> = guide[at..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let input = match cells[2] {
                "nothing" => String::new(),
                cell => {
                    let words = cell
                        .strip_suffix(", one per line")
                        .unwrap_or_else(|| panic!("{GUIDE}: standard input {cell:?}"));
                    words
                        .trim_matches('`')
                        .split(' ')
                        .map(|w| format!("{w}\\n"))
                        .collect()
                }
            };
            (
                cells[0].trim_matches('`').to_owned(),
                cells[1].trim_matches('`').to_owned(),
                input,
            )
        })
        .collect();
    assert_eq!(
        rows,
        script_experiments(),
        "{GUIDE}'s table (left) is not run-all.sh's experiments list (right)"
    );
}

#[test]
fn seconds_are_masked_and_nothing_else() {
    assert_eq!(
        masked("exp7-shm       ok          0.01s"),
        "exp7-shm       ok …s"
    );
    assert_eq!(masked("16 passed, 0 failed"), "16 passed, 0 failed");
    assert_ne!(masked("exp7-shm ok 0.01s"), masked("exp7-shm failed 0.01s"));
}
