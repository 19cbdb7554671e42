//! Graded checks of the student's work on inputs the handout never shows:
//! other numbers and another pool size, chosen now. Each check computes
//! here the lines the reference prints, and looks in the run's timeline
//! (what ipc-core recorded, not what the program printed): every square
//! must have been sent on the pool's `pool results` channel by a worker
//! and received by the main program, once for `Pool.map` and once for
//! `imap_unordered`; every number's entry in the Manager dict must have
//! been set by the worker whose pid it holds. A program that squares in
//! the main program, or records the dict there, fails them.
//!
//! `IPC_LAB_CHECK_SEED=N` repeats the inputs of a failure that printed
//! seed N.

use std::collections::BTreeSet;

use ipc_testkit::evidence::{Evidence, Inputs, Messages, py_list};

const BIN: &str = env!("CARGO_BIN_EXE_exp11-pool");

/// Distinct numbers, none of -1, 0 and 1 (whose squares are themselves),
/// and how many workers, chosen now.
fn choose(inputs: &mut Inputs) -> (Vec<i64>, usize) {
    let chosen = inputs.numbers("numbers", 3..=12, 2..=999);
    let mut seen = BTreeSet::new();
    let mut numbers = Vec::new();
    for (i, n) in chosen.into_iter().enumerate() {
        let n = if i % 3 == 1 { -n } else { n };
        if seen.insert(n) {
            numbers.push(n);
        }
    }
    let workers = inputs.number("--workers", 2..=5) as usize;
    (numbers, workers)
}

/// Runs the program on `numbers` with `workers`, and `extra` arguments.
fn run_on(inputs: &Inputs, numbers: &[i64], workers: usize, extra: &[&str]) -> Evidence {
    let list: Vec<String> = numbers.iter().map(i64::to_string).collect();
    let (list, workers) = (list.join(","), workers.to_string());
    let mut args = vec!["--numbers", &list, "--workers", &workers];
    args.extend(extra);
    inputs.run(BIN, &args)
}

/// The first lines of a run on `numbers` with `workers`.
fn header(numbers: &[i64], workers: usize) -> String {
    format!(
        "Squares of {} by a Pool of {workers} workers",
        py_list(numbers)
    )
}

fn squares_of(numbers: &[i64]) -> Vec<i64> {
    numbers.iter().map(|n| n * n).collect()
}

/// Panics unless every value of `squares` crossed the pool's results
/// channel from a worker to the main program.
fn assert_squared_in_workers(evidence: &Evidence, squares: &[i64], meaning: &str) {
    let texts: Vec<String> = squares.iter().map(i64::to_string).collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "pool results",
        called: "the Pool's results",
        texts: &texts,
        sender: None,
        receiver: Some("exp11-pool"),
        in_order: false,
        meaning,
    });
    for send in evidence.trace.of_kind("send") {
        let on_results = send
            .arg_u("channel")
            .and_then(|c| evidence.trace.label(send.source, c))
            .is_some_and(|l| l == "pool results");
        if on_results && !send.process.starts_with("ForkPoolWorker-") {
            evidence.fail(
                format!(
                    "{} was sent on the Pool's results by {}, not by a worker: {meaning}",
                    send.text(),
                    send.process
                ),
                "",
            );
        }
    }
}

#[test]
fn other_numbers_are_squared_by_the_pool_s_workers() {
    let mut inputs = Inputs::new();
    let (numbers, workers) = choose(&mut inputs);
    let evidence = run_on(&inputs, &numbers, workers, &[]);
    let squares = squares_of(&numbers);
    let mut sorted = squares.clone();
    sorted.sort_unstable();
    evidence.assert_prints(&[
        header(&numbers, workers),
        format!("Pool.map: {}", py_list(&squares)),
        format!("imap_unordered, sorted: {}", py_list(&sorted)),
        format!(
            "Manager dict: {} numbers, recorded by {} distinct worker processes and 0 by the main program",
            numbers.len(),
            workers.min(numbers.len())
        ),
    ]);
    let twice: Vec<i64> = squares.iter().chain(&sorted).copied().collect();
    assert_squared_in_workers(
        &evidence,
        &twice,
        "each square must be computed by a worker, once by pool.map and once by pool.imap_unordered, and handed back to the main program",
    );
}

#[test]
fn every_worker_records_its_own_pid_in_the_manager_dict() {
    let mut inputs = Inputs::new();
    let (numbers, workers) = choose(&mut inputs);
    let evidence = run_on(&inputs, &numbers, workers, &["--who"]);
    let lines = evidence.run.stdout_lines();
    let mut by_number = numbers.clone();
    by_number.sort_unstable();
    let meaning = "each worker must set d[str(x)] to its own pid (d.connect(), then set) for the numbers it squares";
    let mut pids = BTreeSet::new();
    for (k, x) in by_number.iter().enumerate() {
        let prefix = format!("{x} squared by pid ");
        let Some(pid) = lines
            .get(3 + k)
            .and_then(|l| l.strip_prefix(&prefix))
            .and_then(|p| p.parse::<i64>().ok())
        else {
            evidence.fail(
                format!("expected the line \"{prefix}P\" after the two lists of squares, one per number in increasing order: {meaning}"),
                "",
            );
        };
        // The dict's request: set (1) key x to the pid, by that very process.
        let request = format!("((1, '{x}'), [], {pid})");
        let set = evidence.trace.of_kind("send").into_iter().find(|s| {
            s.text() == request && s.pid == pid && s.process.starts_with("ForkPoolWorker-")
        });
        if set.is_none() {
            evidence.fail(
                format!(
                    "no worker of the pool with pid {pid} sent {request} to the manager: {meaning}"
                ),
                "",
            );
        }
        pids.insert(pid);
    }
    evidence.assert_prints(
        &lines[..3 + numbers.len()]
            .iter()
            .copied()
            .chain([format!(
                "Manager dict: {} numbers, recorded by {} distinct worker processes and 0 by the main program",
                numbers.len(),
                pids.len()
            )
            .as_str()])
            .collect::<Vec<_>>(),
    );
    let requests: Vec<String> = lines[3..3 + numbers.len()]
        .iter()
        .zip(&by_number)
        .map(|(line, x)| {
            format!(
                "((1, '{x}'), [], {})",
                &line[line.rfind(' ').map_or(0, |i| i + 1)..]
            )
        })
        .collect();
    evidence.assert_messages_crossed(&Messages {
        channel: "unix",
        called: "the Manager's connection",
        texts: &requests,
        sender: None,
        receiver: Some("manager"),
        in_order: false,
        meaning,
    });
}

#[test]
fn a_task_failing_on_purpose_comes_back_from_its_worker() {
    let mut inputs = Inputs::new();
    let (numbers, workers) = choose(&mut inputs);
    let at = inputs.number("failing task", 0..=(numbers.len() as i64 - 1)) as usize;
    let k = numbers[at];
    let evidence = run_on(&inputs, &numbers, workers, &["--fail", &k.to_string()]);
    let mut sorted = squares_of(&numbers);
    sorted.sort_unstable();
    let lines = evidence.run.stdout_lines();
    let expected = [
        header(&numbers, workers),
        format!("Pool.map raised: task {at} failed: ValueError: {k} fails on purpose (--fail)"),
        format!("imap_unordered, sorted: {}", py_list(&sorted)),
    ];
    let dict = format!("Manager dict: {} numbers, recorded by ", numbers.len() - 1);
    let last_ok = lines.get(3).is_some_and(|l| {
        l.starts_with(&dict) && l.ends_with(" distinct worker processes and 0 by the main program")
    });
    if lines.len() != 4
        || lines[..3] != expected.iter().map(String::as_str).collect::<Vec<_>>()[..]
        || !last_ok
    {
        evidence.fail(
            format!(
                "expected these lines, then \"{dict}W distinct worker processes and 0 by the main program\":\n    {}",
                expected.join("\n    ")
            ),
            "",
        );
    }
    evidence.run.assert_code(0);
    // Pool.map gives up at the first error: the results of the tasks
    // after it may be thrown away unread. imap_unordered's are all taken.
    assert_squared_in_workers(
        &evidence,
        &sorted,
        "after the failure the pool must go on: imap_unordered's squares must still be computed by the workers",
    );
}
