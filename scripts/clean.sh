#!/usr/bin/env bash
# Removes what killed ipc-lab runs left behind: shared memory segments,
# POSIX message queues and FIFOs named ipc-lab-*, of the calling user.
# The objects of a run whose processes are all dead are removed (the same
# liveness test the programs use: the run's lease is unlocked); a live
# run's objects are kept. Objects that no run lists are removed when no
# process maps or holds them.
#
#   scripts/clean.sh            remove, saying what was removed
#   scripts/clean.sh --list     only list what would be removed
#   scripts/clean.sh demo       only unlisted objects whose paths contain "demo"
#   scripts/clean.sh --help     the whole story
#
# It runs the ipc-lab-clean program of ipc-cli (built when missing), or
# the one named by $IPC_LAB_CLEAN. Message queues are seen through their
# file system; as root the script mounts it on /dev/mqueue if needed.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! grep -qs ' /dev/mqueue mqueue ' /proc/mounts && [ "$(id -u)" = 0 ]; then
  mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
fi
grep -qs ' /dev/mqueue mqueue ' /proc/mounts ||
  echo "note: /dev/mqueue is not mounted (needs root): message queues nobody lists are not seen" >&2

bin=${IPC_LAB_CLEAN:-}
if [ -z "$bin" ]; then
  target=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
  bin="$target/debug/ipc-lab-clean"
  cargo build --quiet -p ipc-cli --bin ipc-lab-clean
fi
exec "$bin" "$@"
