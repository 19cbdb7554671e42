#!/usr/bin/env bash
# Builds this checkout's ipc-grade and runs it with the arguments given
# (starter.sh, grade.sh, watch.sh and handin.sh call it), the checkout
# named as its reference: the program finds its workspace from
# IPC_LAB_ROOT, never through a path compiled into it (a build directory
# shared by two checkouts holds one program).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
# --workspace: built with the features the whole workspace uses, as
# `cargo test --workspace` builds it (another set would rebuild the
# dependencies); --bin: only this program.
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace --bin ipc-grade
export IPC_LAB_ROOT="$repo"
exec "$target/debug/ipc-grade" "$@"
