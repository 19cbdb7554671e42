#!/usr/bin/env bash
# Looks for what ipc-lab must never leave behind: shared memory segments,
# POSIX message queues and FIFOs named ipc-lab-*, private nats-servers and
# their ipc-lab-nats-* directories, and zombie processes of our programs.
# Prints each one found and exits 1 if there is any.
#
#   scripts/leftovers.sh --audit FILE   only objects that the runs which
#                                       wrote FILE created (IPC_LAB_AUDIT=FILE)
#                                       and that are still there, the very same
#   scripts/leftovers.sh                every object with the prefix
#   scripts/leftovers.sh --quiet        print only the findings, one per line
#
# With --audit, an object left by another program (an earlier run, a
# student's exp4-counter in another terminal) is never blamed on the runs
# being checked. Message queues can only be seen through their file
# system; as root this script mounts it on /dev/mqueue when needed.
set -euo pipefail

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }

quiet=0
audit=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quiet) quiet=1; shift ;;
    --audit) audit="${2:?--audit needs a file}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "leftovers.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

prefix='ipc-lab-'
found=0
report() { printf '%s\n' "$*"; found=1; }

if ! grep -qs ' /dev/mqueue mqueue ' /proc/mounts && [ "$(id -u)" = 0 ]; then
  mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
fi
mqueues=0
grep -qs ' /dev/mqueue mqueue ' /proc/mounts && mqueues=1

# Where an object of a kind named as in the audit file is in the file system.
path_of() { # $1: kind (shm, mq, fifo, dir), $2: name as audited
  case "$1" in
    shm) printf '/dev/shm%s' "$2" ;;
    mq) printf '/dev/mqueue%s' "$2" ;;
    *) printf '%s' "$2" ;;
  esac
}

if [ -n "$audit" ]; then
  [ -f "$audit" ] || { [ "$quiet" = 1 ] || echo "leftovers.sh: $audit: no object was created"; }
  # Each object created, by identity: still there, the same inode?
  while read -r _pid kind dev ino name; do
    path=$(path_of "$kind" "$name")
    [ "$kind" = mq ] && [ "$mqueues" = 0 ] && continue
    if now=$(stat -c '%d %i' -- "$path" 2>/dev/null) && [ "$now" = "$dev $ino" ]; then
      report "left behind: $kind $path (created by pid $_pid of this run)"
    fi
  done < <(awk '$2 == "created" {print $1, $3, $4, $5, substr($0, index($0, $6))}' "$audit" 2>/dev/null | sort -u)
else
  for name in $(ls /dev/shm 2>/dev/null | grep "^$prefix" || true); do
    report "shared memory: /dev/shm/$name"
  done
  if [ "$mqueues" = 1 ]; then
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
fi

# Private NATS servers (ipc-net's launcher names them ipc-lab-private-PID)
# and their store directories. With --audit, only a server whose
# directory one of the audited runs created (another program's server,
# running beside them, is not theirs); the directories themselves are
# checked above, by identity.
audited_dirs=""
[ -n "$audit" ] && audited_dirs=$(awk '$2 == "created" && $3 == "dir" {print substr($0, index($0, $6))}' "$audit" 2>/dev/null | sort -u)
while read -r pid args; do
  if [ -n "$audit" ]; then
    ours=0
    while IFS= read -r dir; do
      [ -n "$dir" ] && case "$args" in *"--store_dir $dir/"*) ours=1 ;; esac
    done <<<"$audited_dirs"
    [ "$ours" = 1 ] || continue
  fi
  report "nats-server: pid $pid ($args)"
done < <(pgrep -af 'nats-server.*ipc-lab-private-' || true)
if [ -z "$audit" ]; then
  for dir in "${TMPDIR:-/tmp}"/ipc-lab-nats-*; do
    [ -d "$dir" ] && report "NATS server directory: $dir"
  done
fi

# A zombie keeps the command name of the program that forked it.
while read -r stat pid ppid comm; do
  case "$stat" in Z*) ;; *) continue ;; esac
  case "$comm" in exp* | ipc* | *scenari*) report "zombie: pid $pid ($comm), parent $ppid" ;; esac
done < <(ps -eo stat=,pid=,ppid=,comm=)

if [ "$found" = 1 ] && [ "$quiet" = 0 ]; then
  echo "leftovers.sh: a run left these behind; scripts/clean.sh removes them (it keeps what a live process still uses)" >&2
fi
if [ "$found" = 0 ] && [ "$quiet" = 0 ]; then
  echo "leftovers.sh: nothing left behind"
fi
exit "$found"
