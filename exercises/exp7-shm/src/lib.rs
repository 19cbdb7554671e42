//! Seed 000, choice 1: IPC using shared memory.
//!
//! The parent prints the list, a child process squares it into a shared
//! `Array` and stores the sum in a shared `Value`; then both print what they
//! see in the shared memory.
//!
//! This file follows the seed: [`run`] squares its list, [`run_with`]
//! another (`--numbers`, [`ipc_cli::Mylist`]).

use ipc_cli::{output, say};
use ipc_core::{Array, Process, Result, Value};

/// The list the seed squares.
pub const MYLIST: [i32; 4] = [1, 2, 3, 4];

/// The child's target: square `mylist` into `result`, sum it into
/// `square_sum`, and print both (the seed's `square_list`).
fn square_list(mylist: &[i32], result: &Array<i32>, square_sum: &Value<i32>) -> Result<()> {
    // STUDENT: square each number of `mylist` into `result`, then store the sum in `square_sum`
    for (idx, num) in mylist.iter().enumerate() {
        result.set(idx, num * num)?;
    }
    square_sum.set(result.to_list()?.iter().sum())?;
    // END STUDENT
    say!("Result(in process p1): {}", result.to_list()?)?;
    say!("Sum of squares(in process p1): {}", square_sum.get()?)?;
    Ok(())
}

/// Runs the experiment on the seed's list, [`MYLIST`], printing the seed's
/// lines.
///
/// # Errors
/// As [`run_with`].
pub fn run() -> Result<()> {
    run_with(&MYLIST)
}

/// Runs the experiment on `mylist` (`--numbers`, checked by
/// [`ipc_cli::Mylist`]): the parent prints it, `p1` squares it into the
/// shared memory, both print what they see there.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when `p1` fails; errors of the shared
/// memory or of printing.
pub fn run_with(mylist: &[i32]) -> Result<()> {
    say!("The following Array is going to simulate the shared memory")?;
    for item in mylist {
        output::part(format_args!("{item} "))?; // print(i, end=" ")
    }
    say!()?;

    let result = Array::<i32>::new(mylist.len())?;
    let square_sum = Value::new(0_i32)?;
    // STUDENT: start process `p1` running `square_list` (Process::spawn), then wait for it
    Process::spawn("p1", || square_list(mylist, &result, &square_sum))?.join_ok()?;
    // END STUDENT

    say!("Result(in main program): {}", result.to_list()?)?;
    say!("Sum of squares(in main program): {}", square_sum.get()?)?;
    Ok(())
}
