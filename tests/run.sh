#!/usr/bin/env bash
# Runs the whole test suite. First installs the Debian packages the tests use
# as outside judges when they are missing (named-compilezone from bind9-utils).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v named-compilezone >/dev/null 2>&1 || need+=(bind9-utils)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
