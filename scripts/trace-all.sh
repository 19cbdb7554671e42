#!/usr/bin/env bash
# Draws the timeline every handout shows: a real --fast run of each
# experiment, recorded with --trace, written as an SVG sequence diagram
# next to the handout (exercises/<crate>/<crate>.svg; the book links it as
# docs/experiments/<crate>.svg). Run it again after changing an experiment.
#
#   scripts/trace-all.sh                 every experiment
#   scripts/trace-all.sh exp7-shm ...    only these
#
# The runs are small on purpose (few iterations, ticks or items), so that
# each picture stays readable. The NATS experiments need nats-server
# (scripts/install-nats.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# name | arguments | standard input (printf format)
pictures=(
  "exp7|--fast|1\n2\n3\n4\n"
  "exp7-shm|--fast|"
  "exp7-queue|--fast|"
  "exp7-pipe|--fast|"
  "exp7-mqueue|--fast|"
  "exp3-polling|--fast|"
  "exp3-fifo|--fast|"
  "exp3-prodcons|--fast --items 6|"
  "exp3-clientserver|--fast|"
  "exp11-value|--fast --iterations 2|"
  "exp11-array|--fast --seed 42|"
  "exp11-phases|--fast --numbers 3,1,4,1|"
  "exp11-pool|--fast --workers 2 --numbers 3,4,5|"
  "exp4-counter|--fast --ticks 6|"
  "exp1-queue|--fast|"
  "exp1-mom|--fast|"
  "exp1-rpc|--fast|"
  "exp1-dsm|--fast --iterations 2|"
  "exp1-sockets|--fast --delay 20000|"
  "exp1-threads|--fast --workers 2 --updates 3|"
  "exp4-signals|--fast --signals 3|"
)

case "${1:-}" in -h | --help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;; esac
cargo build --workspace --quiet
bin="$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug"
failed=0
for entry in "${pictures[@]}"; do
  IFS='|' read -r name args input <<<"$entry"
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then
    continue
  fi
  out="exercises/$name/$name.svg"
  # shellcheck disable=SC2086 # the arguments are words on purpose
  if printf "$input" | "$bin/$name" $args --trace "$out" >/dev/null 2>&1; then
    echo "drew $out"
  else
    echo "trace-all.sh: $name failed; run it by hand to see why" >&2
    failed=1
  fi
done
exit "$failed"
