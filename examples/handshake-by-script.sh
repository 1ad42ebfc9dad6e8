#!/usr/bin/env bash
# Generating a handshake file on the master and uploading it on the slave,
# by script, without prompts. The passphrase travels in a separate file,
# as it should travel by a separate channel.
#
# Usage: examples/handshake-by-script.sh [WORK_DIR]
set -euo pipefail

# The repository's release build, wherever this is run from; else PATH.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${POSTERN:-}" ]; then
  if [ -x "$ROOT/target/release/postern" ]; then POSTERN=$ROOT/target/release/postern
  elif command -v postern >/dev/null; then POSTERN=$(command -v postern)
  else echo "no postern binary: run \`cargo build --release\` in $ROOT, or set POSTERN" >&2; exit 1
  fi
fi
WORK=${1:-$(mktemp -d)}
MASTER="$POSTERN --home $WORK/master"
SLAVE="$POSTERN --home $WORK/slave"

$MASTER project create SAM2 >/dev/null
$SLAVE project create SP2 >/dev/null

# Master: prints a JSON summary; the passphrase also goes to a 0600 file.
$MASTER sync create --name acme --description "Vendor and customer" \
  --project SAM2 --sync-user sync-vendor --expires-days 3 \
  --out "$WORK/acme.handshake.asc" --passphrase-out "$WORK/acme.passphrase" --json

# Slave: shows the handshake's contents and accepts without asking.
$SLAVE sync accept --file "$WORK/acme.handshake.asc" \
  --passphrase-file "$WORK/acme.passphrase" \
  --project SP2 --sync-user sync-customer --yes

# A wrong passphrase is refused and creates nothing.
if $SLAVE sync accept --file "$WORK/acme.handshake.asc" --passphrase wrong \
     --project SP2 --sync-user x --name other --yes 2>"$WORK/err"; then
  echo "a wrong passphrase was accepted" >&2; exit 1
fi
cat "$WORK/err"

echo "handshake-by-script example: OK ($WORK)"
