//! The lines of seed 000, the contract of exp7-shm (choice 1 of its
//! menu), exp7-queue (choice 2), exp7-pipe (choice 3) and the exp7 menu
//! that runs all three: written once here, for the four crates' tests.
//!
//! ```
//! use ipc_testkit::seed000;
//!
//! assert_eq!(seed000::shared_memory(&[1, 2, 3, 4]), seed000::SHARED_MEMORY);
//! assert_eq!(seed000::pipe().len(), 7);
//! ```

use crate::evidence::py_list;

/// The header both the shared-memory and the queue experiment print.
const HEADER: &str = "The following Array is going to simulate the shared memory";

/// Choice 1, exp7-shm: p1 squares the numbers 1 2 3 4 into a shared Array
/// and their sum into a shared Value; the main program reads both after.
pub const SHARED_MEMORY: [&str; 6] = [
    HEADER,
    "1 2 3 4 ",
    "Result(in process p1): [1, 4, 9, 16]",
    "Sum of squares(in process p1): 30",
    "Result(in main program): [1, 4, 9, 16]",
    "Sum of squares(in main program): 30",
];

/// Choice 2, exp7-queue: p1 puts the squares on a Queue, p2 takes them.
pub const QUEUE: [&str; 8] = [
    HEADER,
    "1 2 3 4 ",
    "Queue elements:",
    "1",
    "4",
    "9",
    "16",
    "Queue is now empty!",
];

/// Choice 3, exp7-pipe: what p1 sends through the pipe, in order.
pub const PIPE_SENT: [&str; 4] = [
    "Sent the message: First",
    "Sent the message: second",
    "Sent the message: third?",
    "Sent the message: END",
];

/// Choice 3, exp7-pipe: what p2 receives, in order (`END` ends it).
pub const PIPE_RECEIVED: [&str; 3] = [
    "Received the message: First",
    "Received the message: second",
    "Received the message: third?",
];

/// Choice 3's lines as the seed prints them: p1's, then p2's.
pub fn pipe() -> Vec<&'static str> {
    PIPE_SENT.iter().chain(&PIPE_RECEIVED).copied().collect()
}

/// The numbers as the experiments list them: `1 2 3 4 `.
fn listed(numbers: &[i64]) -> String {
    numbers.iter().map(|n| format!("{n} ")).collect()
}

/// What exp7-shm prints for `numbers` ([`SHARED_MEMORY`] for 1, 2, 3, 4).
pub fn shared_memory(numbers: &[i64]) -> Vec<String> {
    let squares: Vec<i64> = numbers.iter().map(|n| n * n).collect();
    let sum: i64 = squares.iter().sum();
    vec![
        HEADER.into(),
        listed(numbers),
        format!("Result(in process p1): {}", py_list(&squares)),
        format!("Sum of squares(in process p1): {sum}"),
        format!("Result(in main program): {}", py_list(&squares)),
        format!("Sum of squares(in main program): {sum}"),
    ]
}

/// What exp7-queue prints for `numbers` ([`QUEUE`] for 1, 2, 3, 4).
pub fn queue(numbers: &[i64]) -> Vec<String> {
    let mut lines = vec![HEADER.into(), listed(numbers), "Queue elements:".into()];
    lines.extend(numbers.iter().map(|n| (n * n).to_string()));
    lines.push("Queue is now empty!".into());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_lines_are_the_lines_of_the_seed_numbers() {
        assert_eq!(shared_memory(&[1, 2, 3, 4]), SHARED_MEMORY);
        assert_eq!(queue(&[1, 2, 3, 4]), QUEUE);
        assert_eq!(
            shared_memory(&[-3]),
            [
                HEADER,
                "-3 ",
                "Result(in process p1): [9]",
                "Sum of squares(in process p1): 9",
                "Result(in main program): [9]",
                "Sum of squares(in main program): 9",
            ]
        );
        assert_eq!(queue(&[5])[3..], ["25", "Queue is now empty!"]);
        assert_eq!(
            pipe()[3..5],
            ["Sent the message: END", "Received the message: First"]
        );
    }
}
