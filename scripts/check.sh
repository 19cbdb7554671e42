#!/usr/bin/env bash
# Everything CI checks: run it before a commit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/run
echo "check.sh: all good"
