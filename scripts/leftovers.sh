#!/usr/bin/env bash
# Looks for what ipc-lab must never leave behind: shared memory segments,
# POSIX message queues and FIFOs named ipc-lab-*, private nats-servers and
# their ipc-lab-nats-* directories, and zombie processes of our programs. Prints each one found and exits 1 if there is any.
#
#   scripts/leftovers.sh            check (CI runs it after the tests)
#   scripts/leftovers.sh --quiet    print only the findings, one per line
#
# Message queues can only be listed through their file system; as root
# this script mounts it on /dev/mqueue when it is not mounted yet.
set -euo pipefail

quiet=0
[ "${1:-}" = --quiet ] && quiet=1

prefix='ipc-lab-'
found=0
report() { printf '%s\n' "$*"; found=1; }

for name in $(ls /dev/shm 2>/dev/null | grep "^$prefix" || true); do
  report "shared memory: /dev/shm/$name"
done

if [ ! -d /dev/mqueue ] || ! grep -qs ' /dev/mqueue mqueue ' /proc/mounts; then
  if [ "$(id -u)" = 0 ]; then
    mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
  fi
fi
if grep -qs ' /dev/mqueue mqueue ' /proc/mounts; then
  for name in $(ls /dev/mqueue 2>/dev/null | grep "^$prefix" || true); do
    report "message queue: /$name"
  done
else
  [ "$quiet" = 1 ] || echo "note: /dev/mqueue is not mounted; message queues not checked" >&2
fi

for dir in /tmp "${XDG_RUNTIME_DIR:-}"; do
  [ -n "$dir" ] && [ -d "$dir" ] || continue
  while IFS= read -r fifo; do
    report "FIFO: $fifo"
  done < <(find "$dir" -maxdepth 3 -type p -name "$prefix*" 2>/dev/null)
done

# Private NATS servers (ipc-net's launcher names them ipc-lab-private-PID)
# and their store directories.
while read -r pid args; do
  report "nats-server: pid $pid ($args)"
done < <(pgrep -af 'nats-server.*ipc-lab-private-' || true)
for dir in "${TMPDIR:-/tmp}"/ipc-lab-nats-*; do
  [ -d "$dir" ] && report "NATS server directory: $dir"
done

# A zombie keeps the command name of the program that forked it.
while read -r stat pid ppid comm; do
  case "$stat" in Z*) ;; *) continue ;; esac
  case "$comm" in exp* | ipc* | *scenari*) report "zombie: pid $pid ($comm), parent $ppid" ;; esac
done < <(ps -eo stat=,pid=,ppid=,comm=)

if [ "$found" = 0 ] && [ "$quiet" = 0 ]; then
  echo "leftovers.sh: nothing left behind"
fi
exit "$found"
