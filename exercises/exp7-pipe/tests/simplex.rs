//! `exp7-pipe --simplex`: the seed's "two pipes", one each way. The two
//! processes run at once, so their lines interleave differently from run
//! to run; each keeps its own order, and the reply p2 sends back on the
//! second pipe is printed last. (A process killed while the other waits
//! is in `output.rs`, for both kinds of pipe.)

use exp7_pipe::REPLY;
use ipc_testkit::contract;
use ipc_testkit::run;

const BIN: &str = env!("CARGO_BIN_EXE_exp7-pipe");

#[test]
fn with_simplex_each_process_keeps_its_order_and_the_reply_comes_last() {
    let reply = format!("Received the reply: {REPLY}");
    for _ in 0..5 {
        let run = run(BIN, &["--simplex", "--fast"]);
        run.assert_code(0).assert_no_panic();
        assert_eq!(run.stderr, "", "{run}");
        let lines = run.stdout_lines();
        assert_eq!(lines.last(), Some(&reply.as_str()), "{run}");
        // Before the reply, p1's lines and p2's, each in its order.
        let (sent, received): (Vec<&str>, Vec<&str>) = lines[..lines.len() - 1]
            .iter()
            .partition(|line| line.starts_with("Sent "));
        let sent_seed = [
            "Sent the message: First",
            "Sent the message: second",
            "Sent the message: third?",
            "Sent the message: END",
        ];
        let received_seed = [
            "Received the message: First",
            "Received the message: second",
            "Received the message: third?",
        ];
        assert_eq!(sent, sent_seed, "{run}");
        assert_eq!(received, received_seed, "{run}");
    }
}

#[test]
fn simplex_and_no_receiver_are_bad_usage_together() {
    run(BIN, &["--simplex", "--no-receiver"]).assert_bad_usage("cannot be used with");
}

#[test]
fn help_explains_simplex() {
    contract::assert_help(
        &run(BIN, &["--help"]),
        &["--simplex", "pipe(2)", "two pipes"],
    );
}
