#!/usr/bin/env bash
# Removes what a killed ipc-lab run left behind: shared memory segments,
# POSIX message queues and FIFOs whose names start with ipc-lab-, owned by
# the calling user, and in use by no live process. Anything else is never
# touched.
#
#   scripts/clean.sh            remove, saying what was removed
#   scripts/clean.sh --list     only list what would be removed
#   scripts/clean.sh demo       only objects whose names contain "demo"
#
# An object counts as in use while a process maps it or holds it open
# (/proc/*/maps, /proc/*/fd), or while the process whose pid is in its name
# (ipc-lab-PID-...) is alive. Message queues are seen through their file
# system; as root the script mounts it on /dev/mqueue if needed.
set -euo pipefail

usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; }

list_only=0
filters=()
for arg in "$@"; do
  case "$arg" in
    --list | -n) list_only=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "clean.sh: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
    *) filters+=("$arg") ;;
  esac
done

wanted() { # $1: a name; true when no filter is given or one matches
  [ "${#filters[@]}" = 0 ] && return 0
  local f
  for f in "${filters[@]}"; do
    [[ "$1" == *"$f"* ]] && return 0
  done
  return 1
}

prefix='ipc-lab-'
me=$(id -u)
removed=0
kept=0

# Every path that a live process maps or holds open, one per line.
in_use=$(
  { cat /proc/[0-9]*/maps 2>/dev/null | awk '{print $6}'
    find /proc/[0-9]*/fd -maxdepth 1 -type l -printf '%l\n' 2>/dev/null
  } | sed 's/ (deleted)$//' | sort -u || true
)

busy() { # $1: the name, $2: the path a process would show for it
  local pid
  pid=$(printf '%s' "$1" | sed -n "s/^${prefix}\([0-9][0-9]*\)-.*/\1/p")
  if [ -n "$pid" ] && [ "$pid" != "$$" ] && kill -0 "$pid" 2>/dev/null; then
    return 0
  fi
  grep -qxF -- "$2" <<<"$in_use"
}

take() { # $1: kind, $2: path to remove, $3: name, $4: path as in /proc
  wanted "$3" || return 0
  if busy "$3" "$4"; then
    echo "in use, kept: $1 $2"
    kept=$((kept + 1))
  elif [ "$list_only" = 1 ]; then
    echo "would remove: $1 $2"
  else
    rm -f -- "$2"
    echo "removed: $1 $2"
    removed=$((removed + 1))
  fi
}

while IFS= read -r -d '' path; do
  name=${path##*/}
  take "shared memory" "$path" "$name" "$path"
done < <(find /dev/shm -maxdepth 1 -type f -name "${prefix}*" -user "$me" -print0 2>/dev/null)

if ! grep -qs ' /dev/mqueue mqueue ' /proc/mounts && [ "$me" = 0 ]; then
  mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue 2>/dev/null || true
fi
if grep -qs ' /dev/mqueue mqueue ' /proc/mounts; then
  while IFS= read -r -d '' path; do
    name=${path##*/}
    take "message queue" "$path" "$name" "/$name"
  done < <(find /dev/mqueue -maxdepth 1 -type f -name "${prefix}*" -user "$me" -print0 2>/dev/null)
else
  echo "note: /dev/mqueue is not mounted (needs root): message queues not checked" >&2
fi

for dir in /tmp "${XDG_RUNTIME_DIR:-}"; do
  [ -n "$dir" ] && [ -d "$dir" ] || continue
  while IFS= read -r -d '' path; do
    take "FIFO" "$path" "${path##*/}" "$path"
  done < <(find "$dir" -maxdepth 3 -type p -name "${prefix}*" -user "$me" -print0 2>/dev/null)
done

if [ "$list_only" = 1 ]; then
  echo "clean.sh: listed only; $kept in use"
else
  echo "clean.sh: removed $removed, kept $kept in use"
fi
