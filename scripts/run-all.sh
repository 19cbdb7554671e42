#!/usr/bin/env bash
# Runs every experiment unattended, in a fixed order, each with --fast and
# a bound, under a timeout; prints one line per experiment (name, result,
# seconds) and a summary, and exits 1 if any failed. An experiment that
# leaves a shared memory segment, a message queue, a FIFO or a zombie
# behind fails too: only what that experiment created counts (its runs
# write every object they create to an audit file, IPC_LAB_AUDIT), never
# another program's objects.
#
#   scripts/run-all.sh                          all of them
#   scripts/run-all.sh --only exp7-shm,exp11-value
#   scripts/run-all.sh --json results.json      also write the results as JSON
#   scripts/run-all.sh --timeout 60             seconds allowed per experiment
#   scripts/run-all.sh --no-build               use the binaries already built
#
# It builds the workspace first (cargo build) unless told not to; after the
# build the runs take a few seconds. The binaries are taken from the target
# directory cargo reports (CARGO_TARGET_DIR or a cargo setting, else target/).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,18s/^# \{0,1\}//p' "$0"; }

# name | arguments | standard input (printf format), in the order they run
experiments=(
  "exp7-shm|--fast|"
  "exp7-queue|--fast|"
  "exp7-pipe|--fast|"
  "exp7-mqueue|--fast|"
  "exp7|--fast|1\n2\n3\n4\n"
  "exp3-polling|--fast|"
  "exp3-fifo|--fast|"
  "exp3-prodcons|--fast|"
  "exp3-clientserver|--fast|"
  "exp11-value|--fast --iterations 20000|"
  "exp11-array|--fast --seed 42|"
  "exp11-phases|--fast|"
  "exp11-pool|--fast|"
  "exp4-counter|--fast --ticks 12|"
  "exp1-queue|--fast|"
  "exp1-mom|--fast|"
  "exp1-rpc|--fast|"
  "exp1-dsm|--fast|"
  "exp1-sockets|--fast|"
  "exp1-threads|--fast|"
  "exp4-signals|--fast|"
)

only=""
json=""
limit=60
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="${2:?--only needs a comma-separated list}"; shift 2 ;;
    --json) json="${2:?--json needs a file name}"; shift 2 ;;
    --timeout) limit="${2:?--timeout needs seconds}"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run-all.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

known=" $(printf '%s\n' "${experiments[@]}" | cut -d'|' -f1 | tr '\n' ' ')"
for name in ${only//,/ }; do
  case "$known" in *" $name "*) ;; *)
    echo "run-all.sh: no experiment named $name (known:$known)" >&2; exit 2 ;;
  esac
done

[ "$build" = 1 ] && cargo build --workspace --quiet
# The binaries are where cargo puts them: CARGO_TARGET_DIR, a setting, or
# target/ (ask cargo rather than guess).
bin="$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug"
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# The lines of $1 as a JSON array of strings.
json_lines() {
  [ -n "$1" ] || { printf '[]'; return; }
  sed 's/\\/\\\\/g; s/"/\\"/g; s/.*/"&"/' <<<"$1" | paste -sd, | sed 's/.*/[&]/'
}

passed=0
failed=0
rows=()
for entry in "${experiments[@]}"; do
  IFS='|' read -r name args input <<<"$entry"
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then
    continue
  fi
  audit="$log_dir/$name.audit"
  start=$(date +%s.%N)
  set +e
  # shellcheck disable=SC2086 # the arguments are words on purpose
  printf "$input" | IPC_LAB_AUDIT="$audit" timeout --kill-after=5 "$limit" "$bin/$name" $args \
    >"$log_dir/$name.out" 2>"$log_dir/$name.err"
  code=$?
  set -e
  seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  # What this experiment created and is still there; a run's tracker may
  # need a moment after the last process to remove a child's objects.
  left=""
  for _ in 1 2 3 4 5; do
    left=$(scripts/leftovers.sh --quiet --audit "$audit" | grep -v '^zombie:' || true)
    [ -z "$left" ] && break
    sleep 0.2
  done
  [ -n "${IPC_LAB_AUDIT:-}" ] && [ -f "$audit" ] && cat "$audit" >>"$IPC_LAB_AUDIT"
  if [ "$code" = 124 ] || [ "$code" = 137 ]; then
    result="timeout"
  elif [ "$code" != 0 ]; then
    result="failed"
  elif [ -n "$left" ]; then
    result="leftover"
  else
    result="ok"
  fi
  if [ "$result" = ok ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
  printf '%-14s %-9s %6ss\n' "$name" "$result" "$seconds"
  if [ "$result" != ok ]; then
    [ -n "$left" ] && sed 's/^/    left behind: /' <<<"$left"
    [ "$code" != 0 ] && echo "    exit code $code; last lines of stderr:" && tail -n 5 "$log_dir/$name.err" | sed 's/^/    /'
  fi
  rows+=("{\"name\":\"$name\",\"result\":\"$result\",\"exit_code\":$code,\"seconds\":$seconds,\"left_behind\":$(json_lines "$left")}")
done

echo "$passed passed, $failed failed"
if [ -n "$json" ]; then
  {
    printf '{"passed":%d,"failed":%d,"experiments":[' "$passed" "$failed"
    (IFS=,; printf '%s' "${rows[*]}")
    printf ']}\n'
  } >"$json"
fi
[ "$failed" = 0 ]
