#!/usr/bin/env bash
# Integration: the release build as users run it. Runs the README's main
# command and the deployment examples with real daemons, then the tests
# marked #[ignore] (those that need real servers; when run as root on
# Debian this script installs what they need).
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the ignored tests need, from Debian's packages when run as root.
need=()
command -v sq >/dev/null || need+=(sq)
command -v gpg >/dev/null || need+=(gnupg)
command -v script >/dev/null || need+=(bsdutils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (run as root to install them)" >&2
    exit 1
  fi
fi

cargo build --release
export POSTERN=$PWD/target/release/postern

echo "== cargo run --release -- demo"
cargo run --release -q -- demo

for ex in examples/*.sh; do
  echo "== $ex"
  work=$(mktemp -d)
  bash "$ex" "$work"
  rm -rf "$work"
done

echo "== ignored tests (real servers)"
cargo test --release -- --ignored
