#!/usr/bin/env bash
# Everything CI checks, plus the documentation build: run it before a commit.
set -euo pipefail
cd "$(dirname "$0")/.."

bash .ci/run
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
echo "check.sh: all good"
