#!/usr/bin/env bash
# The customer side of a sync whose tracker is a Redmine: accepts the
# vendor's handshake file into a Redmine project, by script, and shows the
# result. Redmine needs REST switched on and a sync user with an API key
# (see docs/redmine.md).
#
# Usage: examples/redmine/accept.sh HANDSHAKE PASSPHRASE_FILE URL PROJECT KEY_FILE [more accept flags]
#   POSTERN_HOME  the peer's home (made if it is not there yet)
#   POSTERN       the binary (default: the repository's release build, else PATH)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${POSTERN:-}" ]; then
  if [ -x "$ROOT/target/release/postern" ]; then POSTERN=$ROOT/target/release/postern
  elif command -v postern >/dev/null; then POSTERN=$(command -v postern)
  else echo "no postern binary: run \`cargo build --release\` in $ROOT, or set POSTERN" >&2; exit 1
  fi
fi
[ $# -ge 5 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
handshake=$1 passfile=$2 url=$3 project=$4 keyfile=$5
shift 5

# The partner calls its statuses Open/In Progress/Done and its default
# priority Medium; this Redmine says New/In Progress/Closed and Normal.
"$POSTERN" sync accept --file "$handshake" --passphrase-file "$passfile" --yes \
  --sync-user syncbot --tracker redmine --redmine-url "$url" --project "$project" \
  --redmine-key-file "$keyfile" --status-map "Open=New,Done=Closed" --priority-map "Medium=Normal" "$@"
"$POSTERN" status
echo "redmine example: OK"
