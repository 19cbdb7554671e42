#!/usr/bin/env bash
# For students: checks your crate each time you save one of its files, as
# the grader will, stopping at the first check that fails with what it
# expected, the hint of the part to write, and your points so far. The
# grader's checks on inputs the handout never shows are not run here.
# Ctrl-C stops it.
#
#   scripts/watch.sh exp7-shm            watch one crate
#   scripts/watch.sh                     the crates of this starter (STARTER.md)
#   scripts/watch.sh --once exp7-shm     check once and stop
#   scripts/watch.sh --help              every option
set -euo pipefail
exec bash "$(dirname "$0")/lib/grader.sh" watch "$@"
