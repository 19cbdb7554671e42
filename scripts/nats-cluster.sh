#!/usr/bin/env bash
# A three-node NATS cluster on this machine, for the NATS experiments
# (exp1-mom, exp1-rpc, exp1-dsm): three nats-server processes on loopback
# ports, routes between them, JetStream on each, so that streams and
# key-value buckets can keep 3 replicas and survive the loss of a node.
#
#   scripts/nats-cluster.sh start     start the three nodes, wait until the
#                                     cluster has elected its JetStream leader
#   scripts/nats-cluster.sh status    which nodes run (exit 1 unless all three)
#   scripts/nats-cluster.sh kill N    SIGKILL node N (1-3): a crashed machine
#   scripts/nats-cluster.sh stop      stop every node, remove all their files
#
# Node N listens for clients on nats://127.0.0.1:(BASE+N-1), for the other
# nodes on BASE+100+N-1 and for monitoring (http) on BASE+200+N-1, with
# BASE 14222 unless IPC_LAB_NATS_CLUSTER_PORT says otherwise. Its store,
# log and pid file are in IPC_LAB_NATS_CLUSTER_DIR (default
# ${TMPDIR:-/tmp}/ipc-lab-nats-cluster-$UID). The nodes run on after this
# script ends: `stop` ends them.
#
# Try it:
#   scripts/nats-cluster.sh start
#   cargo run -p exp1-mom -- --server nats://127.0.0.1:14224 --replicas 3 receive
#   cargo run -p exp1-mom -- --server nats://127.0.0.1:14222 --replicas 3 send
#   scripts/nats-cluster.sh stop
#
# nats-server is $IPC_LAB_NATS_SERVER, else the project's .venv (made by
# scripts/install-nats.sh), else the one on PATH.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '2,29s/^# \{0,1\}//p' "$0"; }

base=${IPC_LAB_NATS_CLUSTER_PORT:-14222}
dir=${IPC_LAB_NATS_CLUSTER_DIR:-${TMPDIR:-/tmp}/ipc-lab-nats-cluster-$(id -u)}
nodes=(1 2 3)

case "$base" in
  '' | *[!0-9]*) echo "nats-cluster.sh: IPC_LAB_NATS_CLUSTER_PORT must be a port number" >&2; exit 2 ;;
esac
if [ "$base" -lt 1024 ] || [ "$base" -gt 65000 ]; then
  echo "nats-cluster.sh: IPC_LAB_NATS_CLUSTER_PORT must be from 1024 to 65000" >&2
  exit 2
fi

client_port() { echo $((base + $1 - 1)); }
route_port() { echo $((base + 100 + $1 - 1)); }
monitor_port() { echo $((base + 200 + $1 - 1)); }
urls() {
  local list="" n
  for n in "${nodes[@]}"; do list+="${list:+,}nats://127.0.0.1:$(client_port "$n")"; done
  echo "$list"
}

find_server() {
  if [ -n "${IPC_LAB_NATS_SERVER:-}" ]; then
    echo "$IPC_LAB_NATS_SERVER"
  elif [ -x "$root/.venv/bin/nats-server" ]; then
    echo "$root/.venv/bin/nats-server"
  elif command -v nats-server >/dev/null; then
    command -v nats-server
  else
    echo "nats-cluster.sh: nats-server not found; install it with: $root/scripts/install-nats.sh" >&2
    exit 1
  fi
}

# True while process $1 exists and is not a zombie.
running() {
  [ -e "/proc/$1" ] && ! grep -q '^[0-9]* ([^)]*) [ZX]' "/proc/$1/stat" 2>/dev/null
}

# True while process $1 is a nats-server that runs.
alive() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null || true)" = nats-server ] && running "$1"
}

# The pid of node $1 if it runs, else nothing.
node_pid() {
  local file="$dir/n$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file" 2>/dev/null || true)
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  if alive "$pid"; then
    echo "$pid"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start() {
  local n running=""
  for n in "${nodes[@]}"; do [ -n "$(node_pid "$n")" ] && running+=" $n"; done
  if [ -n "$running" ]; then
    echo "nats-cluster.sh: node(s)$running already running (in $dir); stop them first" >&2
    exit 1
  fi
  for n in "${nodes[@]}"; do
    for port in "$(client_port "$n")" "$(route_port "$n")" "$(monitor_port "$n")"; do
      if port_in_use "$port"; then
        echo "nats-cluster.sh: port $port is in use; choose another IPC_LAB_NATS_CLUSTER_PORT" >&2
        exit 1
      fi
    done
  done
  local server
  server=$(find_server)
  rm -rf "$dir"
  mkdir -p "$(dirname "$dir")"
  mkdir -m 700 "$dir"
  local started=()
  for n in "${nodes[@]}"; do
    local routes="" m
    for m in "${nodes[@]}"; do
      [ "$m" = "$n" ] || routes+="${routes:+,}nats://127.0.0.1:$(route_port "$m")"
    done
    # setsid: the node does not belong to this terminal (a Ctrl-C or a
    # closed terminal does not stop it); `stop` does.
    setsid "$server" --server_name "ipc-lab-n$n" --cluster_name ipc-lab \
      --addr 127.0.0.1 --port "$(client_port "$n")" --http_port "$(monitor_port "$n")" \
      --cluster "nats://127.0.0.1:$(route_port "$n")" --routes "$routes" \
      --jetstream --store_dir "$dir/n$n" \
      --log "$dir/n$n.log" --pid "$dir/n$n.pid" \
      </dev/null >/dev/null 2>&1 &
    started+=("$!")
  done
  local waited=0
  local pid gone
  until all_ready; do
    gone=""
    for pid in "${started[@]}"; do running "$pid" || gone+=" $pid"; done
    if [ -n "$gone" ] || [ "$waited" -ge 300 ]; then
      if [ -n "$gone" ]; then
        echo "nats-cluster.sh: a node ended while starting; the logs end with:" >&2
      else
        echo "nats-cluster.sh: the cluster was not ready within 30 s; the logs end with:" >&2
      fi
      for n in "${nodes[@]}"; do tail -n 3 "$dir/n$n.log" 2>/dev/null | sed "s/^/  n$n: /" >&2; done
      for pid in "${started[@]}"; do
        if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
      done
      stop >/dev/null
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "cluster ipc-lab started: nodes ipc-lab-n1..n3, JetStream with 3 replicas possible"
  echo "clients: $(urls)"
  echo "files: $dir (stop with: $0 stop)"
}

# The body of http://127.0.0.1:$1$2 (the monitoring port), without curl.
http_get() {
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET %s HTTP/1.0\r\n\r\n" "$2" >&3 && cat <&3' _ "$1" "$2" 2>/dev/null || true
}

# Ready: every node listens, and the JetStream leader sees both other
# nodes as current (before, a stream of 3 replicas finds "no suitable
# peers for placement").
all_ready() {
  local n body
  for n in "${nodes[@]}"; do
    [ -n "$(node_pid "$n")" ] || return 1
    grep -q "Server is ready" "$dir/n$n.log" 2>/dev/null || return 1
  done
  for n in "${nodes[@]}"; do
    body=$(http_get "$(monitor_port "$n")" /jsz)
    if grep -q "\"leader\": \"ipc-lab-n$n\"" <<<"$body" &&
      [ "$(grep -c '"current": true' <<<"$body")" -ge 2 ]; then
      return 0
    fi
  done
  return 1
}

status() {
  local n pid up=0
  [ -d "$dir" ] || { echo "no cluster (no $dir)"; return 1; }
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    if [ -n "$pid" ]; then
      echo "node $n ipc-lab-n$n nats://127.0.0.1:$(client_port "$n") running (pid $pid)"
      up=$((up + 1))
    else
      echo "node $n ipc-lab-n$n nats://127.0.0.1:$(client_port "$n") not running"
    fi
  done
  echo "$up of ${#nodes[@]} nodes running"
  [ "$up" = "${#nodes[@]}" ]
}

kill_node() {
  local n=${1:-} pid
  case "$n" in 1 | 2 | 3) ;; *) echo "nats-cluster.sh: kill needs a node number, 1 to 3" >&2; exit 2 ;; esac
  pid=$(node_pid "$n")
  if [ -z "$pid" ]; then
    echo "nats-cluster.sh: node $n is not running" >&2
    exit 1
  fi
  kill -KILL "$pid"
  while alive "$pid"; do sleep 0.05; done
  echo "node $n (pid $pid) killed"
}

stop() {
  local n pid pids=()
  for n in "${nodes[@]}"; do
    pid=$(node_pid "$n")
    if [ -n "$pid" ]; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local waited=0 pid_alive
  while :; do
    pid_alive=""
    for pid in "${pids[@]}"; do
      if alive "$pid"; then pid_alive+=" $pid"; fi
    done
    [ -z "$pid_alive" ] && break
    if [ "$waited" -ge 100 ]; then
      # shellcheck disable=SC2086 # a list of pids
      kill -KILL $pid_alive 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -rf "$dir"
  echo "cluster stopped (${#pids[@]} node(s) were running); $dir removed"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_node "${2:-}" ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac
