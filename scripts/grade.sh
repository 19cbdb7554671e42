#!/usr/bin/env bash
# Grades a student's work with the experiment's own tests, one check (one
# test) at a time: a line per check (`exp11-value: the locked total is
# exact on every run ... OK`, or `... FAIL: why`), then `Score: a/b` per
# crate and in all. Exit code 0 only for full marks, 1 otherwise, 2 for
# bad usage.
#
#   scripts/grade.sh DIR                   the crates of DIR's STARTER.md (else all)
#   scripts/grade.sh DIR exp11-value       these crates only
#   scripts/grade.sh --json FILE DIR …     also write every check as JSON
#   scripts/grade.sh --class DIR [CRATE…]  every submission in DIR (one
#                                          directory per student): a table
#                                          DIR/grades/class.csv and .json
#   scripts/grade.sh --help                every option (--timeout, --out, …)
#
# DIR is a copy of the workspace (a starter, worked on) or one crate's
# directory. Only the student's src/ of each crate graded is used; the
# library, the tests and Cargo.lock are this repository's. Each check is
# bounded in time and processes; a hang, a fork bomb, a process left
# running or an IPC object left behind fails it and is cleaned up. The
# grader works in DIR/.grade (a copy and its build; delete it when done)
# and writes nothing else outside DIR but its JSON; grading this
# repository itself (scripts/grade.sh .) builds in place.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
# --workspace: built with the features the whole workspace uses, as
# `cargo test --workspace` builds it (another set would rebuild the
# dependencies); --bin: only this program.
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace --bin ipc-grade
# The program finds its reference here, never through a path compiled
# into it (a build directory shared by two checkouts holds one program).
export IPC_LAB_ROOT="$repo"
exec "$target/debug/ipc-grade" grade "$@"
