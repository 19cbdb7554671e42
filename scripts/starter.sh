#!/usr/bin/env bash
# Writes a starter for students: a copy of the workspace (the files git
# tracks, or would; never target/ nor .venv) in which the regions a
# student writes in the named experiments, between `// STUDENT: <hint>`
# and `// END STUDENT` in their src/, are `todo!("<hint>")`. The library,
# the handouts and the tests stay; `cargo build --workspace` succeeds in
# the copy, and the crate's tests fail naming the unfinished part.
#
#   scripts/starter.sh --out DIR exp11-value      one experiment
#   scripts/starter.sh --out DIR exp7-shm exp7    several
#   scripts/starter.sh --out DIR all              every experiment
#   scripts/starter.sh --help
#
# DIR must not exist (or be empty). It gets a STARTER.md naming the
# crates and every part to write; scripts/grade.sh grades those crates.
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
exec "$target/debug/ipc-grade" starter "$@"
