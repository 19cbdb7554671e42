//! What the tests of exp4-signals expect of a run, computed from its
//! inputs: the writer's and the reader's lines, each in order.

/// The writer's lines for `values` and a burst of `signals`, its pid
/// shown as `pid` (`<N>` once normalised).
pub fn writer_lines(pid: &str, values: &[i64], signals: i64) -> Vec<String> {
    let mut lines = vec![format!("writer: Pid: {pid}")];
    for (i, value) in (1..).zip(values) {
        lines.push(format!("writer: Writing {value}"));
        if i % 6 == 0 {
            lines.push("writer: Intentionally sleeping for 5 seconds".into());
        }
    }
    lines.push("writer: Finished writing".into());
    lines.push(format!(
        "writer: Sending {signals} SIGUSR1, then {signals} SIGRTMIN+1, numbered 1 to {signals}"
    ));
    lines.push("writer: Finished sending".into());
    lines
}

/// The reader's lines for `values` and a burst of `signals`, its pid
/// shown as `pid`: one SIGUSR1 (the first) arrives, every SIGRTMIN+1
/// arrives in order.
pub fn reader_lines(pid: &str, values: &[i64], signals: i64) -> Vec<String> {
    let mut lines = vec![format!("reader: Pid: {pid}")];
    lines.extend(values.iter().map(|v| format!("reader: Read: {v}")));
    lines.push("reader: Finished reading".into());
    let usr1 = if signals == 1 {
        "1 received (value 1): every one arrived".to_owned()
    } else {
        format!("1 received (value 1): {} lost", signals - 1)
    };
    lines.push(format!("reader: SIGUSR1: {signals} sent, {usr1}"));
    let queued = if signals == 1 {
        "1 received (value 1)".to_owned()
    } else {
        format!("{signals} received in order (values 1 to {signals})")
    };
    lines.push(format!(
        "reader: SIGRTMIN+1: {signals} sent, {queued}: every one arrived"
    ));
    lines
}
