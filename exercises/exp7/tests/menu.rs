//! Runs the real `exp7` menu with choices on standard input.

use std::process::Command;
use std::time::Duration;

use ipc_testkit::{Run, assert_no_new_shm, run_command, run_with_input};
use ipc_testkit::{contract, seed000};

const BIN: &str = env!("CARGO_BIN_EXE_exp7");

const EXITING: &str = "> > Exiting program < < ";

fn menu(input: &[u8]) -> Run {
    run_with_input(BIN, &[], input)
}

#[test]
fn choices_1_2_3_4_print_the_seed_lines() {
    let run = menu(b"1\n2\n3\n4\n");
    run.assert_code(0).assert_no_panic();
    let expected: Vec<&str> = seed000::SHARED_MEMORY
        .iter()
        .chain(&seed000::QUEUE)
        .chain(&seed000::pipe())
        .chain(&[EXITING])
        .copied()
        .collect();
    assert_eq!(run.stdout_lines(), expected, "{run}");
    assert_eq!(run.stderr, "", "{run}");
}

#[test]
fn each_choice_alone_then_end_of_input() {
    let pipe = seed000::pipe();
    for (input, lines) in [
        ("1\n", &seed000::SHARED_MEMORY[..]),
        ("2\n", &seed000::QUEUE),
        ("3\n", &pipe),
    ] {
        let run = menu(input.as_bytes());
        run.assert_code(0);
        let mut expected = lines.to_vec();
        expected.push(EXITING);
        assert_eq!(run.stdout_lines(), expected, "{run}");
    }
}

#[test]
fn choices_can_repeat_and_take_python_int_spellings() {
    let run = menu(b" 1 \n+1\n04\n");
    run.assert_code(0);
    let mut expected = seed000::SHARED_MEMORY.to_vec();
    expected.extend(seed000::SHARED_MEMORY);
    expected.push(EXITING);
    assert_eq!(run.stdout_lines(), expected, "{run}");
}

#[test]
fn end_of_input_exits_cleanly() {
    let run = menu(b"");
    run.assert_code(0).assert_no_panic();
    assert_eq!(run.stdout_lines(), [EXITING], "{run}");
}

/// Anything that is not a choice ends the menu as the seed's `else`
/// branch does, with exit code 2 and a message naming the input.
fn assert_invalid(input: &[u8], shown: &str) {
    let run = menu(input);
    run.assert_code(2).assert_no_panic();
    assert_eq!(run.stdout_lines(), ["Invalid option", EXITING], "{run}");
    assert!(run.stderr.starts_with("exp7: "), "{run}");
    assert!(run.stderr.contains(shown), "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
}

#[test]
fn an_unknown_number_is_an_invalid_option() {
    assert_invalid(b"5\n", "\"5\" is not a choice");
    assert_invalid(b"0\n", "\"0\" is not a choice");
}

#[test]
fn garbage_is_an_invalid_option() {
    assert_invalid(b"abc\n1\n", "\"abc\" is not a choice");
    assert_invalid(b"1.0\n", "\"1.0\" is not a choice");
}

#[test]
fn bytes_that_are_not_utf8_are_an_invalid_option() {
    assert_invalid(b"\xff\xfe1\n", "is not a choice");
}

#[test]
fn a_2_mb_line_is_an_invalid_option_named_briefly() {
    let mut line = vec![b'7'; 2 << 20];
    line.push(b'\n');
    let run = menu(&line);
    run.assert_code(2).assert_no_panic();
    assert_eq!(run.stdout_lines(), ["Invalid option", EXITING], "{run}");
    assert!(
        run.stderr.len() < 200,
        "the message quotes the line briefly\n{run}"
    );
}

#[test]
fn valid_choices_before_an_invalid_one_still_run() {
    let run = menu(b"1\nx\n");
    run.assert_code(2);
    let mut expected = seed000::SHARED_MEMORY.to_vec();
    expected.extend(["Invalid option", EXITING]);
    assert_eq!(run.stdout_lines(), expected, "{run}");
}

#[test]
fn a_human_at_a_terminal_sees_the_menu_prompt() {
    // script(1) runs the menu on a pseudo-terminal.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) is not installed");
        return;
    }
    let mut command = Command::new("script");
    command.args(["-qec", BIN, "/dev/null"]);
    let run = run_command(command, Some(b"4\n"), Duration::from_secs(60));
    run.assert_code(0);
    // The terminal echoes the typed "4" whenever script(1) hands it over:
    // between two of the menu's writes (after the prompt "> ", say), so
    // it is taken out before the lines are looked for.
    let screen = run.stdout.replace('\r', "").replace("4\n", "");
    for line in [
        "Enter your choice : ",
        "1 - IPC using Shared Memory",
        "2 - IPC using Message Queue",
        "3 - IPC using PIPES",
        "4. Exit",
        "> > > Exiting program < < ",
    ] {
        assert!(screen.contains(line), "{line:?} missing\n{run}");
    }
}

#[test]
fn a_script_gets_no_prompt() {
    let run = menu(b"4\n");
    run.assert_code(0);
    assert!(!run.stdout.contains("Enter your choice"), "{run}");
    assert_eq!(run.stdout_lines(), [EXITING], "{run}");
}

#[test]
fn leaves_nothing_in_dev_shm() {
    assert_no_new_shm(|| menu(b"1\n2\n3\n4\n")).assert_code(0);
}

#[test]
fn stdout_closed_early_is_a_quiet_exit() {
    // The program's own exit status, not head's.
    let run = contract::assert_closed_stdout_ends_quietly(BIN, &[], b"1\n2\n3\n4\n");
    assert_eq!(run.stdout_lines(), [seed000::SHARED_MEMORY[0]], "{run}");
}

#[test]
fn help_explains_the_menu() {
    let words = [
        "stdin",
        "exp7-shm",
        "exp7-queue",
        "exp7-pipe",
        "Invalid option",
        "--fast",
    ];
    contract::assert_help(&ipc_testkit::run(BIN, &["--help"]), &words);
}

#[test]
fn a_full_disk_is_reported_not_a_panic() {
    ipc_testkit::run_into_full_disk(BIN, &[]).assert_full_disk_reported();
}

#[test]
fn an_unknown_flag_is_bad_usage() {
    let run = ipc_testkit::run(BIN, &["--bogus"]);
    run.assert_code(2).assert_no_panic();
    assert!(run.stderr.contains("--bogus"), "{run}");
}

#[test]
fn the_handout_shows_a_real_run() {
    let readme = ipc_testkit::handout::checked(env!("CARGO_MANIFEST_DIR"), "exp7");
    ipc_testkit::handout::assert_shows(&readme, &menu(b"1\n2\n3\n4\n"));
}
