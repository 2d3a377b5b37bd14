#!/usr/bin/env bash
# Runs the whole test suite. First installs what the tests use as outside
# judges when it is missing: named-compilezone, dnssec-verify and
# dnssec-dsfromkey (Debian bind9-utils), knotd (knot, for the differential
# answers), delv and dig (bind9-dnsutils), ldns-verify-zone (ldnsutils),
# unbound (a validating resolver), docker-compose (the Docker lab), and the Python SPF/DKIM/DMARC
# implementations of tests/judge/requirements.txt (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v named-compilezone >/dev/null 2>&1 || need+=(bind9-utils)
command -v knotd >/dev/null 2>&1 || need+=(knot)
command -v delv >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v ldns-verify-zone >/dev/null 2>&1 || need+=(ldnsutils)
command -v unbound >/dev/null 2>&1 || need+=(unbound)
# docker/lab/test.sh drives the lab with Compose (v2 plugin or Debian's v1).
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The independent SPF/DKIM/DMARC judges (tests/agreement.rs), from PyPI.
venv=target/judge-venv
if ! "$venv/bin/python" -c 'import spf, dkim, dmarc, nacl' >/dev/null 2>&1; then
  echo "installing the Python judges into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r tests/judge/requirements.txt
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked

# The image and the Compose lab (docker/lab/test.sh): builds the static
# binary and the image, then runs the lab on its own bridge network.
bash docker/lab/test.sh
