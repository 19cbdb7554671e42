#!/usr/bin/env bash
# Fuzzes ipc-core's message decoder (fuzz/fuzz_targets/decode.rs), or
# the connection module's frame reader and handshake
# (fuzz/fuzz_targets/connection.rs), for a bounded time with cargo-fuzz
# and libFuzzer. Not part of CI, which runs the property tests
# (crates/ipc-core/tests/decode_property.rs, connection_property.rs)
# instead.
#
#   scripts/fuzz.sh                  fuzz the decoder for 60 seconds
#   scripts/fuzz.sh 600              fuzz the decoder for 600 seconds
#   scripts/fuzz.sh 600 connection   fuzz the connection for 600 seconds
#
# Needs a nightly toolchain (`rustup toolchain install nightly`) and
# cargo-fuzz (`cargo install cargo-fuzz`). The corpus grows in
# fuzz/corpus/TARGET; a failing input is saved in fuzz/artifacts/TARGET and
# the script exits non-zero. Exit code 2: a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
target=${2:-decode}
case "$seconds" in
  '' | *[!0-9]*) echo "fuzz.sh: the time must be a number of seconds, not '$seconds'" >&2; exit 2 ;;
esac
case "$target" in
  decode | connection) ;;
  *) echo "fuzz.sh: the target is decode or connection, not '$target'" >&2; exit 2 ;;
esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz.sh: no nightly toolchain: cargo fuzz builds with nightly-only" \
    "sanitizer flags (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: cargo-fuzz is not installed (cargo install cargo-fuzz)" >&2
  exit 2
fi

# -malloc_limit_mb: any single allocation above 64 MiB is a failure (the
# target itself bounds them far lower, relative to the input).
cargo +nightly fuzz run "$target" -- \
  -max_total_time="$seconds" -max_len=4096 -malloc_limit_mb=64 -rss_limit_mb=2048
