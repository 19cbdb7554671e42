//! A queue at the name that belongs to another user is never used: the
//! roles refuse it, naming its owner, and leave it as it was.

use ipc_core::IpcName;
use ipc_core::mqueue::MessageQueue;
use ipc_testkit::{run, running_as_root, skip_unless};

const BIN: &str = env!("CARGO_BIN_EXE_exp7-mqueue");

#[test]
fn a_queue_of_another_user_is_refused_and_left_as_it_was() {
    skip_unless!(
        running_as_root(),
        "making a queue of another user needs root (fchown)"
    );
    let name = IpcName::unique("exp7-foreign").unwrap();
    // Made here (so that it is removed at the end), then given away, as a
    // queue planted at the name by uid 65534 would be.
    let theirs = MessageQueue::create(&name, 2, 32).unwrap();
    theirs.send(b"theirs", 3).unwrap();
    std::os::unix::fs::fchown(&theirs, Some(65534), Some(65534)).unwrap();
    for role in [&["send"][..], &["receive"], &["attrs"], &["unlink"]] {
        let mut args = vec!["--fast", "--name", name.as_str()];
        args.extend_from_slice(role);
        let refused = run(BIN, &args);
        refused
            .assert_code(1)
            .assert_no_panic()
            .assert_stderr_contains(&[&format!(
                "{} belongs to uid 65534, not to you: not using it",
                name.path()
            )]);
        assert!(!refused.stdout.contains("Using the existing"), "{refused}");
        assert!(!refused.stdout.contains("Sent the message"), "{refused}");
    }
    let attrs = theirs.attributes().unwrap();
    assert_eq!((attrs.maxmsg, attrs.curmsgs), (2, 1), "left as it was");
    assert!(
        MessageQueue::exists(&name).unwrap(),
        "not removed by `unlink`"
    );
}
