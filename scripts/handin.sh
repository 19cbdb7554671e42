#!/usr/bin/env bash
# Packs your work to hand in: for each crate named, its src/ and its
# ANSWERS.md, with a manifest (the crates, each file's SHA-256, the kit's
# commit), into one archive, handin-CRATE+CRATE.tar.gz in the current
# directory. Give that one file to your instructor. The grader takes
# nothing else of the workspace (the library, the tests and Cargo.lock
# are the kit's), and refuses an archive changed after packing.
#
#   scripts/handin.sh exp11-value            one experiment
#   scripts/handin.sh exp7-shm exp7          several, in one archive
#   scripts/handin.sh                        the crates of STARTER.md
#   scripts/handin.sh --out FILE CRATE…      another archive name
#   scripts/handin.sh --force CRATE…         replace an archive that exists
#   scripts/handin.sh --check FILE           check an archive as the grader will
#   scripts/handin.sh --help                 every option
#
# Exit codes: 0 packed, 1 a file could not be read or written, 2 bad
# usage (an unknown crate, an archive that exists, a symbolic link in
# src/: the message says which and what to do).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
# --workspace: built with the features the whole workspace uses, as
# `cargo test --workspace` builds it (another set would rebuild the
# dependencies); --bin: only this program.
cargo build --quiet --manifest-path "$repo/Cargo.toml" --workspace --bin ipc-grade
# The workspace packed is this script's own, wherever it is run from.
exec "$target/debug/ipc-grade" handin --root "$repo" "$@"
