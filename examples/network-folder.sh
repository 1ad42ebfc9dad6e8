#!/usr/bin/env bash
# Two postern peers whose SEND/RECEIVE folders are symbolic links into one
# shared folder: seed 003's network-folder set-up, on one machine.
#
#   share/vendor-to-customer   <- vendor SEND,   customer RECEIVE
#   share/customer-to-vendor   <- customer SEND, vendor RECEIVE
#
# Usage: examples/network-folder.sh [WORK_DIR]
# POSTERN names the binary (default: the repository's target/release/postern,
# else postern on PATH). Runs from any directory.
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
SHARE=$WORK/share
mkdir -p "$SHARE/vendor-to-customer" "$SHARE/customer-to-vendor"
V() { "$POSTERN" --home "$WORK/vendor" "$@"; }
C() { "$POSTERN" --home "$WORK/customer" "$@"; }

# Each side has its own tracker project.
V project create SAM2 --name "Vendor support" >/dev/null
C project create SP2 --name "Customer projects" >/dev/null

# Master (vendor): create the sync and its handshake file.
V sync create --name acme --description "SAM2 <-> SP2" --project SAM2 --sync-user sync-vendor \
  --out "$WORK/acme.handshake.asc" --passphrase-out "$WORK/acme.passphrase" >/dev/null

# Slave (customer): upload it (the passphrase came by phone, here a file).
C sync accept --file "$WORK/acme.handshake.asc" --passphrase-file "$WORK/acme.passphrase" \
  --project SP2 --sync-user sync-customer --yes >/dev/null

# Replace each side's SEND and RECEIVE with links into the share.
# (Save existing files first: move them into the folder the link points to.)
link() { # exchange-dir send-target receive-target
  mv "$1/SEND/"* "$2/" 2>/dev/null || true
  rm -R "$1/SEND" "$1/RECEIVE"
  ln -s "$2" "$1/SEND"
  ln -s "$3" "$1/RECEIVE"
}
link "$WORK/vendor/exchange/acme" "$SHARE/vendor-to-customer" "$SHARE/customer-to-vendor"
link "$WORK/customer/exchange/acme" "$SHARE/customer-to-vendor" "$SHARE/vendor-to-customer"

# Run both peers as daemons.
"$POSTERN" --home "$WORK/vendor" run --interval 1 & VPID=$!
"$POSTERN" --home "$WORK/customer" run --interval 1 & CPID=$!
trap 'kill $VPID $CPID 2>/dev/null || true' EXIT INT TERM

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "timed out waiting for $what" >&2; exit 1
}
active() { [[ $(V status) == *"state active"* && $(C status) == *"state active"* ]]; }
wait_for "both sides active" active
echo "handshake complete: both sides active"

V issue create --project SAM2 --summary "Login fails with SSO" --priority High --as vera >/dev/null
wait_for "SAM2-1 on the customer side" C issue show SP2-1
C comment add SP2-1 --body "Reproduced here too." --as carl >/dev/null
has_comment() { [[ $(V issue show SAM2-1) == *"Reproduced here too."* ]]; }
wait_for "the customer's comment on the vendor side" has_comment

echo "vendor SAM2-1:";   V issue show SAM2-1 | sed 's/^/  /'
echo "customer SP2-1:"; C issue show SP2-1 | sed 's/^/  /'
kill -TERM $VPID $CPID; wait $VPID $CPID
trap - EXIT INT TERM
echo "network-folder example: OK ($WORK)"
