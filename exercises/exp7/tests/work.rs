//! Graded checks of the student's menu on choices the handout never shows:
//! sequences chosen now, each experiment at least once. The lines are the
//! experiments' own, and the run's timeline (what ipc-core recorded, not
//! what the program printed) must show every chosen experiment doing its
//! inter-process work: for choice 1, p1 squaring into a shared Array and
//! storing the sum in a shared Value, read by the menu afterwards; for 2,
//! the squares crossing a Queue from p1 to p2; for 3, the messages going
//! through a pipe from p1 to p2. A menu that prints the lines without
//! running the experiments fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use ipc_testkit::evidence::{Crossing, Inputs, Messages, Rng, quoted};
use ipc_testkit::seed000;

const BIN: &str = env!("CARGO_BIN_EXE_exp7");

const EXITING: &str = "> > Exiting program < < ";

/// Feeds `choices` (then 4, or nothing: the end of input) to the menu and
/// checks the lines and that each chosen experiment did its work.
fn assert_each_choice_runs_for_real(inputs: &Inputs, choices: &[u8], then_4: bool) {
    let mut input: String = choices.iter().map(|c| format!("{c}\n")).collect();
    if then_4 {
        input.push_str("4\n");
    }
    let evidence = inputs.run_with_input(BIN, &[], input.as_bytes());
    let pipe = seed000::pipe();
    let mut lines: Vec<&str> = Vec::new();
    for chosen in choices {
        lines.extend(match chosen {
            1 => &seed000::SHARED_MEMORY[..],
            2 => &seed000::QUEUE[..],
            _ => &pipe[..],
        });
    }
    lines.push(EXITING);
    evidence.assert_prints(&lines);
    let times = |choice: u8| choices.iter().filter(|&&c| c == choice).count();
    if times(1) > 0 {
        let squares = ["1", "4", "9", "16"].map(String::from);
        evidence.assert_data_crossed(&Crossing {
            object: "array",
            called: "the shared Array",
            values: &squares,
            writers: &["p1"],
            times: times(1),
            meaning: "choice 1 must run exp7-shm: its child p1 squares the list into the shared Array",
            ..Crossing::default()
        });
        evidence.assert_data_crossed(&Crossing {
            object: "value",
            called: "the shared Value",
            values: &["30".into()],
            writers: &["p1"],
            times: times(1),
            meaning: "choice 1 must run exp7-shm: its child p1 stores the sum in the shared Value",
            ..Crossing::default()
        });
    }
    let repeated = |texts: &[String], n: usize| -> Vec<String> {
        (0..n).flat_map(|_| texts.iter().cloned()).collect()
    };
    if times(2) > 0 {
        let squares = repeated(&["1", "4", "9", "16"].map(String::from), times(2));
        evidence.assert_messages_crossed(&Messages {
            channel: "queue",
            called: "a Queue",
            texts: &squares,
            sender: Some("p1"),
            receiver: Some("p2"),
            in_order: true,
            meaning: "choice 2 must run exp7-queue: p1 puts the squares on the Queue and p2 takes them off",
        });
    }
    if times(3) > 0 {
        let messages = ["First", "second", "third?", "END"].map(quoted);
        evidence.assert_messages_crossed(&Messages {
            channel: "socketpair",
            called: "a pipe",
            texts: &repeated(&messages, times(3)),
            sender: Some("p1"),
            receiver: Some("p2"),
            in_order: true,
            meaning: "choice 3 must run exp7-pipe: p1 sends the messages through the pipe and p2 receives them",
        });
    }
}

#[test]
fn a_random_sequence_of_choices_runs_each_experiment_for_real() {
    let mut inputs = Inputs::new();
    // Each experiment once, in a random order, and up to three more.
    let mut choices = vec![1, 2, 3];
    let extra = inputs.rng().random_range(0..=3);
    for _ in 0..extra {
        choices.push(inputs.rng().random_range(1..=3));
    }
    for i in (1..choices.len()).rev() {
        choices.swap(i, inputs.rng().random_range(0..=i));
    }
    let shown: Vec<String> = choices.iter().map(u8::to_string).collect();
    inputs.note("choices", format!("{}, then 4", shown.join(", ")));
    assert_each_choice_runs_for_real(&inputs, &choices, true);
}

#[test]
fn each_experiment_chosen_twice_in_a_row_runs_twice_for_real() {
    let mut inputs = Inputs::new();
    // 1, 2 and 3 in a random order, each twice in a row: every run makes
    // objects of its own.
    let mut order = [1, 2, 3];
    for i in (1..order.len()).rev() {
        order.swap(i, inputs.rng().random_range(0..=i));
    }
    let choices: Vec<u8> = order.iter().flat_map(|&c| [c, c]).collect();
    let shown: Vec<String> = choices.iter().map(u8::to_string).collect();
    inputs.note(
        "choices",
        format!("{}, then the end of input", shown.join(", ")),
    );
    assert_each_choice_runs_for_real(&inputs, &choices, false);
}

#[test]
fn the_seed_choices_run_each_experiment_for_real() {
    assert_each_choice_runs_for_real(&Inputs::new(), &[1, 2, 3], true);
}
