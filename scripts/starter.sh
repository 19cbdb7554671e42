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
exec bash "$(dirname "$0")/lib/grader.sh" starter "$@"
