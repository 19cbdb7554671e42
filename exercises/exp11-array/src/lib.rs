//! Seed 002, Example 2 and Exercise 2: a list of numbers in shared memory.
//!
//! Example 2 ([`example`]): a child squares the shared `Array` `0..10` in
//! place and the parent prints it.
//!
//! Exercise 2 ([`run`]): ten random numbers in `0..=10`; process p1 squares
//! the first five and process p2 the last five into one shared `Array`,
//! at the same time; the parent prints the numbers and the squares.

use std::ops::Range;

use ipc_cli::say;
use ipc_core::{Array, Process, PyList, Result, join_all_ok};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The seed's Example 2 target: square every element in place, holding
/// the array's lock for the whole loop.
fn shared_m(a: &Array<i32>) -> Result<()> {
    // STUDENT: holding the array's lock for the whole loop, square every element in place
    let a = a.lock()?;
    for i in 0..a.len() {
        a.set(i, a.get(i) * a.get(i));
    }
    // END STUDENT
    Ok(())
}

/// Seed 002, Example 2: a child squares the shared array `0..10` in place;
/// the parent prints it after joining the child.
pub fn example() -> Result<()> {
    let arr = Array::from_slice(&(0..10).collect::<Vec<i32>>())?;
    let mut p = Process::spawn("p", || shared_m(&arr))?;
    p.join_ok()?;
    say!("{}", arr.to_list()?)?;
    Ok(())
}

/// How many random numbers Exercise 2 draws.
pub const COUNT: usize = 10;

/// The largest number it draws (the smallest is 0).
pub const MAX: i32 = 10;

/// [`COUNT`] random numbers in `0..=MAX`, the same ones for the same seed.
///
/// ```
/// let numbers = exp11_array::random_numbers(42);
/// assert_eq!(numbers, exp11_array::random_numbers(42));
/// assert_eq!(numbers.len(), 10);
/// assert!(numbers.iter().all(|n| (0..=10).contains(n)));
/// ```
pub fn random_numbers(seed: u64) -> Vec<i32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..COUNT).map(|_| rng.random_range(0..=MAX)).collect()
}

/// Exercise 2's target: square `numbers[part]` into the same places of the
/// shared `squares`.
fn square(numbers: &[i32], squares: &Array<i32>, part: Range<usize>) -> Result<()> {
    // STUDENT: for each index `i` in `part`, store the square of numbers[i] in squares[i]
    for i in part {
        squares.set(i, numbers[i] * numbers[i])?;
    }
    // END STUDENT
    Ok(())
}

/// Seed 002, Exercise 2: draws ten numbers (from `seed`, or from a fresh
/// random seed that is printed so the run can be repeated); p1 squares the
/// first five and p2 the last five into a shared array; the parent prints
/// the numbers and the squares.
///
/// # Errors
/// [`ipc_core::Error::ChildFailed`] when a process fails; errors of the shared memory.
pub fn run(seed: Option<u64>) -> Result<()> {
    let seed = seed.unwrap_or_else(rand::random);
    let numbers = random_numbers(seed);
    say!("Seed: {seed}")?;
    say!("Random numbers: {}", PyList(numbers.clone()))?;

    let squares = Array::<i32>::new(numbers.len())?;
    let half = numbers.len() / 2;
    say!("p1 squares the first five numbers, p2 the last five")?;
    // STUDENT: start p1 squaring the first `half` and p2 the rest, both at once; then join both
    let p1 = Process::spawn("p1", || square(&numbers, &squares, 0..half))?;
    let p2 = Process::spawn("p2", || square(&numbers, &squares, half..numbers.len()))?;
    join_all_ok(&mut [p1, p2])?;
    // END STUDENT

    say!("Squares (in main program): {}", squares.to_list()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_numbers_and_seeds_differ() {
        assert_eq!(random_numbers(7), random_numbers(7));
        let distinct: std::collections::BTreeSet<_> = (0..20).map(random_numbers).collect();
        assert!(distinct.len() > 1, "twenty seeds, one list: {distinct:?}");
    }

    #[test]
    fn every_number_from_0_to_10_can_come_up() {
        let mut seen = [false; 11];
        for seed in 0..100 {
            for n in random_numbers(seed) {
                seen[usize::try_from(n).unwrap()] = true;
            }
        }
        assert_eq!(seen, [true; 11]);
    }

    #[test]
    fn square_fills_only_its_part() {
        // No fork here: the target runs in the test's own process.
        let squares = Array::<i32>::new(4).unwrap();
        square(&[1, 2, 3, 4], &squares, 2..4).unwrap();
        assert_eq!(squares.to_list().unwrap().to_string(), "[0, 0, 9, 16]");
    }
}
