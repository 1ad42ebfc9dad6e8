#!/usr/bin/env bash
# Integration: the release build as users run it. Runs the README's main
# command and the deployment examples with real daemons, then the tests
# marked #[ignore] (those that need real servers; when run as root on
# Debian this script installs what they need).
set -euo pipefail
cd "$(dirname "$0")/.."

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
