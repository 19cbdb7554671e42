//! The `writer` role's own messages are checked by clap, once, before
//! anything is created: each must be a line of 1 to 64 bytes of printable
//! text, and there may be at most 16 of them.

use ipc_testkit::{TempDir, run};

const BIN: &str = env!("CARGO_BIN_EXE_exp3-fifo");

#[test]
fn the_writer_role_refuses_messages_that_are_not_lines() {
    let dir = TempDir::new("usage");
    let path = dir.join("ipc-lab-usage");
    let p = path.to_str().unwrap();
    let rule = "expected a message of 1 to 64 bytes of printable text";
    let long = "x".repeat(65);
    for bad in ["", "   ", "two\nlines", "tab\there", &long] {
        run(BIN, &["writer", "--path", p, "ok", bad]).assert_bad_usage(rule);
        assert!(
            !path.exists(),
            "{bad:?}: a FIFO was made before the refusal"
        );
    }
    let many: Vec<String> = (0..17).map(|k| format!("m{k}")).collect();
    let mut args = vec!["writer", "--path", p];
    args.extend(many.iter().map(String::as_str));
    run(BIN, &args).assert_bad_usage("m16");
    assert!(
        !path.exists(),
        "17 messages: a FIFO was made before the refusal"
    );
}
